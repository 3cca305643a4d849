"""A member who forgot their password resets it from the emailed link, then changes it from
their profile; each time only the new password signs in."""

import re

from django.core import mail
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.demo.seed import DEMO_PASSWORD

RESET_PASSWORD = "a-reset-passphrase-8"
CHANGED_PASSWORD = "a-changed-passphrase-5"


def sign_in_form(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_student_resets_then_changes_their_password(page, live_server, seed_review):
    User.objects.filter(username="student").update(email="student@example.org")
    mail.outbox.clear()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("student@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    (message,) = mail.outbox
    link = re.search(r"http://\S+/accounts/reset/\S+/", message.body).group(0)
    page.goto(link)
    page.get_by_label(re.compile(r"^New password\W*$")).fill(RESET_PASSWORD)
    page.get_by_label("New password confirmation").fill(RESET_PASSWORD)
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is set")

    # The link works once.
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("not valid")

    # The old password no longer signs in; the new one does.
    sign_in_form(page, live_server, "student", DEMO_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    sign_in_form(page, live_server, "student", RESET_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    # Change it from the profile, reached from the name in the header.
    page.get_by_role("navigation", name="Account").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    page.get_by_role("link", name="Change your password").click()
    page.get_by_label(re.compile(r"^Old password\W*$")).fill("not-it")
    page.get_by_label(re.compile(r"^New password\W*$")).fill(CHANGED_PASSWORD)
    page.get_by_label("New password confirmation").fill(CHANGED_PASSWORD)
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_text("Your old password was entered incorrectly")).to_be_visible()
    page.get_by_label(re.compile(r"^Old password\W*$")).fill(RESET_PASSWORD)
    page.get_by_label(re.compile(r"^New password\W*$")).fill(CHANGED_PASSWORD)
    page.get_by_label("New password confirmation").fill(CHANGED_PASSWORD)
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is changed")

    # Still signed in here; after signing out only the changed password works.
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="Account")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    sign_in_form(page, live_server, "student", RESET_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    sign_in_form(page, live_server, "student", CHANGED_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")


def test_the_sign_in_page_explains_a_lockout(page, live_server, seed_review):
    for _ in range(5):
        sign_in_form(page, live_server, "analyst", "wrong")
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    sign_in_form(page, live_server, "analyst", DEMO_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("even with the right password")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def test_a_member_changes_their_email_from_the_link_mailed_to_the_new_address(
    page, live_server, seed_review
):
    User.objects.filter(username="analyst").update(email="analyst@example.org")
    mail.outbox.clear()
    sign_in_form(page, live_server, "analyst", DEMO_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("navigation", name="Account").get_by_role("link").click()
    page.get_by_label("Email").fill("analyst@new.example.org")
    page.get_by_label("Current password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a link to analyst@new.example.org")
    # Until the link is opened, the address on the profile is the old one.
    expect(page.get_by_label("Email")).to_have_value("analyst@example.org")

    (message,) = mail.outbox
    assert message.to == ["analyst@new.example.org"]
    link = re.search(r"http://\S+/accounts/profile/email/\S+/", message.body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    page.get_by_role("button", name="Use this address").click()
    expect(page.get_by_label("Email")).to_have_value("analyst@new.example.org")
    assert mail.outbox[-1].to == ["analyst@example.org"]

    # The link works once.
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("already used")

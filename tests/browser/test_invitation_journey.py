"""A supervisor invites a new student by email; the student creates an account from the link,
lands in the project and sees approved work only. A used or expired link is refused."""

import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.models import Invitation, Membership, User
from apps.annotations.models import Annotation

EMAIL = "layla.student@example.org"
PASSWORD = "a-long-student-passphrase-3"


def invitation_link(live_server) -> str:
    match = re.search(rf"({re.escape(live_server.url)}/invitations/[^/\s]+/)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_an_invited_student_signs_up_and_sees_approved_work_only(
    page, live_server, seed_review, sign_in
):
    submitted = Annotation.objects.get(
        project=seed_review, source__citation_key="faras2016withdrawal", locator="¶4"
    )
    approved = Annotation.objects.filter(
        project=seed_review, source=submitted.source, status="approved"
    ).first()
    assert approved is not None
    mail.outbox.clear()

    sign_in(page, "supervisor")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/members/")
    invite = page.get_by_role("region", name="Invite by email")
    invite.get_by_label("Email").fill(EMAIL)
    invite.get_by_label("Role").select_option("student")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {EMAIL} as Student")
    pending = page.get_by_role("region", name=re.compile("pending invitation"))
    expect(pending).to_contain_text(EMAIL)
    link = invitation_link(live_server)
    page.get_by_role("button", name="Sign out").click()

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text(seed_review.name)
    expect(page.get_by_text("as student")).to_be_visible()
    page.get_by_label("Username").fill("layla")
    page.get_by_label("Given name").fill("Layla")
    page.get_by_label("Family name").fill("Haddad")
    page.get_by_label(re.compile(r"^Password\W*$")).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account and join").click()

    page.wait_for_url(f"{live_server.url}/p/{seed_review.slug}/")
    expect(page.get_by_role("status")).to_contain_text("you joined")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Layla Haddad")
    user = User.objects.get(username="layla")
    assert user.email == EMAIL
    assert Membership.objects.get(project=seed_review, user=user).role == "student"

    # Only approved work: the source page shows the approved passage, not the submitted one.
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{submitted.source_id}/")
    expect(page.locator(f"#annotation-{approved.pk}")).to_be_visible()
    expect(page.locator(f"#annotation-{submitted.pk}")).to_have_count(0)
    expect(page.get_by_text("represented a more radical shift")).to_have_count(0)
    page.goto(f"{live_server.url}/p/{seed_review.slug}/review/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not allowed")

    # The link was used: following it again is refused with a message, and changes nothing.
    page.get_by_role("button", name="Sign out").click()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This invitation cannot be used")
    expect(page.get_by_role("alert")).to_contain_text("already been used")
    assert User.objects.filter(email=EMAIL).count() == 1


def test_an_expired_invitation_link_is_refused_with_a_message(
    page, live_server, seed_review, sign_in
):
    mail.outbox.clear()
    sign_in(page, "supervisor")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/members/")
    invite = page.get_by_role("region", name="Invite by email")
    invite.get_by_label("Email").fill(EMAIL)
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent")
    link = invitation_link(live_server)
    page.get_by_role("button", name="Sign out").click()

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        page.goto(link)
        expect(page.get_by_role("alert")).to_contain_text("This invitation has expired")
        expect(page.get_by_label("Username")).to_have_count(0)
    assert Invitation.objects.get().status == "pending"
    assert not User.objects.filter(email=EMAIL).exists()

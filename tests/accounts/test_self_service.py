"""A member's own account: the profile (name and email), password change, and password reset
by email with Django's views. Bad links and bad input change nothing."""

import re
from datetime import timedelta

import time_machine
from django.contrib.auth import authenticate
from django.core import mail
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from tests import factories

PROFILE = "/accounts/profile/"
RESET = "/accounts/password_reset/"
CHANGE = "/accounts/password_change/"
NEW = "a-brand-new-passphrase-4"


def can_sign_in(username: str, password: str) -> bool:
    return authenticate(HttpRequest(), username=username, password=password) is not None


def reset_link() -> str:
    (message,) = mail.outbox
    match = re.search(r"http://testserver(/accounts/reset/[^/]+/[^/]+/)", message.body)
    assert match, message.body
    return match.group(1)


def set_new_password(client: Client, link: str, password: str = NEW):
    form_page = client.get(link)
    assert form_page.status_code == 302  # Django hides the token behind …/set-password/
    return client.post(form_page.url, {"new_password1": password, "new_password2": password})


# Profile


def test_the_profile_changes_the_name_others_see(cast, client_for):
    client = client_for(cast.student)
    response = client.post(PROFILE, {"first_name": "Lina", "last_name": "Haddad", "email": ""})
    assert response.status_code == 302
    cast.student.refresh_from_db()
    assert cast.student.get_full_name() == "Lina Haddad"
    assert "Lina Haddad" in client_for(cast.supervisor).get("/p/review/members/").text
    assert 'href="/accounts/profile/"' in client.get(PROFILE).text


def confirmation_link() -> str:
    (message,) = [m for m in mail.outbox if "Confirm your new" in m.subject]
    match = re.search(r"http://testserver(/accounts/profile/email/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def ask_for_address(client: Client, email: str, password: str = factories.PASSWORD):
    data = {"first_name": "", "last_name": "", "email": email, "current_password": password}
    return client.post(PROFILE, data)


def test_changing_the_email_needs_the_current_password(cast, client_for):
    client = client_for(cast.student)
    refused = ask_for_address(client, "new@example.org", password="wrong")
    assert refused.status_code == 200
    assert "Give your current password" in refused.text
    assert mail.outbox == []
    cast.student.refresh_from_db()
    assert cast.student.email == ""


def test_a_new_address_takes_effect_only_from_the_link_mailed_to_it(cast, client_for):
    cast.student.email = "old@example.org"
    cast.student.save()
    client = client_for(cast.student)
    asked = ask_for_address(client, "new@example.org")
    assert asked.status_code == 302
    page = client.get(asked.url).text
    assert "We sent a link to new@example.org" in page
    cast.student.refresh_from_db()
    assert cast.student.email == "old@example.org"
    (message,) = mail.outbox
    assert message.to == ["new@example.org"]
    link = confirmation_link()

    # Opening the link asks; only confirming changes the address, and the old one is told.
    assert "Use <strong>new@example.org</strong>" in client.get(link).text
    cast.student.refresh_from_db()
    assert cast.student.email == "old@example.org"
    confirmed = client.post(link)
    assert confirmed.status_code == 302
    assert "Your email address is now new@example.org" in client.get(confirmed.url).text
    cast.student.refresh_from_db()
    assert cast.student.email == "new@example.org"
    notice = mail.outbox[-1]
    assert notice.to == ["old@example.org"]
    assert "is now new@example.org" in notice.body

    # The link works once.
    again = client.post(link)
    assert again.status_code == 410
    assert "already used" in again.text
    cast.student.refresh_from_db()
    assert cast.student.email == "new@example.org"


def test_a_confirmation_link_is_refused_to_another_account_expired_or_tampered(cast, client_for):
    ask_for_address(client_for(cast.student), "new@example.org")
    link = confirmation_link()
    other = client_for(cast.analyst).post(link)
    assert other.status_code == 403
    assert "for another account" in other.text
    tampered = client_for(cast.student).post(link[:-3] + "xx/")
    assert tampered.status_code == 404
    assert "not valid" in tampered.text
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        expired = client_for(cast.student).post(link)
    assert expired.status_code == 410
    assert "expired" in expired.text
    for user in (cast.student, cast.analyst):
        user.refresh_from_db()
        assert user.email == ""


def test_an_unconfirmed_address_does_not_take_an_invitation_sent_to_it(cast, client_for):
    """The impostor's path: set someone's invited address on one's own profile, then open the
    invitation. Without the mailbox the address never changes, so the invitation is refused."""
    invitation = cast.project.invite("invited@example.org", role="student", by=cast.supervisor)
    client = client_for(cast.outsider)
    assert ask_for_address(client, invitation.email).status_code == 302
    url = reverse("accounts:invitation_accept", args=[invitation.make_token()])
    assert client.post(url).status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert not invitation.project.memberships.filter(user=cast.outsider).exists()


def test_address_confirmations_are_limited_per_hour(cast, client_for, settings):
    settings.MAIL_LIMITS = {**settings.MAIL_LIMITS, "email_change": {"sender": 2, "recipient": 9}}
    client = client_for(cast.student)
    for n in range(2):
        assert ask_for_address(client, f"new{n}@example.org").status_code == 302
    refused = ask_for_address(client, "new3@example.org")
    assert refused.status_code == 429
    assert "as many of these emails as one person may within an hour" in refused.text
    assert len(mail.outbox) == 2
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert ask_for_address(client, "new3@example.org").status_code == 302
    assert len(mail.outbox) == 3


def test_a_bad_profile_is_shown_again_and_changes_nothing(cast, client_for):
    client = client_for(cast.student)
    for data, error in [
        ({"email": "not an address"}, "Enter a valid email address"),
        ({"first_name": "x" * 200}, "at most 150 characters"),
    ]:
        response = client.post(PROFILE, {"first_name": "", "last_name": "", "email": "", **data})
        assert response.status_code == 200
        assert error in response.text
        # The header still shows the name as it is stored.
        assert (
            '<a class="user-menu__name" href="/accounts/profile/" title="Your profile">student'
            in (response.text)
        )
    cast.student.refresh_from_db()
    assert (cast.student.first_name, cast.student.email) == ("", "")


# Password change


def test_a_member_changes_their_password_and_stays_signed_in(cast):
    client = Client()
    client.post("/accounts/login/", {"username": "student", "password": factories.PASSWORD})
    response = client.post(
        CHANGE,
        {"old_password": factories.PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert response.url == "/accounts/password_change/done/"
    assert "Your password is changed" in client.get(response.url).text
    assert client.get("/").status_code == 200
    assert can_sign_in("student", NEW)
    assert not can_sign_in("student", factories.PASSWORD)


def test_a_wrong_old_password_or_a_weak_new_one_changes_nothing(cast, client_for):
    client = client_for(cast.student)
    old = factories.PASSWORD
    cases = [
        ({"old_password": "wrong", "new_password1": NEW, "new_password2": NEW}, "incorrectly"),
        ({"old_password": old, "new_password1": "password", "new_password2": "password"}, "common"),
        ({"old_password": old, "new_password1": NEW, "new_password2": "x"}, "match"),
    ]
    for data, error in cases:
        response = client.post(CHANGE, data)
        assert response.status_code == 200
        assert error in response.text
    assert can_sign_in("student", factories.PASSWORD)


# Password reset


def test_a_password_reset_mails_a_link_that_sets_a_new_password_once(cast, client):
    cast.student.email = "student@example.org"
    cast.student.save()
    response = client.post(RESET, {"email": "Student@Example.org"})
    assert response.status_code == 302
    assert response.url == "/accounts/password_reset/done/"
    assert "Check your email" in client.get(response.url).text
    link = reset_link()
    assert mail.outbox[0].to == ["student@example.org"]
    assert "student" in mail.outbox[0].body
    done = set_new_password(client, link)
    assert done.status_code == 302
    assert done.url == "/accounts/reset/done/"
    assert can_sign_in("student", NEW)
    assert not can_sign_in("student", factories.PASSWORD)
    # The link works once.
    again = Client().get(link)
    assert again.status_code == 200
    assert "This link cannot be used" in again.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(cast, client):
    response = client.post(RESET, {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response.url == "/accounts/password_reset/done/"
    assert not mail.outbox


def test_reset_mails_are_limited_per_address_and_per_client(cast, client, settings):
    settings.MAIL_LIMITS = {
        **settings.MAIL_LIMITS,
        "password_reset": {"client": 5, "recipient": 2},
    }
    cast.student.email = "student@example.org"
    cast.student.save()
    for _ in range(2):
        assert client.post(RESET, {"email": "student@example.org"}).status_code == 302
    assert len(mail.outbox) == 2
    # The third request for the address is refused — with the same answer for an address no
    # account has, so the limit tells nothing about who has an account.
    for email in ("Student@Example.org", "nobody@example.org"):
        if email == "nobody@example.org":
            for _ in range(2):
                client.post(RESET, {"email": email})
        refused = client.post(RESET, {"email": email})
        assert refused.status_code == 429, email
        assert "That address has been sent as many of these emails" in refused.text
    assert len(mail.outbox) == 2
    # Refused requests count nothing; the client's own allowance (5 requests) runs out too.
    assert client.post(RESET, {"email": "third@example.org"}).status_code == 302
    other = client.post(RESET, {"email": "fourth@example.org"})
    assert other.status_code == 429
    assert "from your network address" in other.text
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert client.post(RESET, {"email": "student@example.org"}).status_code == 302
    assert len(mail.outbox) == 3


def test_an_expired_reset_link_is_refused_and_changes_nothing(cast, client):
    cast.student.email = "student@example.org"
    cast.student.save()
    client.post(RESET, {"email": "student@example.org"})
    link = reset_link()
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        page = Client().get(link)
        assert page.status_code == 200
        assert "This link cannot be used" in page.text
        assert 'name="new_password1"' not in page.text
    assert can_sign_in("student", factories.PASSWORD)


def test_forged_and_tampered_reset_links_are_refused(cast, client):
    cast.student.email = "student@example.org"
    cast.student.save()
    client.post(RESET, {"email": "student@example.org"})
    link = reset_link()
    _, _, _, uid, token, _ = link.split("/")
    other_uid = link.replace(uid, "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA")  # "12345678901234567890"
    for bad in (
        link.replace(token, token[:-1] + ("a" if token[-1] != "a" else "b")),
        other_uid,
        f"/accounts/reset/{uid}/set-password/",  # no token in this session
        "/accounts/reset/%F0%9F%98%80/x/",
    ):
        page = Client().get(bad)
        assert page.status_code == 200, bad
        assert "This link cannot be used" in page.text, bad
        response = Client().post(bad, {"new_password1": NEW, "new_password2": NEW})
        assert "This link cannot be used" in response.text, bad
    assert can_sign_in("student", factories.PASSWORD)
    assert User.objects.filter(username="student").count() == 1


def test_account_pages_carry_the_security_headers_and_no_inline_code(cast, client_for):
    from tests.accounts.test_security_headers import INLINE, assert_secure_headers

    invitation = cast.project.invite("x@example.org", role="student", by=cast.supervisor)
    invitation_url = f"/invitations/{invitation.make_token()}/"
    pages = {
        PROFILE: cast.student,
        CHANGE: cast.student,
        "/accounts/password_change/done/": cast.student,
        RESET: None,
        "/accounts/password_reset/done/": None,
        "/accounts/reset/MQ/x/": None,
        "/accounts/reset/done/": None,
        invitation_url: None,
        "/invitations/forged/": None,
        "/p/review/members/": cast.supervisor,
    }
    for url, user in pages.items():
        response = client_for(user).get(url)
        assert response.status_code in (200, 404), url
        assert_secure_headers(response)
        assert not INLINE.search(response.text), url
    assert_secure_headers(client_for(cast.outsider).get(invitation_url))


def test_reset_mails_are_sent_by_the_job_runner_not_in_the_request(cast, client, settings):
    """The page answers before any mail server is spoken to, so the time it takes does not
    tell whether an account has the address."""
    from django_tasks_db.models import DBTaskResult

    from apps.accounts.mail import deliver

    settings.JOBS_MODE = "worker"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    cast.student.email = "student@example.org"
    cast.student.save()
    for email in ("student@example.org", "nobody@example.org"):
        response = client.post(RESET, {"email": email})
        assert response.status_code == 302
        assert response.url == "/accounts/password_reset/done/"
    assert mail.outbox == []
    (queued,) = DBTaskResult.objects.all()
    assert queued.args_kwargs["args"][2] == "student@example.org"
    # What the worker does with it (the worker itself is tested in tests/jobs).
    deliver.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
    (message,) = mail.outbox
    assert message.to == ["student@example.org"]
    assert message.subject == "Choose a new Citemap password"
    set_new_password(client, reset_link())
    assert can_sign_in("student", NEW)

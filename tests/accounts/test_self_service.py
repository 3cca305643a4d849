"""A member's own account: the profile (name and email), password change, and password reset
by email with Django's views. Bad links and bad input change nothing."""

import re
from datetime import timedelta

import time_machine
from django.contrib.auth import authenticate
from django.core import mail
from django.http import HttpRequest
from django.test import Client
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


def test_changing_the_email_needs_the_current_password(cast, client_for):
    client = client_for(cast.student)
    data = {"first_name": "", "last_name": "", "email": "new@example.org"}
    refused = client.post(PROFILE, {**data, "current_password": "wrong"})
    assert refused.status_code == 200
    assert "Give your current password" in refused.text
    cast.student.refresh_from_db()
    assert cast.student.email == ""
    accepted = client.post(PROFILE, {**data, "current_password": factories.PASSWORD})
    assert accepted.status_code == 302
    cast.student.refresh_from_db()
    assert cast.student.email == "new@example.org"


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

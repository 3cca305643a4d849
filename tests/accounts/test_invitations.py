"""Invitations: a supervisor invites an email address with a role; the link (signed, expiring,
single use) lets the person create an account or sign in, and join. Bad links change nothing."""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import (
    INVITATION_SALT,
    Invitation,
    InvitationError,
    InvitationStatus,
    Membership,
    Role,
    User,
)
from tests import factories

MEMBERS = "/p/review/members/"
INVITE = "/p/review/members/invite/"


def invite(client, email="new.student@example.org", role="student", **options):
    return client.post(INVITE, {"email": email, "role": role}, **options)


def link_in(message) -> str:
    match = re.search(r"http://testserver(/invitations/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def sign_up(client, link, username="newstudent", password="a-long-new-password-7", **extra):
    return client.post(
        link,
        {"username": username, "password1": password, "password2": password, **extra},
    )


def state(project) -> tuple:
    """Everything a bad link must leave as it was."""
    return (
        sorted(User.objects.values_list("username", flat=True)),
        sorted(Membership.objects.filter(project=project).values_list("user__username", "role")),
        sorted(Invitation.objects.values_list("email", "status", "key")),
    )


# Inviting


def test_a_supervisor_invites_an_email_and_the_link_is_mailed(cast, client_for):
    response = invite(client_for(cast.supervisor))
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.status) == (
        "new.student@example.org",
        Role.STUDENT,
        InvitationStatus.PENDING,
    )
    assert invitation.invited_by == cast.supervisor
    (message,) = mail.outbox
    assert message.to == ["new.student@example.org"]
    assert "A review" in message.subject
    assert "as student" in message.body and "7 days" in message.body
    assert Invitation.from_token(link_in(message).split("/")[2]) == invitation
    page = client_for(cast.supervisor).get(MEMBERS)
    assert "1 pending invitation" in page.text
    assert "new.student@example.org" in page.text


def test_pending_invitations_are_shown_to_supervisors_only(cast, client_for):
    cast.project.invite("someone@example.org", role="analyst", by=cast.supervisor)
    for user in (cast.analyst, cast.student):
        page = client_for(user).get(MEMBERS).text
        assert "someone@example.org" not in page
        assert "Invite by email" not in page
    assert "someone@example.org" in client_for(cast.supervisor).get(MEMBERS).text


def test_inviting_an_email_that_has_an_account_works_like_any_other(cast, client_for):
    factories.make_user("known", email="known@example.org")
    invite(client_for(cast.supervisor), email="known@example.org")
    assert Invitation.objects.get().email == "known@example.org"
    assert len(mail.outbox) == 1
    # The message is the one any address gets: it does not say an account exists.
    client = client_for(cast.supervisor)
    known = invite(client, email="known2@example.org", follow=True)
    factories.make_user("known2", email="known2@example.org")
    unknown = invite(client, email="unknown@example.org", follow=True)
    (known_message,) = (str(m) for m in known.context["messages"])
    (unknown_message,) = (str(m) for m in unknown.context["messages"])
    assert known_message.replace("known2", "X") == unknown_message.replace("unknown", "X")


def test_a_second_pending_invitation_for_the_same_address_is_refused(cast, client_for):
    client = client_for(cast.supervisor)
    invite(client, email="twice@example.org")
    again = invite(client, email="TWICE@example.org", role="analyst")
    assert again.status_code == 200
    assert "already invited" in again.text
    assert Invitation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_an_address_a_member_uses_is_not_invited(cast, client_for):
    cast.student.email = "student@example.org"
    cast.student.save()
    response = invite(client_for(cast.supervisor), email="Student@example.org")
    assert response.status_code == 200
    assert "already uses" in response.text
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"email": "", "role": "student"}, "This field is required"),
        ({"email": "not an address", "role": "student"}, "Enter a valid email address"),
        ({"email": "a@example.org", "role": "owner"}, "Select a valid choice"),
        ({"email": "a@example.org" + "x" * 300, "role": "student"}, "at most 254"),
    ],
)
def test_bad_invitation_forms_are_shown_again_with_the_reason(cast, client_for, data, error):
    response = client_for(cast.supervisor).post(INVITE, data)
    assert response.status_code == 200
    assert error in response.text
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_only_supervisors_invite_and_outsiders_do_not_learn_the_project_exists(cast, client_for):
    for user in (cast.analyst, cast.student):
        assert invite(client_for(user)).status_code == 403
    # The outsider supervises another project, not this one.
    assert invite(client_for(cast.outsider)).status_code == 404
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_a_mail_server_that_refuses_keeps_the_invitation_and_says_so(cast, client_for, settings):
    settings.EMAIL_BACKEND = "tests.accounts.failing_mail.Backend"
    page = invite(client_for(cast.supervisor), follow=True)
    assert page.redirect_chain == [(MEMBERS, 302)]
    assert Invitation.objects.filter(status=InvitationStatus.PENDING).count() == 1
    assert "could not be sent" in "".join(str(m) for m in page.context["messages"])


def test_invitation_mails_are_limited_per_supervisor_and_per_address(cast, client_for, settings):
    settings.MAIL_LIMITS = {**settings.MAIL_LIMITS, "invitation": {"sender": 3, "recipient": 2}}
    client = client_for(cast.supervisor)
    for n in range(3):
        assert invite(client, email=f"s{n}@example.org").status_code == 302
    before = state(cast.project)
    refused = invite(client, email="s3@example.org")
    assert refused.status_code == 429
    assert "as many of these emails as one person may within an hour" in refused.text
    assert state(cast.project) == before  # no invitation saved for s3
    assert len(mail.outbox) == 3
    # Another supervisor may still invite, but not flood one address by sending again.
    other = factories.make_user("super2")
    factories.add_member(cast.project, other, "supervisor")
    resend = reverse("accounts:invitation_resend", args=["review", Invitation.objects.first().pk])
    page = client_for(other).post(resend, follow=True)
    assert len(mail.outbox) == 4
    page = client_for(other).post(resend, follow=True)
    assert "That address has been sent as many of these emails" in page.text
    assert len(mail.outbox) == 4
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert invite(client, email="s3@example.org").status_code == 302
    assert len(mail.outbox) == 5


# Resending and revoking


def test_sending_again_mails_a_new_link_and_the_old_one_stops_working(cast, client_for):
    client = client_for(cast.supervisor)
    invite(client)
    invitation = Invitation.objects.get()
    old_link = link_in(mail.outbox[0])
    response = client.post(reverse("accounts:invitation_resend", args=["review", invitation.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    new_link = link_in(mail.outbox[1])
    assert new_link != old_link
    before = state(cast.project)
    refused = client_for(None).get(old_link)
    assert refused.status_code == 410
    assert "replaced by a newer invitation" in refused.text
    assert sign_up(client_for(None), old_link).status_code == 410
    assert state(cast.project) == before
    assert client_for(None).get(new_link).status_code == 200


def test_sending_again_renews_the_expiry(cast, client_for):
    invitation = cast.project.invite("late@example.org", role="student", by=cast.supervisor)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert invitation.is_expired
        client_for(cast.supervisor).post(
            reverse("accounts:invitation_resend", args=["review", invitation.pk])
        )
        link = link_in(mail.outbox[0])
        assert client_for(None).get(link).status_code == 200


def test_a_revoked_invitation_link_is_refused(cast, client_for):
    client = client_for(cast.supervisor)
    invite(client)
    invitation = Invitation.objects.get()
    link = link_in(mail.outbox[0])
    response = client.post(reverse("accounts:invitation_revoke", args=["review", invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.REVOKED
    assert "pending invitation" not in client.get(MEMBERS).text
    before = state(cast.project)
    refused = sign_up(client_for(None), link)
    assert refused.status_code == 410
    assert "withdrawn" in refused.text
    assert state(cast.project) == before
    # Revoked invitations are no longer resent or revoked: they are not found.
    for action in ("invitation_resend", "invitation_revoke"):
        url = reverse(f"accounts:{action}", args=["review", invitation.pk])
        assert client.post(url).status_code == 404


def test_invitations_of_another_project_are_not_reached(cast, client_for):
    elsewhere = factories.make_project(slug="other")
    factories.add_member(elsewhere, cast.supervisor, Role.SUPERVISOR)
    theirs = elsewhere.invite("x@example.org", role="student", by=cast.supervisor)
    for action in ("invitation_resend", "invitation_revoke"):
        url = reverse(f"accounts:{action}", args=["review", theirs.pk])
        assert client_for(cast.supervisor).post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == InvitationStatus.PENDING
    assert not mail.outbox


# Accepting


def test_a_new_person_creates_an_account_and_joins_with_the_role(cast, client_for):
    invite(client_for(cast.supervisor), role="analyst")
    link = link_in(mail.outbox[0])
    client = client_for(None)
    page = client.get(link)
    assert page.status_code == 200
    assert "Join “A review”" in page.text and "analyst" in page.text
    response = sign_up(client, link, first_name="Nadia", last_name="Amari")
    assert response.status_code == 302
    assert response.url == "/p/review/"
    user = User.objects.get(username="newstudent")
    assert user.email == "new.student@example.org"
    assert user.get_full_name() == "Nadia Amari"
    assert Membership.objects.get(project=cast.project, user=user).role == Role.ANALYST
    invitation = Invitation.objects.get()
    assert (invitation.status, invitation.accepted_by) == (InvitationStatus.ACCEPTED, user)
    # Signed in as the new account.
    assert client.get("/p/review/").status_code == 200


def test_a_used_link_is_refused_and_changes_nothing(cast, client_for):
    invite(client_for(cast.supervisor))
    link = link_in(mail.outbox[0])
    assert sign_up(client_for(None), link).status_code == 302
    before = state(cast.project)
    again = client_for(None)
    refused = again.get(link)
    assert refused.status_code == 410
    assert "already been used" in refused.text
    assert sign_up(again, link, username="second").status_code == 410
    assert client_for(cast.analyst).post(link).status_code == 410
    assert state(cast.project) == before


def test_an_expired_link_is_refused_and_changes_nothing(cast, client_for):
    invite(client_for(cast.supervisor))
    link = link_in(mail.outbox[0])
    before = state(cast.project)
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        refused = client_for(None).get(link)
        assert refused.status_code == 410
        assert "expired" in refused.text
        assert sign_up(client_for(None), link).status_code == 410
        assert client_for(cast.outsider).post(link).status_code == 410
    assert state(cast.project) == before
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert client_for(None).get(link).status_code == 200


def test_the_expiry_comes_from_the_setting(cast, client_for, settings):
    settings.INVITATION_MAX_AGE_DAYS = 2
    invite(client_for(cast.supervisor))
    link = link_in(mail.outbox[0])
    assert "2 days" in mail.outbox[0].body
    with time_machine.travel(timezone.now() + timedelta(days=2, seconds=1)):
        assert client_for(None).get(link).status_code == 410


def test_forged_and_tampered_links_are_refused_and_change_nothing(cast, client_for):
    invite(client_for(cast.supervisor))
    invitation = Invitation.objects.get()
    token = link_in(mail.outbox[0]).split("/")[2]
    signer_of_another_site = signing.dumps(
        {"i": invitation.pk, "k": invitation.key}, salt=INVITATION_SALT, key="another-key"
    )
    wrong_salt = signing.dumps({"i": invitation.pk, "k": invitation.key}, salt="other")
    guessed_key = signing.dumps({"i": invitation.pk, "k": "guess"}, salt=INVITATION_SALT)
    other_id = signing.dumps({"i": invitation.pk + 1, "k": invitation.key}, salt=INVITATION_SALT)
    not_a_dict = signing.dumps(["x"], salt=INVITATION_SALT)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    before = state(cast.project)
    bad = {
        "tampered": (flipped, 404, "not valid"),
        "cut short": (token[: len(token) // 2], 404, "not valid"),
        "another site's key": (signer_of_another_site, 404, "not valid"),
        "another salt": (wrong_salt, 404, "not valid"),
        "not a dict": (not_a_dict, 404, "not valid"),
        "unknown id": (other_id, 404, "no longer exists"),
        "guessed key": (guessed_key, 410, "replaced"),
        "junk": ("%E2%80%AE" + "é" * 10, 404, "not valid"),
        "very long": ("a" * 5000, 404, "not valid"),
    }
    for name, (bad_token, status, text) in bad.items():
        url = f"/invitations/{bad_token}/"
        for client in (client_for(None), client_for(cast.outsider)):
            response = client.get(url)
            assert response.status_code == status, name
            assert text in response.text, name
            assert sign_up(client, url).status_code == status, name
            assert client.post(url).status_code == status, name
    assert state(cast.project) == before


def test_someone_with_an_account_signs_in_and_joins(cast, client_for):
    User.objects.filter(pk=cast.outsider.pk).update(email="Outsider@example.org")
    invite(client_for(cast.supervisor), email="outsider@example.org", role="analyst")
    link = link_in(mail.outbox[0])
    anonymous = client_for(None).get(link)
    assert f'href="/accounts/login/?next={quote(link)}"' in anonymous.text
    client = client_for(cast.outsider)
    page = client.get(link)
    assert "You are signed in as <strong>outsider</strong>" in page.text
    assert 'name="password1"' not in page.text
    response = client.post(link)
    assert response.status_code == 302 and response.url == "/p/review/"
    assert Membership.objects.get(project=cast.project, user=cast.outsider).role == Role.ANALYST
    assert Invitation.objects.get().status == InvitationStatus.ACCEPTED
    assert User.objects.filter(email__iexact="outsider@example.org").count() == 1  # no new one


def test_a_member_who_follows_their_own_invitation_keeps_their_role(cast, client_for):
    invitation = cast.project.invite("x@example.org", role="supervisor", by=cast.supervisor)
    User.objects.filter(pk=cast.student.pk).update(email="x@example.org")  # changed since
    link = reverse("accounts:invitation_accept", args=[invitation.make_token()])
    response = client_for(cast.student).post(link)
    assert response.status_code == 302
    assert Membership.objects.get(project=cast.project, user=cast.student).role == Role.STUDENT
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED


@pytest.mark.parametrize("who", ["student", "outsider"])
def test_a_link_followed_by_another_account_neither_joins_nor_uses_it_up(cast, client_for, who):
    invitation = cast.project.invite("x@example.org", role="supervisor", by=cast.supervisor)
    link = reverse("accounts:invitation_accept", args=[invitation.make_token()])
    client = client_for(getattr(cast, who))
    before = state(cast.project)
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 403
        assert "This invitation was sent to x@example.org" in response.text
    assert state(cast.project) == before
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert client_for(None).get(link).status_code == 200  # still there for its addressee


def test_a_taken_username_or_weak_password_is_refused_with_the_reason(cast, client_for):
    invite(client_for(cast.supervisor))
    link = link_in(mail.outbox[0])
    before = state(cast.project)
    cases = [
        ({"username": "Student"}, "That username is taken"),
        ({"username": "bad name!"}, "Enter a valid username"),
        ({"password": "12345678"}, "too common"),
        ({"password": "short"}, "too short"),
        ({"username": ""}, "This field is required"),
    ]
    for data, error in cases:
        response = sign_up(client_for(None), link, **data)
        assert response.status_code == 200, data
        assert error in response.text, data
    mismatch = client_for(None).post(
        link, {"username": "n", "password1": "a-long-new-password-7", "password2": "other-9-x"}
    )
    assert "didn’t match" in mismatch.text
    assert state(cast.project) == before


def test_a_project_deleted_meanwhile_takes_its_invitations(cast, client_for):
    invitation = cast.project.invite("x@example.org", role="student", by=cast.supervisor)
    link = reverse("accounts:invitation_accept", args=[invitation.make_token()])
    cast.project.delete()
    assert client_for(None).get(link).status_code == 404


def test_signing_in_from_the_invitation_comes_back_to_it(cast, client_for):
    User.objects.filter(pk=cast.outsider.pk).update(email="x@example.org")
    invitation = cast.project.invite("x@example.org", role="analyst", by=cast.supervisor)
    link = reverse("accounts:invitation_accept", args=[invitation.make_token()])
    client = client_for(None)
    response = client.post(
        "/accounts/login/",
        {"username": "outsider", "password": factories.PASSWORD, "next": link},
    )
    assert response.status_code == 302
    assert response.url == link
    assert client.post(link).url == "/p/review/"
    assert Membership.objects.get(project=cast.project, user=cast.outsider).role == Role.ANALYST


def test_two_acceptances_of_one_link_make_one_member(cast, client_for):
    User.objects.filter(pk=cast.outsider.pk).update(email="x@example.org")
    cast.outsider.refresh_from_db()
    invitation = cast.project.invite("x@example.org", role="analyst", by=cast.supervisor)
    link = reverse("accounts:invitation_accept", args=[invitation.make_token()])
    first = Invitation.from_token(invitation.make_token())
    second = Invitation.from_token(invitation.make_token())
    first.accept(cast.outsider)
    with pytest.raises(InvitationError, match="already been used"):
        second.accept(factories.make_user("late", email="x@example.org"))
    assert not Membership.objects.filter(user__username="late").exists()
    assert client_for(cast.outsider).get(link).status_code == 410

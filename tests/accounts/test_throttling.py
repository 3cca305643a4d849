"""Sign-in throttling (django-axes): after SIGNIN_FAILURE_LIMIT failures for one username or
from one address, sign-in is refused, even with the right password, until the lock ends or an
administrator lifts it; the sign-in page says why."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from tests import factories

LOGIN = "/accounts/login/"
LOCKED = "Too many failed sign-ins"


def attempt(client: Client, username: str, password: str, **headers):
    return client.post(LOGIN, {"username": username, "password": password}, **headers)


def signed_in(response) -> bool:
    return response.status_code == 302 and response.url == "/"


def fail(client: Client, username: str, times: int, **headers) -> list:
    return [attempt(client, username, "wrong-password", **headers) for _ in range(times)]


def test_the_attempt_after_the_limit_is_refused_even_with_the_right_password(cast, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    first_four = fail(client, "student", 4)
    for response in first_four:
        assert response.status_code == 200
        assert "correct username and password" in response.text
        assert LOCKED not in response.text
    fifth = fail(client, "student", 1)[0]
    assert fifth.status_code == 429
    assert LOCKED in fifth.text and "15 minutes" in fifth.text
    right = attempt(client, "student", factories.PASSWORD)
    assert right.status_code == 429
    assert LOCKED in right.text
    assert client.get("/").status_code == 302  # still signed out
    # The page is the sign-in form, with the username kept and a way to reset the password.
    assert 'value="student"' in right.text
    assert 'href="/accounts/password_reset/"' in right.text


def test_the_lock_ends_after_the_cool_off(cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(Client(), "student", 5)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert attempt(Client(), "student", factories.PASSWORD).status_code == 429
    # Attempts while locked are not counted: the lock ends 15 minutes after the fifth failure.
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert signed_in(attempt(Client(), "student", factories.PASSWORD))


def test_the_unlock_commands_lift_the_lock_at_once(cast):
    fail(Client(), "student", 5)
    assert attempt(Client(), "student", factories.PASSWORD).status_code == 429
    call_command("axes_reset_username", "student", verbosity=0)
    assert signed_in(attempt(Client(), "student", factories.PASSWORD))

    fail(Client(), "analyst", 5)
    call_command("axes_reset", verbosity=0)
    assert not AccessAttempt.objects.exists()
    assert signed_in(attempt(Client(), "analyst", factories.PASSWORD))


def test_failures_for_one_username_from_many_addresses_lock_that_username_only(cast):
    for number in range(5):
        attempt(Client(REMOTE_ADDR=f"198.51.100.{number}"), "student", "wrong")
    assert (
        attempt(Client(REMOTE_ADDR="198.51.100.77"), "student", factories.PASSWORD).status_code
        == 429
    )
    assert signed_in(attempt(Client(REMOTE_ADDR="198.51.100.77"), "analyst", factories.PASSWORD))


def test_failures_from_one_address_for_many_usernames_lock_that_address(cast):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for name in ("a", "b", "c", "d", "e"):
        attempt(client, name, "wrong")
    # Every account is refused from that address, even a right password for one never tried.
    assert attempt(client, "analyst", factories.PASSWORD).status_code == 429
    # Elsewhere the same accounts sign in.
    assert signed_in(attempt(Client(REMOTE_ADDR="203.0.113.10"), "analyst", factories.PASSWORD))


def test_signing_in_to_ones_own_account_does_not_reset_the_count_for_another(cast):
    client = Client(REMOTE_ADDR="203.0.113.20")
    for _ in range(3):
        fail(client, "student", 1)
        assert signed_in(
            attempt(Client(REMOTE_ADDR="203.0.113.20"), "analyst2", factories.PASSWORD)
        )
    fail(client, "student", 2)
    assert (
        attempt(Client(REMOTE_ADDR="198.51.100.1"), "student", factories.PASSWORD).status_code
        == 429
    )


def test_behind_a_proxy_the_address_it_saw_counts(cast, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    # The client writes anything it likes on the left; the proxy appends what it saw.
    for number in range(5):
        forwarded = f"10.0.0.{number}, 192.0.2.44"
        attempt(Client(**proxy), f"name{number}", "wrong", HTTP_X_FORWARDED_FOR=forwarded)
    locked = attempt(
        Client(**proxy), "analyst", factories.PASSWORD, HTTP_X_FORWARDED_FOR="9.9.9.9, 192.0.2.44"
    )
    assert locked.status_code == 429
    # Another client behind the same proxy is not locked out with them.
    other = attempt(
        Client(**proxy), "analyst", factories.PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.45"
    )
    assert signed_in(other)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.44"}


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(cast):
    for number in range(5):
        attempt(Client(), f"name{number}", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}")
    assert attempt(Client(), "analyst", factories.PASSWORD).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "999.1.1.1", "\u202e1.2.3.4"])
def test_a_missing_or_malformed_forwarded_address_falls_back_to_the_connection(
    cast, settings, forwarded
):
    settings.TRUSTED_PROXY_COUNT = 1
    response = attempt(Client(), "student", "wrong", HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 200
    assert AccessAttempt.objects.get().ip_address == "127.0.0.1"


def test_a_flood_of_attempts_gets_a_clear_answer_each_time(cast):
    client = Client()
    statuses = []
    for number in range(40):
        response = attempt(
            client, "student" if number % 2 else f"x{number}" * 30, "w" * (number + 1)
        )
        assert LOCKED in response.text or "correct username and password" in response.text
        statuses.append(response.status_code)
    assert set(statuses) <= {200, 429}
    assert statuses[-1] == 429
    # Attempts while locked are not recorded, so the database does not grow with the flood.
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 5


def test_hostile_usernames_are_counted_not_crashed_on(cast):
    names = ("", " ", "a" * 5000, "é\u202e", "<script>", "student\r\nX: y", "😀" * 300)
    for number, name in enumerate(names):
        response = attempt(Client(REMOTE_ADDR=f"192.0.2.{10 + number}"), name, "wrong")
        assert response.status_code == 200, name
        assert "correct username and password" in response.text or "required" in response.text
    # Counted under the longest name an account can have (PostgreSQL would refuse more).
    assert AccessAttempt.objects.filter(username="a" * 150).exists()
    # And the admin's sign-in is throttled the same way.
    admin = Client(REMOTE_ADDR="192.0.2.2").post(
        "/admin/login/", {"username": "b" * 5000, "password": "wrong"}
    )
    assert admin.status_code == 200
    assert AccessAttempt.objects.filter(username="b" * 150, ip_address="192.0.2.2").exists()


def test_the_sign_in_counts_are_kept_in_the_database(cast):
    # Shared by every app process (not process memory): a fresh handler sees them.
    fail(Client(), "student", 2)
    assert AccessAttempt.objects.get(username="student").failures_since_start == 2


def test_authenticate_needs_the_request_so_nothing_skips_the_throttle(cast):
    with pytest.raises(ValueError, match="request"):
        authenticate(username="student", password=factories.PASSWORD)
    assert authenticate(HttpRequest(), username="student", password=factories.PASSWORD)
    client = Client()
    assert client.login(request=HttpRequest(), username="student", password=factories.PASSWORD)
    assert client.get("/").status_code == 200


def test_a_new_password_set_from_the_mailed_link_lifts_the_lock(cast):
    from tests.accounts.test_self_service import NEW, RESET, reset_link, set_new_password

    User.objects.filter(pk=cast.student.pk).update(email="student@example.org")
    fail(Client(), "student", 5)
    assert attempt(Client(), "student", factories.PASSWORD).status_code == 429
    client = Client()
    client.post(RESET, {"email": "student@example.org"})
    set_new_password(client, reset_link())
    assert signed_in(attempt(Client(), "student", NEW))
    # Another account's lock stays.
    fail(Client(), "analyst", 5, REMOTE_ADDR="10.0.0.9")
    assert attempt(Client(), "analyst", factories.PASSWORD).status_code == 429

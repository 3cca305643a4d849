"""Sign-in throttling, invitations and email take their settings from the environment, as
README lists them."""

import json

from tests.accounts.test_deploy_settings import manage

SHOW = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'limit': s.AXES_FAILURE_LIMIT, 'minutes': s.AXES_COOLOFF_TIME.total_seconds() / 60, "
    "'proxies': s.TRUSTED_PROXY_COUNT, 'days': s.INVITATION_MAX_AGE_DAYS, "
    "'backend': s.EMAIL_BACKEND, 'host': s.EMAIL_HOST, 'port': getattr(s, 'EMAIL_PORT', None), "
    "'user': s.EMAIL_HOST_USER, 'password': s.EMAIL_HOST_PASSWORD, 'tls': s.EMAIL_USE_TLS, "
    "'sender': s.DEFAULT_FROM_EMAIL, 'handler': s.AXES_HANDLER}))"
)


def settings_with(tmp_path, **variables) -> dict:
    result = manage(tmp_path, "shell", "-c", SHOW, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults_write_mail_to_the_console_and_lock_after_five_failures(tmp_path):
    shown = settings_with(tmp_path)
    assert shown["backend"] == "django.core.mail.backends.console.EmailBackend"
    assert (shown["limit"], shown["minutes"], shown["proxies"], shown["days"]) == (5, 15, 0, 7)
    # Counted in the database, which every app process shares.
    assert shown["handler"] == "axes.handlers.database.AxesDatabaseHandler"


def test_smtp_and_throttling_come_from_the_environment(tmp_path):
    shown = settings_with(
        tmp_path,
        EMAIL_HOST="smtp.example.org",
        EMAIL_PORT="2525",
        EMAIL_HOST_USER="citemap",
        EMAIL_HOST_PASSWORD="secret",
        EMAIL_USE_TLS="0",
        DEFAULT_FROM_EMAIL="Review team <review@example.org>",
        SIGNIN_FAILURE_LIMIT="3",
        SIGNIN_LOCKOUT_MINUTES="60",
        TRUSTED_PROXY_COUNT="1",
        INVITATION_MAX_AGE_DAYS="14",
        REDIS_URL="redis://127.0.0.1:6379/9",
    )
    assert shown == {
        "limit": 3,
        "minutes": 60,
        "proxies": 1,
        "days": 14,
        "backend": "django.core.mail.backends.smtp.EmailBackend",
        "host": "smtp.example.org",
        "port": 2525,
        "user": "citemap",
        "password": "secret",
        "tls": False,
        "sender": "Review team <review@example.org>",
        "handler": "axes.handlers.database.AxesDatabaseHandler",
    }


def test_a_malformed_number_is_refused_at_start(tmp_path):
    result = manage(tmp_path, "check", SIGNIN_FAILURE_LIMIT="five")
    assert result.returncode != 0
    assert "SIGNIN_FAILURE_LIMIT must be a whole number" in result.stderr

"""The production variables README lists make `manage.py check --deploy` clean, and each HTTPS
switch does what a visitor would notice."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

# The production variables of README's "Production" table (besides DATABASE_URL).
PRODUCTION = {
    "SECRET_KEY": "a-long-random-production-key-9f3c0b1e7a6d4c2b8e5f1a0d3c7b9e2f4a6d8c0b",
    "ALLOWED_HOSTS": "citemap.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://citemap.example.org",
    "SECURE_COOKIES": "1",
    "HTTPS_REDIRECT": "1",
    "HSTS_SECONDS": "31536000",
    "HSTS_INCLUDE_SUBDOMAINS": "1",
    "HSTS_PRELOAD": "1",
    "PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


# What the test process itself may carry but a deployment never sets (the browser tests set
# DJANGO_ALLOW_ASYNC_UNSAFE in the worker that ran them, and the subprocess would inherit it).
NOT_DEPLOYED = {"DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def manage(tmp_path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION and key not in NOT_DEPLOYED
    }
    env.update(CITEMAP_DATA_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_variables(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_the_https_switches(tmp_path):
    variables = {
        key: value
        for key, value in PRODUCTION.items()
        if key not in {"HTTPS_REDIRECT", "HSTS_SECONDS"}
    }
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "DEBUG", **variables)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_the_variables_become_settings(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_HSTS_PRELOAD, s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE)"
    )
    result = manage(tmp_path, "shell", "--no-imports", "-c", code, **PRODUCTION)
    assert result.stdout.split("\n")[0] == (
        "True 31536000 True True ('HTTP_X_FORWARDED_PROTO', 'https') True"
    ), result.stderr
    plain = manage(tmp_path, "shell", "--no-imports", "-c", code)
    assert plain.stdout.split("\n")[0] == "False 0 False False None False", plain.stderr


def test_a_malformed_number_is_refused_with_its_name(tmp_path):
    result = manage(tmp_path, "check", HSTS_SECONDS="a year")
    assert result.returncode != 0
    assert "HSTS_SECONDS must be a whole number, not 'a year'" in result.stderr


@override_settings(
    SECURE_SSL_REDIRECT=True,
    SECURE_HSTS_SECONDS=31536000,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
@pytest.mark.django_db
def test_plain_http_is_redirected_and_https_through_the_proxy_gets_hsts(client):
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/"
    secure = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"

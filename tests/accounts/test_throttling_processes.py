"""Two app processes share the sign-in failure counts (they live in the database): failures
made through one lock the account out of the other."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test import Client

from tests import factories
from tests.jobs.test_worker_process import database_url

# The other process: a Django of its own that posts the sign-ins it is sent, one per line.
OTHER = """
import json, sys
import django
django.setup()
from django.test import Client
for line in sys.stdin:
    username, password = json.loads(line)
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    print(json.dumps(response.status_code), flush=True)
"""


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite test databases live in one process"
)
def test_failures_in_one_process_lock_the_account_in_the_other(transactional_db, cast):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "ALLOWED_HOSTS": "testserver",
        "REDIS_URL": "",  # not needed: the counts are in the database either way
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip

    def sign_in_there(username: str, password: str) -> int:
        other.stdin.write(json.dumps([username, password]) + "\n")
        other.stdin.flush()
        return json.loads(other.stdout.readline())

    try:
        assert [sign_in_there("student", "wrong") for _ in range(3)] == [200, 200, 200]
        here = Client()
        assert (
            here.post("/accounts/login/", {"username": "student", "password": "x"}).status_code
            == 200
        )
        locked = here.post("/accounts/login/", {"username": "student", "password": "y"})
        assert locked.status_code == 429
        # The other process refuses the right password too, and, the five failures having
        # come from one address (127.0.0.1 in both), every account from that address.
        assert sign_in_there("student", factories.PASSWORD) == 429
        assert sign_in_there("analyst", factories.PASSWORD) == 429
    finally:
        other.stdin.close()
        other.wait(timeout=30)

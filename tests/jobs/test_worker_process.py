"""A job run by a real worker process (`manage.py db_worker`), which is killed half-way."""

import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from apps.claims.models import Concept
from apps.jobs.models import Job, JobState
from apps.jobs.running import job_url, start_job

WORKER = """
import django
django.setup()
import tests.jobs.kinds
from django.core.management import call_command
call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
"""


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def start_worker() -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "JOBS_MODE": "worker",
        "JOBS_PULSE_SECONDS": "0.2",
    }
    return subprocess.Popen([sys.executable, "-c", WORKER], env=env)


def wait_for(predicate, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite test databases live in the memory of one process",
)
def test_a_killed_worker_leaves_nothing_half_applied_and_the_page_says_so(
    transactional_db, cast, client_for, settings
):
    settings.JOBS_MODE = "worker"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    job = start_job(
        kind="test.hang", project=cast.project, user=cast.analyst, title="Half way",
        params={"seconds": 120},
    )  # fmt: skip
    client, url = client_for(cast.analyst), job_url(job)
    assert "Waiting to start" in client.get(url).content.decode()

    worker = start_worker()
    try:
        # Progress from the other process shows while its work is still uncommitted.
        wait_for(lambda: "5 of 10 (50%)" in client.get(url).content.decode())
        assert "Half way" in client.get(url).content.decode()
        assert not Concept.objects.exists()
    finally:
        worker.kill()
        worker.wait()

    page = client.get(url).content.decode()
    assert "stopped before it finished" in page
    assert "Nothing it had done was kept" in page
    assert "Run it again" in page
    assert Job.objects.get().state == JobState.FAILED
    assert not Concept.objects.exists()  # the five rows it had written died with it

"""Two app processes sharing the database and Redis: what one writes (a review decision, a
rename) the other shows on its next request, numbers and names alike."""

import json
import os
import re
import secrets
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.test import Client

from apps.annotations.models import ReviewAction
from tests import factories
from tests.jobs.test_worker_process import database_url

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")

# The other process: a Django of its own that renders the pages it is sent, one per line.
OTHER = """
import json, sys
import django
django.setup()
from django.test import Client
from apps.accounts.models import User
client = Client()
client.force_login(User.objects.get(username=sys.argv[1]))
for url in sys.stdin:
    response = client.get(url.strip())
    print(json.dumps({"status": response.status_code, "body": response.content.decode()}),
          flush=True)
"""


def redis_answers() -> bool:
    try:
        import redis

        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except Exception:
        return False


def shared_redis(settings) -> str:
    """Point this process's cache at Redis under a fresh key prefix (skip without Redis), as
    the other process's will be: the prefix to give it."""
    if not redis_answers():
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    prefix = f"test-{secrets.token_hex(4)}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    return prefix


class OtherProcess:
    def __init__(self, username: str, prefix: str, prelude: str = "") -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": prefix,
            "ALLOWED_HOSTS": "testserver",
        }
        # `prelude` runs after django.setup(), before the first request.
        script = OTHER.replace("client = Client()", prelude + "client = Client()")
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, username],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def get(self, url: str) -> str:
        self.process.stdin.write(url + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        assert answer["status"] == 200, url
        return answer["body"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite test databases live in one process"
)
def test_a_write_and_a_rename_show_in_the_other_process(transactional_db, cast, settings):
    prefix = shared_redis(settings)
    project = cast.project
    isolation = factories.make_concept(project, "Isolation")
    kaplan = factories.make_person(project, "Jeffrey Kaplan")
    spread = factories.make_claim(project, "Isolationist groups will spread")
    source, other_source = factories.make_source(project), factories.make_source(project)
    approve = {"status": "approved", "reviewer": cast.supervisor}
    for where in (source, other_source):
        factories.make_annotation(
            where, cast.analyst, concepts=[isolation], people=[kaplan], claims=[spread], **approve
        )
    # Contradicted once it is approved: the claim becomes contested.
    pending = factories.make_annotation(
        source, cast.analyst2, status="submitted", concepts=[isolation], people=[kaplan],
        claims=[spread], stance="contradicts",
    )  # fmt: skip

    other = OtherProcess("student", prefix)
    try:
        home, concepts = other.get("/p/review/"), other.get("/p/review/concepts/")
        matrix = other.get("/p/review/matrix/")
        assert "<strong>2</strong> approved passages" in home
        assert "Jeffrey Kaplan" in home and " against</span>" not in home  # nothing contested
        assert "Isolation" in concepts and "Jeffrey Kaplan" not in matrix

        # This process approves one more passage and renames what the pages show.
        pending.transition(ReviewAction.APPROVE, by=cast.supervisor)
        isolation.name, kaplan.display_name = "Withdrawal", "J. Kaplan"
        isolation.save(update_fields=["name"])
        kaplan.save(update_fields=["display_name"])

        home, concepts = other.get("/p/review/"), other.get("/p/review/concepts/")
        assert "<strong>3</strong> approved passages" in home
        assert "J. Kaplan" in home and "Jeffrey Kaplan" not in home
        assert "2 for · 1 against" in home  # the claim is contested now
        assert "Withdrawal" in concepts and ">Isolation<" not in concepts
        matrix = other.get("/p/review/matrix/?cols=people")
        assert "J. Kaplan" in matrix and "Jeffrey Kaplan" not in matrix
        cocited = other.get("/p/review/cocitation/")
        assert "Jeffrey Kaplan" not in cocited
    finally:
        other.close()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite test databases live in one process"
)
def test_after_a_write_one_process_ranks_the_map_again_while_both_serve_the_last_ranking(
    transactional_db, cast, settings, monkeypatch
):
    from django.test.utils import CaptureQueriesContext

    from apps.xref import graph as graph_module

    prefix = shared_redis(settings)
    # Both processes treat the project as large; an analyst's map has no tally, so its
    # ranking is the computed one.
    monkeypatch.setattr(graph_module, "EXACT_ANNOTATIONS", 0)
    prelude = "import apps.xref.graph as g\ng.EXACT_ANNOTATIONS = 0\n"
    project = cast.project
    isolation = factories.make_concept(project, "Isolation")
    approve = {"status": "approved", "reviewer": cast.supervisor}
    factories.make_annotation(
        factories.make_source(project, "Ranked before"), cast.analyst, concepts=[isolation],
        **approve,
    )  # fmt: skip
    url = "/p/review/map/?scope=visible"
    other = OtherProcess("analyst", prefix, prelude)
    try:
        assert "Ranked before" in other.get(url)
        newcomer = factories.make_source(project, "Approved after the ranking")
        factories.make_annotation(newcomer, cast.analyst, concepts=[isolation], **approve)
        # The first request after the write: the last ranking, at once; the other process
        # computes the new one in the background.
        assert "Approved after the ranking" not in other.get(url)
        # Meanwhile this process neither waits nor computes it too.
        client = Client()
        client.force_login(cast.analyst)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        grouped = [q["sql"] for q in queries if "GROUP BY" in q["sql"]]
        assert grouped and all(re.search(r'_id" IN \(\d', sql) for sql in grouped)
        for _ in range(100):
            if "Approved after the ranking" in other.get(url):
                break
            time.sleep(0.1)
        else:
            pytest.fail("The other process never ranked the new source.")
        assert "Approved after the ranking" in client.get(url).text
    finally:
        other.close()

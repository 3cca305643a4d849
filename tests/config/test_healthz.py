"""`/healthz/`: public, says whether the database and the cache answer."""

import json

from django.test import Client


def test_health_is_public_and_says_both_answer(db, django_assert_num_queries):
    # One query: SELECT 1. No session, no user: a load balancer is not signed in.
    with django_assert_num_queries(1):
        response = Client().get("/healthz/")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_a_cache_that_does_not_answer_makes_it_fail(db, settings):
    # Nothing listens on port 9 (discard): the cache is down, the database is fine.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = Client().get("/healthz/")
    assert response.status_code == 503
    assert json.loads(response.content) == {
        "status": "failing", "database": "ok", "cache": "failing",
    }  # fmt: skip


def test_a_database_that_does_not_answer_makes_it_fail(db, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def refuse(*args, **kwargs):
        raise ConnectionError("database down")

    with monkeypatch.context() as patched:
        patched.setattr(CursorWrapper, "execute", refuse)
        response = Client().get("/healthz/")
    assert response.status_code == 503
    assert json.loads(response.content)["database"] == "failing"


def test_only_reading_methods_are_allowed(db):
    assert Client().post("/healthz/").status_code == 405

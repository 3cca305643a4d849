"""The fixed cast of every test: one project and a member of each role, plus an outsider."""

from dataclasses import dataclass

import pytest
from django.test import Client

from apps.accounts.models import Project, Role, User
from apps.demo.corpus import generate_corpus
from tests import factories

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass
class Cast:
    project: Project
    supervisor: User
    analyst: User
    analyst2: User
    student: User
    outsider: User

    def members(self) -> dict[str, User]:
        return {
            "supervisor": self.supervisor,
            "analyst": self.analyst,
            "analyst2": self.analyst2,
            "student": self.student,
        }


@pytest.fixture(autouse=True)
def empty_cache():
    # Cached overviews are keyed by ids, which the next test's database reuses.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def jobs_run_immediately(settings):
    # start_job runs the job before it returns, inside the test's transaction; tests of the
    # worker process set JOBS_MODE themselves.
    settings.JOBS_MODE = "immediate"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The real hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(db) -> Cast:
    project = factories.make_project(slug="review", name="A review")
    users = {}
    for name, role in [
        ("supervisor", Role.SUPERVISOR),
        ("analyst", Role.ANALYST),
        ("analyst2", Role.ANALYST),
        ("student", Role.STUDENT),
    ]:
        users[name] = factories.make_user(name)
        factories.add_member(project, users[name], role)
    outsider = factories.make_user("outsider")
    # The outsider belongs to another project, so they are a signed-in user like any other.
    factories.add_member(factories.make_project(slug="elsewhere"), outsider, Role.SUPERVISOR)
    return Cast(project=project, outsider=outsider, **users)


@pytest.fixture
def client_for(db):
    def make(user: User | None) -> Client:
        # Sends what a browser sends; scripts and API clients are tested with their own Accept.
        client = Client(HTTP_ACCEPT=BROWSER_ACCEPT)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def grow(cast):
    """Add a synthetic corpus to the cast's project; `grow(3)` then `grow(27)` makes every kind
    of row tenfold."""
    seeds = iter(range(1, 1000))

    def add(size: int) -> None:
        generate_corpus(cast.project, sources=size, people=size, concepts=size, seed=next(seeds))

    return add


@pytest.fixture
def assert_constant_queries(client_for, grow, django_assert_num_queries):
    """Render `url()` for `user` at two data sizes, tenfold apart, with `expected` queries both
    times."""

    def check(user: User, url, expected: int, before=None, after=None) -> None:
        client = client_for(user)
        grow(3)
        if before:
            before()
        with django_assert_num_queries(expected):
            assert client.get(url()).status_code == 200
        grow(27)
        if after:
            after()
        with django_assert_num_queries(expected):
            assert client.get(url()).status_code == 200

    return check

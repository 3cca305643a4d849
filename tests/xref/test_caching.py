"""Aggregates computed once per change of the data (apps/xref/caching.py): the previous value
is served while exactly one process computes the new one, and nobody waits for it."""

import threading

import pytest
from django.core.cache import cache

from apps.xref.caching import served_while_refreshed


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


class Counter:
    """A computation that counts its runs and can be held until released."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = threading.Event()
        self.release.set()
        self.finished = threading.Event()

    def __call__(self) -> int:
        self.runs += 1
        self.release.wait(timeout=10)
        self.finished.set()
        return self.runs


def test_the_first_request_computes_and_the_next_ones_read(settings):
    compute = Counter()
    assert served_while_refreshed("k", "state-1", compute, 60) == 1
    assert served_while_refreshed("k", "state-1", compute, 60) == 1
    assert compute.runs == 1


def test_after_a_change_the_previous_value_answers_while_it_is_computed_again(settings):
    settings.JOBS_MODE = "thread"
    compute = Counter()
    served_while_refreshed("k", "state-1", compute, 60)
    compute.release.clear()
    compute.finished.clear()
    # The data changed: the request gets the previous value without waiting for the
    # computation, and so do the requests that come while it runs (one computation only).
    assert served_while_refreshed("k", "state-2", compute, 60) == 1
    assert served_while_refreshed("k", "state-2", compute, 60) == 1
    assert served_while_refreshed("k", "state-3", compute, 60) == 1
    compute.release.set()
    assert compute.finished.wait(timeout=10)
    for thread in threading.enumerate():
        if thread.name == "refresh k":
            thread.join(timeout=10)
    assert compute.runs == 2
    # Computed from state 2: a request naming state 3 gets it, and starts one more run.
    assert served_while_refreshed("k", "state-3", compute, 60) == 2
    for thread in threading.enumerate():
        if thread.name == "refresh k":
            thread.join(timeout=10)
    assert compute.runs == 3
    assert served_while_refreshed("k", "state-3", compute, 60) == 3
    assert compute.runs == 3


def test_a_computation_that_fails_leaves_the_previous_value(settings):
    settings.JOBS_MODE = "immediate"
    served_while_refreshed("k", "state-1", lambda: "first", 60)

    def broken() -> str:
        raise RuntimeError("the database went away")

    assert served_while_refreshed("k", "state-2", broken, 60) == "first"
    # Not retried at every request: the lock stays until it expires.
    assert served_while_refreshed("k", "state-2", lambda: "second", 60) == "first"
    assert served_while_refreshed("k", "state-2", lambda: "second", 60) == "first"

"""Aggregates that are still computed (a filtered matrix's columns, co-citation pairs, the
map's ranking), computed once per change of the data however many processes ask at once.

The first process to miss takes a lock in the shared cache (Redis when REDIS_URL is set) and
computes; the others wait for its result instead of running the same whole-project query in
parallel, and compute it themselves only if it has not come after `WAIT_SECONDS` (the first
process died, say). Keys name the state of the data they were computed from, so a cached value
is never older than the data it describes.

`served_while_refreshed` is for values a page may show one change late (the map's choice of
nodes, whose links and weights are read afresh anyway): after a change, every process keeps
serving the previous value while exactly one recomputes it behind the requests, so no request
waits for a whole-project aggregate once the value exists.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connections

logger = logging.getLogger(__name__)

T = TypeVar("T")
WAIT_SECONDS = 20.0
POLL_SECONDS = 0.05


def computed_once(key: str, compute: Callable[[], T], timeout: int) -> T:
    found = cache.get(key)
    if found is not None:
        return found[0]  # wrapped, so that a computed None or [] is a hit too
    lock = f"{key}:computing"
    if cache.add(lock, 1, timeout=int(WAIT_SECONDS * 3)):
        try:
            value = compute()
            cache.set(key, (value,), timeout)
        finally:
            cache.delete(lock)
        return value
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        found = cache.get(key)
        if found is not None:
            return found[0]
        if cache.get(lock) is None:  # the other process gave up without a result
            break
    return compute()


def served_while_refreshed(key: str, state: str, compute: Callable[[], T], timeout: int) -> T:
    """The value under `key` as last computed, for any `state` of the data: computed once
    (as computed_once, the others waiting) when there is none yet; when it was computed from
    another state, served as it is while one process (the one that takes the lock) computes
    it again in a background thread (at once, before answering, when jobs run immediately:
    the tests)."""
    found = cache.get(key)
    if found is None:

        def compute_and_keep() -> T:
            value = compute()
            cache.set(key, (state, value), timeout)
            return value

        return computed_once(f"{key}:{state}", compute_and_keep, timeout)
    computed_from, value = found
    lock = f"{key}:refreshing"
    if computed_from != state and cache.add(lock, 1, timeout=int(WAIT_SECONDS * 3)):
        if settings.JOBS_MODE == "immediate":
            _refresh(key, state, compute, timeout, lock)
        else:
            threading.Thread(
                target=_refresh_in_thread,
                args=(key, state, compute, timeout, lock),
                name=f"refresh {key}",
                daemon=True,
            ).start()
    return value


def _refresh(key: str, state: str, compute: Callable[[], T], timeout: int, lock: str) -> None:
    try:
        cache.set(key, (state, compute()), timeout)
    except Exception:
        # The previous value stays, and the lock until it expires: no retry at every request.
        logger.exception("Recomputing %s failed", key)
        return
    cache.delete(lock)


def _refresh_in_thread(*args) -> None:
    try:
        _refresh(*args)
    finally:
        connections.close_all()  # the connections this thread opened

"""Aggregates that are still computed (a filtered matrix's columns, co-citation pairs, the
map's ranking), computed once per change of the data however many processes ask at once.

The first process to miss takes a lock in the shared cache (Redis when REDIS_URL is set) and
computes; the others wait for its result instead of running the same whole-project query in
parallel, and compute it themselves only if it has not come after `WAIT_SECONDS` (the first
process died, say). Keys name the state of the data they were computed from, so a cached value
is never older than the data it describes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

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

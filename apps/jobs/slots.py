"""A few places for one kind of long work at a time (a project's streamed export), so that many
simultaneous requests wait their turn instead of each reading the whole project at once.

The places are cache keys taken with cache.add(), which is atomic: with a shared cache (Redis)
the limit holds across every app process, with the default per-process cache within each. A
place is given back when the work ends, or after `timeout` seconds if its process died.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.core.cache import cache
from django.http import HttpResponse


class Busy(Exception):
    """Every place is taken; the message says so, for the user."""


def take(kind: str, *, places: int, timeout: int = 900) -> str:
    """A key for one of the `places` places of `kind`; Busy when all are taken."""
    for place in range(places):
        key = f"slots:{kind}:{place}"
        if cache.add(key, True, timeout=timeout):
            return key
    raise Busy(
        f"{places} export{'s' if places != 1 else ''} of this kind "
        f"{'are' if places != 1 else 'is'} being written right now; try again in a minute."
    )


def busy_response(busy: Busy) -> HttpResponse:
    """What a request is answered when every place is taken: 503, come back in a minute."""
    response = HttpResponse(str(busy), status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "60"
    return response


def release(key: str) -> None:
    cache.delete(key)


class Held:
    """`chunks`, giving the place back once they are all written, or writing them failed, or
    the server closed the response (the client went away), even before the first chunk."""

    def __init__(self, key: str, chunks: Iterator[str]) -> None:
        self.key = key
        self.chunks = chunks

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self.chunks
        finally:
            self.close()

    def close(self) -> None:
        release(self.key)
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()

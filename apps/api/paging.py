"""Cursor paging by keyset: every list is ordered by (its ordering key, id), and a cursor is the
last row's pair. The next page starts strictly after it, so rows inserted or deleted meanwhile
never make a client miss or see twice a row that was there all along (an offset would shift).
The cursor is opaque to clients: base64url of a JSON pair.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse

from apps.api.auth import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 2000
# Ids beyond this are no row's (config.converters.IdConverter's bound).
MAX_ID = 10**18 - 1

BAD_CURSOR = "The cursor is not one this API gave out; start again without it."


def bad_cursor() -> ApiError:
    return ApiError(400, BAD_CURSOR, errors=[{"where": "query.cursor", "message": BAD_CURSOR}])


@dataclass
class Page:
    rows: list
    next_url: str | None
    total: int


def encode(key: Any, pk: int) -> str:
    raw = json.dumps([key, pk], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, key_type: type) -> tuple[Any, int]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise bad_cursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, pk = json.loads(raw.decode())
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, RecursionError):
        raise bad_cursor() from None
    if (
        type(key) is not key_type
        or type(pk) is not int
        or not 0 < pk <= MAX_ID
        or (key_type is int and not -MAX_ID <= key <= MAX_ID)
        or (key_type is str and "\x00" in key)
    ):
        raise bad_cursor()
    return key, pk


def paginate(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    key: str,
    key_type: type = str,
    cursor: str | None,
    limit: int,
) -> Page:
    """One page of `queryset` ordered by (`key`, id) after `cursor`, and the link to the next.

    Queries: the total, and the page (one row more than asked, to know whether more follow).
    """
    total = queryset.count()
    ordered = queryset.order_by(key, "pk")
    if cursor:
        after, pk = decode(cursor, key_type)
        ordered = ordered.filter(Q(**{f"{key}__gt": after}) | Q(**{key: after, "pk__gt": pk}))
    rows = list(ordered[: limit + 1])
    next_url = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        query = request.GET.copy()
        query["cursor"] = encode(reduce(getattr, key.split("__"), last), last.pk)
        query["limit"] = str(limit)
        next_url = request.build_absolute_uri(request.path) + "?" + query.urlencode()
    return Page(rows=rows, next_url=next_url, total=total)


def page_headers(response: HttpResponse, page: Page) -> None:
    response["Total-Results"] = str(page.total)
    if page.next_url:
        response["Link"] = f'<{page.next_url}>; rel="next"'

"""`/healthz/`: whether this app process can reach the database and the cache, for a load
balancer or a monitor. Public (no sign-in), cheap, and it names no hosts or versions."""

from __future__ import annotations

import secrets

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _cache() -> bool:
    key, value = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    try:
        cache.set(key, value, timeout=10)
        found = cache.get(key)
        cache.delete(key)
    except Exception:
        return False
    return found == value


@never_cache
@login_not_required
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "cache": _cache()}
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing",
         **{name: "ok" if ok else "failing" for name, ok in checks.items()}},
        status=200 if healthy else 503,
    )  # fmt: skip

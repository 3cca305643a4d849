"""Sign-in throttling with django-axes: whose address a request comes from, and what a locked-out
sign-in is answered with. The counting, the lock and the unlock commands are axes' own
(settings.AXES_*)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize


def client_address(request: HttpRequest) -> str | None:
    """The address of the client, as the last trusted proxy saw it.

    Behind TRUSTED_PROXY_COUNT proxies that each append the address they were reached from to
    X-Forwarded-For, the client is that many entries from the end; entries further left are
    whatever the client chose to send, so they are never believed. Without proxies, or when the
    header is shorter than it must be (a request that bypassed them), the connection's own
    address counts.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        # axes stores the address in an IP address column: anything else would fail to save.
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


# No username is longer (User.username); axes' own column holds 255 characters.
USERNAME_MAX_LENGTH = 150


def attempted_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username a sign-in tried, as axes counts it: cut to the longest a username can be.

    Django's sign-in forms (ours and the admin's) do not check the username's length before
    authenticating, and axes would store a longer one as it came: PostgreSQL refuses it, and
    the sign-in would fail with a server error. No account has a longer name, so the cut
    counts nothing against anyone it should not.
    """
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "POST", {}).get("username")
    if username is None:
        return None
    return str(username)[:USERNAME_MAX_LENGTH]


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"Too many failed sign-ins for this account or from this address: signing in is "
        f"paused for {minutes} minute{pluralize(minutes)}, even with the right password. "
        "Try again later, reset your password, or ask an administrator to unlock it."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The sign-in page again, with the lockout explained (429 Too Many Requests)."""
    username = (credentials or {}).get("username") or ""
    form = AuthenticationForm(request, initial={"username": username})
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "locked_out": lockout_message(),
            "next": request.POST.get("next", "") if request.method == "POST" else "",
        },
        status=429,
    )

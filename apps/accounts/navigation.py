"""Where a form sends the user back to: the page it names in `next`, when that is a path on
this site, or else the page's own default."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

MAX_LENGTH = 2000


def next_url(request: HttpRequest, default: str) -> str:
    """The `next` the form posted (or the query named) if it is a path on this site, else
    `default`. Anything else (another host, a scheme, `abc`, a NUL or a line break) is
    ignored rather than followed or reversed as a view name."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and target.isprintable()  # a line break would split the Location header
        and len(target) <= MAX_LENGTH
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default


def redirect_back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(next_url(request, default))

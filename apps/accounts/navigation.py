"""Where a form sends the user back to: the page it names in `next`, when that is a path on
this site, or else the page's own default; and addresses of many rows at once."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

MAX_LENGTH = 2000


def url_for_ids(name: str, slug: str) -> Callable[[int], str]:
    """The address of the object with a given id, for a URL named `name` with arguments
    (project slug, id): reversed once, then filled in for each id (a long list's rows)."""
    head, _, tail = reverse(name, args=[slug, 0]).rpartition("/0/")
    return lambda pk: f"{head}/{int(pk)}/{tail}"


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

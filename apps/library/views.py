from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import project_view
from apps.accounts.references import lookup_response
from apps.library.filters import SourceFilter
from apps.library.models import Source

PAGE_SIZE = 50


@require_safe
@project_view()
def source_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    sources = Source.objects.for_project(membership.project).with_list_data()
    filterset = SourceFilter(request.GET, queryset=sources, membership=membership)
    # Parameters that do not parse show their error and no results rather than a partial
    # filter the reader did not ask for.
    results = filterset.qs if filterset.is_valid() else sources.none()
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "library/source_list.html",
        {
            "membership": membership,
            "project": membership.project,
            "filter": filterset,
            "page": page,
        },
    )


@require_safe
@project_view()
def source_lookup(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Suggestions for a source (cited work) input (static/js/lookup.js)."""
    sources = Source.objects.for_project(membership.project).only("id", "title")
    return lookup_response(request.GET.get("q", ""), sources.matching)

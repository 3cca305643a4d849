from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import project_view
from apps.search.facets import NOUNS, chosen_filters, counted, facets, kind_options
from apps.search.filters import SearchFilter
from apps.search.forms import SearchForm
from apps.search.models import Document
from apps.search.query import parse_query
from apps.search.results import CANDIDATES, PAGE_SIZE, facet_labels, find, present


@require_safe
@project_view()
def search(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Passages, claims, sources, people and concepts matching the words typed, grouped by
    kind, with facets; one kind's results page by page."""
    form = SearchForm(request.GET)
    documents = Document.objects.visible_to(membership)
    filterset = SearchFilter(request.GET, queryset=documents, membership=membership)
    valid = form.is_valid() and filterset.is_valid()
    query = form.query if form.is_valid() else parse_query(request.GET.get("q", ""))
    context = {
        "membership": membership,
        "project": membership.project,
        "form": form,
        "filter": filterset,
        "query": query,
        # Before anything is typed there is nothing to explain.
        "notices": query.notices if "q" in request.GET else [],
        "search_text": query.text,
        "candidates": f"{CANDIDATES:,}",
        # The other parameters, kept by the year form.
        "keep": [
            (name, value)
            for name, values in request.GET.lists()
            if name not in {"year_min", "year_max", "page"}
            for value in values
        ],
    }
    if valid and query:
        kind = form.cleaned_data["kind"]
        page_number = form.cleaned_data["page"] or 1
        results = find(
            filterset.qs,
            query,
            kind=kind,
            page=page_number,
            statuses=SearchFilter.may_see_statuses(membership),
        )
        present(results, query, membership)
        context |= {
            "results": results,
            "kinds": kind_options(results, request.GET),
            "facets": facets(results, filterset, facet_labels(results, membership)),
            "chosen": chosen_filters(filterset),
        }
        if kind is not None and kind in results.sections:
            section = results.sections[kind]
            # Numbers only: the hits of this page are already in the section.
            page = Paginator(range(section.count), PAGE_SIZE).get_page(page_number)
            context |= {
                "section": section,
                "page": page,
                "found": f"{counted(section.count, section.more_than_candidates)} "
                f"{NOUNS[kind][section.count != 1]}",
                "past_last_page": page.number != page_number,
            }
    return render(request, "search/search.html", context)

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import project_view
from apps.accounts.references import lookup_response
from apps.people.filters import PersonFilter
from apps.people.models import Person

PAGE_SIZE = 50


@require_safe
@project_view()
def person_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    people = Person.objects.for_project(membership.project).with_list_data()
    filterset = PersonFilter(request.GET, queryset=people)
    results = filterset.qs if filterset.is_valid() else people.none()
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "people/person_list.html",
        {
            "membership": membership,
            "project": membership.project,
            "filter": filterset,
            "page": page,
        },
    )


@require_safe
@project_view()
def person_lookup(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Suggestions for a person input (static/js/lookup.js)."""
    people = Person.objects.for_project(membership.project).only("id", "display_name")
    return lookup_response(request.GET.get("q", ""), people.matching)

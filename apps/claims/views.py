from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import project_view
from apps.accounts.references import lookup_response
from apps.claims.filters import ClaimFilter
from apps.claims.models import Claim, Concept, concept_tree

PAGE_SIZE = 50


@require_safe
@project_view()
def claim_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    claims = Claim.objects.visible_to(membership).with_evidence_counts(membership)
    filterset = ClaimFilter(request.GET, queryset=claims)
    results = filterset.qs if filterset.is_valid() else claims.none()
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "claims/claim_list.html",
        {
            "membership": membership,
            "project": membership.project,
            "filter": filterset,
            "page": page,
        },
    )


@require_safe
@project_view()
def concept_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    concepts = (
        Concept.objects.for_project(membership.project)
        .with_annotation_counts(membership)
        .select_related("originator")
    )
    return render(
        request,
        "claims/concept_list.html",
        {"membership": membership, "project": membership.project, "tree": concept_tree(concepts)},
    )


@require_safe
@project_view()
def claim_lookup(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Suggestions for a claim input (static/js/lookup.js)."""
    claims = Claim.objects.visible_to(membership).only("id", "statement")
    return lookup_response(request.GET.get("q", ""), claims.matching)

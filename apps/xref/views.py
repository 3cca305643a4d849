"""The pages that connect sources, people, claims, concepts and passages."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import project_view, visible_annotations_q
from apps.annotations.models import Annotation, Evidence, Mention, Stance
from apps.claims.models import Claim, ClaimRelation, Concept
from apps.library.models import Contributor, Source
from apps.people.models import Person

RECENT_COUNT = 10
PAGE_SIZE = 50
# The order in which a claim page presents its evidence.
STANCE_ORDER = [
    Stance.ASSERTS,
    Stance.SUPPORTS,
    Stance.QUALIFIES,
    Stance.CONTRADICTS,
    Stance.REPORTS,
]


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "project": membership.project, **extra}


@require_safe
@project_view()
def project_home(request: HttpRequest, membership: Membership) -> HttpResponse:
    project = membership.project
    annotations = Annotation.objects.visible_to(membership)
    counts = {
        "sources": Source.objects.for_project(project).count(),
        "people": Person.objects.for_project(project).count(),
        "claims": Claim.objects.visible_to(membership).count(),
        "concepts": Concept.objects.for_project(project).count(),
        "annotations": annotations.approved().count(),
    }
    recent = (
        annotations.approved().with_list_data().order_by("-status_changed_at", "-pk")[:RECENT_COUNT]
    )
    return render(
        request, "xref/project_home.html", _context(membership, counts=counts, recent=recent)
    )


@require_safe
@project_view()
def source_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    source = get_object_or_404(
        Source.objects.for_project(membership.project)
        .defer("full_text")
        .prefetch_related(
            Prefetch("contributors", queryset=Contributor.objects.select_related("person")),
            "identifiers",
        ),
        pk=pk,
    )
    annotations = (
        Annotation.objects.visible_to(membership)
        .filter(source=source)
        .with_list_data()
        .in_text_order()
    )
    return render(
        request,
        "xref/source_detail.html",
        _context(membership, source=source, annotations=annotations),
    )


@require_safe
@project_view()
def person_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    person = get_object_or_404(
        Person.objects.for_project(membership.project).prefetch_related("variants"), pk=pk
    )
    works = (
        Contributor.objects.filter(person=person)
        .select_related("source")
        .defer("source__full_text", "source__abstract", "source__extra")
        .order_by("source__issued_year", "source__title")
    )
    citations = (
        Mention.objects.filter(
            visible_annotations_q(membership, prefix="annotation__"), person=person
        )
        .select_related("annotation__source", "work")
        .defer(
            "annotation__source__full_text",
            "annotation__source__abstract",
            "annotation__source__extra",
            "work__full_text",
            "work__abstract",
            "work__extra",
        )
        .order_by("annotation__source__title", "annotation__source_id", "annotation__start", "pk")
    )
    page = Paginator(citations, PAGE_SIZE).get_page(request.GET.get("page"))
    concepts = person.originated_concepts.all()
    return render(
        request,
        "xref/person_detail.html",
        _context(membership, person=person, works=works, page=page, concepts=concepts),
    )


def get_claim_for_user(membership: Membership, pk: int) -> Claim:
    """404 outside the project; 403 for a student when no approved evidence backs it yet."""
    claim = get_object_or_404(Claim.objects.for_project(membership.project), pk=pk)
    if not Claim.objects.visible_to(membership).filter(pk=claim.pk).exists():
        raise PermissionDenied
    return claim


@require_safe
@project_view()
def claim_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    claim = get_claim_for_user(membership, pk)
    evidence = (
        Evidence.objects.filter(
            visible_annotations_q(membership, prefix="annotation__"), claim=claim
        )
        .select_related("annotation__source")
        .defer(
            "annotation__source__full_text",
            "annotation__source__abstract",
            "annotation__source__extra",
        )
        .prefetch_related(
            Prefetch(
                "annotation__mentions",
                queryset=Mention.objects.select_related("person").only(
                    "annotation_id", "function", "person__id", "person__display_name"
                ),
            )
        )
        .order_by("annotation__source__title", "annotation__source_id", "annotation__start", "pk")
    )
    by_stance = {stance: [] for stance in STANCE_ORDER}
    for item in evidence:
        by_stance[item.stance].append(item)
    groups = [(Stance(stance), items) for stance, items in by_stance.items() if items]
    visible_claims = Claim.objects.visible_to(membership)
    relations_out = ClaimRelation.objects.filter(
        source=claim, target__in=visible_claims
    ).select_related("target")
    relations_in = ClaimRelation.objects.filter(
        target=claim, source__in=visible_claims
    ).select_related("source")
    return render(
        request,
        "xref/claim_detail.html",
        _context(
            membership,
            claim=claim,
            groups=groups,
            evidence_count=sum(len(items) for _, items in groups),
            relations_out=relations_out,
            relations_in=relations_in,
        ),
    )


@require_safe
@project_view()
def concept_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    concept = get_object_or_404(
        Concept.objects.for_project(membership.project).select_related("parent", "originator"),
        pk=pk,
    )
    annotations = (
        Annotation.objects.visible_to(membership)
        .filter(concepts=concept)
        .with_list_data()
        .order_by("source__title", "source_id", "start", "pk")
    )
    page = Paginator(annotations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "xref/concept_detail.html",
        _context(membership, concept=concept, children=concept.children.all(), page=page),
    )

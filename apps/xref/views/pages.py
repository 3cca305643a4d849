"""The pages that connect sources, people, claims, concepts and passages."""

from itertools import groupby
from operator import attrgetter

from django import forms
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Prefetch, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import blindness_for, project_view
from apps.annotations.models import (
    Annotation,
    Evidence,
    Mention,
    ProjectTally,
    ReviewEvent,
    Stance,
    Status,
)
from apps.claims.models import Claim, ClaimRelation, Concept
from apps.claims.views import get_claim_for_user
from apps.library.citations import source_citations
from apps.library.models import Contributor, Source, source_texts
from apps.people.models import Person
from apps.xref.cocitation import COUNTED_PAIRS, cocited_pairs, shared_sources
from apps.xref.filters import SourceFilter
from apps.xref.overview import overview

RECENT_COUNT = 10
# How many rows the tallies on connected pages show (claims argued, people cited, …).
TALLY_LIMIT = 30
COCITED_LIMIT = 12
PAIR_PAGE = 50
# How the project home groups a member's own unapproved work.
OWN_WORK_ORDER = [Status.CHANGES_REQUESTED, Status.DRAFT, Status.SUBMITTED, Status.REJECTED]
PAGE_SIZE = 50
# The order in which a claim page presents its evidence.
STANCE_ORDER = [
    Stance.ASSERTS,
    Stance.SUPPORTS,
    Stance.QUALIFIES,
    Stance.CONTRADICTS,
    Stance.REPORTS,
]
STANCE_RANK = Case(
    *[When(stance=stance, then=Value(rank)) for rank, stance in enumerate(STANCE_ORDER)],
    output_field=IntegerField(),
)


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "project": membership.project, **extra}


@require_safe
@project_view()
def project_home(request: HttpRequest, membership: Membership) -> HttpResponse:
    project = membership.project
    annotations = Annotation.objects.visible_to(membership)
    # Kept current with every review decision (apps/annotations/tallies.py).
    tally = ProjectTally.objects.filter(project=project).values("approved", "waiting").first() or {
        "approved": 0, "waiting": 0,
    }  # fmt: skip
    counts = {
        "sources": Source.objects.for_project(project).count(),
        "people": Person.objects.for_project(project).count(),
        "claims": Claim.objects.visible_to(membership).count(),
        "concepts": Concept.objects.for_project(project).count(),
        "annotations": tally["approved"],
    }
    recent = (
        annotations.approved().with_list_data().order_by("-status_changed_at", "-pk")[:RECENT_COUNT]
    )
    own_work = waiting = new_decisions = coding = None
    if membership.may.annotate:
        new_decisions = (
            ReviewEvent.objects.decisions_on_work_of(membership)
            .since(membership.decisions_seen_at)
            .count()
        )
        membership.mark_decisions_seen()
        by_status = {status: [] for status in OWN_WORK_ORDER}
        for annotation in Annotation.objects.own_work(membership):
            by_status[annotation.status].append(annotation)
        own_work = [(Status(status), items) for status, items in by_status.items()]
    if membership.may.review:
        # While double coding hides the coders' passages from supervisors, the tally also
        # counts the hidden ones they submitted: the queue's own count says what it will show.
        hidden = blindness_for(membership)
        waiting = annotations.waiting_for_review().count() if hidden else tally["waiting"]
    elif membership.may.annotate:
        # Analysts code in double-coding rounds: their assignments and how they were resolved.
        from apps.agreement.views import coder_home

        coding = coder_home(membership)
    return render(
        request,
        "xref/project_home.html",
        _context(
            membership,
            counts=counts,
            recent=recent,
            own_work=own_work,
            waiting=waiting,
            new_decisions=new_decisions,
            coding=coding,
            overview=overview(membership),
        ),
    )


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
        "xref/source_list.html",
        {
            "membership": membership,
            "project": membership.project,
            "filter": filterset,
            "page": page,
        },
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
    passages = Annotation.objects.visible_to(membership).filter(source=source)
    page = Paginator(passages.with_list_data().in_text_order(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    mentions = Mention.objects.visible_to(membership).filter(annotation__source=source)
    argued = Evidence.objects.visible_to(membership).filter(annotation__source=source)
    return render(
        request,
        "xref/source_detail.html",
        _context(
            membership,
            source=source,
            page=page,
            claims=_grouped_by_stance(argued.claim_tally()[:TALLY_LIMIT]),
            people=mentions.person_tally()[:TALLY_LIMIT],
            works=mentions.work_tally()[:TALLY_LIMIT],
            concepts=Concept.objects.coded_in(passages)[:TALLY_LIMIT],
            cited_by=Mention.objects.visible_to(membership)
            .filter(work=source)
            .citing_source_tally()[:TALLY_LIMIT],
            citations=source_citations(source),
        ),
    )


def _grouped_by_stance(rows) -> list[tuple[Stance, list[dict]]]:
    """Tally rows (claim, stance, passages) grouped in the order a claim page uses."""
    by_stance: dict[str, list[dict]] = {stance: [] for stance in STANCE_ORDER}
    for row in rows:
        by_stance[row["stance"]].append(row)
    return [(Stance(stance), items) for stance, items in by_stance.items() if items]


@require_safe
@project_view()
def person_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    person = get_object_or_404(
        Person.objects.for_project(membership.project).prefetch_related("variants"), pk=pk
    )
    works = (
        Contributor.objects.filter(person=person)
        .select_related("source")
        .defer(*source_texts("source__"))
        .order_by("source__issued_year", "source__title")
    )
    citations = (
        Mention.objects.visible_to(membership)
        .filter(person=person)
        .select_related("annotation__source", "work")
        .defer(*source_texts("annotation__source__"), *source_texts("work__"))
        .order_by("annotation__source__title", "annotation__source_id", "annotation__start", "pk")
    )
    page = Paginator(citations, PAGE_SIZE).get_page(request.GET.get("page"))
    concepts = person.originated_concepts.all()
    citing = Mention.objects.visible_to(membership).filter(person=person)
    claims = (
        Evidence.objects.visible_to(membership)
        .filter(annotation__in=citing.values("annotation_id"))
        .claim_tally()[:TALLY_LIMIT]
    )
    cocited, _ = cocited_pairs(membership, around=person.pk, limit=COCITED_LIMIT)
    return render(
        request,
        "xref/person_detail.html",
        _context(
            membership,
            person=person,
            works=works,
            page=page,
            concepts=concepts,
            claims=_grouped_by_stance(claims),
            cocited=cocited,
        ),
    )


@require_safe
@project_view()
def claim_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    claim = get_claim_for_user(membership, pk)
    evidence = (
        Evidence.objects.visible_to(membership)
        .filter(claim=claim)
        .select_related("annotation__source")
        .defer(*source_texts("annotation__source__"))
        .prefetch_related(
            Prefetch(
                "annotation__mentions",
                queryset=Mention.objects.select_related("person").only(
                    "annotation_id", "function", "person__id", "person__display_name"
                ),
            )
        )
        .annotate(stance_rank=STANCE_RANK)
        .order_by(
            "stance_rank",
            "annotation__source__title",
            "annotation__source_id",
            "annotation__start",
            "pk",
        )
    )
    page = Paginator(evidence, PAGE_SIZE).get_page(request.GET.get("page"))
    groups = [
        (Stance(stance), list(items))
        for stance, items in groupby(page.object_list, key=attrgetter("stance"))
    ]
    stance_counts = {
        Stance(row["stance"]).label: row["n"]
        for row in Evidence.objects.visible_to(membership)
        .filter(claim=claim)
        .values("stance")
        .annotate(n=Count("pk"), stance_rank=STANCE_RANK)
        .order_by("stance_rank")
    }
    visible_claims = Claim.objects.visible_to(membership)
    relations_out = ClaimRelation.objects.filter(
        source=claim, target__in=visible_claims
    ).select_related("target")
    relations_in = ClaimRelation.objects.filter(
        target=claim, source__in=visible_claims
    ).select_related("source")
    backing = Evidence.objects.visible_to(membership).filter(claim=claim).values("annotation_id")
    theorists = (
        Mention.objects.visible_to(membership)
        .filter(annotation__in=backing)
        .person_tally()[:TALLY_LIMIT]
    )
    return render(
        request,
        "xref/claim_detail.html",
        _context(
            membership,
            claim=claim,
            groups=groups,
            page=page,
            stance_counts=stance_counts,
            relations_out=relations_out,
            relations_in=relations_in,
            theorists=theorists,
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


class CocitationForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("people", "People"), ("works", "Works")], required=False, initial="people"
    )
    minimum = forms.IntegerField(
        label="At least",
        min_value=1,
        max_value=1000,
        required=False,
        initial=1,
        help_text="sources citing both",
    )
    person = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    first = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    second = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


@require_safe
@project_view()
def cocitation(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Pairs of people (or works) cited together in the same sources, strongest first."""
    form = CocitationForm(request.GET)
    pairs: list = []
    total = 0
    focus = shared = None
    page_number = 1
    if form.is_valid():
        data = form.cleaned_data
        works = data["kind"] == "works"
        model = Source if works else Person
        known = model.objects.for_project(membership.project)
        if data["first"] and data["second"]:
            focus = (
                known.filter(pk=data["first"]).first(),
                known.filter(pk=data["second"]).first(),
            )
            if None in focus:
                raise Http404("No such pair in this project.")
            shared = shared_sources(membership, data["first"], data["second"], works=works)
        around = None
        if data["person"]:
            around = get_object_or_404(known, pk=data["person"]).pk
        page_number = _page_number(request.GET.get("page"))
        pairs, total = cocited_pairs(
            membership,
            works=works,
            around=around,
            minimum=data["minimum"] or 1,
            limit=PAIR_PAGE,
            offset=(page_number - 1) * PAIR_PAGE,
        )
    return render(
        request,
        "xref/cocitation.html",
        _context(
            membership,
            form=form,
            pairs=pairs,
            total=total,
            focus=focus,
            shared=shared,
            works=form.is_valid() and form.cleaned_data["kind"] == "works",
            page_number=page_number,
            has_next=page_number * PAIR_PAGE < min(total, COUNTED_PAIRS),
            counted_up_to=COUNTED_PAIRS,
        ),
    )


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 100_000 else 1

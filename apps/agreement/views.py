"""Double-coding assignments, their comparison and resolution, and the agreement report.

Supervisors see every assignment (progress counts only while it is open); analysts see the
assignments they code. Students have no part in it (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import Action, can, project_view
from apps.agreement import coding, report
from apps.agreement.forms import AssignmentForm, CloseForm, DropForm, ResolutionForm, UnitFilter
from apps.agreement.jobs import COMPARE
from apps.agreement.models import (
    Assignment,
    AssignmentCoder,
    AssignmentState,
    CodedPassage,
    CoderState,
    ReportSummary,
    Unit,
    UnitOutcome,
    Variable,
)
from apps.annotations.models import Annotation
from apps.jobs.running import job_url, start_job
from apps.library.models import Source


def get_assignment_for_member(membership: Membership, pk: int) -> Assignment:
    """404 outside the member's project; 403 for an analyst who does not code it."""
    assignment = (
        Assignment.objects.for_project(membership.project).with_list_data().filter(pk=pk).first()
    )
    if assignment is None:
        raise Http404("No such assignment in this project.")
    if not can(membership, Action.REVIEW) and not any(
        c.coder_id == membership.user_id for c in assignment.coders.all()
    ):
        raise PermissionDenied("You do not code this assignment.")
    return assignment


UNITS_PAGE = 100


def _wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format") == "json"


@require_safe
@project_view(Action.ANNOTATE)
def assignment_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    assignments = list(
        Assignment.objects.visible_to(membership).with_list_data().order_by("-created_at", "-pk")
    )
    if _wants_json(request):
        summaries = {
            s.assignment_id: s
            for s in ReportSummary.objects.filter(
                assignment__in=[a for a in assignments if a.state == AssignmentState.COMPARED]
            )
        }
        return JsonResponse(
            {
                "project": membership.project.slug,
                "assignments": [
                    _assignment_json(request, a, summaries.get(a.pk)) for a in assignments
                ],
            },
            json_dumps_params={"ensure_ascii": False},
        )
    return render(
        request,
        "agreement/assignment_list.html",
        {
            "membership": membership,
            "project": membership.project,
            "assignments": assignments,
            "may_assign": can(membership, Action.REVIEW),
        },
    )


def _assignment_json(
    request: HttpRequest, assignment: Assignment, summary: ReportSummary | None = None
) -> dict:
    data = {
        "id": assignment.pk,
        "title": assignment.title,
        "state": assignment.state,
        "url": request.build_absolute_uri(
            reverse(
                "agreement:assignment_detail",
                args=[request.resolver_match.kwargs["slug"], assignment.pk],
            )
        ),
        "variables": assignment.variables,
        "tolerance": assignment.tolerance,
        "coders": [
            {"username": c.coder.username, "state": c.state} for c in assignment.coders.all()
        ],
    }
    if assignment.state == AssignmentState.COMPARED:
        data["report"] = [r.as_json() for r in report.build(assignment, summary)]
    elif assignment.state == AssignmentState.CLOSED:
        data["closed_without_measuring"] = report.closing(assignment)
        data["report"] = [r.as_json() for r in report.unmeasured(assignment)]
    return data


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.REVIEW)
def assignment_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    project = membership.project
    form = AssignmentForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        start, end = data.get("range", (None, None))
        try:
            assignment = coding.assign(
                project=project,
                title=data["title"],
                ranges=[coding.Range(s, start, end) for s in data["sources"]],
                coders=list(data["coders"]),
                variables=data["variables"],
                due_date=data["due_date"],
                tolerance=data["tolerance"],
                by=request.user,
            )
        except coding.AgreementError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Assigned “{assignment.title}”.")
            return redirect(assignment.get_absolute_url())
    return render(
        request,
        "agreement/assignment_form.html",
        {"membership": membership, "project": project, "form": form},
    )


@require_safe
@project_view(Action.ANNOTATE)
def assignment_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    assignment = get_assignment_for_member(membership, pk)
    supervisor = can(membership, Action.REVIEW)
    mine = next((c for c in assignment.coders.all() if c.coder_id == membership.user_id), None)
    compared = assignment.state == AssignmentState.COMPARED
    # The figures the comparison job stored: no page computes them (nor recounts the units).
    summary = report.summary_of(assignment) if compared else None
    if _wants_json(request):
        return JsonResponse(
            _assignment_json(request, assignment, summary),
            json_dumps_params={"ensure_ascii": False},
        )
    if compared:
        reports = report.build(assignment, summary)
    elif assignment.is_closed:
        reports = report.unmeasured(assignment)
    else:
        reports = []
    counts = coding.progress(assignment) if assignment.is_open else {}
    # Coders who left the project (or are no longer analysts) wait for a supervisor to take
    # them off or replace them, so that no unit is stranded.
    analysts = (
        set(
            Membership.objects.filter(
                project=membership.project,
                role="analyst",
                user_id__in=[c.coder_id for c in assignment.coders.all()],
            ).values_list("user_id", flat=True)
        )
        if supervisor and assignment.is_open
        else set()
    )
    page = None
    filter_form = UnitFilter(request.GET)
    shown = ""
    if compared and supervisor:
        units = (
            assignment.units.select_related("source", "resolution", "result")
            .only(
                "id", "number", "outcome", "start", "end", "resolved_at", "result_id",
                "source__id", "source__title", "resolution__kind", "resolution__reason",
                "resolution__result_version", "result__version", "assignment_id",
            )
            .order_by("number")
        )  # fmt: skip
        # Only the units where one variable's values differ: the report's list, in full.
        shown = filter_form.cleaned_data["disagreeing"] if filter_form.is_valid() else ""
        if shown:
            wanted = next((r.disagreeing for r in reports if r.variable == shown), [])
            units = units.filter(pk__in=[pk for _, pk in wanted])
        page = Paginator(units, UNITS_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "agreement/assignment_detail.html",
        {
            "membership": membership,
            "project": membership.project,
            "assignment": assignment,
            "supervisor": supervisor,
            "mine": mine,
            "my_count": counts.get(membership.user_id, 0),
            "coder_rows": [
                (c, counts.get(c.coder_id), c.coder_id in analysts) for c in assignment.coders.all()
            ],
            "all_done": all(
                c.state in (CoderState.DONE, CoderState.DROPPED) for c in assignment.coders.all()
            ),
            "reports": reports,
            "outcomes": summary.outcomes if compared else {},
            "page": page,
            "disagreeing": Variable(shown).label if shown else "",
            "unresolved_agreements": (
                assignment.units.filter(
                    outcome=UnitOutcome.AGREED, resolved_at__isnull=True
                ).count()
                if page
                else 0
            ),
            "drop_form": DropForm(project=membership.project) if supervisor else None,
            "close_form": (
                CloseForm(initial={"seen": coding.sample_key(assignment.coders_in_sample())})
                if supervisor and assignment.is_open
                else None
            ),
            "in_sample": len(assignment.coders_in_sample()),
            "closed_statement": report.statement(assignment) if assignment.is_closed else "",
        },
    )


@require_POST
@project_view(Action.ANNOTATE)
def assignment_done(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    assignment = get_assignment_for_member(membership, pk)
    if not any(c.coder_id == membership.user_id for c in assignment.coders.all()):
        raise PermissionDenied("Only the assignment's coders mark their work done.")
    try:
        passages = coding.mark_done(assignment=assignment, coder=request.user)
    except coding.AgreementError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Your work is done and locked: {passages} passage{'s' if passages != 1 else ''}.",
        )
    return redirect(assignment.get_absolute_url())


@require_POST
@project_view(Action.REVIEW)
def assignment_compare(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    assignment = get_assignment_for_member(membership, pk)
    if assignment.state != AssignmentState.OPEN:
        messages.error(request, coding.finished(assignment))
        return redirect(assignment.get_absolute_url())
    job = start_job(
        kind=COMPARE,
        project=membership.project,
        user=request.user,
        title=f"Comparing “{assignment.title}”",
        params={"assignment": assignment.pk},
    )
    if job.state == "failed":
        messages.error(request, job.error)
        return redirect(assignment.get_absolute_url())
    if job.state == "succeeded":
        messages.success(request, job.summary)
        return redirect(assignment.get_absolute_url())
    return redirect(job_url(job))


@require_POST
@project_view(Action.REVIEW)
def assignment_close(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Close an open assignment without measuring it (fewer than two coders left, or the review
    no longer needs it): confirmed, with why, on the sample the supervisor saw."""
    assignment = get_assignment_for_member(membership, pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        if "seen" in form.errors:
            messages.error(request, "The form was out of date or altered: open it again.")
        else:
            messages.error(
                request,
                "Tick the confirmation and say why to close the assignment without measuring.",
            )
        return redirect(assignment.get_absolute_url())
    try:
        coding.close(
            assignment=assignment,
            by=request.user,
            reason=form.cleaned_data["reason"],
            seen=form.cleaned_data["seen"],
        )
    except coding.AgreementError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"“{assignment.title}” is closed without measuring; its passages go on in review.",
        )
    return redirect(assignment.get_absolute_url())


@require_POST
@project_view(Action.REVIEW)
def accept_agreements(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    assignment = get_assignment_for_member(membership, pk)
    accepted, refused = coding.accept_agreements(assignment=assignment, by=request.user)
    if accepted:
        messages.success(
            request, f"Accepted {accepted} complete agreement{'s' if accepted != 1 else ''}."
        )
    elif not refused:
        messages.error(request, "No complete agreement is waiting to be accepted.")
    for reason in refused[:20]:
        messages.error(request, f"Not accepted — {reason}")
    return redirect(assignment.get_absolute_url())


def get_unit_for_member(membership: Membership, pk: int) -> Unit:
    unit = (
        Unit.objects.filter(assignment__project=membership.project, pk=pk)
        .select_related("assignment", "source", "result", "resolution__by")
        .prefetch_related(
            Prefetch(
                "passages",
                queryset=CodedPassage.objects.select_related("coder__coder").order_by("coder_id"),
            )
        )
        .first()
    )
    if unit is None:
        raise Http404("No such unit in this project.")
    coders = {p.coder.coder_id for p in unit.passages.all()}
    if not can(membership, Action.REVIEW) and membership.user_id not in coders:
        raise PermissionDenied("Only supervisors and the unit's coders see it.")
    return unit


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.ANNOTATE)
def unit_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    unit = get_unit_for_member(membership, pk)
    supervisor = can(membership, Action.REVIEW)
    form = ResolutionForm(request.POST or None, initial={"version": unit.version})
    _add_link_labels(unit)
    if request.method == "POST":
        if not supervisor:
            raise PermissionDenied("Only supervisors resolve units.")
        if not form.is_valid():
            if "reason" in form.errors or "comment" in form.errors:
                form.add_error(None, "Give a reason and a comment for this resolution.")
            if any(f.errors for f in form.hidden_fields()):
                form.add_error(
                    None, "The form was out of date or altered: open the unit again and decide."
                )
        else:
            data = form.cleaned_data
            passage = next((p for p in unit.passages.all() if p.pk == data["passage"]), None)
            written = None
            if data["kind"] == "written" and data["written"]:
                written = Annotation.objects.filter(
                    project=membership.project, pk=data["written"]
                ).first()
            try:
                coding.resolve(
                    unit=unit,
                    by=request.user,
                    kind=data["kind"],
                    seen_version=data["version"],
                    passage=passage,
                    written=written,
                    reason=data["reason"],
                    comment=data["comment"],
                )
            except coding.AgreementError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Unit {unit.number} resolved.")
                return redirect(unit.assignment.get_absolute_url())
    return render(
        request,
        "agreement/unit_detail.html",
        {
            "membership": membership,
            "project": membership.project,
            "unit": unit,
            "assignment": unit.assignment,
            "passages": list(unit.passages.all()),
            "supervisor": supervisor,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


def _add_link_labels(unit: Unit) -> None:
    """Names of the claims, people and concepts the versions link, for showing them."""
    from apps.claims.models import Claim, Concept
    from apps.people.models import Person

    claims, people, concepts = set(), set(), set()
    for p in unit.passages.all():
        claims |= {c for c, _ in p.claims}
        people |= {person for person, _, _ in p.people}
        concepts |= set(p.concepts)
    claim_names = dict(Claim.objects.filter(pk__in=claims).values_list("pk", "statement"))
    person_names = dict(Person.objects.filter(pk__in=people).values_list("pk", "display_name"))
    concept_names = dict(Concept.objects.filter(pk__in=concepts).values_list("pk", "name"))
    versions = list(unit.passages.all())
    for p in versions:
        # What merging would give with this version's span (shown before deciding).
        p.merge_preview = coding.merged(versions, span=p) if len(versions) > 1 else None
        for shown in (p, p.merge_preview):
            if shown is None:
                continue
            shown.claim_rows = [(claim_names.get(c, f"#{c}"), s) for c, s in shown.claims]
            shown.people_rows = [(person_names.get(x, f"#{x}"), f) for x, _, f in shown.people]
            shown.concept_names = [concept_names.get(c, f"#{c}") for c in shown.concepts]


@require_safe
@project_view(Action.ANNOTATE)
def report_csv(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    assignment = get_assignment_for_member(membership, pk)
    variable = request.GET.get("variable", Variable.SPANS)
    if assignment.state == AssignmentState.CLOSED:
        return HttpResponse(
            f"{report.statement(assignment)} There is no reliability data.\n",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    if assignment.state != AssignmentState.COMPARED:
        return HttpResponse(
            "The reliability data exists once the assignment is compared.\n",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    if variable not in report.counted(assignment):
        return HttpResponse(
            f"No such variable in this assignment; choose one of: "
            f"{', '.join(report.counted(assignment))}.\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    # The rows, read from the frozen data (not measured: the figures are in the summary).
    [chosen] = report.reliability_data(assignment, [variable])
    response = HttpResponse(report.csv_text(chosen), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{membership.project.slug}-assignment-{assignment.pk}-'
        f'{variable}.csv"'
    )
    return response


@require_POST
@project_view(Action.REVIEW)
def coder_drop(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    row = (
        AssignmentCoder.objects.filter(assignment__project=membership.project, pk=pk)
        .select_related("assignment", "coder")
        .first()
    )
    if row is None:
        raise Http404("No such coder in this project.")
    form = DropForm(request.POST, project=membership.project)
    back = row.assignment.get_absolute_url()
    if not form.is_valid():
        messages.error(request, "Choose an analyst of this project, or nobody.")
        return redirect(back)
    replacement = form.cleaned_data["replacement"]
    try:
        coding.drop_coder(
            assignment=row.assignment,
            coder=row.coder,
            replacement=replacement,
            why=form.cleaned_data["why"],
        )
    except coding.AgreementError as error:
        messages.error(request, str(error))
    else:
        if replacement:
            messages.success(
                request, f"{replacement.username} codes in place of {row.coder.username}."
            )
        else:
            messages.success(request, f"{row.coder.username}'s units are dropped from the sample.")
    return redirect(back)


# Units listed in a reading view: a source has a few dozen in a round; past this many (about
# 20 ms of rendering on this machine) the assignment pages list them all.
READER_UNITS = 200


def reader_units(membership: Membership, source: Source) -> tuple[str, dict] | None:
    """The double-coding units of a source for its reading view (a section registered with
    apps.annotations.reader): outcome, place and resolution, each linking to its unit page.
    One query; none for students, who have no part in double coding."""
    if not can(membership, Action.ANNOTATE):
        return None
    units = list(
        Unit.objects.visible_to(membership).filter(source=source).for_reader()[: READER_UNITS + 1]
    )
    if not units:
        return None
    return "agreement/_reader_units.html", {
        "units": units[:READER_UNITS],
        "more": len(units) > READER_UNITS,
    }


def coder_home(membership: Membership) -> dict:
    """What the project home shows a coder: their assignments, and per resolved unit their
    version beside the resolved one with the reason."""
    rows = list(
        AssignmentCoder.objects.filter(
            coder_id=membership.user_id, assignment__project_id=membership.project_id
        )
        .exclude(state=CoderState.DROPPED)
        .select_related("assignment")
        .order_by("-assignment__created_at", "-pk")[:20]
    )
    feedback = list(
        CodedPassage.objects.filter(
            coder__coder_id=membership.user_id,
            coder__assignment__project_id=membership.project_id,
            unit__resolved_at__isnull=False,
        )
        .select_related("unit__result", "unit__resolution__by", "unit__assignment")
        .order_by("-unit__resolved_at", "-pk")[:20]
    )
    return {"coding": rows, "feedback": feedback}

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.accounts.editing import Difference, StaleEdit, rebase
from apps.accounts.models import Membership
from apps.accounts.navigation import next_url
from apps.accounts.policy import (
    Action,
    can,
    can_see_annotation,
    can_see_review_history,
    can_see_withdrawn,
    project_view,
)
from apps.accounts.references import NewReference, reference_label
from apps.annotations.anchoring import Haystack, current_haystack, trimmed, word_snapped
from apps.annotations.filters import AnnotationFilter
from apps.annotations.forms import (
    AnnotationForm,
    DecisionForm,
    EvidenceRows,
    MentionRows,
    SeenForm,
    decision_draft,
    keep_decision_draft,
)
from apps.annotations.models import (
    DECISIONS,
    MAX_QUOTE_LENGTH,
    Annotation,
    AnnotationRevision,
    ReviewAction,
    ReviewEvent,
    StaleDecision,
    Status,
    TransitionError,
    revision_changes,
)
from apps.annotations.tallies import passages_seen
from apps.claims.models import concept_tree
from apps.library.models import SOURCE_TEXTS, Source


def get_annotation_for_user(membership: Membership, pk: int, *, write: bool = False) -> Annotation:
    """404 outside the member's project; 403 when they may not see it (or, with `write`, edit it).

    A withdrawn annotation stays reachable for supervisors and its author.
    """
    annotation = (
        Annotation.objects.for_project(membership.project).with_list_data().filter(pk=pk).first()
    )
    if annotation is None:
        raise Http404("No such annotation in this project.")
    if annotation.is_withdrawn:
        visible = can_see_withdrawn(membership, annotation)
    else:
        visible = can_see_annotation(membership, annotation)
    if not visible:
        raise PermissionDenied("You may not see this annotation.")
    if write and not annotation.is_editable_by(membership):
        raise PermissionDenied(
            "Only the author may edit an annotation, and only while it is a draft or sent back "
            "for changes. Approved annotations are locked."
        )
    return annotation


PAGE_SIZE = 50


@require_safe
@project_view()
def annotation_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Passages the member may see, narrowed by the links that lead here (matrix cells, maps)."""
    annotations = Annotation.objects.visible_to(membership).with_list_data()
    filterset = AnnotationFilter(request.GET, queryset=annotations, membership=membership)
    results = filterset.qs if filterset.is_valid() else annotations.none()
    # One source's passages read in text order; across sources the newest come first.
    if filterset.is_valid() and filterset.form.cleaned_data.get("source"):
        results = results.in_text_order()
    else:
        results = results.order_by("-pk")
    paginator = Paginator(results, PAGE_SIZE)
    chosen = filterset.form.cleaned_data if filterset.is_valid() else {}
    if filterset.is_valid() and not any(chosen.values()):
        # Every passage the member sees: the project's tally knows how many, so the page
        # does not count the whole project (the filters narrow by an index when chosen).
        seen = passages_seen(membership)
        if seen is not None:
            paginator.count = seen
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "annotations/annotation_list.html",
        {
            "membership": membership,
            "project": membership.project,
            "filter": filterset,
            "page": page,
            "chosen": {name: chosen.get(name) for name in ("source", "person", "claim")},
        },
    )


def wants_json(request: HttpRequest) -> bool:
    """Browsers name text/html in their Accept header; scripts (curl, fetch, API clients)
    send */* or ask for JSON, and get JSON answers with the right status code."""
    accept = request.headers.get("Accept", "")
    return (
        "text/html" not in accept
        or request.get_preferred_type(["text/html", "application/json"]) == "application/json"
    )


def visible_history(membership: Membership, annotation: Annotation):
    """The review events of `annotation` this member may read, and the first version they may
    see (call when can_see_review_history allows the history at all; the page and the API).

    Students (when the project lets them read the history) see it from the approval that made
    the passage what they may read: never the wording, comments or versions before it.
    """
    history = annotation.review_events.all()
    if can(membership, Action.SEE_ALL_ANNOTATIONS) or annotation.author_id == membership.user_id:
        return history, 1
    approval = (
        annotation.review_events.filter(to_status=Status.APPROVED)
        .order_by("-pk")
        .values_list("pk", "annotation_version")
        .first()
    )
    since_event, first_version = approval or (None, annotation.version)
    history = history.filter(pk__gte=since_event) if since_event else history.none()
    return history, first_version


@require_safe
@project_view()
def annotation_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    annotation = get_annotation_for_user(membership, pk)
    history = revisions = None
    first_version = 1
    if can_see_review_history(membership, annotation):
        history, first_version = visible_history(membership, annotation)
        history = history.select_related("actor")
        revisions = annotation.revisions.select_related("edited_by").only(
            "annotation_id",
            "version",
            "created_at",
            "edited_by__username",
            "edited_by__first_name",
            "edited_by__last_name",
        )
        if first_version > 1:
            revisions = revisions.filter(version__gte=first_version)
    actions = annotation.allowed_actions(membership)
    # An approval its author gave (where the project allows it) is said on the page, to all.
    # Read from the history when it is shown (no extra query), else asked for.
    self_approved = False
    if history is not None:
        history = list(history)
        approvals = [e for e in history if e.to_status == Status.APPROVED]
        self_approved = bool(approvals) and approvals[-1].self_approval
    elif annotation.status == Status.APPROVED:
        self_approved = bool(
            annotation.review_events.filter(to_status=Status.APPROVED)
            .order_by("-pk")
            .values_list("self_approval", flat=True)
            .first()
        )
    self_approved = self_approved and annotation.status == Status.APPROVED
    # Earlier versions are part of the history: shown to those who may read it.
    changes = None
    if history is not None:
        seen = SeenForm(request.GET, latest=annotation.version)
        if seen.is_valid() and (seen.cleaned_data["seen"] or 0) >= max(first_version, 1):
            changes = _changes_since(annotation, seen.cleaned_data["seen"])
    return render(
        request,
        "annotations/annotation_detail.html",
        {
            "membership": membership,
            "project": membership.project,
            "annotation": annotation,
            "history": history,
            "revisions": revisions,
            "actions": actions,
            "decisions": sorted(actions & DECISIONS),
            "may_edit": annotation.is_editable_by(membership),
            "decision_form": DecisionForm(action="", initial={"seen_version": annotation.version}),
            "decision_draft": decision_draft(request, annotation.pk),
            "changes": changes,
            "first_version": first_version,
            "self_approved": bool(self_approved),
        },
    )


def _changes_since(annotation: Annotation, seen: int) -> list[Difference] | None:
    """What changed since the version a reviewer saw (after a refused, stale decision)."""
    contents = dict(
        AnnotationRevision.objects.filter(
            annotation=annotation, version__in=[seen, annotation.version]
        ).values_list("version", "content")
    )
    if len(contents) < 2:
        return None
    return [
        Difference(label, before, after)
        for label, before, after in revision_changes(contents[seen], contents[annotation.version])
    ]


def _annotation_form_page(
    request: HttpRequest,
    membership: Membership,
    *,
    source: Source,
    form: AnnotationForm,
    evidence: EvidenceRows,
    mentions: MentionRows,
    annotation: Annotation | None = None,
    conflict: Annotation | None = None,
    differences: list[Difference] | None = None,
    decision: ReviewEvent | None = None,
) -> HttpResponse:
    return render(
        request,
        "annotations/annotation_form.html",
        {
            "membership": membership,
            "project": membership.project,
            "source": source,
            "annotation": annotation,
            "form": form,
            "evidence": evidence,
            "mentions": mentions,
            "conflict": conflict,
            "differences": differences,
            "decision": decision,
            "concept_choices": _concept_tree_choices(form),
        },
        status=409 if conflict else 200,
    )


def _concept_tree_choices(form: AnnotationForm) -> list:
    """The concept checkboxes in codebook order, with their depth: (value, label, id, checked,
    depth) each, from one query of the codebook. The template writes each input itself: a
    widget rendered per concept cost about 0.15 ms, which a codebook of hundreds feels."""
    field = form["concepts"]
    chosen = {str(value) for value in field.value() or []}
    return [
        (concept.pk, concept.name, f"{field.auto_id}_{index}", str(concept.pk) in chosen, depth)
        for index, (concept, depth) in enumerate(
            concept_tree(form.fields["concepts"].queryset.only("pk", "name", "parent_id"))
        )
    ]


@require_http_methods(["GET", "POST"])
@project_view(Action.ANNOTATE)
def annotation_create(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """A new annotation on source `pk`."""
    source = get_object_or_404(
        Source.objects.for_project(membership.project).defer(*SOURCE_TEXTS),
        pk=pk,
    )
    haystack, _ = current_haystack(source.pk)
    data = request.POST if request.method == "POST" else None
    form = AnnotationForm(
        data,
        membership=membership,
        haystack=haystack,
        initial=None if data else selection_initial(request, haystack),
    )
    evidence = EvidenceRows(data, prefix="evidence", membership=membership)
    mentions = MentionRows(data, prefix="mentions", membership=membership)
    if data is not None and form.is_valid() and evidence.is_valid() and mentions.is_valid():
        submit = "submit" in request.POST
        annotation = create_annotation(
            form, evidence, mentions, membership=membership, source=source, submit=submit
        )
        done = "saved and submitted for review" if submit else "saved as a draft"
        messages.success(request, f"Annotation {annotation.locator} {done}.")
        return redirect("annotations:annotation_detail", membership.project.slug, annotation.pk)
    return _annotation_form_page(
        request, membership, source=source, form=form, evidence=evidence, mentions=mentions
    )


@require_http_methods(["GET", "POST"])
@project_view(Action.ANNOTATE)
def annotation_edit(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    annotation = get_annotation_for_user(membership, pk, write=True)
    data = request.POST if request.method == "POST" else None
    haystack, _ = current_haystack(annotation.source_id)
    form = AnnotationForm(data, instance=annotation, membership=membership, haystack=haystack)
    # The saved links fill the rows on GET only: on POST the rows are what the user sent.
    evidence = EvidenceRows(
        data,
        prefix="evidence",
        membership=membership,
        initial=None if data else _evidence_initial(annotation),
    )
    mentions = MentionRows(
        data,
        prefix="mentions",
        membership=membership,
        initial=None if data else _mention_initial(annotation),
    )
    if data is not None and form.is_valid() and evidence.is_valid() and mentions.is_valid():
        submit = "submit" in request.POST
        try:
            update_annotation(annotation, form, evidence, mentions, membership, submit=submit)
        except StaleEdit as stale:
            current = Annotation.objects.with_links().get(pk=stale.current.pk)
            yours = _submitted_snapshot(form, evidence, mentions)
            differences = [
                Difference(label, mine, saved)
                for label, mine, saved in revision_changes(yours, current.snapshot())
            ]
            rebase(form, current)
            return _annotation_form_page(
                request,
                membership,
                source=annotation.source,
                form=form,
                evidence=evidence,
                mentions=mentions,
                annotation=annotation,
                conflict=current,
                differences=differences,
            )
        except TransitionError as error:
            messages.error(request, str(error))
        else:
            done = "saved and submitted for review" if submit else "saved"
            messages.success(request, f"Annotation {annotation.locator} {done}.")
        return redirect("annotations:annotation_detail", membership.project.slug, annotation.pk)
    return _annotation_form_page(
        request,
        membership,
        source=annotation.source,
        form=form,
        evidence=evidence,
        mentions=mentions,
        annotation=annotation,
        decision=annotation.last_decision(),
    )


def create_annotation(
    form: AnnotationForm,
    evidence: EvidenceRows,
    mentions: MentionRows,
    *,
    membership: Membership,
    source: Source,
    submit: bool = False,
) -> Annotation:
    """Save a new annotation of the member's from its validated form and rows (the page and
    the API): a draft, or submitted for review."""
    user = membership.user
    with transaction.atomic():
        annotation = form.save(commit=False)
        annotation.project = membership.project
        annotation.source = source
        annotation.author = user
        annotation.updated_by = user
        annotation.save_content(
            evidence=evidence.links(),
            mentions=mentions.links(),
            concepts=form.cleaned_data["concepts"],
            by=user,
            placed=form.placed,
        )
        if submit:
            annotation.transition(ReviewAction.SUBMIT, by=user, membership=membership)
    return annotation


def update_annotation(
    annotation: Annotation,
    form: AnnotationForm,
    evidence: EvidenceRows,
    mentions: MentionRows,
    membership: Membership,
    *,
    submit: bool = False,
) -> None:
    """Save the author's change of `annotation` from its validated form and rows (the page and
    the API). StaleEdit when a newer version was saved since the form was loaded;
    TransitionError when it may no longer be edited."""
    user = membership.user
    with annotation.editing(by=user, loaded_version=form.cleaned_data["loaded_version"]) as current:
        if not current.is_editable_by(membership):
            raise TransitionError(
                "This annotation was submitted, decided on or withdrawn while you were "
                "editing it; your changes were not saved."
            )
        form.save(commit=False)
        annotation.save_content(
            evidence=evidence.links(),
            mentions=mentions.links(),
            concepts=form.cleaned_data["concepts"],
            by=user,
            placed=form.placed,
        )
        if submit:
            annotation.transition(ReviewAction.SUBMIT, by=user, membership=membership)


def selection_initial(request: HttpRequest, haystack: Haystack) -> dict:
    """The form's first values for a passage selected in the reading view (`?start=&end=`):
    the words, their offsets and where they are. Offsets outside the text are ignored.

    A selection that begins or ends inside a word is widened to whole words, unless `exact=1`
    asks for the characters as selected; `snapped_from` (not a field) then holds what was
    selected and the address that keeps it, for the form to offer."""
    start, end = request.GET.get("start", ""), request.GET.get("end", "")
    if not (start.isdigit() and end.isdigit()):
        return {}
    text = haystack.text
    start, end = trimmed(text, int(start), int(end))
    if not 0 <= start < end <= len(text) or end - start > MAX_QUOTE_LENGTH:
        return {}
    snapped_from = None
    if request.GET.get("exact") != "1":
        wide_start, wide_end = word_snapped(text, start, end)
        if (wide_start, wide_end) != (start, end) and wide_end - wide_start <= MAX_QUOTE_LENGTH:
            exact = f"{request.path}?{urlencode({'start': start, 'end': end, 'exact': 1})}"
            snapped_from = {"quote": text[start:end], "url": exact}
            start, end = wide_start, wide_end
    page = haystack.page_label(start)
    return {
        "quote": text[start:end],
        "start": start,
        "end": end,
        "page_label": page,
        "locator": haystack.locator(start),
        "snapped_from": snapped_from,
    }


def _evidence_initial(annotation: Annotation) -> list[dict]:
    return [
        {"claim": reference_label(e.claim), "stance": e.stance} for e in annotation.evidence.all()
    ]


def _mention_initial(annotation: Annotation) -> list[dict]:
    return [
        {
            "person": f"#{m.person.id} {m.person.display_name}",
            "work": f"#{m.work.id} {m.work.title}" if m.work else "",
            "function": m.function,
        }
        for m in annotation.mentions.all()
    ]


def _submitted_snapshot(form, evidence, mentions) -> dict:
    """What the user tried to save, shaped like Annotation.snapshot() for comparison."""

    def label(target) -> tuple[int, str]:
        if isinstance(target, NewReference):
            return 0, f"{target.text} (new)"
        return target.pk, str(target)

    data = form.cleaned_data
    return {
        "quote": data["quote"],
        "locator": data["locator"],
        "page_label": data["page_label"],
        "note": data["note"],
        "claims": sorted([*label(row["claim"]), row["stance"]] for row in evidence.links()),
        "people": sorted(
            [
                *label(row["person"]),
                row["work"].pk if row.get("work") else 0,
                row["work"].title if row.get("work") else "",
                row["function"],
            ]
            for row in mentions.links()
        ),
        "concepts": sorted([c.pk, c.name] for c in data["concepts"]),
    }


@require_POST
@project_view()
def annotation_act(
    request: HttpRequest, membership: Membership, pk: int, action: str
) -> HttpResponse:
    """Submit, decide, reopen, withdraw or restore. 403 for members who may never take this
    action on this annotation; a refusal because of its state is a message (409 for scripts)."""
    annotation = get_annotation_for_user(membership, pk)
    back = _back_url(request, annotation)
    refused = annotation.refusal(membership, action)
    if refused and not annotation.may_ever(membership, action):
        raise PermissionDenied(refused)
    if refused:
        return _refuse(request, back, refused, status=409)
    form = DecisionForm(request.POST, action=action)
    if not form.is_valid():
        problems = " ".join(e for errors in form.errors.values() for e in errors)
        keep_decision_draft(request, annotation.pk)
        return _refuse(request, back, problems, status=400)
    try:
        annotation.transition(
            action,
            by=request.user,
            membership=membership,
            seen_version=form.cleaned_data.get("seen_version"),
            reason=form.cleaned_data.get("reason", ""),
            comment=form.cleaned_data.get("comment", ""),
        )
    except StaleDecision as stale:
        keep_decision_draft(request, annotation.pk)
        url = reverse("annotations:annotation_detail", args=[membership.project.slug, pk])
        return _refuse(request, f"{url}?seen={stale.seen}", str(stale), status=409)
    except TransitionError as error:
        keep_decision_draft(request, annotation.pk)
        return _refuse(request, back, str(error), status=409)
    label = ReviewAction(action).label
    if wants_json(request):
        return JsonResponse({"status": annotation.status, "action": action})
    messages.success(
        request, f"{label}: done for {annotation.locator} of “{annotation.source.title}”."
    )
    return HttpResponseRedirect(back)


def _back_url(request: HttpRequest, annotation: Annotation) -> str:
    return next_url(
        request,
        reverse("annotations:annotation_detail", args=[annotation.project.slug, annotation.pk]),
    )


def _refuse(request: HttpRequest, back: str, message: str, *, status: int) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": message}, status=status)
    messages.error(request, message)
    return HttpResponseRedirect(back)

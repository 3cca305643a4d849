"""The supervisors' review queue: submitted work, oldest first, decided one by one or in bulk."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Prefetch, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from apps.accounts.models import Membership, Role
from apps.accounts.policy import Action, project_view, unblinded_q
from apps.annotations.forms import DecisionForm, decision_draft
from apps.annotations.models import Annotation, ReviewAction, ReviewEvent, TransitionError
from apps.review.filters import QueueFilter

PAGE_SIZE = 20
# What the queue showed each reviewer, as "id:version" per project: bulk approval accepts only
# those, so nothing is approved that the reviewer was not shown in that very version.
SHOWN_KEY = "review_shown"
SHOWN_LIMIT = 500
_PAIR = re.compile(r"^(\d{1,18}):(\d{1,9})$")


@require_safe
@project_view(Action.REVIEW)
def queue(request: HttpRequest, membership: Membership) -> HttpResponse:
    waiting = (
        Annotation.objects.visible_to(membership)
        .waiting_for_review()
        .with_list_data()
        .prefetch_related(
            Prefetch("review_events", queryset=ReviewEvent.objects.select_related("actor"))
        )
    )
    filterset = QueueFilter(request.GET, queryset=waiting, membership=membership)
    results = filterset.qs if filterset.is_valid() else waiting.none()
    # Work the viewer may decide on first; their own waits for another supervisor.
    results = results.alias(
        own=Case(When(author=request.user, then=Value(1)), default=Value(0))
    ).order_by("own", "status_changed_at", "pk")
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    for annotation in items:
        annotation.decision_draft = decision_draft(request, annotation.pk)
    _remember_shown(request, membership, [a for a in items if a.author_id != request.user.pk])
    return render(
        request,
        "review/queue.html",
        {
            "membership": membership,
            "project": membership.project,
            "filter": filterset,
            "page": page,
            "items": items,
            "decision_form": DecisionForm(action=""),
            "here": request.get_full_path(),
            # Whether someone else could decide on the viewer's own work.
            "other_supervisors": membership.project.memberships.filter(role=Role.SUPERVISOR)
            .exclude(user=request.user)
            .exists(),
        },
    )


def _remember_shown(request: HttpRequest, membership: Membership, shown: list[Annotation]) -> None:
    by_project = request.session.get(SHOWN_KEY, {})
    pairs = by_project.get(membership.project.slug, [])
    pairs = [*pairs, *(f"{a.pk}:{a.version}" for a in shown)][-SHOWN_LIMIT:]
    by_project[membership.project.slug] = pairs
    request.session[SHOWN_KEY] = by_project


@require_POST
@project_view(Action.REVIEW)
def approve_shown(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Approve the ticked annotations, each only in the version the queue showed."""
    shown = set(request.session.get(SHOWN_KEY, {}).get(membership.project.slug, []))
    picked = request.POST.getlist("approve")[:PAGE_SIZE]
    back = reverse("review:queue", args=[membership.project.slug])
    if not picked:
        messages.error(request, "Tick the annotations to approve first.")
        return redirect(back)
    approved, refused = 0, []
    wanted: dict[int, int] = {}
    for pair in picked:
        match = _PAIR.match(pair)
        if not match or pair not in shown:
            refused.append(f"{pair}: not shown to you in this version; open it first")
            continue
        wanted[int(match.group(1))] = int(match.group(2))
    found = Annotation.objects.visible_to(membership).in_bulk(list(wanted))
    for pk, version in wanted.items():
        annotation = found.get(pk)
        if annotation is None:
            refused.append(f"#{pk}: no such annotation in this project")
            continue
        try:
            annotation.transition(
                ReviewAction.APPROVE, by=request.user, membership=membership, seen_version=version
            )
        except TransitionError as error:
            refused.append(f"{annotation.locator} (#{pk}): {error}")
        else:
            approved += 1
    if approved:
        messages.success(request, f"Approved {approved} annotation{'s' if approved != 1 else ''}.")
    for reason in refused:
        messages.error(request, f"Not approved — {reason}")
    return redirect(back)


@require_safe
@project_view(Action.REVIEW)
def withdrawn(request: HttpRequest, membership: Membership) -> HttpResponse:
    annotations = (
        Annotation.objects.for_project(membership.project)
        .withdrawn()
        .filter(unblinded_q(membership))
        .with_list_data()
        .select_related("withdrawn_by")
        .order_by("-withdrawn_at", "-pk")
    )
    page = Paginator(annotations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "review/withdrawn.html",
        {"membership": membership, "project": membership.project, "page": page},
    )

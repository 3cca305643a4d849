"""The project home's overview of the approved map: who is cited most, which claims are
contested, which concepts are thin.

It is the same for every member (approved work only), so it is computed once per change of the
review ledger and cached: these aggregates read every approved annotation of the project.
"""

from __future__ import annotations

import copy

from django.core.cache import cache
from django.db.models import Count, Q

from apps.accounts.models import Membership
from apps.accounts.policy import Action, can, visible_annotations_q
from apps.annotations.models import Annotation, Mention, ReviewEvent, Stance
from apps.claims.models import Claim, Concept

OVERVIEW_SIZE = 8
CACHE_SECONDS = 300
PRO = [Stance.ASSERTS, Stance.SUPPORTS]
CON = [Stance.CONTRADICTS]


def approved_view(membership: Membership) -> Membership:
    """The same member, looking at approved work only (as students do)."""
    approved = copy.copy(membership)
    approved.approved_only = True
    return approved


def project_stamp(project) -> str:
    """Changes whenever an annotation of the project is edited or reviewed: a cache key part."""
    latest_event = (
        ReviewEvent.objects.filter(annotation__project=project)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    latest_edit = (
        Annotation.objects.for_project(project)
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first()
    )
    return f"{project.pk}:{latest_event}:{latest_edit.timestamp() if latest_edit else 0}"


def visibility_key(membership: Membership) -> str:
    """Members with the same key see the same annotations."""
    if membership.approved_only or not can(membership, Action.ANNOTATE):
        return "approved"
    if can(membership, Action.SEE_ALL_ANNOTATIONS):
        return "all"
    return f"user{membership.user_id}"


def overview(membership: Membership) -> dict:
    project = membership.project
    key = f"citemap:overview:{project_stamp(project)}"
    found = cache.get(key)
    if found is None:
        found = _compute(approved_view(membership))
        cache.set(key, found, CACHE_SECONDS)
    return found


def _compute(approved: Membership) -> dict:
    project = approved.project
    visible = visible_annotations_q(approved, prefix="evidence__annotation__")
    contested = (
        Claim.objects.for_project(project)
        .annotate(
            pro=Count("evidence", filter=visible & Q(evidence__stance__in=PRO)),
            con=Count("evidence", filter=visible & Q(evidence__stance__in=CON)),
        )
        .filter(pro__gt=0, con__gt=0)
        .order_by("-con", "-pro", "statement")
        .values("pk", "statement", "pro", "con")[:OVERVIEW_SIZE]
    )
    thin = (
        Concept.objects.for_project(project)
        .annotate(
            passages=Count(
                "annotations", filter=visible_annotations_q(approved, prefix="annotations__")
            )
        )
        .order_by("passages", "name")
        .values("pk", "name", "passages")[:OVERVIEW_SIZE]
    )
    return {
        "most_cited": list(Mention.objects.visible_to(approved).person_tally()[:OVERVIEW_SIZE]),
        "contested": list(contested),
        "thin_concepts": list(thin),
    }

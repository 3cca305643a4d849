"""The project home's overview of the approved map: who is cited most, which claims are
contested, which concepts are thin. It is the same for every member (approved work only).

`project_stamp` and `visibility_key` build the keys of the caches that remain (co-citation,
the map's ranking, a filtered matrix's columns).
"""

from __future__ import annotations

from django.db.models import Count
from django.db.models.functions import Coalesce

from apps.accounts.models import Membership
from apps.accounts.policy import Action, approved_annotations_q, blindness_key, can
from apps.annotations.models import Annotation, ClaimTally, Mention, PersonTally, ReviewEvent
from apps.claims.models import Concept

OVERVIEW_SIZE = 8
CACHE_SECONDS = 300


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
        return f"all{blindness_key(membership)}"
    return f"user{membership.user_id}"


def overview(membership: Membership) -> dict:
    """Read from the tallies (apps/annotations/tallies.py): three small queries whatever the
    size of the project, always current, names included."""
    project = membership.project
    cited = list(
        PersonTally.objects.filter(project=project, approved__gt=0)
        .order_by("-approved", "person_id")
        .values("person_id", "person__display_name", "approved")[:OVERVIEW_SIZE]
    )
    # "Sources citing them", for these few people only.
    sources = dict(
        Mention.objects.filter(
            approved_annotations_q("annotation__"),
            person_id__in=[row["person_id"] for row in cited],
        )
        .values("person_id")
        .annotate(n=Count("annotation__source_id", distinct=True))
        .values_list("person_id", "n")
    ) if cited else {}  # fmt: skip
    for row in cited:
        row["passages"] = row.pop("approved")
        row["sources"] = sources.get(row["person_id"], 0)
    contested = [
        {"pk": row["claim_id"], "statement": row["claim__statement"],
         "pro": row["approved_for"], "con": row["approved_against"]}  # fmt: skip
        for row in ClaimTally.objects.filter(
            project=project, approved_for__gt=0, approved_against__gt=0
        )
        .order_by("-approved_against", "-approved_for", "claim_id")
        .values("claim_id", "claim__statement", "approved_for", "approved_against")[
            :OVERVIEW_SIZE
        ]
    ]
    thin = (
        Concept.objects.for_project(project)
        .annotate(passages=Coalesce("tally__approved", 0))
        .order_by("passages", "name")
        .values("pk", "name", "passages")[:OVERVIEW_SIZE]
    )
    return {"most_cited": cited, "contested": contested, "thin_concepts": list(thin)}

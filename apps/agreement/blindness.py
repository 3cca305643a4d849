"""Blindness: while an assignment is open, what its coders code is hidden — wherever passages
are listed, counted, searched or exported — from two kinds of member.

- A coder sees nothing another coder of it has coded in its sources. Coders are analysts, and
  analysts see other people's work only once approved, so in practice the rule matters for
  work that gets approved while the assignment is still open; it covers a coder's earlier
  passages in those sources too, so nothing a co-coder wrote there can steer them.
- A supervisor sees progress counts, not content, until every coder is done (issue #15): the
  coders' passages in its sources are hidden from members who see everything, their own
  passages excepted. Once every coder still in the sample is done (or dropped, or the
  assignment compared) they are shown again, for the comparison and the resolution.

Both rules hide by source (the whole source, even when only a range of it is assigned) and
whatever the passage's date: they must also filter the search index, whose rows know a
passage's source and author, not its place or age.

The access policy (apps.accounts.policy) is the one place that decides which passages a member
sees; it offers a hook (`Blindness`) for these rules, filled when this app is ready. The
supervisors' rule costs nothing while no assignment can hide anything: `Project.coding_blind_at`,
loaded with the membership, says whether one can, and `refresh` keeps it current.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone

from apps.accounts.models import Membership, Project
from apps.accounts.policy import Action, Blindness, annotates_blind, can
from apps.agreement.models import (
    Assignment,
    AssignmentCoder,
    AssignmentState,
    CoderState,
)

# A coder still at work: while one is, the assignment hides its coders' passages from supervisors.
WORKING = (CoderState.ASSIGNED, CoderState.IN_PROGRESS)


# --- Coders --------------------------------------------------------------------------------------


def _co_coders(membership: Membership) -> Any:
    """Coders of open assignments that the member codes too."""
    return AssignmentCoder.objects.filter(
        assignment__state=AssignmentState.OPEN,
        assignment__project_id=membership.project_id,
        assignment__coders__coder_id=membership.user_id,
    ).exclude(coder_id=membership.user_id)


def hidden_from_coder(membership: Membership, prefix: str) -> Q:
    """A filter keeping the passages the member may see as a coder: their own, and anyone's
    outside the sources of the open assignments they code with that person."""
    others = _co_coders(membership).filter(
        coder_id=OuterRef(f"{prefix}author_id"),
        assignment__sources__source_id=OuterRef(f"{prefix}source_id"),
    )
    # Their own are kept since the co-coders leave them out (no OR: see hidden_from_supervisor).
    return ~Exists(others)


def hides_annotation(membership: Membership, annotation: Any) -> bool:
    """The same rule for one loaded annotation."""
    if annotation.author_id == membership.user_id:
        return False
    return (
        _co_coders(membership)
        .filter(coder_id=annotation.author_id, assignment__sources__source_id=annotation.source_id)
        .exists()
    )


# --- Supervisors ---------------------------------------------------------------------------------


def _blinding(project_id: int) -> Any:
    """The project's open assignments with a coder still at work."""
    return Assignment.objects.filter(
        project_id=project_id,
        state=AssignmentState.OPEN,
    ).filter(
        Exists(AssignmentCoder.objects.filter(assignment_id=OuterRef("pk"), state__in=WORKING))
    )


def refresh(project_id: int) -> None:
    """Set `Project.coding_blind_at` from the assignments, in the transaction that changed one
    (assigning, marking done, dropping a coder, comparing): now while one hides something,
    else None. Recomputed, never counted up and down, so it cannot drift."""
    hiding = Exists(_blinding(project_id))
    Project.objects.filter(pk=project_id).update(
        coding_blind_at=Case(When(hiding, then=Value(timezone.now())), default=None)
    )


def _coded_by(project_id: int) -> Any:
    """The coders of the project's blinding assignments, each with its sources."""
    return AssignmentCoder.objects.filter(assignment__in=_blinding(project_id).values("pk"))


def sees_blind(membership: Membership) -> bool:
    """Members who see everything, while an assignment of their project hides its coders'
    passages from them."""
    return (
        can(membership, Action.SEE_ALL_ANNOTATIONS)
        and membership.project.coding_blind_at is not None
    )


def hidden_from_supervisor(membership: Membership, prefix: str) -> Q:
    """A filter keeping what a supervisor may see while coders are at work: everything but the
    coders' passages in the assignment's sources, except the member's own."""
    # The member's own passages are kept by leaving them out of the coders, not by an OR
    # beside the NOT EXISTS: so PostgreSQL plans an anti-join, and estimates it as cheap as it
    # is (with the OR, a hashed subplan estimated dear enough to be JIT-compiled, which cost
    # more than the query).
    coded = (
        _coded_by(membership.project_id)
        .filter(
            coder_id=OuterRef(f"{prefix}author_id"),
            assignment__sources__source_id=OuterRef(f"{prefix}source_id"),
        )
        .exclude(coder_id=membership.user_id)
    )
    return ~Exists(coded)


def hides_from_supervisor(membership: Membership, annotation: Any) -> bool:
    """The same rule for one loaded annotation."""
    if annotation.author_id == membership.user_id:
        return False
    return (
        _coded_by(membership.project_id)
        .filter(coder_id=annotation.author_id, assignment__sources__source_id=annotation.source_id)
        .exists()
    )


def supervisor_key(membership: Membership) -> str:
    """Assigning, a coder done or dropped: each sets `coding_blind_at` anew."""
    return f"blind{membership.project.coding_blind_at.timestamp()}"


CODERS = Blindness(applies=annotates_blind, as_filter=hidden_from_coder, for_one=hides_annotation)
SUPERVISORS = Blindness(
    applies=sees_blind,
    as_filter=hidden_from_supervisor,
    for_one=hides_from_supervisor,
    key=supervisor_key,
)

"""Blindness: while an assignment is open, a coder sees nothing another coder of it has coded
in its sources — wherever passages are listed, counted, searched or exported.

The access policy (apps.accounts.policy) is the one place that decides which passages a member
sees; it offers a hook for this rule, filled when this app is ready. Coders are analysts, and
analysts see other people's work only once approved, so in practice the rule matters for work
that gets approved while the assignment is still open; it covers a coder's earlier passages
in those sources too, so nothing a co-coder wrote there can steer them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from apps.accounts.models import Membership
from apps.agreement.models import AssignmentCoder, AssignmentState


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
    return Q(**{f"{prefix}author_id": membership.user_id}) | ~Exists(others)


def hides_annotation(membership: Membership, annotation: Any) -> bool:
    """The same rule for one loaded annotation."""
    if annotation.author_id == membership.user_id:
        return False
    return (
        _co_coders(membership)
        .filter(coder_id=annotation.author_id, assignment__sources__source_id=annotation.source_id)
        .exists()
    )

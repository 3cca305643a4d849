"""Open work a member leaves behind when a supervisor removes them.

A higher app that gives members work which others wait for (apps.agreement: a coder's place in
an open double-coding assignment) registers a `Handover` when it is ready: what the member still
holds, and how to settle it — another analyst takes it over, or it is dropped. Removing the
member asks the supervisor to choose first, and settles it in the same transaction as the
removal, so nothing is left waiting for someone who is gone. This app does not import those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.accounts.models import Membership, User


@dataclass(frozen=True)
class Handover:
    # Lines describing what the member still holds ([] when nothing).
    open_work: Callable[[Membership], list[str]]
    # Settle it: give it to `replacement`, or drop it when None. Returns what was done, for
    # the supervisor; raises ProjectError (nothing changed) when it cannot be done.
    settle: Callable[..., list[str]]


_handovers: list[Handover] = []


def register_handover(handover: Handover) -> None:
    if handover not in _handovers:
        _handovers.append(handover)


def open_work(member: Membership) -> list[str]:
    return [line for handover in _handovers for line in handover.open_work(member)]


def settle(member: Membership, *, replacement: User | None, by: User) -> list[str]:
    """Call inside the removal's transaction."""
    done: list[str] = []
    for handover in _handovers:
        done += handover.settle(member, replacement=replacement, by=by)
    return done

"""The review workflow's transition table, over every (status, action) pair."""

import pytest

from apps.annotations.models import (
    TRANSITIONS,
    Annotation,
    ReviewAction,
    ReviewEvent,
    Status,
    TransitionError,
)
from tests import factories

DECISION = {"reason": "unclear_note", "comment": "Say which claim this supports."}


def decide(annotation, action, cast, **extra):
    actor = cast.analyst if action in {ReviewAction.SUBMIT} else cast.supervisor
    needs_reason = action in {
        ReviewAction.REQUEST_CHANGES,
        ReviewAction.REJECT,
        ReviewAction.REOPEN,
    }
    return annotation.transition(action, by=actor, **(DECISION if needs_reason else {}), **extra)


def expected_target(annotation, action):
    """What DESIGN.md's workflow says should happen, written out independently."""
    if action == ReviewAction.WITHDRAW:
        return None if annotation.is_withdrawn else annotation.status
    if action == ReviewAction.RESTORE:
        return annotation.status if annotation.is_withdrawn else None
    if annotation.is_withdrawn:
        return None
    if action == ReviewAction.SUBMIT and annotation.status == Status.CHANGES_REQUESTED:
        return None  # not edited since it was sent back
    return TRANSITIONS.get((annotation.status, action))


@pytest.mark.parametrize("withdrawn", [False, True], ids=["shown", "withdrawn"])
@pytest.mark.parametrize("status", Status.values)
@pytest.mark.parametrize("action", ReviewAction.values)
def test_each_status_and_action(cast, status, action, withdrawn):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(
        source, cast.analyst, status=status, reviewer=cast.supervisor
    )
    if withdrawn:
        annotation.transition(ReviewAction.WITHDRAW, by=cast.supervisor)
    events_before = ReviewEvent.objects.filter(annotation=annotation).count()
    target = expected_target(annotation, action)
    if target is None:
        with pytest.raises(TransitionError):
            decide(annotation, action, cast)
        fresh = Annotation.objects.get(pk=annotation.pk)
        assert (fresh.status, fresh.is_withdrawn) == (status, withdrawn)
        assert ReviewEvent.objects.filter(annotation=annotation).count() == events_before
        return
    event = decide(annotation, action, cast)
    fresh = Annotation.objects.get(pk=annotation.pk)
    assert fresh.status == target
    assert fresh.is_withdrawn is (
        action == ReviewAction.WITHDRAW or (withdrawn and action != ReviewAction.RESTORE)
    )
    assert ReviewEvent.objects.filter(annotation=annotation).count() == events_before + 1
    assert (event.from_status, event.to_status, event.action) == (status, target, action)


def test_nobody_decides_on_their_own_annotation(cast):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.supervisor, status="submitted")
    with pytest.raises(TransitionError, match="your own"):
        annotation.transition(ReviewAction.APPROVE, by=cast.supervisor)
    assert Annotation.objects.get(pk=annotation.pk).status == Status.SUBMITTED


def test_a_decision_on_a_version_not_seen_is_refused(cast):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted")
    Annotation.objects.filter(pk=annotation.pk).update(version=2)
    with pytest.raises(TransitionError, match="changed since you opened it"):
        annotation.transition(ReviewAction.APPROVE, by=cast.supervisor, seen_version=1)
    annotation.transition(ReviewAction.APPROVE, by=cast.supervisor, seen_version=2)
    assert Annotation.objects.get(pk=annotation.pk).status == Status.APPROVED


def test_requesting_changes_needs_a_reason_and_a_comment(cast):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted")
    for bad in (
        {},
        {"reason": "misquoted"},
        {"reason": "nonsense", "comment": "x"},
        {"reason": "misquoted", "comment": "  "},
    ):
        with pytest.raises(TransitionError, match="reason"):
            annotation.transition(ReviewAction.REQUEST_CHANGES, by=cast.supervisor, **bad)
    event = annotation.transition(
        ReviewAction.REQUEST_CHANGES, by=cast.supervisor, reason="misquoted", comment="Check ¶4."
    )
    assert (event.reason, event.comment) == ("misquoted", "Check ¶4.")


def test_work_sent_back_is_resubmitted_only_after_an_edit(cast):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(
        source, cast.analyst, status="changes_requested", reviewer=cast.supervisor
    )
    with pytest.raises(TransitionError, match="before submitting it again"):
        annotation.transition(ReviewAction.SUBMIT, by=cast.analyst)
    factories.revise(annotation, cast.analyst, locator="¶99")
    annotation.transition(ReviewAction.SUBMIT, by=cast.analyst)
    assert Annotation.objects.get(pk=annotation.pk).status == Status.SUBMITTED


def test_only_the_author_submits(cast):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst)
    with pytest.raises(TransitionError, match="author"):
        annotation.transition(ReviewAction.SUBMIT, by=cast.analyst2)

"""Review through the API: the review queue's actions as POST …/annotations/<id>/transitions/,
under the same rules (who may, four eyes, reasons, the version read), answering the ledger row."""

import json

import pytest

from apps.annotations.models import Annotation, ReviewEvent, Status
from tests import factories


def transitions(annotation) -> str:
    return f"/api/v1/p/review/annotations/{annotation.pk}/transitions/"


def act(client, annotation, **body):
    return client.post(transitions(annotation), json.dumps(body), content_type="application/json")


@pytest.fixture
def submitted(cast):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, quote="Chain takfir spreads.")
    annotation.transition("submit", by=cast.analyst)
    annotation.refresh_from_db()
    return annotation


def test_a_supervisor_approves_with_a_review_token_and_gets_the_ledger_row(
    cast, api_for, token_for, submitted
):
    client = api_for(token=token_for(cast.supervisor, scope="review"))
    response = act(client, submitted, action="approve", version=submitted.version)
    assert response.status_code == 201, response.content
    row = response.json()
    event = ReviewEvent.objects.get(annotation=submitted, action="approve")
    assert row["id"] == event.pk
    assert (row["from_status"], row["to_status"], row["actor"]) == (
        "submitted", "approved", "supervisor",
    )  # fmt: skip
    assert row["annotation_version"] == submitted.version
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED
    # Now students see it through the API too.
    student = api_for(cast.student).get(f"/api/v1/p/review/annotations/{submitted.pk}/")
    assert student.status_code == 200


def test_a_stale_version_is_refused_with_the_current_one(cast, api_for, submitted):
    client = api_for(cast.supervisor)
    response = act(client, submitted, action="approve", version=submitted.version + 5)
    assert response.status_code == 412
    assert response.json()["version"] == submitted.version
    assert response["ETag"] == f'"{submitted.version}"'
    assert "changed since you opened it" in response.json()["detail"]
    assert Annotation.objects.get(pk=submitted.pk).status == Status.SUBMITTED


def test_a_decision_needs_a_reason_and_a_comment(cast, api_for, submitted):
    client = api_for(cast.supervisor)
    refused = act(client, submitted, action="reject", version=submitted.version)
    assert refused.status_code == 409
    assert "Give a reason and a comment" in refused.json()["detail"]
    done = act(
        client, submitted, action="request_changes", version=submitted.version,
        reason="wrong_locator", comment="It is ¶4.",
    )  # fmt: skip
    assert done.status_code == 201
    assert (done.json()["reason"], done.json()["comment"]) == ("wrong_locator", "It is ¶4.")


@pytest.mark.parametrize(
    ("who", "action", "status"),
    [
        ("analyst", "approve", 403),  # analysts never decide
        ("student", "approve", 403),
        ("student", "submit", 403),
        ("outsider", "approve", 404),
        ("analyst2", "withdraw", 404),  # another analyst's pending work: not theirs to see
        ("supervisor", "submit", 409),  # already submitted
    ],
)
def test_who_may_take_which_action(cast, api_for, submitted, who, action, status):
    before = list(ReviewEvent.objects.values_list("pk", flat=True))
    response = act(api_for(getattr(cast, who)), submitted, action=action, version=submitted.version)
    assert response.status_code == status, response.content
    assert "detail" in response.json()
    assert list(ReviewEvent.objects.values_list("pk", flat=True)) == before


def test_a_supervisor_cannot_approve_their_own_work(cast, api_for):
    source = factories.make_source(cast.project)
    own = factories.make_annotation(source, cast.supervisor, quote="Mine.")
    own.transition("submit", by=cast.supervisor)
    own.refresh_from_db()
    response = act(api_for(cast.supervisor), own, action="approve", version=own.version)
    assert response.status_code == 409
    assert "another supervisor must" in response.json()["detail"]


def test_token_scopes_bound_what_it_may_do(cast, api_for, token_for, submitted):
    read = api_for(token=token_for(cast.supervisor, scope="read"))
    write = api_for(token=token_for(cast.supervisor, scope="write"))
    for client in (read, write):
        response = act(client, submitted, action="approve", version=submitted.version)
        assert response.status_code == 403
        assert "scope" in response.json()["detail"]
    assert Annotation.objects.get(pk=submitted.pk).status == Status.SUBMITTED


@pytest.mark.parametrize(
    "body",
    [
        {"action": "approve"},  # no version
        {"action": "publish", "version": 1},
        {"action": "approve", "version": "one"},
        {"action": "approve", "version": 1, "extra": True},
        {"action": "reject", "version": 1, "reason": "because", "comment": "x"},
        {"action": "approve", "version": 1, "comment": "x" * 5001},
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(cast, api_for, submitted, body):
    response = act(api_for(cast.supervisor), submitted, **body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"]
    assert Annotation.objects.get(pk=submitted.pk).status == Status.SUBMITTED


def test_another_projects_annotation_is_not_found(cast, api_for):
    elsewhere = factories.make_project(slug="other")
    factories.add_member(elsewhere, cast.supervisor, "supervisor")
    foreign = factories.make_annotation(factories.make_source(elsewhere), cast.analyst)
    response = act(api_for(cast.supervisor), foreign, action="approve", version=1)
    assert response.status_code == 404

"""Every (status, action, role) triple through the HTTP endpoints: allowed ones move the status
and write exactly one ledger row; refused ones change nothing."""

import pytest

from apps.annotations.models import Annotation, ReviewAction, ReviewEvent, Status
from tests import factories

ROLES = ["supervisor", "analyst", "analyst2", "student"]  # analyst is the author
DECISIONS = {ReviewAction.APPROVE, ReviewAction.REQUEST_CHANGES, ReviewAction.REJECT}
NEW_STATUS = {
    ReviewAction.SUBMIT: Status.SUBMITTED,
    ReviewAction.APPROVE: Status.APPROVED,
    ReviewAction.REQUEST_CHANGES: Status.CHANGES_REQUESTED,
    ReviewAction.REJECT: Status.REJECTED,
    ReviewAction.REOPEN: Status.CHANGES_REQUESTED,
}


def allowed(status: str, action: str, role: str, withdrawn: bool) -> bool:
    """DESIGN.md's role table and workflow, written out independently of the code."""
    author, reviewer = role == "analyst", role == "supervisor"
    if withdrawn:
        return action == ReviewAction.RESTORE and reviewer
    if action == ReviewAction.SUBMIT:
        # Work sent back goes back only after an edit; these were not edited.
        return author and status == Status.DRAFT
    if action in DECISIONS:
        return reviewer and status == Status.SUBMITTED
    if action == ReviewAction.REOPEN:
        return reviewer and status == Status.APPROVED
    if action == ReviewAction.WITHDRAW:
        return reviewer or (author and status != Status.APPROVED)
    return False


def has_the_right(action: str, role: str) -> bool:
    """Whether the role may take the action on analyst's annotation in some state of it."""
    author, reviewer = role == "analyst", role == "supervisor"
    if action == ReviewAction.SUBMIT:
        return author
    if action in DECISIONS or action in {ReviewAction.REOPEN, ReviewAction.RESTORE}:
        return reviewer
    return reviewer or author  # withdraw


def url(annotation, action):
    return f"/p/review/annotations/{annotation.pk}/{action.replace('_', '-')}/"


def post(client, annotation, action, **headers):
    data = {"seen_version": annotation.version, "reason": "misquoted", "comment": "Check it."}
    return client.post(url(annotation, action), data, **headers)


@pytest.mark.parametrize("withdrawn", [False, True], ids=["shown", "withdrawn"])
@pytest.mark.parametrize("status", Status.values)
@pytest.mark.parametrize("action", ReviewAction.values)
@pytest.mark.parametrize("role", ROLES)
def test_status_action_role(cast, client_for, status, action, role, withdrawn):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(
        source, cast.analyst, status=status, reviewer=cast.supervisor
    )
    if withdrawn:
        annotation.transition(ReviewAction.WITHDRAW, by=cast.supervisor)
    events = ReviewEvent.objects.filter(annotation=annotation)
    before = events.count()

    # As a script would: the answer's status code says what happened.
    response = post(client_for(cast.members()[role]), annotation, action, HTTP_ACCEPT="*/*")

    fresh = Annotation.objects.get(pk=annotation.pk)
    if allowed(status, action, role, withdrawn):
        assert response.status_code == 200
        assert response.json()["status"] == fresh.status
        assert events.count() == before + 1
        assert fresh.status == NEW_STATUS.get(action, status)
        assert fresh.is_withdrawn is (action == ReviewAction.WITHDRAW)
        last = events.last()
        assert (last.action, last.actor, last.from_status) == (action, cast.members()[role], status)
    else:
        assert response.status_code == (409 if has_the_right(action, role) else 403)
        assert events.count() == before
        assert (fresh.status, fresh.is_withdrawn, fresh.version) == (
            status,
            withdrawn,
            annotation.version,
        )


def test_students_and_other_analysts_get_403(cast, client_for):
    source = factories.make_source(cast.project)
    draft = factories.make_annotation(source, cast.analyst)
    assert post(client_for(cast.student), draft, "submit").status_code == 403
    assert post(client_for(cast.analyst2), draft, "submit").status_code == 403
    assert post(client_for(cast.analyst2), draft, "withdraw").status_code == 403


def test_a_wrong_moment_is_409_for_scripts_and_a_message_for_browsers(cast, client_for):
    source = factories.make_source(cast.project)
    draft = factories.make_annotation(source, cast.analyst)
    client = client_for(cast.supervisor)
    scripted = post(client, draft, "approve", HTTP_ACCEPT="application/json")
    assert scripted.status_code == 409
    assert "cannot be given the action" in scripted.json()["error"]
    browser = post(client, draft, "approve", HTTP_ACCEPT="text/html", follow=True)
    assert "cannot be given the action" in browser.text
    assert Annotation.objects.get(pk=draft.pk).status == Status.DRAFT


def test_a_supervisor_cannot_approve_their_own_annotation_even_alone(cast, client_for):
    source = factories.make_source(cast.project)
    own = factories.make_annotation(source, cast.supervisor, status="submitted")
    response = post(client_for(cast.supervisor), own, "approve")
    assert response.status_code == 403
    assert "your own annotation" in response.text
    assert Annotation.objects.get(pk=own.pk).status == Status.SUBMITTED
    page = client_for(cast.supervisor).get(f"/p/review/annotations/{own.pk}/")
    assert "another supervisor must review it" in page.text
    assert "annotation_approve" not in page.text and "/approve/" not in page.text


def test_a_stale_decision_is_refused_and_the_new_version_is_shown(cast, client_for):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, quote="First wording.")
    annotation.transition("submit", by=cast.analyst)
    seen = annotation.version
    # Meanwhile: sent back, edited, resubmitted.
    annotation.transition("request_changes", by=cast.supervisor, reason="misquoted", comment="Fix")
    with annotation.editing(by=cast.analyst, loaded_version=seen):
        annotation.quote = "Second wording."
        annotation.save()
    annotation.record_revision(by=cast.analyst)
    annotation.transition("submit", by=cast.analyst)

    client = client_for(cast.supervisor)
    response = client.post(url(annotation, "approve"), {"seen_version": seen})
    assert response.status_code == 302
    assert response.url.endswith(f"?seen={seen}")
    assert Annotation.objects.get(pk=annotation.pk).status == Status.SUBMITTED
    page = client.get(response.url)
    assert "changed since you opened it" in page.text
    assert "First wording." in page.text and "Second wording." in page.text
    scripted = client.post(
        url(annotation, "approve"), {"seen_version": seen}, HTTP_ACCEPT="application/json"
    )
    assert scripted.status_code == 409


@pytest.mark.parametrize(
    "data",
    [
        {"seen_version": "1"},
        {"seen_version": "1", "reason": "misquoted"},
        {"seen_version": "1", "reason": "bogus", "comment": "x"},
        {"seen_version": "1", "reason": "other", "comment": "   "},
        {"seen_version": "abc", "reason": "other", "comment": "x"},
    ],
)
def test_sending_back_needs_a_reason_and_a_comment(cast, client_for, data):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted")
    response = client_for(cast.supervisor).post(
        url(annotation, "request_changes"), data, follow=True
    )
    assert response.status_code == 200
    assert Annotation.objects.get(pk=annotation.pk).status == Status.SUBMITTED
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_approving_needs_the_version_seen(cast, client_for):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted")
    response = client_for(cast.supervisor).post(url(annotation, "approve"), {})
    assert response.status_code == 302
    assert Annotation.objects.get(pk=annotation.pk).status == Status.SUBMITTED


def test_only_post(cast, client_for):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted")
    for action in ReviewAction.values:
        assert client_for(cast.supervisor).get(url(annotation, action)).status_code == 405


def test_outsiders_and_other_projects_get_404(cast, client_for):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted")
    assert post(client_for(cast.outsider), annotation, "approve").status_code == 404
    assert (
        client_for(cast.supervisor).post("/p/review/annotations/999999/approve/").status_code == 404
    )


def test_a_next_url_elsewhere_is_ignored(cast, client_for):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted")
    response = client_for(cast.supervisor).post(
        url(annotation, "approve"),
        {"seen_version": annotation.version, "next": "https://evil.example/"},
    )
    assert response.url == f"/p/review/annotations/{annotation.pk}/"


def test_withdrawn_annotations_vanish_from_lists_and_come_back_when_restored(cast, client_for):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(
        source, cast.analyst, status="approved", reviewer=cast.supervisor, quote="Hidden words"
    )
    page = f"/p/review/sources/{source.pk}/"
    assert "Hidden words" in client_for(cast.student).get(page).text
    post(client_for(cast.supervisor), annotation, "withdraw")
    for user in (cast.student, cast.analyst, cast.supervisor):
        assert "Hidden words" not in client_for(user).get(page).text
    assert (
        client_for(cast.student).get(f"/p/review/annotations/{annotation.pk}/").status_code == 403
    )
    assert (
        client_for(cast.analyst).get(f"/p/review/annotations/{annotation.pk}/").status_code == 200
    )
    assert "Hidden words" in client_for(cast.supervisor).get("/p/review/review/withdrawn/").text
    post(client_for(cast.supervisor), annotation, "restore")
    assert "Hidden words" in client_for(cast.student).get(page).text
    assert Annotation.objects.get(pk=annotation.pk).status == Status.APPROVED


def test_browsers_are_sent_back_with_a_message(cast, client_for):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted")
    response = post(client_for(cast.supervisor), annotation, "approve")
    assert response.status_code == 302
    assert Annotation.objects.get(pk=annotation.pk).status == Status.APPROVED


def test_a_refused_decision_keeps_what_the_reviewer_typed(cast, client_for):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted")
    client = client_for(cast.supervisor)
    client.post(
        url(annotation, "request_changes"),
        {"seen_version": annotation.version, "comment": "The quote stops mid-sentence."},
    )
    page = client.get(f"/p/review/annotations/{annotation.pk}/")
    assert "The quote stops mid-sentence." in page.text
    assert (
        "The quote stops mid-sentence."
        not in client.get(f"/p/review/annotations/{annotation.pk}/").text
    )


def test_an_edit_racing_a_withdrawal_changes_nothing(cast, client_for, monkeypatch):
    from apps.annotations import views
    from tests.annotations.test_annotation_form import form_data

    source = factories.make_source(cast.project)
    draft = factories.make_annotation(source, cast.analyst, quote="Original words.")
    loaded = views.get_annotation_for_user

    def load_then_withdraw(membership, pk, **kwargs):
        # The edit view has checked that the draft is editable; before it takes the row lock a
        # supervisor withdraws it (which does not change its version).
        annotation = loaded(membership, pk, **kwargs)
        if kwargs.get("write"):
            Annotation.objects.get(pk=pk).transition("withdraw", by=cast.supervisor)
        return annotation

    monkeypatch.setattr(views, "get_annotation_for_user", load_then_withdraw)
    response = client_for(cast.analyst).post(
        f"/p/review/annotations/{draft.pk}/edit/",
        form_data(loaded_version="1", quote="Rewritten words."),
        follow=True,
    )
    assert "your changes were not saved" in response.text
    fresh = Annotation.objects.get(pk=draft.pk)
    assert (fresh.quote, fresh.is_withdrawn, fresh.version) == ("Original words.", True, 1)

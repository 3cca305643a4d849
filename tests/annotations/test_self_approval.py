"""A project may allow a supervisor to approve their own work (issue #17, item 8): off by
default, set by supervisors on the project settings page; when on, only approving one's own
annotation is allowed, the ledger row records it as a self-approval and the annotation page
says so. When off, nobody decides on their own work."""

import pytest

from apps.accounts.models import Project, Role
from apps.annotations.models import (
    Annotation,
    ReviewAction,
    ReviewEvent,
    Status,
    TransitionError,
)
from tests import factories

EDIT = "/p/review/edit/"
SAID = "Approved by its author (self-approval allowed in this project)."


def url(annotation, action):
    return f"/p/review/annotations/{annotation.pk}/{action.replace('_', '-')}/"


def post(client, annotation, action):
    data = {"seen_version": annotation.version, "reason": "misquoted", "comment": "Check it."}
    return client.post(url(annotation, action), data)


def allow(cast, on=True):
    Project.objects.filter(pk=cast.project.pk).update(allow_self_approval=on)


def allowed(cast) -> bool:
    return Project.objects.get(pk=cast.project.pk).allow_self_approval


def own_submitted(cast, author=None):
    source = factories.make_source(cast.project)
    return factories.make_annotation(source, author or cast.supervisor, status=Status.SUBMITTED)


def test_the_setting_is_off_in_a_new_project(cast):
    assert allowed(cast) is False
    assert Project._meta.get_field("allow_self_approval").default is False


def test_supervisors_turn_self_approval_on_and_off_in_the_project_settings(cast, client_for):
    client = client_for(cast.supervisor)
    page = client.get(EDIT)
    assert "Allow a supervisor to approve their own work" in page.text
    form = {"name": "A review", "description": ""}
    assert client.post(EDIT, {**form, "allow_self_approval": "on"}).status_code == 302
    assert allowed(cast) is True
    assert client.post(EDIT, form).status_code == 302  # unticked
    assert allowed(cast) is False


@pytest.mark.parametrize(
    "who, status", [("analyst", 403), ("student", 403), ("outsider", 404), (None, 302)]
)
def test_only_supervisors_change_the_setting(cast, client_for, who, status):
    client = client_for(getattr(cast, who) if who else None)
    data = {"name": "A review", "description": "", "allow_self_approval": "on"}
    assert client.post(EDIT, data).status_code == status
    assert allowed(cast) is False


def test_off_a_supervisor_still_cannot_approve_their_own_work(cast, client_for):
    own = own_submitted(cast)
    response = post(client_for(cast.supervisor), own, "approve")
    assert response.status_code == 403
    assert "your own annotation" in response.text
    assert Annotation.objects.get(pk=own.pk).status == Status.SUBMITTED
    assert not ReviewEvent.objects.filter(annotation=own).exclude(action="submit").exists()
    with pytest.raises(TransitionError, match="your own annotation"):
        own.transition(ReviewAction.APPROVE, by=cast.supervisor)  # without a membership too


def test_on_a_supervisor_approves_their_own_work_as_a_recorded_exception(cast, client_for):
    allow(cast)
    own = own_submitted(cast)
    client = client_for(cast.supervisor)
    detail = client.get(f"/p/review/annotations/{own.pk}/")
    assert "/approve/" in detail.text and "another supervisor must review it" not in detail.text
    assert SAID not in detail.text  # not approved yet

    response = post(client, own, "approve")
    assert response.status_code == 302
    assert Annotation.objects.get(pk=own.pk).status == Status.APPROVED
    [event] = ReviewEvent.objects.filter(annotation=own, action=ReviewAction.APPROVE)
    assert (event.action, event.actor, event.self_approval) == (
        ReviewAction.APPROVE,
        cast.supervisor,
        True,
    )
    page = client.get(f"/p/review/annotations/{own.pk}/")
    assert SAID in page.text
    assert "Self-approval: approved by its author" in page.text  # on the ledger's row
    # Everyone who reads the annotation is told, students included.
    for reader in (cast.analyst, cast.student):
        assert SAID in client_for(reader).get(f"/p/review/annotations/{own.pk}/").text


@pytest.mark.parametrize("action", [ReviewAction.REQUEST_CHANGES, ReviewAction.REJECT])
def test_on_nobody_rejects_or_sends_back_their_own_work(cast, client_for, action):
    allow(cast)
    own = own_submitted(cast)
    assert post(client_for(cast.supervisor), own, action).status_code == 403
    assert Annotation.objects.get(pk=own.pk).status == Status.SUBMITTED
    assert not ReviewEvent.objects.filter(annotation=own).exclude(action="submit").exists()


@pytest.mark.parametrize("who", ["analyst", "analyst2", "student"])
def test_on_other_roles_still_cannot_approve(cast, client_for, who):
    allow(cast)
    work = own_submitted(cast, author=cast.analyst)
    assert post(client_for(getattr(cast, who)), work, "approve").status_code == 403
    assert Annotation.objects.get(pk=work.pk).status == Status.SUBMITTED


def test_outsiders_never_see_the_annotation(cast, client_for):
    allow(cast)
    own = own_submitted(cast)
    assert post(client_for(cast.outsider), own, "approve").status_code == 404


def test_an_approval_by_another_supervisor_is_not_a_self_approval(cast, client_for):
    allow(cast)
    second = factories.make_user("supervisor2")
    factories.add_member(cast.project, second, Role.SUPERVISOR)
    own = own_submitted(cast)
    assert post(client_for(second), own, "approve").status_code == 302
    [event] = ReviewEvent.objects.filter(annotation=own, action=ReviewAction.APPROVE)
    assert (event.actor, event.self_approval) == (second, False)
    assert SAID not in client_for(cast.student).get(f"/p/review/annotations/{own.pk}/").text


def test_the_queue_points_the_lone_supervisor_to_the_setting_or_to_their_work(cast, client_for):
    own = own_submitted(cast)
    queue = client_for(cast.supervisor).get("/p/review/review/")
    assert EDIT in queue.text and "allow self-approval" in queue.text
    allow(cast)
    queue = client_for(cast.supervisor).get("/p/review/review/")
    assert "this project allows self-approval" in queue.text
    assert f"/p/review/annotations/{own.pk}/" in queue.text

"""An assignment left with fewer than two coders is closed without measuring, and a supervisor
may abandon one the review no longer needs: nothing is merged or withdrawn, the coders' passages
go on in review as they are and, the assignment no longer open, nobody is blind to them. The
report says it was closed, who was dropped and why, and gives no figures. No unit is stranded."""

import datetime

import pytest
from django.urls import reverse

from apps.accounts.models import Project
from apps.agreement import coding
from apps.agreement.models import Assignment, AssignmentCoder, CodedPassage, Unit
from apps.annotations.models import Annotation, ReviewEvent
from tests import factories
from tests.agreement.conftest import MARK, SECRET
from tests.agreement.test_blindness import body, pages


def url(name, *args):
    return reverse(f"agreement:{name}", args=["review", *args])


def seen(assignment) -> str:
    return coding.sample_key(Assignment.objects.get(pk=assignment.pk).coders_in_sample())


def close_data(assignment, **changes) -> dict:
    data = {"confirm": "on", "reason": "analyst is on leave until June.", "seen": seen(assignment)}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def snapshot(assignment) -> tuple:
    """What closing changes, or must not change when refused."""
    a = Assignment.objects.get(pk=assignment.pk)
    return (
        a.state,
        a.closed_at,
        sorted(a.coders.values_list("coder__username", "state")),
        sorted(Annotation.objects.values_list("pk", "status", "withdrawn_at", "version")),
        ReviewEvent.objects.count(),
        Unit.objects.count(),
    )


@pytest.fixture
def left_alone(cast, client_for, co_coded):
    """analyst is taken off the round (on leave); analyst2, left alone in it, has an approved
    passage (SECRET, hidden from analyst while the round is open: the walk of test_blindness)
    and a submitted one, and marks their work done."""
    r, secret = co_coded
    waiting = r.code(cast.analyst2, "Naji planned for savagery.")
    waiting.transition("submit", by=cast.analyst2)
    row = AssignmentCoder.objects.get(assignment=r.assignment, coder=cast.analyst)
    client_for(cast.supervisor).post(url("coder_drop", row.pk), {"why": "On leave until June."})
    client_for(cast.analyst2).post(url("assignment_done", r.assignment.pk))
    return r, secret, waiting


def test_left_with_one_coder_the_page_offers_closing_and_compare_says_why_not(
    cast, client_for, left_alone
):
    r, _, _ = left_alone
    client = client_for(cast.supervisor)
    page = client.get(url("assignment_detail", r.assignment.pk))
    assert "Fewer than two coders are left: close without measuring" in page.text
    assert url("assignment_compare", r.assignment.pk) not in page.text
    refused = client.post(url("assignment_compare", r.assignment.pk), follow=True)
    assert "Fewer than two coders are left: there is nothing to compare." in refused.text
    assert "Close the assignment without measuring" in refused.text
    assert Assignment.objects.get(pk=r.assignment.pk).is_open
    # The list says which open assignments wait for that, to supervisors.
    hint = "Fewer than two coders left: close it without measuring."
    assert hint in client.get(url("assignment_list")).text
    assert hint not in client_for(cast.analyst2).get(url("assignment_list")).text


def test_the_assignment_closes_without_merging_or_withdrawing_anything(
    cast, client_for, left_alone
):
    r, secret, waiting = left_alone
    events = ReviewEvent.objects.count()
    before = {a.pk: (a.status, a.version) for a in Annotation.objects.all()}
    response = client_for(cast.supervisor).post(
        url("assignment_close", r.assignment.pk), close_data(r.assignment), follow=True
    )
    assert "“Round one” is closed without measuring; its passages go on in review." in (
        response.text
    )
    assignment = Assignment.objects.get(pk=r.assignment.pk)
    assert (assignment.state, assignment.closed_by, assignment.close_reason) == (
        "closed", cast.supervisor, "analyst is on leave until June.",
    )  # fmt: skip
    assert assignment.closed_at is not None
    # Nothing merged, withdrawn, compared or re-reviewed: the passages are as they were.
    assert {a.pk: (a.status, a.version) for a in Annotation.objects.all()} == before
    assert not Annotation.objects.filter(withdrawn_at__isnull=False).exists()
    assert ReviewEvent.objects.count() == events
    assert not Unit.objects.exists()
    # The remaining coder's submitted passage waits in the review queue like any other.
    queue = client_for(cast.supervisor).get(reverse("review:queue", args=["review"]))
    assert f"/annotations/{waiting.pk}/" in queue.text
    # The frozen copy of the coder who stayed is kept; the dropped coder's went with them.
    assert set(CodedPassage.objects.values_list("coder__coder__username", flat=True)) == {
        "analyst2"
    }


def test_closed_nobody_is_blind_to_the_passages_any_more(cast, client_for, left_alone):
    r, secret, _ = left_alone
    client = client_for(cast.analyst)
    link = f"/annotations/{secret.pk}/"
    # Taken off the round, analyst is still blind to it while it is open.
    assert link not in body(client.get(reverse("annotations:annotation_list", args=["review"])))
    client_for(cast.supervisor).post(
        url("assignment_close", r.assignment.pk), close_data(r.assignment)
    )
    # Everywhere, analyst now sees what an analyst who never coded the round sees (the
    # matrix and the map count passages rather than quote them).
    other = client_for(
        factories.add_member(cast.project, factories.make_user("analyst3"), "analyst").user
    )
    shown = 0
    for page in pages(r):
        response, theirs = client.get(page), other.get(page)
        assert response.status_code == 200, page
        text, expected = body(response), body(theirs)
        assert (MARK in text, link in text) == (MARK in expected, link in expected), page
        shown += MARK in text
    assert shown >= 8
    detail = reverse("annotations:annotation_detail", args=["review", secret.pk])
    assert SECRET in client.get(detail).text
    for user in (cast.student, cast.supervisor, cast.analyst2):
        listed = client_for(user).get(reverse("annotations:annotation_list", args=["review"]))
        assert MARK in body(listed), user


def test_a_cached_page_seen_while_blind_is_not_served_after_closing(cast, client_for, left_alone):
    r, secret, _ = left_alone
    qutb = factories.make_person(cast.project, "Sayyid Qutb")
    Annotation.people.through.objects.create(annotation=secret, person=qutb, function="mentioning")
    client = client_for(cast.analyst)
    cocitation = reverse("xref:cocitation", args=["review"])
    # Ranked once per change of the data and kept in the cache: blind, analyst sees no pair.
    assert "Sayyid Qutb" not in client.get(cocitation).text
    client_for(cast.supervisor).post(
        url("assignment_close", r.assignment.pk), close_data(r.assignment)
    )
    assert "Sayyid Qutb" in client.get(cocitation).text


def test_api_clients_syncing_receive_the_passages_that_became_visible(cast, client_for, left_alone):
    r, secret, waiting = left_alone
    # analyst2's passage from before the round, hidden from analyst by it all the same.
    earlier = factories.make_annotation(r.source, cast.analyst2, status="approved",
                                        reviewer=cast.supervisor)  # fmt: skip
    Annotation.objects.filter(pk=earlier.pk).update(
        created_at=r.assignment.created_at - datetime.timedelta(days=1)
    )
    elsewhere = factories.make_annotation(
        factories.make_source(cast.project, "Elsewhere"), cast.analyst2
    )
    client_for(cast.supervisor).post(
        url("assignment_close", r.assignment.pk), close_data(r.assignment)
    )
    version = Project.objects.get(pk=cast.project.pk).library_version
    stamped = set(Annotation.objects.filter(library_version=version).values_list("pk", flat=True))
    assert {secret.pk, waiting.pk, earlier.pk} <= stamped
    assert elsewhere.pk not in stamped


def test_the_report_page_json_and_csv_say_it_was_closed_with_fewer_than_two_coders(
    cast, client_for, left_alone
):
    r, _, _ = left_alone
    client = client_for(cast.supervisor)
    client.post(url("assignment_close", r.assignment.pk), close_data(r.assignment))
    page = client.get(url("assignment_detail", r.assignment.pk))
    assert page.status_code == 200
    assert (
        "Closed without measuring: only analyst2 was left in the sample, and agreement needs "
        "two coders." in page.text
    )
    assert "analyst: Dropped from the sample. On leave until June." in page.text
    assert "analyst is on leave until June." in page.text
    assert "Krippendorff" not in page.text and "bootstrap" not in page.text
    assert url("report_csv", r.assignment.pk) not in page.text

    data = client.get(url("assignment_detail", r.assignment.pk) + "?format=json").json()
    assert data["state"] == "closed"
    closed = data["closed_without_measuring"]
    assert closed["fewer_than_two_coders"] is True
    assert closed["coders_in_sample"] == ["analyst2"]
    assert closed["dropped_coders"] == ["analyst: Dropped from the sample. On leave until June."]
    assert (closed["closed_by"], closed["reason"]) == (
        "supervisor",
        "analyst is on leave until June.",
    )
    assert [v["variable"] for v in data["report"]] == ["spans", "claims", "people", "concepts"]
    for variable in data["report"]:
        assert variable["measured"] is False
        assert (variable["n_units"], variable["n_coders"]) == (0, 1)
        assert variable["alpha_nominal"] is None and variable["ac1"] is None
        assert variable["percent_agreement"] is None and variable["alpha_interval_95"] is None
        assert variable["disagreeing_units"] == []

    listed = client.get(url("assignment_list") + "?format=json").json()["assignments"]
    assert listed[0]["closed_without_measuring"] == closed
    assert listed[0]["report"] == data["report"]
    assert "Closed without measuring" in client.get(url("assignment_list")).text

    csv = client.get(url("report_csv", r.assignment.pk) + "?variable=spans")
    assert csv.status_code == 409
    assert "Closed without measuring: only analyst2 was left in the sample" in csv.text
    assert "There is no reliability data." in csv.text


def test_the_coder_left_alone_sees_the_closed_report_too(cast, client_for, left_alone):
    r, _, _ = left_alone
    client_for(cast.supervisor).post(
        url("assignment_close", r.assignment.pk), close_data(r.assignment)
    )
    page = client_for(cast.analyst2).get(url("assignment_detail", r.assignment.pk))
    assert "only analyst2 was left in the sample" in page.text
    assert url("assignment_close", r.assignment.pk) not in page.text


def test_closing_waits_for_the_coder_left_to_be_done(cast, client_for, coding_round):
    r = coding_round
    row = AssignmentCoder.objects.get(assignment=r.assignment, coder=cast.analyst)
    client = client_for(cast.supervisor)
    client.post(url("coder_drop", row.pk))
    page = client.get(url("assignment_detail", r.assignment.pk))
    assert "once the coder left has marked their work done" in page.text
    before = snapshot(r.assignment)
    response = client.post(
        url("assignment_close", r.assignment.pk), close_data(r.assignment), follow=True
    )
    assert "analyst2 is not done yet: the assignment closes once they mark their work done" in (
        response.text
    )
    assert snapshot(r.assignment) == before
    # Taking the last coder off too leaves nobody to wait for.
    client.post(url("coder_drop", AssignmentCoder.objects.get(coder=cast.analyst2).pk))
    client.post(url("assignment_close", r.assignment.pk), close_data(r.assignment))
    data = client.get(url("assignment_detail", r.assignment.pk) + "?format=json").json()
    assert data["state"] == "closed"
    assert data["closed_without_measuring"]["coders_in_sample"] == []
    page = client.get(url("assignment_detail", r.assignment.pk))
    assert "Closed without measuring: no coder was left in the sample" in page.text


def test_a_supervisor_abandons_an_assignment_that_still_has_two_coders(
    cast, client_for, coding_round
):
    r = coding_round
    mine = r.code(cast.analyst, "Naji planned for savagery.")
    client = client_for(cast.supervisor)
    page = client.get(url("assignment_detail", r.assignment.pk))
    assert "If the review no longer needs this assignment" in page.text
    client.post(
        url("assignment_close", r.assignment.pk),
        close_data(r.assignment, reason="The second article left the review."),
    )
    assignment = Assignment.objects.get(pk=r.assignment.pk)
    assert assignment.is_closed
    assert Annotation.objects.get(pk=mine.pk).status == "draft"
    data = client.get(url("assignment_detail", r.assignment.pk) + "?format=json").json()
    closed = data["closed_without_measuring"]
    assert closed["fewer_than_two_coders"] is False
    assert closed["reason"] == "The second article left the review."
    assert "Closed without measuring by a supervisor before it was compared" in closed["statement"]
    assert {v["n_units"] for v in data["report"]} == {0}
    # Its coders can neither finish nor be compared any more, and the source is free again.
    with pytest.raises(coding.AgreementError, match="closed without measuring"):
        coding.mark_done(assignment=assignment, coder=cast.analyst)
    with pytest.raises(coding.AgreementError, match="closed without measuring"):
        coding.compare(assignment=assignment, by=cast.supervisor)
    with pytest.raises(coding.AgreementError, match="closed without measuring. Its coders stay"):
        coding.drop_coder(assignment=assignment, coder=cast.analyst)
    again = coding.assign(
        project=cast.project, title="Round two", ranges=[coding.Range(r.source)],
        coders=[cast.analyst, cast.analyst2], variables=["spans"], due_date=None, tolerance=5,
        by=cast.supervisor,
    )  # fmt: skip
    assert again.is_open


def test_abandoned_while_coders_work_supervisors_and_co_coders_see_the_passages(
    cast, client_for, coding_round
):
    """Whatever hides an open assignment's passages (from co-coders, or from supervisors while
    coders are at work) ends with it: nobody is done here, and the assignment is closed."""
    r = coding_round
    theirs = factories.make_annotation(r.source, cast.analyst2, quote=SECRET, note=f"Note {MARK}")
    theirs.transition("submit", by=cast.analyst2)
    client_for(cast.supervisor).post(
        url("assignment_close", r.assignment.pk), close_data(r.assignment)
    )
    queue = client_for(cast.supervisor).get(reverse("review:queue", args=["review"]))
    assert f"/annotations/{theirs.pk}/" in queue.text
    # Nothing hides anything any more: supervisors' lists lose their filter and count from
    # the tallies again.
    cast.project.refresh_from_db()
    assert cast.project.coding_blind_at is None
    theirs.transition("approve", by=cast.supervisor)
    listed = client_for(cast.analyst).get(reverse("annotations:annotation_list", args=["review"]))
    assert MARK in body(listed)


# --- Refused ------------------------------------------------------------------------------------


def test_only_supervisors_close(cast, client_for, left_alone):
    r, _, _ = left_alone
    target = url("assignment_close", r.assignment.pk)
    before = snapshot(r.assignment)
    for user in (cast.analyst, cast.analyst2, cast.student):
        assert client_for(user).post(target, close_data(r.assignment)).status_code == 403, user
    assert client_for(cast.outsider).post(target, close_data(r.assignment)).status_code == 404
    anonymous = client_for(None).post(target, close_data(r.assignment))
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    assert client_for(cast.supervisor).get(target).status_code == 405
    assert snapshot(r.assignment) == before
    # A page of another project's assignment, or none at all: 404.
    assert client_for(cast.supervisor).post(url("assignment_close", 999999)).status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"confirm": None}, "Tick the confirmation and say why"),
        ({"reason": "   "}, "Tick the confirmation and say why"),
        ({"reason": "x" * 501}, "Tick the confirmation and say why"),
        ({"seen": None}, "The form was out of date or altered"),
        ({"seen": "1:done"}, "The coders of this assignment changed since you opened it"),
    ],
)
def test_bad_closing_forms_are_refused_and_change_nothing(
    cast, client_for, left_alone, changes, message
):
    r, _, _ = left_alone
    before = snapshot(r.assignment)
    response = client_for(cast.supervisor).post(
        url("assignment_close", r.assignment.pk), close_data(r.assignment, **changes), follow=True
    )
    assert message in response.text
    assert snapshot(r.assignment) == before


def test_a_form_from_before_the_sample_changed_is_stale(cast, client_for, coding_round):
    r = coding_round
    client = client_for(cast.supervisor)
    old = close_data(r.assignment)  # the page as it was: two coders, neither done
    coding.mark_done(assignment=r.assignment, coder=cast.analyst)
    before = snapshot(r.assignment)
    response = client.post(url("assignment_close", r.assignment.pk), old, follow=True)
    assert "The coders of this assignment changed since you opened it" in response.text
    assert snapshot(r.assignment) == before


def test_a_compared_assignment_is_not_closed(cast, client_for, compared):
    client = client_for(cast.supervisor)
    data = close_data(compared.assignment)
    before = snapshot(compared.assignment)
    response = client.post(url("assignment_close", compared.assignment.pk), data, follow=True)
    assert "This assignment is already compared." in response.text
    assert snapshot(compared.assignment) == before


def test_closing_twice_says_it_is_closed(cast, client_for, left_alone):
    r, _, _ = left_alone
    client = client_for(cast.supervisor)
    data = close_data(r.assignment)
    client.post(url("assignment_close", r.assignment.pk), data)
    before = snapshot(r.assignment)
    response = client.post(url("assignment_close", r.assignment.pk), data, follow=True)
    assert "This assignment is closed without measuring." in response.text
    assert snapshot(r.assignment) == before


def test_the_closed_page_query_count_does_not_grow(
    cast, left_alone, client_for, assert_constant_queries
):
    r, _, _ = left_alone
    client_for(cast.supervisor).post(
        url("assignment_close", r.assignment.pk), close_data(r.assignment)
    )
    # session, user, membership; the assignment (with who closed it), its coders, its sources:
    # no unit, summary or progress count is read.
    assert_constant_queries(cast.supervisor, lambda: url("assignment_detail", r.assignment.pk), 6)


def test_the_warning_when_a_coder_leaves_no_longer_says_it_can_never_be_compared(
    cast, coding_round
):
    member = cast.project.memberships.get(user=cast.analyst2)
    (line,) = coding.open_coding(member)
    assert "it would leave one coder: nothing would be compared or measured" in line
    assert "a supervisor closes the assignment once the others are done" in line

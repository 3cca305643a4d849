"""The agreement pages: assigning, progress, marking done, comparing, resolving, the report."""

import csv
import io

import krippendorff
import numpy as np
import pytest
from django.core.cache import cache
from django.urls import reverse

from apps.agreement.models import Assignment, AssignmentCoder, ReportSummary, Resolution, Unit
from apps.agreement.report import build as build_report
from apps.agreement.report import store as store_report
from tests import factories


def url(name, *args):
    return reverse(f"agreement:{name}", args=["review", *args])


def form(cast, source, **changes):
    data = {
        "title": "Second round",
        "sources": [source.pk],
        "coders": [cast.analyst.pk, cast.analyst2.pk],
        "variables": ["spans", "claims", "people", "concepts"],
        "tolerance": "5",
        "due_date": "2027-01-31",
    }
    data.update(changes)
    return data


# --- Assigning --------------------------------------------------------------------------------


def test_a_supervisor_assigns_sources_to_analysts(cast, client_for):
    source = factories.make_source(cast.project)
    response = client_for(cast.supervisor).post(url("assignment_create"), form(cast, source))
    assignment = Assignment.objects.get()
    assert response.status_code == 302
    assert response.url == url("assignment_detail", assignment.pk)
    assert [c.coder for c in assignment.coders.all()] == [cast.analyst, cast.analyst2]
    assert str(assignment.due_date) == "2027-01-31"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"coders": ["{analyst}", "{supervisor}"]}, "supervisor is not an analyst"),
        ({"coders": ["{analyst}", "{student}"]}, "student is not an analyst"),
        ({"coders": ["{analyst}"]}, "at least two coders"),
        ({"variables": []}, "This field is required"),
        ({"text_range": "90-10"}, "must end after it starts"),
        ({"text_range": "ten to twenty"}, "two numbers"),
        ({"sources": ["999999"]}, "Select a valid choice"),
        ({"sources": ["9" * 30]}, "is not a valid value"),
        ({"coders": ["{analyst}", "9" * 30]}, "is not a valid value"),
        ({"tolerance": "-1"}, "greater than or equal to 0"),
    ],
)
def test_bad_assignments_are_refused_with_a_message(cast, client_for, changes, message):
    source = factories.make_source(cast.project)
    users = {
        "analyst": cast.analyst.pk,
        "supervisor": cast.supervisor.pk,
        "student": cast.student.pk,
    }
    if "coders" in changes:
        changes["coders"] = [c.format(**users) for c in changes["coders"]]
    response = client_for(cast.supervisor).post(
        url("assignment_create"), form(cast, source, **changes)
    )
    assert response.status_code == 200
    assert message in response.text
    assert not Assignment.objects.exists()


def test_a_source_already_under_an_open_assignment_for_a_coder_is_refused(
    cast, client_for, coding_round
):
    response = client_for(cast.supervisor).post(
        url("assignment_create"), form(cast, coding_round.source)
    )
    assert "is already assigned to analyst in the open assignment “Round one”" in response.text
    assert Assignment.objects.count() == 1


def test_a_source_of_another_project_cannot_be_chosen(cast, client_for):
    elsewhere = factories.make_source(factories.make_project())
    response = client_for(cast.supervisor).post(url("assignment_create"), form(cast, elsewhere))
    assert "Select a valid choice" in response.text
    assert not Assignment.objects.exists()


# --- While it is open ---------------------------------------------------------------------------


def test_supervisors_see_progress_counts_not_content(cast, client_for, coding_round):
    coding_round.code(cast.analyst, "Naji planned for savagery.")
    page = client_for(cast.supervisor).get(url("assignment_detail", coding_round.assignment.pk))
    assert page.status_code == 200
    assert [(c.coder.username, n) for c, n, _ in page.context["coder_rows"]] == [
        ("analyst", 1),
        ("analyst2", 0),
    ]
    assert "Naji planned" not in page.text
    assert "In progress" in page.text


def test_a_coder_marks_their_work_done_and_it_is_locked(cast, client_for, coding_round):
    coding_round.code(cast.analyst, "Naji planned for savagery.")
    client = client_for(cast.analyst)
    detail = url("assignment_detail", coding_round.assignment.pk)
    assert "Mark my work done" in client.get(detail).text
    response = client.post(url("assignment_done", coding_round.assignment.pk), follow=True)
    assert "Your work is done and locked: 1 passage." in response.text
    assert "Mark my work done" not in response.text
    again = client.post(url("assignment_done", coding_round.assignment.pk), follow=True)
    assert "already done and locked" in again.text


def test_the_coders_home_lists_their_assignments(cast, client_for, coding_round):
    home = client_for(cast.analyst).get(reverse("xref:project_home", args=["review"]))
    assert "Your double-coding assignments" in home.text
    assert "Round one" in home.text
    assert "Your double-coding" not in client_for(cast.student).get(home.request["PATH_INFO"]).text


def test_comparing_before_every_coder_is_done_is_refused(cast, client_for, coding_round):
    response = client_for(cast.supervisor).post(
        url("assignment_compare", coding_round.assignment.pk), follow=True
    )
    assert "2 coders not done yet" in response.text
    assert not Unit.objects.exists()


def test_a_coder_taken_off_is_replaced_or_dropped(cast, client_for, coding_round):
    third = factories.make_user("analyst3")
    factories.add_member(cast.project, third, "analyst")
    row = AssignmentCoder.objects.get(coder=cast.analyst2)
    client = client_for(cast.supervisor)
    response = client.post(url("coder_drop", row.pk), {"replacement": third.pk}, follow=True)
    assert "analyst3 codes in place of analyst2." in response.text
    bad = client.post(url("coder_drop", row.pk), {"replacement": "nope"}, follow=True)
    assert "Choose an analyst of this project, or nobody." in bad.text
    row = AssignmentCoder.objects.get(coder=third)
    response = client.post(url("coder_drop", row.pk), follow=True)
    assert "analyst3&#x27;s units are dropped from the sample." in response.text


def test_a_coder_who_left_the_project_is_flagged_and_can_be_taken_off(
    cast, client_for, coding_round
):
    cast.project.memberships.get(user=cast.analyst2).remove()
    client = client_for(cast.supervisor)
    page = client.get(url("assignment_detail", coding_round.assignment.pk))
    assert "No longer an analyst of the project: take them off or replace them." in page.text
    row = AssignmentCoder.objects.get(coder=cast.analyst2)
    client.post(url("coder_drop", row.pk))
    page = client.get(url("assignment_detail", coding_round.assignment.pk))
    assert "No longer an analyst" not in page.text


# --- Compared -------------------------------------------------------------------------------------


def test_comparing_runs_as_a_job_and_lists_the_units(
    cast, client_for, coding_round, monkeypatch
):
    r = coding_round
    for coder in (cast.analyst, cast.analyst2):
        r.code(coder, "Naji planned for savagery.")
        client_for(coder).post(url("assignment_done", r.assignment.pk))
    response = client_for(cast.supervisor).post(url("assignment_compare", r.assignment.pk))
    assert response.status_code == 302
    # The job computed the report too and stored it: the first visitor, in any process and
    # with an empty cache (a restart, an evicted key), reads it, and nothing computes it again.
    from apps.agreement import report

    assert ReportSummary.objects.get(assignment=r.assignment).method == report.METHOD

    def not_again(assignment):
        raise AssertionError("the report was computed again")

    monkeypatch.setattr(report, "measure", not_again)
    cache.clear()
    page = client_for(cast.supervisor).get(url("assignment_detail", r.assignment.pk))
    assert "Accept all 1 complete agreement" in page.text
    accepted = client_for(cast.supervisor).post(url("accept_agreements", r.assignment.pk))
    assert accepted.status_code == 302
    assert Resolution.objects.get().kind == "accepted"


def test_a_supervisor_resolves_a_conflict_side_by_side(cast, client_for, compared):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    client = client_for(cast.supervisor)
    page = client.get(url("unit_detail", unit.pk))
    assert "analyst's version" in page.text and "analyst2's version" in page.text
    chosen = unit.passages.get(coder__coder=cast.analyst2)
    data = {"kind": "picked", "passage": chosen.pk, "version": 1, "reason": "unsupported_link",
            "comment": "Qutb is quoted, so it asserts."}  # fmt: skip
    response = client.post(url("unit_detail", unit.pk), data)
    assert response.status_code == 302
    # Each coder sees, on their home, their version beside the resolved one, with the reason.
    home = client_for(cast.analyst).get(reverse("xref:project_home", args=["review"]))
    assert "How your coding was resolved" in home.text
    assert "Unsupported link: Qutb is quoted, so it asserts." in home.text
    home2 = client_for(cast.analyst2).get(reverse("xref:project_home", args=["review"]))
    assert "Your version was chosen" in home2.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reason": ""}, "Give a reason and a comment"),
        ({"comment": ""}, "Give a reason and a comment"),
        ({"reason": "because"}, "Give a reason and a comment"),
        ({"version": "0"}, "open the unit again"),
        ({"passage": "999999"}, "Choose one of the versions of this unit."),
        ({"kind": "written", "written": "999999"}, "Give the number of a passage you wrote"),
        ({"kind": "accepted"}, "open the unit again"),
        ({"version": "9" * 30}, "open the unit again"),
        ({"passage": "9" * 30}, "open the unit again"),
    ],
)
def test_bad_resolutions_are_refused_and_change_nothing(
    cast, client_for, compared, changes, message
):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    data = {"kind": "picked", "passage": unit.passages.first().pk, "version": 1,
            "reason": "other", "comment": "Because."}  # fmt: skip
    data.update(changes)
    response = client_for(cast.supervisor).post(url("unit_detail", unit.pk), data)
    assert response.status_code == 400
    assert message in response.text
    assert not Resolution.objects.exists()


def test_a_stale_resolution_is_refused_with_a_clear_message(cast, client_for, compared):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    data = {"kind": "picked", "passage": unit.passages.first().pk, "version": 1,
            "reason": "other", "comment": "First."}  # fmt: skip
    client = client_for(cast.supervisor)
    assert client.post(url("unit_detail", unit.pk), data).status_code == 302
    response = client.post(url("unit_detail", unit.pk), {**data, "comment": "Second."})
    assert response.status_code == 400
    assert "This unit changed since you opened it" in response.text
    assert Resolution.objects.get().comment == "First."


def test_analysts_do_not_resolve(cast, client_for, compared):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    data = {"kind": "picked", "passage": unit.passages.first().pk, "version": 1,
            "reason": "other", "comment": "Mine."}  # fmt: skip
    assert client_for(cast.analyst).post(url("unit_detail", unit.pk), data).status_code == 403
    assert not Resolution.objects.exists()


# --- The report -----------------------------------------------------------------------------------


def test_the_csv_recomputed_with_the_package_gives_the_pages_alpha(cast, client_for, compared):
    client = client_for(cast.supervisor)
    page = client.get(url("assignment_detail", compared.assignment.pk))
    for shown in page.context["reports"]:
        response = client.get(
            url("report_csv", compared.assignment.pk), {"variable": shown.variable}
        )
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][5:] == ["analyst", "analyst2"]
        assert len(rows) - 1 == shown.n_units
        values = sorted({v for row in rows[1:] for v in row[5:] if v})
        data = np.array(
            [[values.index(row[5 + c]) if row[5 + c] else np.nan for row in rows[1:]]
             for c in range(2)]
        )  # fmt: skip
        if shown.alpha is None:
            continue
        recomputed = krippendorff.alpha(data, level_of_measurement="nominal")
        assert round(recomputed, 3) == round(shown.alpha, 3), shown.variable
        assert f"{shown.alpha:.3f}" in page.text


def test_the_json_report_agrees_with_the_page(cast, client_for, compared):
    client = client_for(cast.supervisor)
    page = client.get(url("assignment_detail", compared.assignment.pk))
    data = client.get(url("assignment_detail", compared.assignment.pk), {"format": "json"}).json()
    for given, shown in zip(data["report"], page.context["reports"], strict=True):
        assert given["variable"] == shown.variable
        assert given["alpha_nominal"] == shown.alpha
        assert given["n_units"] == shown.n_units
        assert given["ac1"] == shown.ac1
    assert data["report"][0]["variable"] == "spans"  # span agreement first
    listed = client.get(url("assignment_list"), {"format": "json"}).json()
    assert listed["assignments"][0]["report"] == data["report"]


def test_an_unknown_variable_or_an_open_assignment_has_no_csv(cast, client_for, coding_round):
    client = client_for(cast.supervisor)
    response = client.get(url("report_csv", coding_round.assignment.pk))
    assert response.status_code == 409
    assert "once the assignment is compared" in response.text


def test_an_unknown_variable_is_a_clear_400(cast, client_for, compared):
    response = client_for(cast.supervisor).get(
        url("report_csv", compared.assignment.pk), {"variable": "<script>"}
    )
    assert response.status_code == 400
    assert "choose one of: spans, claims, people, concepts" in response.text


# --- Query counts -------------------------------------------------------------------------------


def test_the_list_query_count_does_not_grow(cast, coding_round, assert_constant_queries):
    # session, user, membership; assignments; their coders with users; their sources
    assert_constant_queries(cast.supervisor, lambda: url("assignment_list"), 6)


def test_the_report_is_computed_with_a_fixed_number_of_queries(
    cast, compared, django_assert_max_num_queries
):
    assignment = Assignment.objects.with_list_data().get(pk=compared.assignment.pk)
    # outcome counts; units; passages; names of claims, people and concepts; the summary
    # updated, or (none yet) a savepoint, the summary inserted, the savepoint released
    with django_assert_max_num_queries(10):
        store_report(assignment)
    # Read back: the summary only (the coders come with the assignment).
    with django_assert_max_num_queries(1):
        build_report(assignment)


def test_the_open_assignment_query_count_does_not_grow(cast, coding_round, assert_constant_queries):
    # session, user, membership; the assignment, its coders, its sources; progress counts
    # (ranges and coders come from the prefetch); which coders are still analysts; the
    # analysts offered as replacements
    def more():
        coding_round.code(cast.analyst, "Naji planned for savagery.")

    assert_constant_queries(
        cast.supervisor,
        lambda: url("assignment_detail", coding_round.assignment.pk),
        9,
        before=more,
        after=more,
    )


def test_the_report_query_count_does_not_grow(cast, compared, assert_constant_queries):
    # session, user, membership; the assignment, its coders, its sources; the report's stored
    # summary (its figures and outcome counts: the comparison job stored it); the page of
    # units, their count, agreements waiting.
    def warm():
        store_report(compared.assignment)

    assert_constant_queries(
        cast.supervisor,
        lambda: url("assignment_detail", compared.assignment.pk),
        10,
        before=warm,
        after=warm,
    )


def test_the_unit_query_count_does_not_grow(cast, compared, assert_constant_queries):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    # session, user, membership; the unit with its assignment, source, result and
    # resolution; its passages with their coders; names of the claims linked (no person or
    # concept is linked in this unit, so those lookups are skipped)
    assert_constant_queries(cast.supervisor, lambda: url("unit_detail", unit.pk), 6)

"""The report's stored summary: written by the comparison job with the comparison, read by the
page whatever its cache holds, computed again only when missing or made by an older method."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.agreement import coding, report
from apps.agreement.models import Assignment, ReportSummary, Unit
from tests import factories


def url(name, *args):
    return reverse(f"agreement:{name}", args=["review", *args])


def figures(reports):
    return [
        {name: getattr(r, name) for name in report.FIGURES} | {"coders": r.coders} for r in reports
    ]


@pytest.fixture
def computations(monkeypatch):
    """Counts the times the report's figures are computed from the frozen data."""
    calls = []
    measure = report.measure

    def counted(assignment):
        calls.append(assignment.pk)
        return measure(assignment)

    monkeypatch.setattr(report, "measure", counted)
    return calls


def test_a_comparison_that_fails_to_store_its_report_is_not_kept(
    cast, client_for, coding_round, monkeypatch
):
    r = coding_round
    for coder in (cast.analyst, cast.analyst2):
        r.code(coder, "Naji planned for savagery.")
        coding.mark_done(assignment=r.assignment, coder=coder)

    def broken(assignment):
        raise RuntimeError("the figures could not be stored")

    monkeypatch.setattr(report, "store", broken)
    client_for(cast.supervisor).post(url("assignment_compare", r.assignment.pk))
    # One transaction: no compared assignment is ever without its summary.
    assert Assignment.objects.get(pk=r.assignment.pk).is_open
    assert not Unit.objects.filter(assignment=r.assignment).exists()


def test_a_page_without_a_summary_computes_it_once_for_every_process(
    cast, client_for, compared, computations
):
    # compared.assignment was compared outside the job (as before summaries existed).
    client = client_for(cast.supervisor)
    first = client.get(url("assignment_detail", compared.assignment.pk))
    assert computations == [compared.assignment.pk]
    assert ReportSummary.objects.filter(assignment=compared.assignment).exists()
    cache.clear()  # another process, a restart: nothing in memory
    again = client.get(url("assignment_detail", compared.assignment.pk))
    assert computations == [compared.assignment.pk]
    assert figures(first.context["reports"]) == figures(again.context["reports"])
    assert again.context["outcomes"] == {"agreed": 2, "disagreed": 2, "only_some": 1}


def test_a_summary_stored_by_an_older_method_is_computed_again(
    cast, client_for, compared, computations
):
    report.store(compared.assignment)
    ReportSummary.objects.update(method=report.METHOD - 1, variables=[])
    page = client_for(cast.supervisor).get(url("assignment_detail", compared.assignment.pk))
    assert len(computations) == 2
    assert [r.variable for r in page.context["reports"]] == [
        "spans", "claims", "people", "concepts",
    ]  # fmt: skip
    assert ReportSummary.objects.get().method == report.METHOD


def test_the_stored_figures_are_what_the_frozen_data_gives_after_a_resolution(
    cast, compared, computations
):
    stored = report.store(compared.assignment)
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    chosen = unit.passages.get(coder__coder=cast.analyst2)
    coding.resolve(
        unit=unit, by=cast.supervisor, kind="picked", passage=chosen, seen_version=1,
        reason="other", comment="Asserts.",
    )  # fmt: skip
    factories.revise(Unit.objects.get(pk=unit.pk).result, cast.supervisor, locator="¶9")
    # A resolution, or an edit after it, changes the units' resolutions, never the coders'
    # frozen versions the report measures: the stored figures are still a fresh computation's.
    assignment = Assignment.objects.with_list_data().get(pk=compared.assignment.pk)
    assert figures(report.build(assignment)) == figures(report.measure(assignment))
    assert ReportSummary.objects.get().computed_at == stored.computed_at
    assert report.conflict_counts(assignment) == ReportSummary.objects.get().outcomes


def test_the_report_page_reads_no_coded_passage_and_counts_no_unit(cast, client_for, compared):
    report.store(compared.assignment)
    client = client_for(cast.supervisor)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url("assignment_detail", compared.assignment.pk))
    assert page.status_code == 200
    # Only the page of units and its count (and the agreements waiting) touch the units; the
    # figures and the outcome counts come from the summary.
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any("agreement_codedpassage" in q for q in sql)
    assert not any('"outcome"' in q and "GROUP BY" in q for q in sql)
    assert sum("agreement_reportsummary" in q for q in sql) == 1


def test_the_json_lists_read_the_summaries_in_one_query(cast, client_for, compared):
    report.store(compared.assignment)
    with CaptureQueriesContext(connection) as queries:
        listed = client_for(cast.supervisor).get(url("assignment_list"), {"format": "json"})
    assert listed.json()["assignments"][0]["report"][0]["n_units"] == 5
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum("agreement_reportsummary" in q for q in sql) == 1
    assert not any("agreement_codedpassage" in q for q in sql)


def test_the_page_links_the_first_disagreeing_units_and_the_table_lists_them_all(
    cast, client_for, compared, monkeypatch
):
    monkeypatch.setattr(report, "DISAGREEING_SHOWN", 1)
    client = client_for(cast.supervisor)
    page = client.get(url("assignment_detail", compared.assignment.pk))
    spans = page.context["reports"][0]
    assert [n for n, _ in spans.disagreeing] == [4, 5]
    assert "2 disagreeing units:" in page.text
    assert "and 1 more" in page.text and "disagreeing=spans" in page.text
    listed = client.get(url("assignment_detail", compared.assignment.pk), {"disagreeing": "spans"})
    assert [u.number for u in listed.context["page"].object_list] == [4, 5]
    assert "every unit" in listed.text
    # A value that is not a variable lists every unit.
    every = client.get(url("assignment_detail", compared.assignment.pk), {"disagreeing": "x"})
    assert [u.number for u in every.context["page"].object_list] == [1, 2, 3, 4, 5]


def test_an_analyst_sees_the_first_disagreeing_units_and_is_sent_to_the_json(
    cast, client_for, compared, monkeypatch
):
    monkeypatch.setattr(report, "DISAGREEING_SHOWN", 1)
    page = client_for(cast.analyst).get(url("assignment_detail", compared.assignment.pk))
    assert page.status_code == 200
    assert "and 1 more" in page.text and "list them all" not in page.text

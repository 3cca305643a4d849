"""The seed review's finished double-coded round on the second article."""

from apps.agreement.models import Assignment, ReportSummary, Resolution, UnitOutcome
from apps.agreement.report import build
from apps.demo.seed import load_seed_review


def test_the_seed_has_a_compared_round_with_agreements_conflicts_and_a_resolution(db):
    project = load_seed_review().project
    assignment = Assignment.objects.get(project=project)
    assert assignment.state == "compared"
    assert sorted(assignment.coders.values_list("coder__username", flat=True)) == [
        "analyst",
        "analyst2",
    ]
    outcomes = sorted(assignment.units.values_list("outcome", flat=True))
    assert outcomes.count(UnitOutcome.AGREED) == 2
    assert outcomes.count(UnitOutcome.DISAGREED) == 2
    assert outcomes.count(UnitOutcome.ONLY_SOME) == 1
    resolution = Resolution.objects.get()
    assert resolution.reason == "unsupported_link" and resolution.by.username == "supervisor"
    # Stored with the comparison, as the comparison job stores it.
    assert ReportSummary.objects.get(assignment=assignment).outcomes == {
        "agreed": 2, "disagreed": 2, "only_some": 1,
    }  # fmt: skip
    spans, claims, *_ = build(assignment)
    assert (spans.variable, spans.n_units, spans.n_coders) == ("spans", 5, 2)
    assert claims.alpha is not None and claims.ac1 is not None

"""The agreement report of a compared assignment: per variable, the reliability data (one row
per unit, one column per coder) and the coefficients computed from it.

The data is the frozen passages the comparison aligned, so a compared assignment's report never
changes: its figures are computed once, by the comparison job, and stored (ReportSummary), so
that no page computes the bootstrap again, whichever process serves it and whatever its cache.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from apps.agreement import reliability
from apps.agreement.coding import ACTIVE
from apps.agreement.models import (
    Assignment,
    AssignmentCoder,
    CodedPassage,
    ReportSummary,
    Unit,
    UnitOutcome,
    Variable,
)
from apps.annotations.models import MentionFunction, Stance

NOT_EXCERPTED = "not excerpted"
UNIT_SPAN = "the unit's span"
NOT_LINKED = "not linked"
NOT_CITED = "not cited"
APPLIED, NOT_APPLIED = "applied", "not applied"
# Disagreeing units linked one by one in each variable's report; the units table, filtered,
# lists the rest (thousands of links cost a page more than the report's figures).
DISAGREEING_SHOWN = 50

DEFINITIONS = {
    Variable.SPANS: (
        "Unit: a stretch of text at least one coder excerpted; passages are aligned when they "
        "overlap. Value: “the unit's span” when the coder's passage starts and ends within "
        "±{tolerance} characters of the unit's first passage, the coder's own span when it "
        "does not, “not excerpted” when the coder has no passage there. Never missing: every "
        "coder read the whole assignment."
    ),
    Variable.CLAIMS: (
        "Unit: a claim linked to an aligned passage by at least one coder. Value: the stance "
        "(asserts, supports, contradicts, qualifies, reports) or “not linked”; missing when the "
        "coder did not excerpt the passage. The second alpha counts supports vs asserts as half "
        "a disagreement."
    ),
    Variable.PEOPLE: (
        "Unit: a person (and work) cited in an aligned passage by at least one coder. Value: "
        "the function (supporting, contrasting, mentioning) or “not cited”; missing when the "
        "coder did not excerpt the passage."
    ),
    Variable.CONCEPTS: (
        "Unit: a concept applied to an aligned passage by at least one coder. Value: “applied” "
        "or “not applied”; missing when the coder did not excerpt the passage."
    ),
}
DOMAINS = {
    Variable.CLAIMS: [*Stance.values, NOT_LINKED],
    Variable.PEOPLE: [*MentionFunction.values, NOT_CITED],
    Variable.CONCEPTS: [APPLIED, NOT_APPLIED],
}


def stance_distance(a: str, b: str) -> float:
    """Nominal, except that supports and asserts are half a disagreement."""
    if a == b:
        return 0.0
    if {a, b} == {Stance.SUPPORTS, Stance.ASSERTS}:
        return 0.5
    return 1.0


class Frozen(NamedTuple):
    """What the report reads of a coded passage."""

    start: int | None
    end: int | None
    claims: list
    people: list
    concepts: list


@dataclass
class Row:
    unit: int  # the unit's number
    unit_id: int
    source_id: int
    start: int | None
    end: int | None
    item: str  # what in the unit is coded: a claim, a person, a concept ("" for spans)
    values: list[str | None]


@dataclass
class VariableReport:
    variable: str
    label: str
    definition: str
    coders: list[str]
    rows: list[Row]
    n_units: int = 0
    n_coders: int = 0
    missing: int = 0
    percent: float | None = None
    alpha: float | None = None
    alpha_stance: float | None = None
    ac1: float | None = None
    interval: tuple[float, float] | None = None
    domain: list[str] = field(default_factory=list)
    confusion: list[list[int]] | None = None
    # Coders taken off the assignment, with why: not in the sample.
    dropped: list[str] = field(default_factory=list)
    # (unit number, unit id) of the units where the coders' values differ.
    disagreeing: list[tuple[int, int]] = field(default_factory=list)
    # False for an assignment closed without measuring: no unit, no coefficient.
    measured: bool = True

    @property
    def disagreeing_shown(self) -> list[tuple[int, int]]:
        """The disagreeing units the page links one by one (the units table lists them all)."""
        return self.disagreeing[:DISAGREEING_SHOWN]

    @property
    def disagreeing_more(self) -> int:
        return max(0, len(self.disagreeing) - DISAGREEING_SHOWN)

    @property
    def confusion_rows(self) -> list[tuple[str, list[int]]]:
        return list(zip(self.domain, self.confusion or [], strict=False))

    def data(self) -> list[list[str | None]]:
        return [row.values for row in self.rows]

    def as_json(self) -> dict:
        return {
            "variable": self.variable,
            "measured": self.measured,
            "definition": self.definition,
            "coders": self.coders,
            "n_units": self.n_units,
            "n_coders": self.n_coders,
            "dropped_coders": self.dropped,
            "missing": self.missing,
            "percent_agreement": self.percent,
            "alpha_nominal": self.alpha,
            "alpha_stance_distance": self.alpha_stance,
            "ac1": self.ac1,
            "alpha_interval_95": list(self.interval) if self.interval else None,
            "confusion": (
                {"values": self.domain, "counts": self.confusion} if self.confusion else None
            ),
            "disagreeing_units": [number for number, _ in self.disagreeing],
        }


# Bumped whenever what a summary holds or how its figures are computed changes: a summary
# stored by an older method is computed again when next read.
METHOD = 1
# What a summary keeps of each VariableReport: the figures, not the rows (the CSV reads those
# from the frozen data when asked) nor the coders' names (read live).
FIGURES = (
    "variable", "n_units", "n_coders", "missing", "percent", "alpha", "alpha_stance", "ac1",
    "interval", "domain", "confusion", "disagreeing",
)  # fmt: skip


def build(assignment: Assignment, summary: ReportSummary | None = None) -> list[VariableReport]:
    """Every counted variable of a compared assignment, spans first, from its stored summary
    (read here unless given; computed and stored first if there is none: an assignment
    compared before summaries existed, or by an older method)."""
    if summary is None or summary.method != METHOD:
        summary = summary_of(assignment)
    names, dropped = _coder_names(list(assignment.coders.all()))
    reports = []
    for figures in summary.variables:
        variable = figures["variable"]
        report = VariableReport(
            variable=variable,
            label=Variable(variable).label,
            definition=DEFINITIONS[variable].format(tolerance=assignment.tolerance),
            coders=names,
            rows=[],
            dropped=dropped,
        )
        for name in FIGURES:
            setattr(report, name, figures[name])
        report.interval = tuple(report.interval) if report.interval else None
        report.disagreeing = [tuple(pair) for pair in report.disagreeing]
        reports.append(report)
    return reports


def unmeasured(assignment: Assignment) -> list[VariableReport]:
    """The report of an assignment closed without measuring: every counted variable with its
    coders (those left in the sample, and those dropped with why), no unit and no figure."""
    names, dropped = _coder_names(list(assignment.coders.all()))
    return [
        VariableReport(
            variable=variable,
            label=Variable(variable).label,
            definition=DEFINITIONS[variable].format(tolerance=assignment.tolerance),
            coders=names,
            rows=[],
            n_coders=len(names),
            dropped=dropped,
            measured=False,
        )
        for variable in counted(assignment)
    ]


def closing(assignment: Assignment) -> dict:
    """What the report says of an assignment closed without measuring, for the JSON."""
    names, dropped = _coder_names(list(assignment.coders.all()))
    return {
        "closed_at": assignment.closed_at.isoformat(),
        "closed_by": assignment.closed_by.username if assignment.closed_by else None,
        "reason": assignment.close_reason,
        "fewer_than_two_coders": len(names) < 2,
        "coders_in_sample": names,
        "dropped_coders": dropped,
        "statement": statement(assignment),
    }


def statement(assignment: Assignment) -> str:
    """One sentence saying plainly why a closed assignment has no agreement figures."""
    names, _ = _coder_names(list(assignment.coders.all()))
    if len(names) < 2:
        left = f"only {names[0]} was" if names else "no coder was"
        return (
            f"Closed without measuring: {left} left in the sample, and agreement needs two "
            "coders. No unit was compared; the passages went on in review as they were."
        )
    return (
        "Closed without measuring by a supervisor before it was compared: no unit was "
        "compared; the passages went on in review as they were."
    )


def summary_of(assignment: Assignment) -> ReportSummary:
    """The assignment's stored summary, computed and stored first if there is none."""
    summary = ReportSummary.objects.filter(assignment=assignment, method=METHOD).first()
    return summary or store(assignment)


def store(assignment: Assignment) -> ReportSummary:
    """Compute the report's figures from the frozen data and store them (the comparison job
    does it in its transaction; a page does it for an assignment without a summary)."""
    outcomes = conflict_counts(assignment)
    variables = [
        {name: _plain(getattr(report, name)) for name in FIGURES} for report in measure(assignment)
    ]
    values = {"method": METHOD, "outcomes": outcomes, "variables": variables,
              "computed_at": timezone.now()}  # fmt: skip
    summary = ReportSummary(assignment=assignment, **values)
    if not ReportSummary.objects.filter(assignment=assignment).update(**values):
        try:
            with transaction.atomic():
                summary.save()
        except IntegrityError:
            pass  # another process stored the same figures a moment before
    return summary


def _plain(value):
    """A figure as JSON keeps it: an undefined coefficient (NaN) is None, as the page shows it."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def measure(assignment: Assignment) -> list[VariableReport]:
    """Every counted variable's rows and figures, computed from the frozen passages."""
    reports = reliability_data(assignment)
    for report in reports:
        _measure(report)
    return reports


def reliability_data(
    assignment: Assignment, variables: list[str] | None = None
) -> list[VariableReport]:
    """The rows of the counted variables (or of those of `variables` counted), unmeasured:
    what the CSV downloads."""
    everyone = list(assignment.coders.all())
    names, dropped = _coder_names(everyone)
    coders = [c for c in everyone if c.state in ACTIVE]
    column = {c.pk: i for i, c in enumerate(coders)}
    units = list(
        Unit.objects.filter(assignment=assignment)
        .order_by("number")
        .values_list("pk", "number", "source_id", "start", "end", named=True)
    )
    passages: dict[int, dict[int, Frozen]] = {u.pk: {} for u in units}
    # Plain rows, not model objects: an assignment may hold thousands of passages.
    rows = CodedPassage.objects.filter(unit__assignment=assignment, coder__in=coders).values_list(
        "unit_id", "coder_id", "start", "end", "claims", "people", "concepts"
    )
    for unit_id, coder_id, *data in rows:
        passages[unit_id][column[coder_id]] = Frozen(*data)
    labels = _labels(passages)
    reports = []
    for variable in counted(assignment):
        if variables is not None and variable not in variables:
            continue
        rows = _rows(variable, units, passages, len(coders), assignment.tolerance, labels)
        report = VariableReport(
            variable=variable,
            label=Variable(variable).label,
            definition=DEFINITIONS[variable].format(tolerance=assignment.tolerance),
            coders=names,
            rows=rows,
            dropped=dropped,
        )
        reports.append(report)
    return reports


def counted(assignment: Assignment) -> list[str]:
    """The variables the report measures, in order: spans always, first."""
    return [v for v in Variable.values if v == Variable.SPANS or v in assignment.variables]


def _coder_names(everyone: list[AssignmentCoder]) -> tuple[list[str], list[str]]:
    """The names of the coders in the sample, and of those taken off the assignment (they
    left, or were replaced) with why: the report says so. (An assignment's coders come with
    their users when it was read with_list_data(), as pages and the comparison job read it.)"""
    names = [c.coder.username for c in everyone if c.state in ACTIVE]
    dropped = [
        f"{c.coder.username}: {c.note or 'Dropped from the sample.'}"
        for c in everyone
        if c.state not in ACTIVE
    ]
    return names, dropped


def _labels(passages: dict[int, dict[int, Frozen]]) -> dict[str, dict[int, str]]:
    from apps.claims.models import Claim, Concept
    from apps.people.models import Person

    claims, people, concepts = set(), set(), set()
    for versions in passages.values():
        for p in versions.values():
            claims |= {c for c, _ in p.claims}
            people |= {person for person, _, _ in p.people}
            concepts |= set(p.concepts)
    return {
        "claims": dict(Claim.objects.filter(pk__in=claims).values_list("pk", "statement")),
        "people": dict(Person.objects.filter(pk__in=people).values_list("pk", "display_name")),
        "concepts": dict(Concept.objects.filter(pk__in=concepts).values_list("pk", "name")),
    }


def _rows(variable, units, passages, n_coders, tolerance, labels) -> list[Row]:
    rows = []
    for unit in units:
        versions = passages[unit.pk]
        if not versions:
            continue

        def row(item: str, values: list, unit: Unit = unit) -> Row:
            return Row(unit.number, unit.pk, unit.source_id, unit.start, unit.end, item, values)

        if variable == Variable.SPANS:
            values = []
            for i in range(n_coders):
                p = versions.get(i)
                if p is None:
                    values.append(NOT_EXCERPTED)
                elif unit.start is None or (
                    abs(p.start - unit.start) <= tolerance and abs(p.end - unit.end) <= tolerance
                ):
                    values.append(UNIT_SPAN)
                else:
                    values.append(f"{p.start}–{p.end}")
            rows.append(row("", values))
            continue
        if variable == Variable.CLAIMS:
            per_coder = {i: dict((c, s) for c, s in p.claims) for i, p in versions.items()}
            coded = list(per_coder.values())
            absent, names = NOT_LINKED, labels["claims"]
        elif variable == Variable.PEOPLE:
            per_coder = {i: {(pp, w): f for pp, w, f in p.people} for i, p in versions.items()}
            coded = list(per_coder.values())
            absent = NOT_CITED
            names = {key: labels["people"].get(key[0], "") for d in coded for key in d}
        else:
            per_coder = {i: dict.fromkeys(p.concepts, APPLIED) for i, p in versions.items()}
            coded = list(per_coder.values())
            absent, names = NOT_APPLIED, labels["concepts"]
        items = sorted({key for d in coded for key in d}, key=str)
        for key in items:
            values = [
                per_coder[i].get(key, absent) if i in per_coder else None for i in range(n_coders)
            ]
            rows.append(row(str(names.get(key, key)), values))
    return rows


def _measure(report: VariableReport) -> None:
    data = report.data()
    report.n_units = len(data)
    report.n_coders = len(report.coders)
    report.missing = sum(v is None for values in data for v in values)
    report.percent = reliability.percent_agreement(data)
    domain = DOMAINS.get(report.variable) or sorted(
        {v for values in data for v in values if v is not None}
    )
    report.domain = domain
    report.alpha = reliability.alpha(data, domain)
    report.ac1 = reliability.gwet_ac1(data, domain if report.variable in DOMAINS else None)
    report.interval = reliability.bootstrap_alpha(data, domain)
    if report.variable == Variable.CLAIMS:
        report.alpha_stance = reliability.alpha(data, domain, distance=stance_distance)
        report.confusion = reliability.confusion(data, domain)
    report.disagreeing = sorted(
        {
            (row.unit, row.unit_id)
            for row in report.rows
            if len({v for v in row.values if v is not None}) > 1
        }
    )


def conflict_counts(assignment: Assignment) -> dict[str, int]:
    counts = dict.fromkeys(UnitOutcome.values, 0)
    counts.update(assignment.units.order_by().values_list("outcome").annotate(Count("pk")))
    return counts


def csv_text(report: VariableReport) -> str:
    """The reliability data in the standard layout: one row per unit, one column per coder,
    empty where a value is missing."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["unit", "source", "start", "end", "item", *report.coders])
    for row in report.rows:
        writer.writerow(
            [
                row.unit,
                row.source_id,
                "" if row.start is None else row.start,
                "" if row.end is None else row.end,
                row.item,
                *("" if v is None else v for v in row.values),
            ]
        )
    return out.getvalue()

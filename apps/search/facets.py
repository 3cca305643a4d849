"""The facets beside the results, as links: each value with its count and where it leads.

Links keep the search and the other facets, and drop the page number. Built here from the
validated query string (SearchFilter's cleaned data) so the template only lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import QueryDict

from apps.annotations.models import Status
from apps.library.models import SourceType
from apps.search.filters import SearchFilter
from apps.search.models import Kind
from apps.search.results import CANDIDATES, Results

NOUNS = {
    Kind.PASSAGE: ("passage", "passages"),
    Kind.CLAIM: ("claim", "claims"),
    Kind.SOURCE: ("source", "sources"),
    Kind.PERSON: ("person", "people"),
    Kind.CONCEPT: ("concept", "concepts"),
}


def link(params: QueryDict, **changes: str | int | None) -> str:
    """The current query string with `changes` (None removes a parameter), without a page."""
    changed = params.copy()
    changed.pop("page", None)
    for key, value in changes.items():
        if value is None:
            changed.pop(key, None)
        else:
            changed[key] = str(value)
    return f"?{changed.urlencode()}"


def counted(count: int, more: bool = False) -> str:
    return f"more than {CANDIDATES:,}" if more else f"{count:,}"


@dataclass
class Option:
    label: str
    count: str
    url: str
    selected: bool = False


@dataclass
class Facet:
    name: str
    title: str
    options: list[Option] = field(default_factory=list)
    help: str = ""


@dataclass
class Chosen:
    """A facet value in force, with the link that removes it."""

    label: str
    remove_url: str


def kind_options(results: Results, params: QueryDict) -> list[Option]:
    chosen = results.kind
    total = f"{results.total:,}{'+' if results.capped else ''}"
    options = [Option("All results", total, link(params, kind=None), not chosen)]
    for kind, section in results.sections.items():
        options.append(
            Option(kind.label, section.shown_count, link(params, kind=kind.value), kind == chosen)
        )
    return options


def facets(
    results: Results, filterset: SearchFilter, labels: dict[str, dict[str, str]]
) -> list[Facet]:
    """The facets with values among the results, each value with its count and link."""
    params = filterset.data
    chosen = filterset.form.cleaned_data
    counts = results.facets

    def picked(name: str, value: str) -> bool:
        current = chosen.get(name)
        return current is not None and str(getattr(current, "pk", current)) == value

    shown = [
        Facet(
            "type",
            "Source type",
            [
                Option(SourceType(v).label, f"{n:,}", link(params, type=v), picked("type", v))
                for v, n in counts.get("type", [])
                if v in SourceType.values
            ],
            "Sources, and passages by their source.",
        ),
        Facet(
            "decade",
            "Years",
            [
                Option(
                    f"{v}s",
                    f"{n:,}",
                    link(params, year_min=v, year_max=int(v) + 9),
                    picked("year_min", v) and picked("year_max", str(int(v) + 9)),
                )
                for v, n in counts.get("decade", [])
            ],
            "Sources, and passages by their source.",
        ),
    ]
    for name, title, help in [
        ("concept", "Concept", "The concepts the passages are coded with."),
        ("person", "Person cited", "Who the passages cite."),
        ("analyst", "Analyst", "Who excerpted the passages."),
    ]:
        names = labels.get(name, {})
        options = [
            Option(names[v], f"{n:,}", link(params, **{name: v}), picked(name, v))
            for v, n in counts.get(name, [])
            if v in names
        ]
        shown.append(Facet(name, title, options, help))
    if "status" in filterset.filters:
        options = [
            Option(Status(v).label, f"{n:,}", link(params, status=v), picked("status", v))
            for v, n in counts.get("status", [])
            if v in Status.values
        ]
        shown.append(Facet("status", "Review status", options))
    return [facet for facet in shown if facet.options]


def chosen_filters(filterset: SearchFilter) -> list[Chosen]:
    """The facets in force, for the list above the results."""
    params = filterset.data
    chosen = filterset.form.cleaned_data
    found = []
    if chosen.get("type"):
        found.append(Chosen(SourceType(chosen["type"]).label, link(params, type=None)))
    low, high = chosen.get("year_min"), chosen.get("year_max")
    if low is not None or high is not None:
        years = (
            f"{low}–{high}"
            if low is not None and high is not None
            else (f"from {low}" if low is not None else f"until {high}")
        )
        found.append(Chosen(years, link(params, year_min=None, year_max=None)))
    for name, prefix in [("concept", "coded "), ("person", "citing "), ("analyst", "by ")]:
        if chosen.get(name) is not None:
            found.append(Chosen(f"{prefix}{chosen[name]}", link(params, **{name: None})))
    if chosen.get("status"):
        found.append(Chosen(Status(chosen["status"]).label, link(params, status=None)))
    return found

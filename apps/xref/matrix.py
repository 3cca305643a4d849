"""The concept matrix (Webster & Watson): sources as rows; concepts, people cited or claims as
columns; in each cell the number of passages the member may see that link the two.

Everything is counted in the database, with a number of queries that does not depend on the size
of the project:

- a matrix that narrows nothing (the whole project, approved work or everything a supervisor
  sees) reads its rows and column totals from the tallies the annotations app keeps current
  (apps/annotations/tallies.py): a page of rows is a LIMIT/OFFSET over an index, the columns
  the N largest tallies;
- a filtered matrix (source type, years, a concept's subtree) or an analyst's own unapproved
  work among the rows is counted: one aggregate for the rows (every source of the filter with
  passages, in the order asked for) and one for the columns, cached under a key that changes
  with the data (`_columns_key`);
- for the rows shown: their sources (and authors), and one aggregate for their cells, restricted
  to those sources and the chosen columns.

Which passages count is the access policy's: everything starts from
`Annotation.objects.visible_to(membership)`, narrowed to approved work when asked.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

from django.db import models
from django.db.models import Count, OuterRef, Subquery

from apps.accounts.models import Membership, Project
from apps.accounts.policy import Action, blindness_key, can
from apps.accounts.policy import tally_scope as policy_tally_scope
from apps.annotations.models import (
    Annotation,
    AnnotationQuerySet,
    ClaimTally,
    ConceptTally,
    PersonTally,
    ProjectTally,
    ReviewEvent,
    SourceTally,
)
from apps.claims.models import Claim, Concept
from apps.library.models import Contributor, ContributorRole, Source
from apps.people.models import Person
from apps.xref.caching import computed_once

MIN_COLUMNS, DEFAULT_COLUMNS, MAX_COLUMNS = 10, 40, 200
# Rows fetched per query when an export walks all of them.
EXPORT_CHUNK = 2000
# How long the column totals are kept; any change to the data makes a new key sooner.
COLUMNS_CACHE_SECONDS = 600


class Axis(models.TextChoices):
    CONCEPTS = "concepts", "Concepts"
    PEOPLE = "people", "People cited"
    CLAIMS = "claims", "Claims"


@dataclass(frozen=True)
class AxisInfo:
    link: str  # from an annotation to the column's id
    param: str  # the passages list's parameter for one column (annotations.filters)
    singular: str
    plural: str


AXES = {
    Axis.CONCEPTS: AxisInfo("concepts", "concept", "concept", "concepts"),
    Axis.PEOPLE: AxisInfo("mentions__person", "person", "person cited", "people cited"),
    Axis.CLAIMS: AxisInfo("evidence__claim", "claim", "claim", "claims"),
}


class RowOrder(models.TextChoices):
    MOST = "-total", "Most passages"
    FEWEST = "total", "Fewest passages"
    TITLE = "title", "Title A–Z"
    OLDEST = "year", "Oldest first"
    NEWEST = "-year", "Newest first"


class ColumnOrder(models.TextChoices):
    MOST = "-total", "Most passages"
    FEWEST = "total", "Fewest passages"
    NAME = "name", "Name A–Z"


# The order of the sources for the orders that are not by passages; ties go by id. Sources
# without a year sort after those with one, whichever way the years go.
SOURCE_ORDERING = {
    RowOrder.TITLE: ("title", "pk"),
    RowOrder.OLDEST: (models.F("issued_year").asc(nulls_last=True), "title", "pk"),
    RowOrder.NEWEST: (models.F("issued_year").desc(nulls_last=True), "title", "pk"),
}


@dataclass(frozen=True)
class MatrixQuery:
    """What to count and show: the cleaned parameters of the matrix page (xref.forms)."""

    axis: Axis = Axis.CONCEPTS
    approved_only: bool = True
    source_type: str = ""
    year_min: int | None = None
    year_max: int | None = None
    # A concept and everything below it: rows are the sources coded with one of them, and
    # concept columns are these concepts only.
    concepts: frozenset[int] | None = None
    row_order: str = RowOrder.MOST
    column_order: str = ColumnOrder.MOST
    limit: int = DEFAULT_COLUMNS

    @property
    def info(self) -> AxisInfo:
        return AXES[self.axis]

    @property
    def narrows_rows(self) -> bool:
        return bool(
            self.source_type
            or self.year_min is not None
            or self.year_max is not None
            or self.concepts is not None
        )


@dataclass
class Column:
    pk: int
    label: str
    total: int = 0
    sort_key: str = ""


class Cell(NamedTuple):
    """One count of the matrix. A plain tuple: a page has thousands, and the template unpacks
    them (`{% for count, level, column in row.cells %}`)."""

    count: int
    # Shade of the cell: 0 for a gap, then 1, 2–3, 4–7, 8 and more passages.
    level: int
    column: int


def cell(count: int, column: int) -> Cell:
    return Cell(count, min(4, count.bit_length()), column)


@dataclass
class Row:
    source: Source
    authors: list[str]
    total: int
    cells: list[Cell]
    # Where this row's cells lead, but for the column's id (set by the view, which knows URLs).
    link: str = ""


class TallyRows:
    """The rows of a matrix that narrows nothing, read a page at a time from the sources'
    tallies (apps/annotations/tallies.py): a sequence the paginator slices, so a page costs
    the same whatever the size of the project."""

    def __init__(self, queryset: models.QuerySet) -> None:
        self.queryset = queryset  # (source id, passages), in the order asked for
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.queryset.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[tuple[int, int]]:
        return list(self.queryset[index])


@dataclass
class Matrix:
    query: MatrixQuery
    passages: AnnotationQuerySet
    # (source id, passages) of every row of the filter, in the order asked for: a list, or
    # TallyRows read page by page.
    rows: list[tuple[int, int]] | TallyRows
    columns: list[Column]
    # How many columns there were to choose from (the N most used are shown).
    candidates: int
    # Passages in all rows.
    total: int

    @property
    def left_out(self) -> int:
        return self.candidates - len(self.columns)

    def rows_for(self, rows: list[tuple[int, int]]) -> list[Row]:
        """These rows (a slice of `rows`) with their sources and cells: three queries (the
        sources, their authors' names, the cells)."""
        if not rows:
            return []
        source_ids = [pk for pk, _ in rows]
        sources = (
            Source.objects.filter(pk__in=source_ids)
            .only("id", "citation_key", "title", "issued_year")
            .in_bulk()
        )
        # Names only: a prefetch would build a queryset per source, a cost at 200 rows a page.
        authors: dict[int, list[str]] = {}
        for source_id, name in (
            Contributor.objects.filter(source_id__in=source_ids, role=ContributorRole.AUTHOR)
            .order_by("source_id", "position")
            .values_list("source_id", "person__display_name")
        ):
            authors.setdefault(source_id, []).append(name)
        counts = self._cells(source_ids)
        return [
            Row(
                source=sources[pk],
                authors=authors.get(pk, []),
                total=total,
                cells=[cell(counts.get((pk, c.pk), 0), c.pk) for c in self.columns],
            )
            for pk, total in rows
        ]

    def _cells(self, source_ids: Iterable[int]) -> dict[tuple[int, int], int]:
        if not self.columns:
            return {}
        link = self.query.info.link
        # Distinct: a passage may cite one person for two of their works, and counts once.
        cells = (
            self.passages.filter(
                source_id__in=list(source_ids), **{f"{link}__in": [c.pk for c in self.columns]}
            )
            .values_list("source_id", link)
            .annotate(n=Count("pk", distinct=True))
            .order_by()
        )
        return {(source_id, column_id): n for source_id, column_id, n in cells}

    def export_rows(self, limit: int) -> Iterator[Row]:
        """The first `limit` rows, a chunk of rows per three queries, for a streamed export."""
        for start in range(0, min(limit, len(self.rows)), EXPORT_CHUNK):
            yield from self.rows_for(self.rows[start : min(limit, start + EXPORT_CHUNK)])


def counted_passages(membership: Membership, query: MatrixQuery) -> AnnotationQuerySet:
    """The passages the matrix counts: those the member may see (approved ones only when
    asked), in the sources the filter keeps."""
    visible = Annotation.objects.visible_to(membership)
    if query.approved_only:
        visible = visible.approved()
    passages = visible
    if query.source_type:
        passages = passages.filter(source__csl_type=query.source_type)
    if query.year_min is not None:
        passages = passages.filter(source__issued_year__gte=query.year_min)
    if query.year_max is not None:
        passages = passages.filter(source__issued_year__lte=query.year_max)
    if query.concepts is not None:
        coded = visible.filter(concepts__in=query.concepts).values("source_id")
        passages = passages.filter(source_id__in=coded)
    return passages


def subtree(concepts: Iterable[Concept], root: int) -> frozenset[int]:
    """The ids of `root` and every concept below it."""
    children: dict[int | None, list[int]] = {}
    for concept in concepts:
        children.setdefault(concept.parent_id, []).append(concept.pk)
    found, stack = set(), [root]
    while stack:
        pk = stack.pop()
        if pk not in found:  # parents are validated acyclic; this guards the walk anyway
            found.add(pk)
            stack.extend(children.get(pk, []))
    return frozenset(found)


def build_matrix(membership: Membership, query: MatrixQuery, concepts: list[Concept]) -> Matrix:
    """The rows and chosen columns of the matrix, with their totals.

    `concepts` is the project's codebook, already loaded by the caller (the form's choices):
    concept columns are labelled from it, and with no passages a concept is still a column —
    an empty one is a gap worth seeing.
    """
    passages = counted_passages(membership, query)
    scope = tally_scope(membership, query)
    if scope:
        rows: list[tuple[int, int]] | TallyRows = _tally_rows(membership, query, scope)
        top, candidates = _tally_columns(membership, query, scope, concepts)
        total = (
            ProjectTally.objects.filter(project_id=membership.project_id)
            .values_list(scope, flat=True)
            .first()
        ) or 0
    else:
        rows = _rows(membership, query, passages)
        key = _columns_key(membership, query, rows, concepts)
        top, candidates = computed_once(
            key, lambda: _column_totals(query, passages, concepts), COLUMNS_CACHE_SECONDS
        )
        total = sum(count for _, count in rows)
    return Matrix(
        query=query,
        passages=passages,
        rows=rows,
        columns=_ordered(_labelled(query.axis, dict(top), concepts), query.column_order),
        candidates=candidates,
        total=total,
    )


def tally_scope(membership: Membership, query: MatrixQuery) -> str | None:
    """Which tally answers this matrix ("approved", "visible"), or None when it must be
    counted: rows narrowed by a filter, an analyst's own unapproved work among them, or
    passages double coding hides from a supervisor (policy.tally_scope)."""
    if query.narrows_rows:
        return None
    if query.approved_only or not can(membership, Action.ANNOTATE):
        return "approved"
    return policy_tally_scope(membership)


def _tally_rows(membership: Membership, query: MatrixQuery, scope: str) -> TallyRows:
    if query.row_order in (RowOrder.MOST, RowOrder.FEWEST):
        rows = SourceTally.objects.filter(
            project_id=membership.project_id, **{f"{scope}__gt": 0}
        ).values_list("source_id", scope)
        if query.row_order == RowOrder.MOST:
            return TallyRows(rows.order_by(f"-{scope}", "source_id"))
        return TallyRows(rows.order_by(scope, "source_id"))
    sources = Source.objects.for_project(membership.project).filter(
        **{f"tally__{scope}__gt": 0}
    )
    return TallyRows(
        sources.order_by(*SOURCE_ORDERING[query.row_order]).values_list("pk", f"tally__{scope}")
    )


def _tally_columns(
    membership: Membership, query: MatrixQuery, scope: str, concepts: list[Concept]
) -> tuple[list[tuple[int, int]], int]:
    """The N most used columns as (id, passages), and how many there were, from tallies."""
    project_id = membership.project_id
    if query.axis == Axis.CONCEPTS:
        totals = dict(
            ConceptTally.objects.filter(project_id=project_id).values_list("concept_id", scope)
        )
        names = {c.pk: c.name.casefold() for c in concepts}
        ranked = sorted(names, key=lambda pk: (-totals.get(pk, 0), names[pk], pk))
        return [(pk, totals.get(pk, 0)) for pk in ranked[: query.limit]], len(names)
    model, key = (PersonTally, "person_id") if query.axis == Axis.PEOPLE else (
        ClaimTally, "claim_id"
    )
    used = model.objects.filter(project_id=project_id, **{f"{scope}__gt": 0})
    top = list(used.order_by(f"-{scope}", key).values_list(key, scope)[: query.limit])
    return top, used.count()


def _column_totals(
    query: MatrixQuery, passages: AnnotationQuerySet, concepts: list[Concept]
) -> tuple[list[tuple[int, int]], int]:
    """The N most used columns as (id, passages) over all rows, and how many there were.

    Every concept (of the subtree) is a column, used or not; people and claims are columns
    when some passage of these rows links them.
    """
    link = query.info.link
    linked = passages.filter(**{f"{link}__isnull": False})
    if query.axis == Axis.CONCEPTS and query.concepts is not None:
        linked = passages.filter(concepts__in=query.concepts)
    totals = dict(
        linked.values_list(link)
        # Distinct: a passage may cite one person for two of their works, and counts once.
        .annotate(n=Count("pk", distinct=query.axis == Axis.PEOPLE))
        .order_by()  # Annotation's default ordering would join the grouping
    )
    if query.axis == Axis.CONCEPTS:
        names = {c.pk: c.name.casefold() for c in concepts}
        candidates = [pk for pk in names if query.concepts is None or pk in query.concepts]
        ranked = sorted(candidates, key=lambda pk: (-totals.get(pk, 0), names[pk], pk))
        return [(pk, totals.get(pk, 0)) for pk in ranked[: query.limit]], len(candidates)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return ranked[: query.limit], len(ranked)


def _columns_key(
    membership: Membership,
    query: MatrixQuery,
    rows: list[tuple[int, int]],
    concepts: list[Concept],
) -> str:
    """The cache key of the column totals: what was asked, who asks (what they may see), and
    the state of the data they are counted from.

    The state of the data is the latest review decision (approvals, reopenings, withdrawals),
    the latest edit of an annotation (new passages, changed links) and the rows themselves
    (sources that entered or left the filter, passages per source): a cached count is never
    one the member may not see now. One query (both latest values, on indexes) and a hash.
    """
    if query.approved_only:
        viewer = "approved"
    elif membership.may.see_all_annotations:
        viewer = f"all{blindness_key(membership)}"
    else:
        viewer = f"own-{membership.user_id}"
    state = (
        Project.objects.filter(pk=membership.project_id)
        .annotate(
            decided=Subquery(
                ReviewEvent.objects.filter(annotation__project=OuterRef("pk"))
                .order_by("-pk")
                .values("pk")[:1]
            ),
            edited=Subquery(
                Annotation.objects.filter(project=OuterRef("pk"))
                .order_by("-updated_at")
                .values("updated_at")[:1]
            ),
        )
        .values_list("decided", "edited")
        .get()
    )
    asked = (
        query.axis,
        query.source_type,
        query.year_min,
        query.year_max,
        sorted(query.concepts or ()),
        query.limit,
        [(c.pk, c.name, c.parent_id) for c in concepts] if query.axis == Axis.CONCEPTS else None,
    )
    digest = hashlib.sha256(repr((asked, viewer, state)).encode())
    digest.update(array("q", chain.from_iterable(rows)).tobytes())
    return f"citemap:matrix:{membership.project_id}:{digest.hexdigest()}"


def _rows(
    membership: Membership, query: MatrixQuery, passages: AnnotationQuerySet
) -> list[tuple[int, int]]:
    """(source id, passages) of every source of the filter with passages, in the order asked."""
    # Grouped by source id alone, the count reads a covering index and joins nothing.
    counts = passages.values("source_id").annotate(total=Count("pk"))
    if query.row_order in (RowOrder.MOST, RowOrder.FEWEST):
        total = "-total" if query.row_order == RowOrder.MOST else "total"
        return list(counts.order_by(total, "source_id").values_list("source_id", "total"))
    totals = dict(counts.order_by().values_list("source_id", "total"))
    # Ordering by title or year in the count would group by them too; ordering the project's
    # sources on their own index and keeping those with passages is cheaper.
    sources = Source.objects.for_project(membership.project)
    if query.source_type:
        sources = sources.filter(csl_type=query.source_type)
    if query.year_min is not None:
        sources = sources.filter(issued_year__gte=query.year_min)
    if query.year_max is not None:
        sources = sources.filter(issued_year__lte=query.year_max)
    ordered = sources.order_by(*SOURCE_ORDERING[query.row_order]).values_list("pk", flat=True)
    return [(pk, totals[pk]) for pk in ordered if pk in totals]


def _labelled(axis: Axis, totals: dict[int, int], concepts: list[Concept]) -> list[Column]:
    if not totals:
        return []
    if axis == Axis.CONCEPTS:
        return [
            Column(c.pk, c.name, totals[c.pk], c.name.casefold())
            for c in concepts
            if c.pk in totals
        ]
    if axis == Axis.PEOPLE:
        people = Person.objects.filter(pk__in=totals).only("id", "display_name", "sort_key")
        return [
            Column(p.pk, p.display_name, totals[p.pk], f"{p.sort_key} {p.display_name.casefold()}")
            for p in people
        ]
    claims = Claim.objects.filter(pk__in=totals).only("id", "statement")
    return [Column(c.pk, c.statement, totals[c.pk], c.statement.casefold()) for c in claims]


def _ordered(columns: list[Column], order: str) -> list[Column]:
    if order == ColumnOrder.NAME:
        return sorted(columns, key=lambda c: (c.sort_key, c.pk))
    if order == ColumnOrder.FEWEST:
        return sorted(columns, key=lambda c: (c.total, c.sort_key, c.pk))
    return sorted(columns, key=lambda c: (-c.total, c.sort_key, c.pk))


# Characters that make a spreadsheet read a cell as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, defused with a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

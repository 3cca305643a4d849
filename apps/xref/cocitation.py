"""Co-citation: two people (or two works) are co-cited when the same source cites both.

The strength of a pair is the number of sources that cite both, counted over the annotations
the member may see. For the two views most members share — approved work (students, anyone
reading "approved only") and everything not withdrawn (supervisors) — the pairs are read from
the tallies kept with every change (`PairTally`, apps/annotations/tallies.py): a page of an
index, every pair of the project ranked, current the moment a change commits. An analyst's view
(approved work plus their own drafts) and a blind coder's (co-coders' passages hidden) are not
tallied: for them the pairs are formed in the database from the visible mentions, joined with
themselves on the source; to keep that join small at scale only the most cited people or works
take part (`CANDIDATES`), as bibliometric tools do with a citation threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, Count, F, Q, When

from apps.accounts.models import Membership
from apps.accounts.policy import tally_scope
from apps.annotations.models import CitedKind, Mention, PairTally
from apps.library.models import Source
from apps.people.models import Person
from apps.xref.caching import computed_once
from apps.xref.overview import CACHE_SECONDS, project_stamp, visibility_key

CANDIDATES = 300


@dataclass
class Pair:
    first: Person | Source
    second: Person | Source
    shared: int


# Pairs kept per cached ranking (a hundred pages).
KEPT_PAIRS = 5000
# Pairs are counted up to this many, and a page can reach as far: the tallied pairs are
# counted in an index range, not over the whole project (at 20,000 sources there are about a
# million pairs); beyond it the page says "more than".
COUNTED_PAIRS = KEPT_PAIRS


def cocited_pairs(
    membership: Membership,
    *,
    works: bool = False,
    around: int | None = None,
    minimum: int = 1,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Pair], int]:
    """The strongest pairs (and how many pairs there are, up to COUNTED_PAIRS + 1: "more
    than"), optionally those of one person/work.

    Tallied levels read `PairTally`.
    Otherwise the pairs of the whole project are ranked once per change of the data (the
    ranking runs over every mention of the most cited) and kept in the shared cache; the pairs
    of one person or work only join the sources citing them and are counted on each request.
    """
    column = "work_id" if works else "person_id"
    level = _tallied_level(membership)
    if level is not None:
        rows, total = _tallied_pairs(membership, level, works, around, minimum, limit, offset)
    elif around is None:
        stamp = project_stamp(membership.project)
        key = f"citemap:cocited:{column}:{visibility_key(membership)}:{minimum}:{stamp}"
        ranked, total = computed_once(
            key, lambda: _ranked_pairs(membership, column, works, minimum), CACHE_SECONDS
        )
        rows = ranked[offset : offset + limit]
    else:
        rows, total = _pairs_around(membership, column, works, around, minimum, limit, offset)
    model = Source if works else Person
    objects = model.objects.in_bulk({pk for row in rows for pk in row[:2]})
    pairs = [Pair(objects[a], objects[b], shared) for a, b, shared in rows]
    return pairs, min(total, COUNTED_PAIRS + 1)


def _tallied_level(membership: Membership) -> str | None:
    """The PairTally column that counts what this member sees, or None: an analyst sees their
    own drafts too and a blind coder misses co-coders' passages, which no shared tally counts,
    so they keep the computed path."""
    return tally_scope(membership)


def _tallied_pairs(
    membership: Membership, level: str, works: bool, around: int | None, minimum: int,
    limit: int, offset: int,
) -> tuple[list[tuple[int, int, int]], int]:  # fmt: skip
    """A page of the strongest pairs from the tallies, and how many there are (up to
    COUNTED_PAIRS + 1). Around one person or work: (it, other, shared), as the computed path."""
    pairs = PairTally.objects.filter(
        project=membership.project,
        kind=CitedKind.WORKS if works else CitedKind.PEOPLE,
        **{f"{level}__gte": minimum},
    )
    if around is None:
        ranked = pairs.order_by(f"-{level}", "first", "second").values_list(
            "first", "second", level
        )
        rows = list(ranked[offset : offset + limit])
        # Counted in the index the page is read from (its columns only), up to a bound.
        bounded, params = pairs.values("first")[: COUNTED_PAIRS + 1].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({bounded}) AS bounded", params)
            total = cursor.fetchone()[0]
    else:
        # Its partners are few (the people its citing sources cite): counted exactly.
        pairs = pairs.filter(Q(first=around) | Q(second=around))
        other = Case(When(first=around, then=F("second")), default=F("first"))
        ranked = pairs.annotate(other=other).order_by(f"-{level}", "other")
        rows = [
            (around, pk, shared)
            for pk, shared in ranked.values_list("other", level)[offset : offset + limit]
        ]
        total = pairs.count()
    return rows, total


def _visible_mentions(membership: Membership, works: bool):
    mentions = Mention.objects.visible_to(membership)
    return mentions.filter(work__isnull=False) if works else mentions


def _ranked_pairs(
    membership: Membership, column: str, works: bool, minimum: int
) -> tuple[list[tuple[int, int, int]], int]:
    mentions = _visible_mentions(membership, works)
    candidates = _most_cited(membership, mentions, column)
    if not candidates:
        return [], 0
    cited = mentions.filter(**{f"{column}__in": candidates})
    pair_sql, arguments = _pair_sql(cited, column, "a.cited < b.cited", [], minimum)
    with connection.cursor() as cursor:
        cursor.execute(f"{pair_sql} ORDER BY shared DESC, a.cited, b.cited", arguments)
        rows = cursor.fetchall()
    return [tuple(row) for row in rows[:KEPT_PAIRS]], len(rows)


def _pairs_around(
    membership: Membership, column: str, works: bool, around: int, minimum: int, limit: int,
    offset: int,
) -> tuple[list[tuple[int, int, int]], int]:  # fmt: skip
    mentions = _visible_mentions(membership, works)
    # Only the sources citing `around` can pair anything with it.
    citing = mentions.filter(**{column: around}).values("annotation__source_id")
    cited = mentions.filter(annotation__source_id__in=citing)
    pair_sql, arguments = _pair_sql(
        cited, column, "a.cited = %s AND b.cited <> a.cited", [around], minimum
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({pair_sql}) AS pairs", arguments)
        total = cursor.fetchone()[0]
        cursor.execute(
            f"{pair_sql} ORDER BY shared DESC, a.cited, b.cited LIMIT %s OFFSET %s",
            [*arguments, limit, offset],
        )
        rows = cursor.fetchall()
    return rows, total


def _pair_sql(cited, column: str, condition: str, focus: list, minimum: int):
    """Pairs formed in the database: the (source, cited) pairs of the mentions joined with
    themselves on the source."""
    cited = (
        cited.order_by()  # Mention's default ordering would add its pk to the DISTINCT
        .values("annotation__source_id", column)
        .distinct()
    )
    cited_sql, params = cited.query.sql_with_params()
    pair_sql = f"""
        WITH cited(source_id, cited) AS ({cited_sql})
        SELECT a.cited, b.cited, COUNT(*) AS shared
        FROM cited a JOIN cited b ON a.source_id = b.source_id
        WHERE {condition}
        GROUP BY a.cited, b.cited
        HAVING COUNT(*) >= %s
    """
    return pair_sql, [*params, *focus, minimum]


def _most_cited(membership: Membership, mentions, column: str) -> list[int]:
    """The CANDIDATES most cited people (or works)."""
    return list(
        mentions.values(column)
        .annotate(n=Count("annotation__source_id", distinct=True))
        .order_by("-n", column)
        .values_list(column, flat=True)[:CANDIDATES]
    )


def shared_sources(
    membership: Membership, first: int, second: int, *, works: bool = False
) -> list[Source]:
    """The sources that cite both."""
    column = "work_id" if works else "person_id"
    mentions = Mention.objects.visible_to(membership)
    citing_first = mentions.filter(**{column: first}).values("annotation__source_id")
    citing_second = mentions.filter(**{column: second}).values("annotation__source_id")
    return list(
        Source.objects.for_project(membership.project)
        .filter(pk__in=citing_first)
        .filter(pk__in=citing_second)
        .only("id", "title", "issued_year")
        .order_by("title")
    )

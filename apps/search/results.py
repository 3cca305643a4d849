"""Running a search: candidates per kind, their counts and facets, then the hits to show.

Each kind is searched on its own (people by their name keys, the rest by text), among the
documents the member may see and the facets allow, and at most CANDIDATES documents of a kind
are taken: the first ones the index yields. Counts, facet counts and the ranking are computed
over those candidates, in one statement, so a search costs the same bounded work however
common its words are: counting and ranking every match of a word that half the passages
contain would take a full pass over them. A kind with more matches says so ("1,000+"), and its
facet counts are then counts among its candidates. Below the bound, everything is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.safestring import SafeString

from apps.accounts.models import Membership, User
from apps.annotations.models import Annotation, Mention
from apps.claims.models import Claim, Concept
from apps.library.models import Source, source_texts
from apps.library.richtext import markdown_to_text
from apps.people.models import Person
from apps.search.backends import backend_for
from apps.search.models import DocumentQuerySet, Kind
from apps.search.query import Mode, Query
from apps.search.snippets import has_match, mark_name, marked

# Documents of one kind a search looks at, at most (see the module's docstring).
CANDIDATES = 1_000
# Hits per kind on the overview; a kind's own page shows PAGE_SIZE per page.
OVERVIEW_HITS = 5
PAGE_SIZE = 20
# Values listed for the concept and person facets (the most frequent ones).
FACET_VALUES = 10
# Passages per page on a source's page, where a passage hit links to (xref's source_detail).
SOURCE_PAGE_SIZE = 50

CODINGS = Annotation.concepts.through._meta.db_table
MENTIONS = Mention._meta.db_table


@dataclass
class Hit:
    kind: Kind
    object_id: int
    document_id: int
    score: float
    item: Any = None  # the Annotation, Claim, Source, Person or Concept
    # HTML with the matching words in <mark>: a heading (source title, concept or person
    # name), the snippet (quote, statement, abstract or full text, definition, name variants)
    # and, for a passage, its note when the note matches too.
    title: SafeString = SafeString("")
    snippet: SafeString = SafeString("")
    note: SafeString = SafeString("")
    url: str = ""


@dataclass
class Section:
    kind: Kind
    found: int  # candidates found, CANDIDATES + 1 meaning "more than CANDIDATES"
    hits: list[Hit] = field(default_factory=list)

    @property
    def more_than_candidates(self) -> bool:
        return self.found > CANDIDATES

    @property
    def count(self) -> int:
        return min(self.found, CANDIDATES)

    @property
    def shown_count(self) -> str:
        return f"{self.count:,}{'+' if self.more_than_candidates else ''}"


@dataclass
class Results:
    sections: dict[Kind, Section]
    # facet name -> [(value, count)], most frequent first where that is the order shown
    facets: dict[str, list[tuple[str, int]]]
    kind: Kind | None

    @property
    def total(self) -> int:
        return sum(section.count for section in self.sections.values())

    @property
    def hits(self) -> list[Hit]:
        return [hit for section in self.sections.values() for hit in section.hits]

    @property
    def capped(self) -> bool:
        return any(section.more_than_candidates for section in self.sections.values())


CANDIDATE_COLUMNS = ["id", "kind", "object_id", "score", "csl_type", "year", "status", "author_id"]


def _candidates(documents: DocumentQuerySet, query: Query) -> tuple[list[str], list]:
    """One capped SELECT per kind that has something to look for."""
    backend = backend_for(connection)
    parts, params = [], []
    for kind in Kind:
        mode = Mode.NAMES if kind == Kind.PERSON else Mode.TEXT
        found = backend.candidates(
            documents.filter(kind=kind), query, mode, CANDIDATE_COLUMNS, CANDIDATES + 1
        )
        if found is None:
            continue
        sql, kind_params = found
        parts.append(f"SELECT * FROM ({sql}) AS {kind}_candidates")
        params.extend(kind_params)
    return parts, params


def find(
    documents: DocumentQuerySet,
    query: Query,
    *,
    kind: Kind | None = None,
    page: int = 1,
    statuses: bool = False,
) -> Results:
    """Search `documents` (visible to the member, narrowed by the facets) for `query`.

    Without `kind`, the best OVERVIEW_HITS of each kind; with it, that kind's `page`. Facet
    counts are those of the chosen kind, or of all; `statuses` adds the review status facet.
    One statement does it all.
    """
    parts, params = _candidates(documents, query)
    results = Results(sections={}, facets={}, kind=kind)
    if not parts:
        return results
    if kind is None:
        low, high, within = 0, OVERVIEW_HITS, ""
    else:
        low, high, within = (page - 1) * PAGE_SIZE, page * PAGE_SIZE, f"kind = '{kind}'"
    scope = f"WHERE {within}" if within else ""
    also = f"AND {within}" if within else ""
    passages_counted = kind in (None, Kind.PASSAGE)
    # Typed, for PostgreSQL, which types an untyped NULL of a subquery as text.
    none = "CAST(NULL AS BIGINT), CAST(NULL AS FLOAT)"
    facets = [
        f"SELECT 'kind', kind, count(*), {none} FROM candidates GROUP BY kind",
        f"SELECT 'type', csl_type, count(*), {none} FROM candidates "
        f"WHERE csl_type <> '' {also} GROUP BY csl_type",
        f"SELECT 'decade', CAST(year / 10 * 10 AS TEXT), count(*), {none} FROM candidates "
        f"WHERE year IS NOT NULL {also} GROUP BY year / 10 * 10",
    ]
    if passages_counted:
        passages = f"kind = '{Kind.PASSAGE}'"
        facets += [
            f"SELECT 'analyst', CAST(author_id AS TEXT), count(*), {none} FROM candidates "
            f"WHERE {passages} AND author_id IS NOT NULL GROUP BY author_id",
            f"SELECT * FROM (SELECT 'concept', CAST(t.concept_id AS TEXT), count(*), {none} "
            f"FROM candidates c JOIN {CODINGS} t ON t.annotation_id = c.object_id "
            f"WHERE c.{passages} GROUP BY t.concept_id "
            f"ORDER BY count(*) DESC, t.concept_id LIMIT {FACET_VALUES}) AS top_concepts",
            f"SELECT * FROM (SELECT 'person', CAST(t.person_id AS TEXT), "
            f"count(DISTINCT c.object_id), {none} "
            f"FROM candidates c JOIN {MENTIONS} t ON t.annotation_id = c.object_id "
            f"WHERE c.{passages} GROUP BY t.person_id "
            f"ORDER BY count(DISTINCT c.object_id) DESC, t.person_id LIMIT {FACET_VALUES}) "
            "AS top_people",
        ]
        if statuses:
            facets.append(
                f"SELECT 'status', status, count(*), {none} FROM candidates "
                f"WHERE {passages} GROUP BY status"
            )
    union = "\nUNION ALL ".join(facets)
    sql = f"""
        WITH candidates AS MATERIALIZED ({" UNION ALL ".join(parts)})
        SELECT 'hit', kind, object_id, id, score FROM (
            SELECT id, kind, object_id, score,
                   row_number() OVER (PARTITION BY kind ORDER BY score DESC, id) AS position
            FROM candidates {scope}
        ) AS ranked WHERE position > %s AND position <= %s
        UNION ALL {union}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, low, high])
        rows = cursor.fetchall()

    hits: dict[Kind, list[Hit]] = {}
    for facet, value, number, document_id, score in rows:
        if facet == "hit":
            hits.setdefault(Kind(value), []).append(Hit(Kind(value), number, document_id, score))
        elif facet == "kind":
            results.sections[Kind(value)] = Section(Kind(value), number)
        else:
            results.facets.setdefault(facet, []).append((value, number))
    for section in results.sections.values():
        section.hits = sorted(hits.get(section.kind, []), key=lambda h: (-h.score, h.document_id))
    results.sections = {k: results.sections[k] for k in Kind if k in results.sections}
    for name in ("kind", "type", "analyst"):
        if name in results.facets:
            results.facets[name].sort(key=lambda pair: -pair[1])
    if "decade" in results.facets:
        results.facets["decade"].sort(key=lambda pair: int(pair[0]))
    return results


def present(results: Results, query: Query, membership: Membership) -> None:
    """Load what the hits show (their rows, snippets and links), a fixed number of queries."""
    by_kind: dict[Kind, dict[int, Hit]] = {}
    for hit in results.hits:
        by_kind.setdefault(hit.kind, {})[hit.object_id] = hit
    if not by_kind:
        return
    slug = membership.project.slug

    texts = [hit.document_id for hit in results.hits if hit.kind != Kind.PERSON]
    if texts:
        with connection.cursor() as cursor:
            found = backend_for(connection).highlights(cursor, texts, query)
        for hit in results.hits:
            if hit.kind != Kind.PERSON:
                _snippets(hit, *found.get(hit.document_id, ("", "", "")))

    for kind, hits in by_kind.items():
        for item in _items(kind, list(hits), membership):
            hits[item.pk].item = item
        # A row deleted since the search leaves its hit without an item.
        results.sections[kind].hits = [h for h in results.sections[kind].hits if h.item]

    passages = by_kind.get(Kind.PASSAGE, {})
    pages = _source_pages(membership, list(passages)) if passages else {}
    for hit in passages.values():
        url = reverse("xref:source_detail", args=[slug, hit.item.source_id])
        page = pages.get(hit.object_id, 1)
        hit.url = f"{url}{f'?page={page}' if page > 1 else ''}#annotation-{hit.object_id}"
    for kind, name in [
        (Kind.CLAIM, "xref:claim_detail"),
        (Kind.SOURCE, "xref:source_detail"),
        (Kind.PERSON, "xref:person_detail"),
        (Kind.CONCEPT, "xref:concept_detail"),
    ]:
        for hit in by_kind.get(kind, {}).values():
            hit.url = reverse(name, args=[slug, hit.object_id])

    words = {t for _, tokens in query.included(Mode.NAMES) for t in tokens}
    prefixes = {tokens[-1] for term, tokens in query.included(Mode.NAMES) if term.prefix}
    for hit in by_kind.get(Kind.PERSON, {}).values():
        hit.title = mark_name(hit.item.display_name, words, prefixes)
        variants = [mark_name(v.name, words, prefixes) for v in hit.item.variants.all()]
        # Safe: every name went through marked(), which escapes it.
        hit.snippet = SafeString(", ".join(variants))


def _snippets(hit: Hit, lead: str, body: str, bulk: str) -> None:
    if hit.kind == Kind.PASSAGE:
        hit.snippet = marked(lead)
        # Notes are Markdown: shown as the text it reads as, not its asterisks and brackets.
        hit.note = marked(markdown_to_text(body)) if has_match(body) else SafeString("")
    elif hit.kind == Kind.CLAIM:
        hit.snippet = marked(lead)
    elif hit.kind == Kind.SOURCE:
        hit.title = marked(lead)
        # The abstract where it matches, else the full text where it does, else the abstract's
        # beginning.
        hit.snippet = marked(body if has_match(body) or not has_match(bulk) else bulk)
    else:
        hit.title, hit.snippet = marked(lead), marked(body)


def _items(kind: Kind, ids: list[int], membership: Membership) -> Any:
    """The rows hits of `kind` show, with what their cards need."""
    project = membership.project
    if kind == Kind.PASSAGE:
        return (
            Annotation.objects.for_project(project)
            .filter(pk__in=ids)
            .select_related("source")
            .defer(*source_texts("source__"))
        )
    if kind == Kind.CLAIM:
        claims = Claim.objects.for_project(project).filter(pk__in=ids)
        return claims.with_evidence_counts(membership)
    if kind == Kind.SOURCE:
        return Source.objects.for_project(project).filter(pk__in=ids).with_list_data()
    if kind == Kind.PERSON:
        return Person.objects.for_project(project).filter(pk__in=ids).with_list_data()
    return Concept.objects.for_project(project).filter(pk__in=ids).select_related("parent")


def _source_pages(membership: Membership, ids: list[int]) -> dict[int, int]:
    """{annotation id: the page of its source's page that shows it}: the source page lists the
    passages the member may see in text order, SOURCE_PAGE_SIZE at a time."""
    sources = Annotation.objects.filter(pk__in=ids).values("source_id")
    # The order of AnnotationQuerySet.in_text_order(), which the source page uses.
    ranked = (
        Annotation.objects.visible_to(membership)
        .filter(source_id__in=sources)
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("source_id")],
                order_by=[F("start").asc(nulls_last=True), F("created_at"), F("pk")],
            )
        )
        .order_by()
        .values_list("pk", "position")
    )
    # Numbered among all the source's passages first, then narrowed to the hits (a filter on
    # the queryset would number the hits only).
    sql, params = ranked.query.sql_with_params()
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM ({sql}) AS ranked WHERE ranked.pk IN ({placeholders})",
            [*params, *ids],
        )
        positions = cursor.fetchall()
    return {pk: (position - 1) // SOURCE_PAGE_SIZE + 1 for pk, position in positions}


def facet_labels(results: Results, membership: Membership) -> dict[str, dict[str, str]]:
    """Names for the facet values that are ids: concepts, people, analysts."""
    project = membership.project
    rows = {
        "concept": Concept.objects.for_project(project).only("id", "name"),
        "person": Person.objects.for_project(project).only("id", "display_name"),
        "analyst": User.objects.all(),
    }
    labels: dict[str, dict[str, str]] = {}
    for name, queryset in rows.items():
        ids = [int(value) for value, _ in results.facets.get(name, [])]
        if ids:
            labels[name] = {str(row.pk): str(row) for row in queryset.filter(pk__in=ids)}
    return labels

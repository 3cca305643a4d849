"""PostgreSQL full-text search: a generated tsvector column, GIN indexes, ts_rank, ts_headline.

Words are folded before they are indexed by `search_fold()`, an immutable SQL function: lower
case, the diacritics of Latin letters removed by the same table the query side uses
(query.LATIN_FOLD), and the punctuation that PostgreSQL's parser would otherwise read as parts
of e-mail addresses, URLs, file paths or numbers turned into spaces, so that words split where
SQLite's tokenizer splits them. No extension is needed (unaccent would do the accents, but it
may not be installed, and `translate()` is immutable, so it can feed a generated column). The
`simple` configuration keeps every word as written, without stemming: quotes are searched for
exactly, names are not stemmed, and both backends find the same rows.

The index is kept by statement-level triggers with transition tables: an import of ten
thousand rows updates the index in one statement, and updates that change nothing indexed
(a claim's stored evidence count, say) cost one comparison per row.
"""

from __future__ import annotations

import hashlib

from django.db.backends.utils import CursorWrapper
from django.db.models import BooleanField, FloatField, QuerySet
from django.db.models.expressions import RawSQL

from apps.search.index import (
    BY_KIND,
    DOCUMENTS,
    INDEXED,
    VARIANTS,
    Indexed,
    upsert,
)
from apps.search.models import Kind
from apps.search.query import LATIN_FOLD, Mode, Query
from apps.search.snippets import START, STOP

# Characters the parser would join words with (e-mail, URL, path, number, XML): spaces.
SEPARATORS = "-./@:+&<>~\\"
FOLD_FROM = "".join(LATIN_FOLD) + SEPARATORS
FOLD_TO = "".join(LATIN_FOLD.values()) + " " * len(SEPARATORS)

FOLD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION search_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    -- Most text is plain ASCII: the long translation is only needed beyond it.
    WHEN value ~ '[^\\x01-\\x7f]'
    THEN translate(lower(normalize(value, NFC)), '{FOLD_FROM}', '{FOLD_TO}')
    ELSE translate(lower(value), '{SEPARATORS}', '{" " * len(SEPARATORS)}')
  END
$$
"""

WEIGHTS = {"lead": "A", "body": "B", "bulk": "D"}
VECTOR = " || ".join(
    f"setweight(to_tsvector('simple'::regconfig, search_fold({column})), '{weight}')"
    for column, weight in WEIGHTS.items()
)


def _variant_keys(person_id: str) -> str:
    return (
        f"COALESCE((SELECT string_agg(v.search_key, ' ' ORDER BY v.name) FROM {VARIANTS} v "
        f"WHERE v.person_id = {person_id}), '')"
    )


def _changed(indexed: Indexed) -> str:
    """Ids of the rows an UPDATE changed in a way the index sees."""
    new = ", ".join(f"n.{c}" for c in indexed.watched)
    old = ", ".join(f"o.{c}" for c in indexed.watched)
    return (
        "SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id "
        f"WHERE ({new}) IS DISTINCT FROM ({old})"
    )


def _documents_of(indexed: Indexed, rows: str) -> str:
    """Upsert the documents of the table's rows whose ids `rows` selects."""
    overrides = {}
    if indexed.kind == Kind.PERSON:
        overrides["body"] = _variant_keys("{r}.id")
    select = indexed.select("x", overrides=overrides)
    return upsert(f"SELECT {select} FROM {indexed.table} x WHERE x.id IN ({rows})")


def _function(indexed: Indexed) -> str:
    extra = ""
    if indexed.kind == Kind.SOURCE:
        # Passages carry their source's type and year (the facets filter on them).
        extra = f"""
    UPDATE {DOCUMENTS} d SET csl_type = n.csl_type, year = n.issued_year
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE d.kind = '{Kind.PASSAGE}' AND d.source_id = n.id
       AND (n.csl_type, n.issued_year) IS DISTINCT FROM (o.csl_type, o.issued_year);"""
    return f"""
CREATE OR REPLACE FUNCTION search_index_{indexed.kind}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_documents_of(indexed, "SELECT id FROM new_rows")};
  ELSIF TG_OP = 'UPDATE' THEN
    {_documents_of(indexed, _changed(indexed))};{extra}
  ELSE
    DELETE FROM {DOCUMENTS} d USING old_rows o
     WHERE d.kind = '{indexed.kind}' AND d.object_id = o.id;
  END IF;
  RETURN NULL;
END
$$
"""


VARIANT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION search_index_variant() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_documents_of(BY_KIND[Kind.PERSON], "SELECT person_id FROM new_rows")};
  ELSIF TG_OP = 'UPDATE' THEN
    {_documents_of(BY_KIND[Kind.PERSON], "SELECT person_id FROM new_rows UNION SELECT person_id FROM old_rows")};
  ELSE
    {_documents_of(BY_KIND[Kind.PERSON], "SELECT person_id FROM old_rows")};
  END IF;
  RETURN NULL;
END
$$
"""  # noqa: E501

EVENTS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}
TRIGGERED = [
    *[(indexed.table, f"search_index_{indexed.kind}") for indexed in INDEXED],
    (VARIANTS, "search_index_variant"),
]


def _triggers(table: str, function: str) -> list[str]:
    statements = []
    for event, transition_tables in EVENTS.items():
        name = f"search_index_{event}"
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} {transition_tables} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    return statements


STATEMENTS = [
    FOLD_FUNCTION,
    # Dropping the column drops its indexes; both come back from the current definitions.
    f"ALTER TABLE {DOCUMENTS} DROP COLUMN IF EXISTS vector",
    f"ALTER TABLE {DOCUMENTS} ADD COLUMN vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED",
    # One GIN index per kind: each kind is searched on its own (see results.py), and a partial
    # index holds only that kind's words.
    *[
        f"CREATE INDEX {DOCUMENTS}_{kind}_vector ON {DOCUMENTS} USING gin (vector) "
        f"WHERE kind = '{kind}'"
        for kind in Kind
    ],
    *[_function(indexed) for indexed in INDEXED],
    VARIANT_FUNCTION,
    *[statement for table, function in TRIGGERED for statement in _triggers(table, function)],
]
VERSION = hashlib.sha256("\n".join(STATEMENTS).encode()).hexdigest()[:16]
COMMENT = f"citemap search index {VERSION}"


def install(cursor: CursorWrapper) -> bool:
    """Create or update the index's functions, column, indexes and triggers.

    Returns True when they were missing or outdated, so the documents must be rebuilt.
    """
    cursor.execute(
        "SELECT obj_description(%s::regclass, 'pg_class'), "
        "(SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'search\\_index\\_%%' "
        "AND NOT tgisinternal)",
        [DOCUMENTS],
    )
    comment, triggers = cursor.fetchone()
    if comment == COMMENT and triggers == len(TRIGGERED) * len(EVENTS):
        return False
    for statement in STATEMENTS:
        cursor.execute(statement)
    cursor.execute(f"COMMENT ON TABLE {DOCUMENTS} IS '{COMMENT}'")
    return True


def rebuild(cursor: CursorWrapper) -> None:
    """Index every row again, from the tables themselves."""
    cursor.execute(f"DELETE FROM {DOCUMENTS}")
    # Sources first: their passages read the type and year from the sources' documents.
    for indexed in sorted(INDEXED, key=lambda i: i.kind != Kind.SOURCE):
        overrides = {}
        if indexed.kind == Kind.PERSON:
            overrides["body"] = _variant_keys("x.id")
        select = indexed.select("x", overrides=overrides)
        cursor.execute(upsert(f"SELECT {select} FROM {indexed.table} x WHERE true"))
    cursor.execute(f"ANALYZE {DOCUMENTS}")


def uninstall(cursor: CursorWrapper) -> None:
    for table, _ in TRIGGERED:
        for event in EVENTS:
            cursor.execute(f"DROP TRIGGER IF EXISTS search_index_{event} ON {table}")
    for indexed in INDEXED:
        cursor.execute(f"DROP FUNCTION IF EXISTS search_index_{indexed.kind}()")
    cursor.execute("DROP FUNCTION IF EXISTS search_index_variant()")
    cursor.execute(f"ALTER TABLE {DOCUMENTS} DROP COLUMN IF EXISTS vector")
    cursor.execute("DROP FUNCTION IF EXISTS search_fold(text)")


# Searching


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _phrase(tokens: list[str], prefix: bool) -> str:
    lexemes = [_lexeme(token) for token in tokens]
    if prefix:
        lexemes[-1] += ":*"
    return "(" + " <-> ".join(lexemes) + ")"


def tsquery(query: Query, mode: Mode) -> str | None:
    """The query as tsquery text (cast with ::tsquery, never parsed as words again)."""
    included = [_phrase(tokens, term.prefix) for term, tokens in query.included(mode)]
    if not included:
        return None
    excluded = [f"!{_phrase(tokens, False)}" for _, tokens in query.excluded(mode)]
    return " & ".join(included + excluded)


def candidates(
    documents: QuerySet, query: Query, mode: Mode, columns: list[str], limit: int
) -> tuple[str, list] | None:
    """SQL selecting `columns` (one is the relevance, "score") of at most `limit` of
    `documents` that have every included term and no excluded one; None when the query has
    nothing to look for in this mode. Taken as the GIN index (or a scan) yields them.

    The score is ts_rank with the weights A (lead), B (body), D (bulk), divided by
    1 + log(length) so that long texts do not win by length alone.
    """
    text = tsquery(query, mode)
    if text is None:
        return None
    vector = f'"{DOCUMENTS}"."vector"'
    found = (
        documents.filter(RawSQL(f"{vector} @@ %s::tsquery", [text], output_field=BooleanField()))
        .annotate(
            score=RawSQL(f"ts_rank({vector}, %s::tsquery, 1)", [text], output_field=FloatField())
        )
        .order_by()
        .values_list(*columns)[:limit]
    )
    return found.query.sql_with_params()


# Short leads (titles, statements, names) are highlighted whole; longer text is cut to the
# fragments around the matches.
WHOLE = 300
HEADLINE = f'StartSel="{START}", StopSel="{STOP}"'
WHOLE_OPTIONS = f"{HEADLINE}, HighlightAll=true"
FRAGMENT_OPTIONS = (
    f'{HEADLINE}, MaxWords=40, MinWords=18, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
)


def highlights(cursor: CursorWrapper, ids: list[int], query: Query) -> dict[int, tuple]:
    """{document id: (lead, body, bulk)} with the matching words between START and STOP.

    The bulk (a full text) gets a fragment only when neither lead nor body has a match: it is
    the longest to scan.
    """
    text = tsquery(query, Mode.TEXT)
    if not ids or text is None:
        return {}
    cursor.execute(
        f"""
        SELECT d.id,
          CASE WHEN length(d.lead) <= {WHOLE} THEN ts_headline('simple', d.lead, q.q, %s)
               ELSE ts_headline('simple', d.lead, q.q, %s) END,
          CASE WHEN d.body = '' THEN '' ELSE ts_headline('simple', d.body, q.q, %s) END,
          CASE WHEN d.bulk = ''
                 OR to_tsvector('simple', search_fold(d.lead || ' ' || d.body)) @@ q.q THEN ''
               ELSE ts_headline('simple', d.bulk, q.q, %s) END
        FROM {DOCUMENTS} d, (SELECT %s::tsquery AS q) q
        WHERE d.id = ANY(%s)
        """,
        [WHOLE_OPTIONS, FRAGMENT_OPTIONS, FRAGMENT_OPTIONS, FRAGMENT_OPTIONS, text, ids],
    )
    return {row[0]: row[1:] for row in cursor.fetchall()}

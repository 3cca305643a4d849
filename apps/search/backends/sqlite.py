"""SQLite FTS5: an external-content full-text table over search_document, bm25, snippet().

The FTS5 table `search_text` indexes the lead, body and bulk columns of search_document and
reads their text from it (external content: the text is stored once). Its tokenizer is
`unicode61 remove_diacritics 2`: words are runs of letters and digits, lower-cased, with the
diacritics of Latin letters removed, which is how the query side folds them (query.fold). No
stemming, like the PostgreSQL backend, so that both find the same rows.

Row triggers on the original tables keep search_document current; triggers on search_document
keep search_text in step with it.
"""

from __future__ import annotations

from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet

from apps.search.index import DOCUMENTS, INDEXED, VARIANTS, Indexed, upsert
from apps.search.models import Kind
from apps.search.query import Mode, Query
from apps.search.snippets import START, STOP

TEXT = "search_text"
FTS_TABLE = (
    f"CREATE VIRTUAL TABLE {TEXT} USING fts5(lead, body, bulk, content='{DOCUMENTS}', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='3')"
)

# search_text follows search_document (the external-content pattern of the FTS5 manual).
TEXT_TRIGGERS = {
    f"{TEXT}_insert": (
        f"CREATE TRIGGER {TEXT}_insert AFTER INSERT ON {DOCUMENTS} BEGIN "
        f"INSERT INTO {TEXT} (rowid, lead, body, bulk) "
        "VALUES (NEW.id, NEW.lead, NEW.body, NEW.bulk); END"
    ),
    f"{TEXT}_delete": (
        f"CREATE TRIGGER {TEXT}_delete AFTER DELETE ON {DOCUMENTS} BEGIN "
        f"INSERT INTO {TEXT} ({TEXT}, rowid, lead, body, bulk) "
        "VALUES ('delete', OLD.id, OLD.lead, OLD.body, OLD.bulk); END"
    ),
    f"{TEXT}_update": (
        f"CREATE TRIGGER {TEXT}_update AFTER UPDATE OF lead, body, bulk ON {DOCUMENTS} BEGIN "
        f"INSERT INTO {TEXT} ({TEXT}, rowid, lead, body, bulk) "
        "VALUES ('delete', OLD.id, OLD.lead, OLD.body, OLD.bulk); "
        f"INSERT INTO {TEXT} (rowid, lead, body, bulk) "
        "VALUES (NEW.id, NEW.lead, NEW.body, NEW.bulk); END"
    ),
}


def _variant_keys(person_id: str) -> str:
    # group_concat keeps the order of its subquery's rows (ORDER BY inside it needs 3.44).
    return (
        f"COALESCE((SELECT group_concat(search_key, ' ') FROM (SELECT search_key FROM "
        f"{VARIANTS} WHERE person_id = {person_id} ORDER BY name)), '')"
    )


def _upsert_row(indexed: Indexed) -> str:
    """Upsert the document of the row NEW."""
    if indexed.kind == Kind.PERSON:
        # The variants' triggers own the body: a trigger on people_person must not name
        # another table (see index.py).
        return upsert(f"SELECT {indexed.select('NEW')} WHERE true", keep=("body",))
    return upsert(f"SELECT {indexed.select('NEW')} WHERE true")


def _triggers(indexed: Indexed) -> dict[str, str]:
    name = f"search_{indexed.table}"
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in indexed.watched)
    update = _upsert_row(indexed)
    if indexed.kind == Kind.SOURCE:
        update += (
            f"; UPDATE {DOCUMENTS} SET csl_type = NEW.csl_type, year = NEW.issued_year "
            f"WHERE kind = '{Kind.PASSAGE}' AND source_id = NEW.id"
        )
    return {
        f"{name}_insert": (
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON {indexed.table} BEGIN "
            f"{_upsert_row(indexed)}; END"
        ),
        f"{name}_update": (
            f"CREATE TRIGGER {name}_update AFTER UPDATE ON {indexed.table} WHEN {changed} "
            f"BEGIN {update}; END"
        ),
        f"{name}_delete": (
            f"CREATE TRIGGER {name}_delete AFTER DELETE ON {indexed.table} BEGIN "
            f"DELETE FROM {DOCUMENTS} WHERE kind = '{indexed.kind}' AND object_id = OLD.id; END"
        ),
    }


def _variant_body(person_id: str) -> str:
    return (
        f"UPDATE {DOCUMENTS} SET body = {_variant_keys(person_id)} "
        f"WHERE kind = '{Kind.PERSON}' AND object_id = {person_id}"
    )


VARIANT_TRIGGERS = {
    f"search_{VARIANTS}_insert": (
        f"CREATE TRIGGER search_{VARIANTS}_insert AFTER INSERT ON {VARIANTS} BEGIN "
        f"{_variant_body('NEW.person_id')}; END"
    ),
    f"search_{VARIANTS}_update": (
        f"CREATE TRIGGER search_{VARIANTS}_update AFTER UPDATE ON {VARIANTS} "
        "WHEN OLD.person_id IS NOT NEW.person_id OR OLD.search_key IS NOT NEW.search_key "
        f"OR OLD.name IS NOT NEW.name BEGIN {_variant_body('OLD.person_id')}; "
        f"{_variant_body('NEW.person_id')}; END"
    ),
    f"search_{VARIANTS}_delete": (
        f"CREATE TRIGGER search_{VARIANTS}_delete AFTER DELETE ON {VARIANTS} BEGIN "
        f"{_variant_body('OLD.person_id')}; END"
    ),
}

TRIGGERS = {
    **TEXT_TRIGGERS,
    **{name: sql for indexed in INDEXED for name, sql in _triggers(indexed).items()},
    **VARIANT_TRIGGERS,
}


def install(cursor: CursorWrapper) -> bool:
    """Create the FTS5 table and the triggers, or replace those that changed.

    Returns True when something was missing or changed, so the documents must be rebuilt:
    Django rebuilds a table to alter it on SQLite, which drops the table's triggers, and
    whatever was written meanwhile is not in the index.
    """
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'trigger') "
        "AND name LIKE 'search%'"
    )
    present = dict(cursor.fetchall())
    outdated = False
    if present.get(TEXT) != FTS_TABLE:
        if TEXT in present:
            cursor.execute(f"DROP TABLE {TEXT}")
        cursor.execute(FTS_TABLE)
        outdated = True
    for name, sql in TRIGGERS.items():
        if present.get(name) != sql:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(sql)
            outdated = True
    return outdated


def rebuild(cursor: CursorWrapper) -> None:
    """Index every row again, from the tables themselves."""
    cursor.execute(f"DELETE FROM {DOCUMENTS}")
    # Sources first: their passages read the type and year from the sources' documents.
    for indexed in sorted(INDEXED, key=lambda i: i.kind != Kind.SOURCE):
        overrides = {"body": _variant_keys("x.id")} if indexed.kind == Kind.PERSON else {}
        select = indexed.select("x", overrides=overrides)
        cursor.execute(upsert(f"SELECT {select} FROM {indexed.table} x WHERE true"))
    # Rebuilt from the content table, whatever state it was in.
    cursor.execute(f"INSERT INTO {TEXT} ({TEXT}) VALUES ('rebuild')")


def uninstall(cursor: CursorWrapper) -> None:
    for name in TRIGGERS:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    cursor.execute(f"DROP TABLE IF EXISTS {TEXT}")


# Searching


def _phrase(tokens: list[str], prefix: bool) -> str:
    # Tokens are letters and digits only; quoting makes each a string, never an operator.
    return '"' + " ".join(tokens) + '"' + ("*" if prefix else "")


def fts_query(query: Query, mode: Mode) -> str | None:
    """The query in FTS5's syntax, built from tokens only."""
    included = [_phrase(tokens, term.prefix) for term, tokens in query.included(mode)]
    if not included:
        return None
    expression = " AND ".join(included)
    for _, tokens in query.excluded(mode):
        expression = f"({expression}) NOT {_phrase(tokens, False)}"
    return expression


def candidates(
    documents: QuerySet, query: Query, mode: Mode, columns: list[str], limit: int
) -> tuple[str, list] | None:
    """SQL selecting `columns` (one is the relevance, "score") of at most `limit` of
    `documents` that have every included term and no excluded one; None when the query has
    nothing to look for in this mode.

    The full-text match drives (CROSS JOIN keeps that order in SQLite): the documents are
    looked up by the rowids it yields. The score is bm25 with the weights 10 (lead), 4 (body)
    and 1 (bulk), as the PostgreSQL backend weighs A, B and D.
    """
    text = fts_query(query, mode)
    if text is None:
        return None
    own = [column for column in columns if column != "score"]
    sql, params = documents.order_by().values_list(*own).query.sql_with_params()
    selected = ", ".join("s.score" if c == "score" else f"c.{c}" for c in columns)
    return (
        f"SELECT {selected} FROM (SELECT rowid AS document_id, "
        f"-bm25({TEXT}, 10.0, 4.0, 1.0) AS score FROM {TEXT} WHERE {TEXT} MATCH %s) AS s "
        f"CROSS JOIN ({sql}) AS c ON c.id = s.document_id LIMIT {int(limit)}",
        [text, *params],
    )


WHOLE = 300  # leads up to this long are highlighted whole, longer ones cut to a fragment
FRAGMENT_TOKENS = 40


def highlights(cursor: CursorWrapper, ids: list[int], query: Query) -> dict[int, tuple]:
    """{document id: (lead, body, bulk)} with the matching words between START and STOP."""
    text = fts_query(query, Mode.TEXT)
    if not ids or text is None:
        return {}
    fragment = f"%s, %s, ' … ', {FRAGMENT_TOKENS}"
    cursor.execute(
        f"""
        SELECT rowid,
          CASE WHEN length(lead) <= {WHOLE} THEN highlight({TEXT}, 0, %s, %s)
               ELSE snippet({TEXT}, 0, {fragment}) END,
          snippet({TEXT}, 1, {fragment}),
          snippet({TEXT}, 2, {fragment})
        FROM {TEXT} WHERE {TEXT} MATCH %s AND rowid IN ({", ".join(["%s"] * len(ids))})
        """,
        [START, STOP, START, STOP, START, STOP, START, STOP, text, *ids],
    )
    return {row[0]: row[1:] for row in cursor.fetchall()}

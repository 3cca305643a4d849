"""What each kind of row contributes to the search index, as SQL both backends share.

For each indexed table, one SQL expression per column of `search_document` (models.Document)
reads a row into its document. The backends use them in their triggers (on the row a statement
wrote, or the rows it wrote) and in the rebuild (on every row), so the two never disagree on
what is indexed.

The expressions read nothing but the row itself and `search_document`: on SQLite a trigger that
mentions another table breaks that table's next migration (Django rebuilds a table to alter it,
and SQLite refuses to rename it while a trigger names a table that is momentarily missing). So a
passage takes its source's type and year from the source's document, and a person's variants
reach its document through the variants' own triggers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.annotations.models import Annotation
from apps.claims.models import Claim, Concept
from apps.library.models import Source
from apps.people.models import NameVariant, Person
from apps.search.models import Document, Kind

DOCUMENTS = Document._meta.db_table
VARIANTS = NameVariant._meta.db_table
COLUMNS = (
    "project_id", "kind", "object_id", "source_id", "csl_type", "year", "status", "author_id",
    "withdrawn_at", "lead", "body", "bulk",
)  # fmt: skip
DEFAULTS = {
    "source_id": "NULL", "csl_type": "''", "year": "NULL", "status": "''", "author_id": "NULL",
    "withdrawn_at": "NULL", "lead": "''", "body": "''", "bulk": "''",
}  # fmt: skip
# Characters of each text indexed: past this, PostgreSQL stops counting word positions
# (16,383), so phrases could not be found anyway, and a tsvector must stay under 1 MB.
MAX_TEXT = 100_000


def text(column: str) -> str:
    return f"substr(COALESCE({column}, ''), 1, {MAX_TEXT})"


def source_fact(column: str, source_id: str) -> str:
    """A column of the document of the source `source_id`: its type or year."""
    return (
        f"(SELECT s.{column} FROM {DOCUMENTS} s "
        f"WHERE s.kind = '{Kind.SOURCE}' AND s.object_id = {source_id})"
    )


@dataclass(frozen=True)
class Indexed:
    """A table whose rows become documents of one kind."""

    kind: Kind
    table: str
    # Columns whose change changes the document; other updates leave the index alone.
    watched: tuple[str, ...]
    # Column of search_document -> SQL expression over the row `{r}`.
    values: dict[str, str] = field(default_factory=dict)

    def select(self, row: str, *, overrides: dict[str, str] | None = None) -> str:
        """The SELECT list for the row called `row` (an alias, or NEW in a trigger)."""
        values = {**DEFAULTS, **self.values, **(overrides or {}), "kind": f"'{self.kind}'"}
        return ", ".join(values[column].format(r=row) for column in COLUMNS)


INDEXED = [
    Indexed(
        Kind.PASSAGE,
        Annotation._meta.db_table,
        ("project_id", "source_id", "status", "author_id", "withdrawn_at", "quote", "note"),
        {
            "project_id": "{r}.project_id",
            "object_id": "{r}.id",
            "source_id": "{r}.source_id",
            "csl_type": f"COALESCE({source_fact('csl_type', '{r}.source_id')}, '')",
            "year": source_fact("year", "{r}.source_id"),
            "status": "{r}.status",
            "author_id": "{r}.author_id",
            "withdrawn_at": "{r}.withdrawn_at",
            "lead": text("{r}.quote"),
            "body": text("{r}.note"),
        },
    ),
    Indexed(
        Kind.CLAIM,
        Claim._meta.db_table,
        ("project_id", "statement"),
        {"project_id": "{r}.project_id", "object_id": "{r}.id", "lead": text("{r}.statement")},
    ),
    Indexed(
        Kind.SOURCE,
        Source._meta.db_table,
        ("project_id", "csl_type", "issued_year", "title", "abstract", "full_text"),
        {
            "project_id": "{r}.project_id",
            "object_id": "{r}.id",
            "source_id": "{r}.id",
            "csl_type": "{r}.csl_type",
            "year": "{r}.issued_year",
            "lead": text("{r}.title"),
            "body": text("{r}.abstract"),
            "bulk": text("{r}.full_text"),
        },
    ),
    Indexed(
        Kind.PERSON,
        Person._meta.db_table,
        ("project_id", "search_key"),
        # The body (the variants' keys) is each backend's own: see their _variant_keys().
        {"project_id": "{r}.project_id", "object_id": "{r}.id", "lead": "{r}.search_key"},
    ),
    Indexed(
        Kind.CONCEPT,
        Concept._meta.db_table,
        ("project_id", "name", "definition"),
        {
            "project_id": "{r}.project_id",
            "object_id": "{r}.id",
            "lead": text("{r}.name"),
            "body": text("{r}.definition"),
        },
    ),
]
BY_KIND = {indexed.kind: indexed for indexed in INDEXED}


def upsert(select: str, *, keep: tuple[str, ...] = ()) -> str:
    """INSERT the documents `select` (a full SELECT statement) produces, replacing existing
    ones except for the columns in `keep`."""
    columns = ", ".join(COLUMNS)
    updated = [c for c in COLUMNS if c not in {"kind", "object_id", *keep}]
    updates = ", ".join(f"{c} = excluded.{c}" for c in updated)
    return (
        f"INSERT INTO {DOCUMENTS} ({columns}) {select} "
        f"ON CONFLICT (kind, object_id) DO UPDATE SET {updates}"
    )

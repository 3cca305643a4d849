"""Whole-project export and import: the team's backup, and the way between SQLite and
PostgreSQL.

The file is JSON: a format name and version, the project, the users it names (by username),
and every row of the project with ids local to the file (1, 2, … per kind, in database order).
Importing a file into an empty database and exporting again gives the same bytes, on SQLite
and on PostgreSQL alike.

What each row holds is one table per model (TABLES below), read by both directions; a field of
a model is either a column of its table, derived from the others on import, or excluded with
the reason. Both directions stream: the export is written as it is read, a batch of rows at a
time, and the import reads the file incrementally, so neither holds the whole project.

Versions:
- 1: the first.
- 2 adds what the reader keeps: each source's text versions (`texts`, oldest first; the newest
  one's words are the source's `full_text`, so they are not written twice) and where each
  passage was last found (`anchor_state`, `anchor_score`, `anchored_version`). A version 1
  file's texts become version 1 and its placed passages exact.
- 3 adds people's name particles and suffix, and writes one row per line (any JSON layout
  is still read).
"""

from __future__ import annotations

import datetime
import functools
import json
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any

import ijson
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, models, transaction

from apps.accounts.models import Membership, Project, User
from apps.annotations.anchoring import adopt_stored_texts
from apps.annotations.models import (
    Annotation,
    AnnotationRevision,
    Evidence,
    Mention,
    ReviewEvent,
)
from apps.annotations.tallies import recount as recount_tallies
from apps.claims.models import Claim, ClaimRelation, Concept
from apps.jobs.running import in_one_snapshot
from apps.library.models import Contributor, Source, SourceIdentifier, SourceText
from apps.library.richtext import render_markdown
from apps.people.models import NameVariant, Person, name_key, strict_key

FORMAT = "citemap-project"
VERSION = 6
READABLE_VERSIONS = (1, 2, 3, 4, 5, 6)
# Rows read or written per query; a source carries its texts, so fewer of them.
BATCH = 1000
SOURCE_BATCH = 100


class ProjectFileError(Exception):
    """The file cannot be imported; the message names the problem. Nothing was written."""


# --- How a value travels ----------------------------------------------------------------------


class Codec:
    """A model value to the file's JSON value (out) and back (into)."""

    def out(self, value: Any, ids: _FileIds) -> Any:
        return value

    def into(self, value: Any, refs: _DatabaseIds) -> Any:
        return value


class _Time(Codec):
    def out(self, value, ids):
        return value.astimezone(datetime.UTC).isoformat() if value else None

    def into(self, value, refs):
        return datetime.datetime.fromisoformat(value) if value else None


class _Date(Codec):
    def out(self, value, ids):
        return value.isoformat() if value else None

    def into(self, value, refs):
        return datetime.date.fromisoformat(value) if value else None


class _Json(Codec):
    """JSON held in a JSON column, with its keys in one order: PostgreSQL's jsonb keeps them
    in its own order and SQLite in the order written, and the file must not depend on that."""

    def out(self, value, ids):
        return _sorted_keys(value)


class _User(Codec):
    """A user by username."""

    def out(self, value, ids):
        return ids.username(value)

    def into(self, value, refs):
        return refs.user(value)


@dataclass
class _Ref(Codec):
    """A row of another kind by its id in the file."""

    kind: str

    def out(self, value, ids):
        return ids.local(self.kind, value)

    def into(self, value, refs):
        return refs.pk(self.kind, value)


class _Snapshot(Codec):
    """A revision's snapshot of an annotation, whose links name rows by id."""

    def out(self, value, ids):
        return _sorted_keys(_map_snapshot(value, lambda kind, pk: ids.local(kind, pk) or 0))

    def into(self, value, refs):
        return _map_snapshot(value, lambda kind, key: refs.pk(kind, key, missing=None))


PLAIN, TIME, DATE, JSON, USER, SNAPSHOT = Codec(), _Time(), _Date(), _Json(), _User(), _Snapshot()


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _map_snapshot(content: Any, translate: Callable[[str, Any], Any]) -> Any:
    """A revision's snapshot with its ids of claims, people, works and concepts translated
    (to file ids on export, back to database ids on import); unknown ids become 0."""
    if not isinstance(content, dict):
        return content
    mapped = dict(content)
    if isinstance(content.get("claims"), list):
        mapped["claims"] = [
            [translate("claims", row[0]) or 0, *row[1:]] for row in content["claims"]
        ]
    if isinstance(content.get("people"), list):
        mapped["people"] = [
            [
                translate("people", row[0]) or 0,
                row[1],
                translate("sources", row[2] or None) or 0,
                *row[3:],
            ]
            for row in content["people"]
        ]
    if isinstance(content.get("concepts"), list):
        mapped["concepts"] = [
            [translate("concepts", row[0]) or 0, *row[1:]] for row in content["concepts"]
        ]
    return mapped


# --- What a row holds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # in the file
    field: str  # the model field's name
    codec: Codec = PLAIN
    since: int = 1  # the file version that added it; older files leave the model's default
    # Set once every row of the section is in, for rows that may refer to later ones.
    later: bool = False


@dataclass(frozen=True)
class Nested:
    """Rows that belong to each row of the outer table, written inside it as a list."""

    key: str
    table: Table
    # A list of plain values (the one column's) instead of objects.
    flat: bool = False
    since: int = 1


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class Table:
    model: type[models.Model]
    columns: list[Column]
    # The rows of this kind that other rows refer to by file id ("sources", …).
    kind: str = ""
    nested: list[Nested] = field(default_factory=list)
    # The foreign key to the outer row, for nested tables.
    parent: str = ""
    # Fields computed on import from the row as the model computes them on save.
    derived: dict[str, Callable[[models.Model], Any]] = field(default_factory=dict)
    # Fields that are not in the file, and why.
    excluded: dict[str, str] = field(default_factory=dict)

    def field_names(self) -> set[str]:
        return {c.field for c in self.columns} | {self.parent} - {""}

    def attnames(self) -> list[str]:
        return [self.model._meta.get_field(c.field).attname for c in self.columns]

    @functools.cached_property
    def import_plan(self) -> tuple[list[tuple[Column, str]], list]:
        """(column, attname) of the columns read from a row, and every concrete field's
        (attname, default), in the model's order: what builds an object fast."""
        meta = self.model._meta
        columns = [(c, meta.get_field(c.field).attname) for c in self.columns if c.key != "id"]
        defaults = [
            (f.attname, None if f.primary_key else f.get_default()) for f in meta.concrete_fields
        ]
        return columns, defaults

    @functools.cached_property
    def parent_attname(self) -> str:
        return self.model._meta.get_field(self.parent).attname if self.parent else ""


def _versioned() -> list[Column]:
    return [
        Column("version", "version"),
        Column("updated_by", "updated_by", USER),
        Column("created_at", "created_at", TIME),
        Column("updated_at", "updated_at", TIME),
    ]


NO_ID = {"id": "rows are numbered 1, 2, … per kind in the file instead"}
IN_PROJECT = {**NO_ID, "project": "the file holds one project"}
# The API's sync counter (apps.accounts.sync) counts this site's changes: an imported project
# starts its own history, every row at the first version.
SYNC = {"library_version": "the API's sync counter of this site; an import starts at 1"}

PROJECT = Table(
    Project,
    [
        Column("slug", "slug"),
        Column("name", "name"),
        Column("description", "description"),
        Column("students_see_history", "students_see_history"),
        Column("allow_self_approval", "allow_self_approval", since=4),
        Column("created_at", "created_at", TIME),
    ],
    excluded={
        **NO_ID,
        **SYNC,
        "coding_blind_at": "derived from this site's double-coding rounds, which do not travel",
    },
)
USERS = Table(
    User,
    [
        Column("username", "username"),
        Column("first_name", "first_name"),
        Column("last_name", "last_name"),
        Column("email", "email"),
    ],
    excluded={
        **NO_ID,
        **dict.fromkeys(
            ["password", "last_login", "date_joined"],
            "never leaves the site: a user the import creates has no usable password",
        ),
        **dict.fromkeys(
            ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"],
            "the site's rights, not the project's: they are not carried to another site",
        ),
    },
)
MEMBERSHIPS = Table(
    Membership,
    [
        Column("user", "user", USER),
        Column("role", "role"),
        Column("created_at", "created_at", TIME),
        Column("decisions_seen_at", "decisions_seen_at", TIME),
    ],
    excluded=IN_PROJECT,
)
VARIANTS = Table(
    NameVariant,
    [Column("name", "name")],
    parent="person",
    derived={"search_key": lambda v: name_key(v.name), "match_key": lambda v: strict_key(v.name)},
    excluded=NO_ID,
)


def _person_sort_key(person: Person) -> str:
    person.set_keys()
    return person.sort_key


PEOPLE = Table(
    Person,
    [
        Column("id", "id"),
        Column("kind", "kind"),
        Column("display_name", "display_name"),
        Column("family", "family"),
        Column("given", "given"),
        Column("dropping_particle", "dropping_particle", since=3),
        Column("non_dropping_particle", "non_dropping_particle", since=3),
        Column("suffix", "suffix", since=3),
        Column("literal", "literal"),
        Column("description", "description"),
        Column("orcid", "orcid"),
        Column("wikidata", "wikidata"),
        *_versioned(),
    ],
    kind="people",
    nested=[Nested("variants", VARIANTS, flat=True)],
    # As Person.save() derives them.
    derived={
        "search_key": lambda p: name_key(p.display_name),
        "match_key": lambda p: strict_key(p.display_name),
        "sort_key": lambda p: _person_sort_key(p),
    },
    excluded={"project": IN_PROJECT["project"], **SYNC},
)
TEXTS = Table(
    SourceText,
    [
        Column("version", "version"),
        # Left out of the newest version: it is the source's full_text.
        Column("text", "text"),
        Column("pages", "pages", JSON),
        Column("origin", "origin"),
        Column("filename", "filename"),
        Column("comment", "comment"),
        Column("created_by", "created_by", USER),
        Column("created_at", "created_at", TIME),
    ],
    parent="source",
    excluded=NO_ID,
)
CONTRIBUTORS = Table(
    Contributor,
    [
        Column("person", "person", _Ref("people")),
        Column("role", "role"),
        Column("position", "position"),
    ],
    parent="source",
    excluded=NO_ID,
)
IDENTIFIERS = Table(
    SourceIdentifier,
    [Column("scheme", "scheme"), Column("value", "value")],
    parent="source",
    excluded=NO_ID,
)
SOURCE_FIELDS = [
    "citation_key", "csl_type", "title", "title_short", "container_title", "collection_title",
    "publisher", "publisher_place", "genre", "edition", "volume", "issue", "page",
    "issued_year", "issued_month", "issued_day", "language", "abstract", "url",
]  # fmt: skip
SOURCES = Table(
    Source,
    [
        Column("id", "id"),
        *(Column(name, name) for name in SOURCE_FIELDS),
        Column("extra", "extra", JSON),
        Column("full_text", "full_text"),
        Column("accessed", "accessed", DATE),
        Column("text_version", "text_version", since=2),
        *_versioned(),
    ],
    kind="sources",
    nested=[
        Nested("texts", TEXTS, since=2),
        Nested("contributors", CONTRIBUTORS),
        Nested("identifiers", IDENTIFIERS),
    ],
    excluded={"project": IN_PROJECT["project"], **SYNC},
)
CONCEPTS = Table(
    Concept,
    [
        Column("id", "id"),
        Column("name", "name"),
        Column("definition", "definition"),
        Column("colour", "colour", since=6),
        # A parent may come later in the file.
        Column("parent", "parent", _Ref("concepts"), later=True),
        Column("originator", "originator", _Ref("people")),
        *_versioned(),
    ],
    kind="concepts",
    excluded={"project": IN_PROJECT["project"], **SYNC},
)
CLAIMS = Table(
    Claim,
    [
        Column("id", "id"),
        Column("statement", "statement"),
        Column("kind", "kind"),
        Column("created_by", "created_by", USER),
        *_versioned(),
    ],
    kind="claims",
    excluded={
        **SYNC,
        "project": IN_PROJECT["project"],
        "approved_evidence": "counted again from the evidence once it is in",
    },
)
CLAIM_RELATIONS = Table(
    ClaimRelation,
    [
        Column("source", "source", _Ref("claims")),
        Column("target", "target", _Ref("claims")),
        Column("kind", "kind"),
    ],
    excluded=NO_ID,
)
CODING = Table(
    Annotation.concepts.through,
    [Column("concept", "concept", _Ref("concepts"))],
    parent="annotation",
    excluded=NO_ID,
)
EVIDENCE = Table(
    Evidence,
    [Column("claim", "claim", _Ref("claims")), Column("stance", "stance")],
    parent="annotation",
    excluded=NO_ID,
)
MENTIONS = Table(
    Mention,
    [
        Column("person", "person", _Ref("people")),
        Column("work", "work", _Ref("sources")),
        Column("function", "function"),
    ],
    parent="annotation",
    excluded=NO_ID,
)
REVIEW_EVENTS = Table(
    ReviewEvent,
    [
        Column("actor", "actor", USER),
        Column("action", "action"),
        Column("from_status", "from_status"),
        Column("to_status", "to_status"),
        Column("reason", "reason"),
        Column("comment", "comment"),
        Column("annotation_version", "annotation_version"),
        Column("created_at", "created_at", TIME),
        Column("self_approval", "self_approval", since=4),
    ],
    parent="annotation",
    excluded=NO_ID,
)
REVISIONS = Table(
    AnnotationRevision,
    [
        Column("version", "version"),
        Column("content", "content", SNAPSHOT),
        Column("edited_by", "edited_by", USER),
        Column("created_at", "created_at", TIME),
    ],
    parent="annotation",
    excluded=NO_ID,
)
ANNOTATION_FIELDS = [
    "quote", "prefix", "suffix", "start", "end", "page_label", "page_index", "locator", "note",
]  # fmt: skip
# Where a passage was last found (since version 2).
ANCHOR_STATE_FIELDS = ["anchor_state", "anchor_score", "anchored_version"]
ANNOTATIONS = Table(
    Annotation,
    [
        Column("id", "id"),
        Column("source", "source", _Ref("sources")),
        Column("author", "author", USER),
        Column("status", "status"),
        Column("status_changed_at", "status_changed_at", TIME),
        *(Column(name, name) for name in ANNOTATION_FIELDS),
        *(Column(name, name, since=2) for name in ANCHOR_STATE_FIELDS),
        Column("origin", "origin", since=5),
        Column("withdrawn_at", "withdrawn_at", TIME),
        Column("withdrawn_by", "withdrawn_by", USER),
        *_versioned(),
    ],
    nested=[
        Nested("concepts", CODING, flat=True),
        Nested("evidence", EVIDENCE),
        Nested("mentions", MENTIONS),
        Nested("review_events", REVIEW_EVENTS),
        Nested("revisions", REVISIONS),
    ],
    # As Annotation.save() derives it.
    derived={"note_html": lambda a: render_markdown(a.note)},
    excluded={
        **SYNC,
        "project": IN_PROJECT["project"],
        "concepts": "the nested `concepts`",
        "claims": "the nested `evidence`",
        "people": "the nested `mentions`",
    },
)

# The file's lists, in the order they are written and must be read.
SECTIONS: dict[str, Table] = {
    "users": USERS,
    "memberships": MEMBERSHIPS,
    "people": PEOPLE,
    "sources": SOURCES,
    "concepts": CONCEPTS,
    "claims": CLAIMS,
    "claim_relations": CLAIM_RELATIONS,
    "annotations": ANNOTATIONS,
}
# Every table, for the test that no field of a model is forgotten.
TABLES = [
    PROJECT, *SECTIONS.values(), VARIANTS, TEXTS, CONTRIBUTORS, IDENTIFIERS, CODING, EVIDENCE,
    MENTIONS, REVIEW_EVENTS, REVISIONS,
]  # fmt: skip
# Models that hold no project data of their own, by "app_label.ModelName" (some belong to
# higher apps, which this one may not import), and why they are not in the file.
NOT_IN_THE_FILE = {
    "search.Document": "the search index: rebuilt from the rows by database triggers",
    "jobs.ImportJob": "an upload waiting for its confirmation, not project data",
    "jobs.Job": "background work and its files: done for this site, not the project's data",
    "jobs.JobChunk": "a piece of a background job's file",
    "django_tasks_database.DBTaskResult": "the queue of background jobs",
    "admin.LogEntry": "the admin site's log of its own edits",
    "auth.Permission": "the site's permissions",
    "auth.Group": "the site's groups",
    "contenttypes.ContentType": "Django's table of models",
    "sessions.Session": "who is signed in",
    "accounts.Invitation": "links mailed to people, signed with this site's key: useless elsewhere",
    "accounts.Tombstone": "the API's feed of this site's deletions; an import starts a new one",
    "api.ApiToken": "a person's key to this site's API, not project content (and only a hash)",
    # Double coding (apps.agreement) is a round of work on this site: its passages are
    # annotations and travel with their review events; the assignments, the frozen copies the
    # comparison measured, its units and their resolutions do not (a later format version may
    # carry them; until then a restored project starts without double-coding rounds).
    **dict.fromkeys(
        [
            "agreement.Assignment",
            "agreement.AssignedSource",
            "agreement.AssignmentCoder",
            "agreement.CodedPassage",
            "agreement.Unit",
            "agreement.Resolution",
            "agreement.ReportSummary",
        ],
        "a double-coding round's workflow on this site; its passages travel as annotations",
    ),
    **dict.fromkeys(
        [
            "axes.AccessAttempt",
            "axes.AccessAttemptExpiration",
            "axes.AccessFailureLog",
            "axes.AccessLog",
        ],
        "the site's record of sign-in attempts (throttling), not the project's",
    ),
    **dict.fromkeys(
        [
            "annotations.SourceTally",
            "annotations.ConceptTally",
            "annotations.PersonTally",
            "annotations.ClaimTally",
            "annotations.ProjectTally",
            "annotations.CitedTally",
            "annotations.PairTally",
        ],
        "counts derived from the annotations; recounted after an import",
    ),
}


# --- Export -----------------------------------------------------------------------------------


class _FileIds:
    """Database ids to the file's: rows of one kind are numbered 1, 2, … in id order. Kept as
    sorted arrays of ids (8 bytes a row), not dictionaries."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.ids: dict[str, array] = {}
        self.usernames: dict[int, str] = {}

    def number(self, kind: str, queryset: models.QuerySet) -> None:
        self.ids[kind] = array(
            "q", queryset.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=5000)
        )

    def local(self, kind: str, pk: int | None) -> int | None:
        if pk is None:
            return None
        pks = self.ids[kind]
        index = bisect_left(pks, pk)
        return index + 1 if index < len(pks) and pks[index] == pk else None

    def username(self, pk: int | None) -> str | None:
        return self.usernames[pk] if pk is not None else None


# Told, after each batch, which section is being written or read and how many of its rows are
# done: what a job shows as its progress.
Progress = Callable[[str, int], None]


def _no_progress(section: str, done: int) -> None:
    pass


def iter_project_file(project: Project, progress: Progress = _no_progress) -> Iterator[str]:
    """The project file, written as it is read, a batch of rows at a time, from one snapshot
    on PostgreSQL (a text saved or a passage edited meanwhile is wholly in it or not at all)."""
    return in_one_snapshot(lambda: _write(project, progress))


def write_project_file(project: Project, stream: IO[str]) -> None:
    for chunk in iter_project_file(project):
        stream.write(chunk)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _write(project: Project, progress: Progress) -> Iterator[str]:
    yield "{\n"
    yield f'"format": {_dumps(FORMAT)},\n"version": {VERSION},\n'
    ids = _FileIds(project)
    scopes = _scopes(project)
    for kind, table in [("people", PEOPLE), ("sources", SOURCES), ("concepts", CONCEPTS)]:
        ids.number(kind, scopes[table])
    ids.number("claims", scopes[CLAIMS])
    users = User.objects.filter(pk__in=_user_ids(project, scopes))
    ids.usernames = dict(users.values_list("pk", "username"))
    project_row = _encode(PROJECT, _values(PROJECT, Project.objects.filter(pk=project.pk))[0], ids)
    yield f'"project": {_dumps(project_row)}'
    for key, table in SECTIONS.items():
        yield f',\n"{key}": ['
        first = True
        done = 0
        for lines in _section_lines(table, scopes[table], ids, users):
            yield ("\n" if first else ",\n") + ",\n".join(lines)
            first = False
            done += len(lines)
            progress(key, done)
        yield "]" if first else "\n]"
    yield "\n}\n"


def _scopes(project: Project) -> dict[Table, models.QuerySet]:
    """Each section's rows of this project."""
    return {
        USERS: User.objects.none(),  # written from the users found below
        MEMBERSHIPS: Membership.objects.filter(project=project),
        PEOPLE: Person.objects.filter(project=project),
        SOURCES: Source.objects.filter(project=project),
        CONCEPTS: Concept.objects.filter(project=project),
        CLAIMS: Claim.objects.filter(project=project),
        CLAIM_RELATIONS: ClaimRelation.objects.filter(source__project=project),
        ANNOTATIONS: Annotation.objects.filter(project=project),
    }


def _user_ids(project: Project, scopes: dict[Table, models.QuerySet]) -> set[int]:
    """Every user a row of the project names: members, authors, reviewers, editors."""
    found: set[int] = set()
    for table, scope in scopes.items():
        tables = [(table, scope)] + [
            (nested.table, _nested_scope(nested.table, scope)) for nested in table.nested
        ]
        for each, rows in tables:
            for column in each.columns:
                if column.codec is USER:
                    attname = each.model._meta.get_field(column.field).attname
                    found.update(
                        rows.exclude(**{attname: None}).order_by().values_list(attname, flat=True)
                        .distinct()
                    )  # fmt: skip
    return found


def _nested_scope(table: Table, outer: models.QuerySet) -> models.QuerySet:
    return table.model.objects.filter(**{f"{table.parent}__in": outer.values("pk")})


def _values(table: Table, rows: models.QuerySet) -> list[tuple]:
    return list(rows.values_list(*table.attnames()))


def _encode(table: Table, values: tuple, ids: _FileIds) -> dict[str, Any]:
    return {
        column.key: column.codec.out(value, ids)
        for column, value in zip(table.columns, values, strict=True)
    }


def _section_lines(
    table: Table, scope: models.QuerySet, ids: _FileIds, users: models.QuerySet
) -> Iterator[list[str]]:
    """The section's rows as JSON lines, a batch at a time, in id order."""
    if table is USERS:
        # Sorted here: the databases' collations sort names differently.
        rows = sorted(
            (_encode(USERS, row, ids) for row in _values(USERS, users)),
            key=lambda row: row["username"],
        )
        if rows:
            yield [_dumps(row) for row in rows]
        return
    batch = SOURCE_BATCH if table is SOURCES else BATCH
    attnames = table.attnames()
    number = 0
    last = None
    while True:
        page = scope.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page.values_list("pk", *attnames)[:batch])
        if not rows:
            return
        first, last = rows[0][0], rows[-1][0]
        nested = {n.key: _nested_rows(n, scope, first, last, ids) for n in table.nested}
        lines = []
        for pk, *values in rows:
            row = _encode(table, values, ids)
            if "id" in row:
                number += 1
                row["id"] = number
            _place_nested(table, row, {key: found.get(pk, []) for key, found in nested.items()})
            if table is SOURCES:
                _leave_out_current_text(row)
            lines.append(_dumps(row))
        yield lines


def _nested_rows(
    nested: Nested, outer: models.QuerySet, first: int, last: int, ids: _FileIds
) -> dict[int, list]:
    """The nested rows of the outer rows with ids first…last (of this project), by outer id."""
    table = nested.table
    parent = table.model._meta.get_field(table.parent).attname
    rows = (
        table.model.objects.filter(**{f"{table.parent}__in": outer.values("pk")})
        .filter(**{f"{parent}__gte": first, f"{parent}__lte": last})
        .order_by(parent, "pk")
        .values_list(parent, *table.attnames())
    )
    found: dict[int, list] = {}
    for outer_pk, *values in rows.iterator(chunk_size=BATCH):
        row = _encode(table, values, ids)
        found.setdefault(outer_pk, []).append(row[table.columns[0].key] if nested.flat else row)
    return found


def _place_nested(table: Table, row: dict, nested: dict[str, list]) -> None:
    """The nested lists, placed before the row's version and times (as version 2 placed them)."""
    if not nested:
        return
    tail = {key: row.pop(key) for key in ("version", "updated_by", "created_at", "updated_at")}
    row.update(nested)
    row.update(tail)


def _leave_out_current_text(source: dict) -> None:
    """The newest text version's words are the source's full_text: not written twice."""
    for text in source["texts"]:
        if text["version"] == source["text_version"]:
            del text["text"]


# --- Import -----------------------------------------------------------------------------------


@dataclass
class Summary:
    """What a file holds, for the page that asks to confirm its import."""

    version: int
    project: dict[str, Any]
    usernames: list[str]
    counts: dict[str, int]


def read_summary(stream: IO[bytes]) -> Summary:
    """The file's project, users and how many rows of each kind it holds, read as a stream;
    refuses what is not a Citemap project file of a known version, or is not valid JSON."""
    with _reading():
        version, project, usernames, counts = None, {}, [], {}
        for key, value in _members(stream):
            if key in SECTIONS:
                count = 0
                for row in value:
                    count += 1
                    if key == "users" and isinstance(row, dict):
                        usernames.append(str(row.get("username")))
                counts[key] = count
            elif key == "project" and isinstance(value, dict):
                project = value
            elif key in ("format", "version"):
                version = _check_header(key, value, version)
        if version is None:
            raise _not_a_project_file()
        return Summary(version, project, usernames, counts)


def _check_username(name: Any) -> None:
    """A user the file adds gets a name the sign-up form would accept (a file may come from
    anywhere): letters, digits and @.+-_, at most 150 characters."""
    field = User._meta.get_field("username")
    try:
        if not isinstance(name, str) or not name:
            raise ValidationError("empty")
        field.run_validators(name)
        if len(name) > field.max_length:
            raise ValidationError("too long")
    except ValidationError:
        shown = repr(name)[:80]
        raise ProjectFileError(
            f"Nothing was imported: the file names a user {shown}, which is not a valid "
            f"username (letters, digits and @ . + - _ only, at most {field.max_length} "
            "characters)."
        ) from None


def import_project(
    stream: IO[bytes], *, slug: str | None = None, progress: Progress = _no_progress
) -> Project:
    """Create the project of the file `stream` (binary, seekable) under `slug` if given, with
    every row; all or nothing.

    Users are matched by username; missing ones are created without a usable password.
    """
    try:
        with _reading(), transaction.atomic():
            return _Import(slug, progress).run(_members(stream))
    except ProjectFileError:
        raise
    except (IntegrityError, DataError) as error:
        raise ProjectFileError(
            f"Nothing was imported: the database refused a row ({error})."
        ) from None
    except RecursionError:
        raise ProjectFileError(TOO_DEEP) from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise ProjectFileError(
            f"Nothing was imported: the file is incomplete or damaged ({type(error).__name__}: "
            f"{error})."
        ) from None


class _DatabaseIds:
    """The file's ids to the database's, for the rows imported so far."""

    def __init__(self) -> None:
        self.pks: dict[str, dict[int, int]] = {
            "people": {}, "sources": {}, "concepts": {}, "claims": {}
        }  # fmt: skip
        self.users: dict[str, int] = {}

    def pk(self, kind: str, key: Any, *, missing: Any = ProjectFileError) -> int | None:
        if key is None:
            return None
        found = self.pks[kind].get(key) if isinstance(key, int) else None
        if found is None:
            if missing is ProjectFileError:
                what = {"people": "person", "sources": "source", "concepts": "concept"}
                raise ProjectFileError(
                    f"The file refers to {what.get(kind, 'claim')} {key}, which it does not hold."
                )
            return missing
        return found

    def user(self, name: Any) -> int | None:
        if name is None:
            return None
        if name not in self.users:
            raise ProjectFileError(f"The file names user “{name}” but does not list them.")
        return self.users[name]


class _Import:
    def __init__(self, slug: str | None, progress: Progress) -> None:
        self.slug = slug
        self.progress = progress
        self.version: int | None = None
        self.project: Project | None = None
        self.refs = _DatabaseIds()
        self.later: list[tuple[Table, models.Model, str, Column, Any]] = []

    def run(self, members: Iterator[tuple[str, Any]]) -> Project:
        for key, value in members:
            if key in ("format", "version"):
                self.version = _check_header(key, value, self.version)
                continue
            if self.version is None:
                raise _not_a_project_file()
            if key == "project":
                self._create_project(value)
            elif key in SECTIONS:
                if self.project is None:
                    raise ProjectFileError(
                        f"The file's “{key}” come before its “project”; nothing was imported."
                    )
                self._section(key, SECTIONS[key], value)
        if self.project is None:
            raise ProjectFileError("Nothing was imported: the file holds no “project”.")
        self._finish()
        return self.project

    def _create_project(self, spec: dict) -> None:
        slug = self.slug or spec["slug"]
        if Project.objects.filter(slug=slug).exists():
            raise ProjectFileError(
                f"A project with the address “{slug}” exists already; nothing was imported. "
                "Import under another address."
            )
        self.project = self._build(PROJECT, {**spec, "slug": slug}, {})
        _insert(Project, [self.project])

    def _section(self, key: str, table: Table, rows: Iterable) -> None:
        size = SOURCE_BATCH if table is SOURCES else BATCH
        rows = iter(rows)
        done = 0
        while chunk := list(islice(rows, size)):
            if table is USERS:
                self._users(chunk)
            else:
                self._rows(table, chunk)
            done += len(chunk)
            self.progress(key, done)
        self._set_later()

    def _users(self, rows: list[dict]) -> None:
        names = [row["username"] for row in rows]
        existing = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
        for row in rows:
            if row["username"] not in existing:
                _check_username(row["username"])
                user = self._build(USERS, row, {})
                user.set_unusable_password()
                user.save()
                existing[user.username] = user.pk
        self.refs.users.update(existing)

    def _rows(self, table: Table, rows: list[dict]) -> None:
        fixed = {"project_id": self.project.pk} if _has_field(table.model, "project") else {}
        objects = [self._build(table, row, fixed) for row in rows]
        _insert(table.model, objects)
        if table.kind:
            known = self.refs.pks[table.kind]
            for row, obj in zip(rows, objects, strict=True):
                known[row["id"]] = obj.pk
        for nested in table.nested:
            if self.version < nested.since:
                continue
            child = nested.table
            children = []
            for row, obj in zip(rows, objects, strict=True):
                items = row.get(nested.key) or []
                if nested is SOURCES.nested[0]:
                    items = _texts_with_current(row, items, obj)
                parent = {child.parent_attname: obj.pk}
                for item in items:
                    if nested.flat:
                        item = {child.columns[0].key: item}
                    children.append(self._build(child, item, parent))
            _insert_rows(child.model, children)

    def _build(self, table: Table, row: dict, fixed: dict[str, Any]) -> models.Model:
        """A model object of the row, not saved."""
        columns, defaults = table.import_plan
        values = dict(fixed)
        later = []
        for column, attname in columns:
            if self.version < column.since:
                continue
            if column.later:
                if row[column.key] is not None:
                    later.append((column, row[column.key]))
                continue
            values[attname] = column.codec.into(row[column.key], self.refs)
        # Positional arguments: the fast way Django builds objects (as from_db() does).
        obj = table.model(*(values.get(attname, default) for attname, default in defaults))
        for name, derive in table.derived.items():
            setattr(obj, name, derive(obj))
        self.later += [(table, obj, column, value) for column, value in later]
        return obj

    def _set_later(self) -> None:
        by_table: dict[Table, list] = {}
        for table, obj, column, value in self.later:
            setattr(
                obj,
                table.model._meta.get_field(column.field).attname,
                column.codec.into(value, self.refs),
            )
            by_table.setdefault(table, []).append((obj, column.field))
        for table, pairs in by_table.items():
            fields = sorted({name for _, name in pairs})
            table.model.objects.bulk_update([obj for obj, _ in pairs], fields, batch_size=BATCH)
        self.later = []

    def _finish(self) -> None:
        project = self.project
        # A new database (or new rows) has no statistics yet: without them PostgreSQL plans
        # the recount below as if the tables were empty, and it takes minutes at 20,000
        # sources instead of a second.
        _analyze(Claim, Evidence, Annotation)
        Claim.objects.filter(project=project).refresh_approved_evidence()
        # Passages were inserted in bulk: count what the lists and the matrix read, once.
        recount_tallies(project)
        if self.version == 1:
            # Version 1 files have no text versions nor anchors: their texts become version 1
            # and their placed passages exact.
            adopt_stored_texts(project.pk)


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


def _texts_with_current(source: dict, texts: list[dict], obj: Source) -> list[dict]:
    """A source's text versions, the newest with its words (the source's full text) again."""
    if not texts:
        return []
    newest = max(t["version"] for t in texts)
    if source.get("text_version") != newest:
        raise ProjectFileError(
            f"Source {source['id']} says its text is version {source.get('text_version')!r} "
            f"but its newest text version is {newest}."
        )
    return [{**t, "text": obj.full_text} if t["version"] == newest else t for t in texts]


def _insert(model: type[models.Model], objects: list[models.Model]) -> None:
    """INSERT the objects with the values they carry and set their ids.

    Unlike bulk_create(), times the file gives stay as they are (bulk_create lets auto_now
    fields set them to now): the rows go in "raw", as Django's own loaddata puts fixtures in.
    """
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    manager = model._base_manager
    size = max(1, connection.ops.bulk_batch_size(fields, objects))
    for start in range(0, len(objects), size):
        part = objects[start : start + size]
        returned = manager._insert(
            part,
            fields=fields,
            returning_fields=model._meta.db_returning_fields,
            raw=True,
            using=manager.db,
        )
        for obj, (pk,) in zip(part, returned, strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = manager.db


def _insert_rows(model: type[models.Model], objects: list[models.Model]) -> None:
    """INSERT rows nothing refers to (so their ids are not needed), in one statement run for
    many rows: values prepared by each field as Django would, raw (as _insert())."""
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
                for obj in objects
            ],
        )


def _analyze(*tables: type[models.Model]) -> None:
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# --- Reading the file -------------------------------------------------------------------------


def _check_header(key: str, value: Any, version: int | None) -> int | None:
    """The format name comes first, then the version; returns the version once read."""
    if key == "format":
        if value != FORMAT:
            raise _not_a_project_file()
        return version
    if value not in READABLE_VERSIONS:
        raise ProjectFileError(
            f"This project file has format version {value!r}; this Citemap reads versions "
            f"{READABLE_VERSIONS[0]} to {READABLE_VERSIONS[-1]}. Export it again with a "
            "matching version."
        )
    return value


def _not_a_project_file() -> ProjectFileError:
    return ProjectFileError(
        "This is not a Citemap project file (made by export_project): its “format” is not "
        f"“{FORMAT}”. A bibliography goes through Import instead."
    )


class _reading:
    """Turns what a broken file raises while it is read into a message for the user."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if kind is None or issubclass(kind, ProjectFileError):
            return False
        if issubclass(kind, UnicodeDecodeError):
            raise ProjectFileError(
                "This is not a Citemap project file: it is not UTF-8 text (a binary file?)."
            ) from None
        if issubclass(kind, ijson.JSONError):
            raise ProjectFileError(
                f"This is not a Citemap project file: not valid JSON ({error})."
            ) from None
        if issubclass(kind, RecursionError):
            raise ProjectFileError(TOO_DEEP) from None
        return False


# A row nests a few levels (an annotation's snapshot, a source's CSL names); the rest is damage.
MAX_DEPTH = 32
TOO_DEEP = (
    "This is not a Citemap project file: its brackets are nested too deeply (a project file "
    "nests a few levels, never hundreds)."
)


# Our own layout (version 3): one top-level member or one row per line.
LINE_LAYOUT = (b"{", f'"format": "{FORMAT}",'.encode())


def _members(stream: IO[bytes]) -> Iterator[tuple[str, Any]]:
    """The file's top-level members in order as (key, value); a list's value is an iterator
    of its items, read as it is consumed (and skipped if it is not)."""
    first = stream.readline().rstrip(b"\r\n")
    second = stream.readline().rstrip(b"\r\n")
    if (first.removeprefix(b"\xef\xbb\xbf"), second) == LINE_LAYOUT:
        yield ("format", FORMAT)
        yield from _line_members(stream, line=3)
        return
    stream.seek(0)
    head = stream.read(3)
    if not head:
        raise ProjectFileError("The file is empty.")
    stream.seek(3 if head == b"\xef\xbb\xbf" else 0)
    # basic_parse, not parse: parse builds each event's path ("a.item.item…"), whose length
    # grows with the nesting, so deep brackets would cost time and memory squared.
    events = ijson.basic_parse(stream, use_float=True)
    yield from _event_members((None, event, value) for event, value in events)


def _line_members(stream: IO[bytes], line: int) -> Iterator[tuple[str, Any]]:
    lines = enumerate(stream, start=line)
    for number, raw in lines:
        text = raw.rstrip(b"\r\n").decode("utf-8")
        if text == "}":
            return
        if text.endswith("["):
            key = _line_json(text[: text.rindex(":")], number)
            rows = _line_rows(lines)
            yield key, rows
            for _ in rows:  # what the reader did not consume
                pass
        else:
            [(key, value)] = _line_json("{" + text.removesuffix(",") + "}", number).items()
            yield key, value
    raise ProjectFileError("This project file is cut short: it does not end with “}”.")


def _line_rows(lines: Iterator[tuple[int, bytes]]) -> Iterator[Any]:
    for number, raw in lines:
        text = raw.rstrip(b"\r\n").decode("utf-8")
        if text in ("]", "],"):
            return
        yield _line_json(text.removesuffix(","), number)
    raise ProjectFileError("This project file is cut short: a list does not end.")


def _line_json(text: str, number: int) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ProjectFileError(
            f"This project file is damaged at line {number:,}: not valid JSON ({error.msg})."
        ) from None
    except RecursionError:
        raise ProjectFileError(TOO_DEEP) from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise ProjectFileError(
            f"This project file is damaged at line {number:,}: {error}."
        ) from None


def _event_members(events: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[str, Any]]:
    """The members of any JSON layout, from ijson's parse events."""
    try:
        _, event, _ = next(events)
    except StopIteration:
        raise ProjectFileError("The file is empty.") from None
    if event != "start_map":
        raise _not_a_project_file()
    for _, event, key in events:
        if event == "end_map":
            return
        _, event, value = next(events)
        if event == "start_array":
            items = _event_items(events)
            yield key, items
            for _ in items:
                pass
        else:
            yield key, _event_value(event, value, events)


def _event_items(events: Iterator[tuple[str, str, Any]]) -> Iterator[Any]:
    for _, event, value in events:
        if event == "end_array":
            return
        yield _event_value(event, value, events)


def _event_value(event: str, value: Any, events: Iterator[tuple[str, str, Any]]) -> Any:
    if event not in ("start_map", "start_array"):
        return value
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    for _, event, value in events:
        builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
            if depth > MAX_DEPTH:
                raise ProjectFileError(TOO_DEEP)
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return builder.value
    raise ProjectFileError("This project file is cut short.")


def imported_counts(project: Project) -> dict[str, int]:
    """How many rows of each kind a project has, to report an import."""
    return {
        "memberships": project.memberships.count(),
        "people": Person.objects.for_project(project).count(),
        "sources": Source.objects.for_project(project).count(),
        "concepts": Concept.objects.for_project(project).count(),
        "claims": Claim.objects.for_project(project).count(),
        "annotations": Annotation.objects.for_project(project).count(),
    }

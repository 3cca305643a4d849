"""Whole-project export and import: the team's backup, and the way between SQLite and
PostgreSQL.

The file is JSON: a format name and version, the project, the users it names (by username),
and every row of the project with ids local to the file (1, 2, … per kind, in database order).
Importing a file into an empty database and exporting again gives the same file.

Version 2 adds what the reader keeps: each source's text versions (`texts`, oldest first; the
newest one's words are the source's `full_text`, so they are not written twice) and where each
passage was last found (`anchor_state`, `anchor_score`, `anchored_version`). Version 1 files
are still read: their texts become version 1 and their placed passages exact.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

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
from apps.library.models import Contributor, Source, SourceIdentifier, SourceText
from apps.library.richtext import render_markdown
from apps.people.models import NameVariant, Person, name_key

FORMAT = "citemap-project"
VERSION = 2
READABLE_VERSIONS = (1, 2)
BATCH = 1000


class ProjectFileError(Exception):
    """The file cannot be imported; the message names the problem. Nothing was written."""


# --- Export ---------------------------------------------------------------------------------


def _time(value: datetime.datetime | None) -> str | None:
    return value.astimezone(datetime.UTC).isoformat() if value else None


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


class _Ids:
    """File-local ids: database pks of one kind numbered 1, 2, … in pk order."""

    def __init__(self, pks) -> None:
        self.local = {pk: number for number, pk in enumerate(pks, start=1)}

    def __call__(self, pk: int | None) -> int | None:
        return self.local.get(pk) if pk is not None else None


def export_project(project: Project) -> dict[str, Any]:
    """The project as a file's data. On PostgreSQL it is read from one snapshot, so a text saved
    or a passage edited meanwhile is either wholly in the file or not at all."""
    # SQLite's transactions here take the write lock up front (settings), which would hold
    # every writer back for the length of an export; and inside a caller's transaction the
    # isolation level is the caller's (it cannot change once a query has run).
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return _export(project)
    with transaction.atomic():
        # PostgreSQL's default gives each statement a snapshot of its own.
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _export(project)


def _export(project: Project) -> dict[str, Any]:
    sources = Source.objects.for_project(project).order_by("pk")
    people = Person.objects.for_project(project).order_by("pk")
    concepts = Concept.objects.for_project(project).order_by("pk")
    claims = Claim.objects.for_project(project).order_by("pk")
    annotations = Annotation.objects.for_project(project).order_by("pk")
    source_id = _Ids(sources.values_list("pk", flat=True))
    person_id = _Ids(people.values_list("pk", flat=True))
    concept_id = _Ids(concepts.values_list("pk", flat=True))
    claim_id = _Ids(claims.values_list("pk", flat=True))
    annotation_id = _Ids(annotations.values_list("pk", flat=True))
    users: dict[int, User] = {}

    def user(pk: int | None) -> str | None:
        if pk is None:
            return None
        if pk not in users:
            users[pk] = User.objects.get(pk=pk)
        return users[pk].username

    variants: dict[int, list[str]] = {}
    for person_pk, name in (
        NameVariant.objects.filter(person__project=project)
        .values_list("person_id", "name")
        .order_by("person_id", "name")
    ):
        variants.setdefault(person_pk, []).append(name)
    data_people = [
        {
            "id": person_id(p.pk),
            "kind": p.kind,
            "display_name": p.display_name,
            "family": p.family,
            "given": p.given,
            "literal": p.literal,
            "description": p.description,
            "orcid": p.orcid,
            "wikidata": p.wikidata,
            "variants": variants.get(p.pk, []),
            **_versioned(p, user),
        }
        for p in people
    ]
    contributors: dict[int, list] = {}
    for row in Contributor.objects.filter(source__project=project).order_by(
        "source_id", "role", "position"
    ):
        contributors.setdefault(row.source_id, []).append(
            {"person": person_id(row.person_id), "role": row.role, "position": row.position}
        )
    identifiers: dict[int, list] = {}
    for row in SourceIdentifier.objects.filter(source__project=project).order_by(
        "source_id", "scheme", "value"
    ):
        identifiers.setdefault(row.source_id, []).append({"scheme": row.scheme, "value": row.value})
    current = dict(sources.values_list("pk", "text_version"))
    texts: dict[int, list] = {}
    for t in (
        SourceText.objects.filter(source__project=project)
        .order_by("source_id", "version")
        .iterator(chunk_size=100)
    ):
        entry = {
            **{name: getattr(t, name) for name in TEXT_FIELDS},
            "created_by": user(t.created_by_id),
            "created_at": _time(t.created_at),
        }
        if t.version == current[t.source_id]:
            del entry["text"]  # the source's full_text
        texts.setdefault(t.source_id, []).append(entry)
    data_sources = []
    for s in sources.iterator(chunk_size=500):
        data_sources.append(
            {
                "id": source_id(s.pk),
                **{name: getattr(s, name) for name in SOURCE_FIELDS},
                "accessed": _date(s.accessed),
                "text_version": s.text_version,
                "texts": texts.get(s.pk, []),
                "contributors": contributors.get(s.pk, []),
                "identifiers": identifiers.get(s.pk, []),
                **_versioned(s, user),
            }
        )
    data_concepts = [
        {
            "id": concept_id(c.pk),
            "name": c.name,
            "definition": c.definition,
            "parent": concept_id(c.parent_id),
            "originator": person_id(c.originator_id),
            **_versioned(c, user),
        }
        for c in concepts
    ]
    data_claims = [
        {
            "id": claim_id(c.pk),
            "statement": c.statement,
            "kind": c.kind,
            "created_by": user(c.created_by_id),
            **_versioned(c, user),
        }
        for c in claims
    ]
    relations = [
        {"source": claim_id(r.source_id), "target": claim_id(r.target_id), "kind": r.kind}
        for r in ClaimRelation.objects.filter(source__project=project).order_by("pk")
    ]
    links: dict[str, dict[int, list]] = {"evidence": {}, "mentions": {}, "concepts": {}}
    for row in Evidence.objects.filter(annotation__project=project).order_by("pk"):
        links["evidence"].setdefault(row.annotation_id, []).append(
            {"claim": claim_id(row.claim_id), "stance": row.stance}
        )
    for row in Mention.objects.filter(annotation__project=project).order_by("pk"):
        links["mentions"].setdefault(row.annotation_id, []).append(
            {
                "person": person_id(row.person_id),
                "work": source_id(row.work_id),
                "function": row.function,
            }
        )
    coding = Annotation.concepts.through.objects.filter(annotation__project=project)
    for annotation_pk, concept_pk in coding.order_by("annotation_id", "concept_id").values_list(
        "annotation_id", "concept_id"
    ):
        links["concepts"].setdefault(annotation_pk, []).append(concept_id(concept_pk))
    events: dict[int, list] = {}
    for e in ReviewEvent.objects.filter(annotation__project=project).order_by("pk"):
        events.setdefault(e.annotation_id, []).append(
            {
                "actor": user(e.actor_id),
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "reason": e.reason,
                "comment": e.comment,
                "annotation_version": e.annotation_version,
                "created_at": _time(e.created_at),
            }
        )
    revisions: dict[int, list] = {}
    ids = {"claims": claim_id, "people": person_id, "works": source_id, "concepts": concept_id}
    for r in AnnotationRevision.objects.filter(annotation__project=project).order_by("pk"):
        revisions.setdefault(r.annotation_id, []).append(
            {
                "version": r.version,
                "content": _map_snapshot(r.content, ids),
                "edited_by": user(r.edited_by_id),
                "created_at": _time(r.created_at),
            }
        )
    data_annotations = []
    for a in annotations.iterator(chunk_size=1000):
        data_annotations.append(
            {
                "id": annotation_id(a.pk),
                "source": source_id(a.source_id),
                "author": user(a.author_id),
                "status": a.status,
                "status_changed_at": _time(a.status_changed_at),
                **{name: getattr(a, name) for name in ANNOTATION_FIELDS + ANCHOR_STATE_FIELDS},
                "withdrawn_at": _time(a.withdrawn_at),
                "withdrawn_by": user(a.withdrawn_by_id),
                "concepts": links["concepts"].get(a.pk, []),
                "evidence": links["evidence"].get(a.pk, []),
                "mentions": links["mentions"].get(a.pk, []),
                "review_events": events.get(a.pk, []),
                "revisions": revisions.get(a.pk, []),
                **_versioned(a, user),
            }
        )
    memberships = []
    for m in (
        Membership.objects.for_project(project).select_related("user").order_by("user__username")
    ):
        users[m.user_id] = m.user
        memberships.append(
            {
                "user": m.user.username,
                "role": m.role,
                "created_at": _time(m.created_at),
                "decisions_seen_at": _time(m.decisions_seen_at),
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "project": {
            "slug": project.slug,
            "name": project.name,
            "description": project.description,
            "students_see_history": project.students_see_history,
            "created_at": _time(project.created_at),
        },
        "users": [
            {
                "username": u.username,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "email": u.email,
            }
            for u in sorted(users.values(), key=lambda u: u.username)
        ],
        "memberships": memberships,
        "people": data_people,
        "sources": data_sources,
        "concepts": data_concepts,
        "claims": data_claims,
        "claim_relations": relations,
        "annotations": data_annotations,
    }


SOURCE_FIELDS = [
    "citation_key", "csl_type", "title", "title_short", "container_title", "collection_title",
    "publisher", "publisher_place", "genre", "edition", "volume", "issue", "page",
    "issued_year", "issued_month", "issued_day", "language", "abstract", "url", "extra",
    "full_text",
]  # fmt: skip
ANNOTATION_FIELDS = [
    "quote", "prefix", "suffix", "start", "end", "page_label", "page_index", "locator", "note",
]  # fmt: skip
# Since version 2.
ANCHOR_STATE_FIELDS = ["anchor_state", "anchor_score", "anchored_version"]
TEXT_FIELDS = ["version", "text", "pages", "origin", "filename", "comment"]


def _versioned(row: models.Model, user: Callable) -> dict[str, Any]:
    data = {"version": row.version, "updated_by": user(row.updated_by_id)}
    for name in ("created_at", "updated_at"):
        if hasattr(row, name):
            data[name] = _time(getattr(row, name))
    return data


def _map_snapshot(content: dict, ids: dict[str, Callable]) -> dict:
    """A revision's snapshot with its ids of claims, people, works and concepts translated
    (to file ids on export, back to database ids on import); unknown ids become 0."""
    mapped = dict(content)
    if isinstance(content.get("claims"), list):
        mapped["claims"] = [[ids["claims"](row[0]) or 0, *row[1:]] for row in content["claims"]]
    if isinstance(content.get("people"), list):
        mapped["people"] = [
            [ids["people"](row[0]) or 0, row[1], ids["works"](row[2] or None) or 0, *row[3:]]
            for row in content["people"]
        ]
    if isinstance(content.get("concepts"), list):
        mapped["concepts"] = [
            [ids["concepts"](row[0]) or 0, *row[1:]] for row in content["concepts"]
        ]
    return mapped


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


# --- Import ---------------------------------------------------------------------------------


def loads(data: bytes) -> dict[str, Any]:
    """The project file's data; refuses what is not a Citemap project file of a known version."""
    if not data.strip():
        raise ProjectFileError("The file is empty.")
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ProjectFileError(
            "This is not a Citemap project file: it is not UTF-8 text (a binary file?)."
        ) from None
    except json.JSONDecodeError as error:
        raise ProjectFileError(
            f"This is not a Citemap project file: not valid JSON ({error.msg} at line "
            f"{error.lineno})."
        ) from None
    if not isinstance(parsed, dict) or parsed.get("format") != FORMAT:
        raise ProjectFileError(
            "This is not a Citemap project file (made by export_project): its “format” is "
            f"not “{FORMAT}”. A bibliography goes through Import instead."
        )
    if parsed.get("version") not in READABLE_VERSIONS:
        raise ProjectFileError(
            f"This project file has format version {parsed.get('version')!r}; this Citemap "
            f"reads versions {READABLE_VERSIONS[0]} to {READABLE_VERSIONS[-1]}. Export it "
            "again with a matching version."
        )
    return parsed


def summary(data: dict[str, Any]) -> dict[str, int]:
    return {
        kind: len(data.get(kind) or [])
        for kind in ("memberships", "people", "sources", "concepts", "claims", "annotations")
    }


def import_project(data: dict[str, Any], *, slug: str | None = None) -> Project:
    """Create the project of `data` (under `slug` if given) with every row; all or nothing.

    Users are matched by username; missing ones are created without a usable password.
    """
    try:
        with transaction.atomic():
            return _import(data, slug)
    except ProjectFileError:
        raise
    except (IntegrityError, DataError) as error:
        raise ProjectFileError(
            f"Nothing was imported: the database refused a row ({error})."
        ) from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise ProjectFileError(
            f"Nothing was imported: the file is incomplete or damaged ({type(error).__name__}: "
            f"{error})."
        ) from None


def _parse_time(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


def _parse_date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _import(data: dict[str, Any], slug: str | None) -> Project:
    spec = data["project"]
    slug = slug or spec["slug"]
    if Project.objects.filter(slug=slug).exists():
        raise ProjectFileError(
            f"A project with the address “{slug}” exists already; nothing was imported. "
            "Import under another address."
        )
    project = Project.objects.create(
        slug=slug,
        name=spec["name"],
        description=spec.get("description", ""),
        students_see_history=bool(spec.get("students_see_history")),
    )
    _restore_times(Project, [(project, spec)], ["created_at"])

    users: dict[str, User] = {
        u.username: u
        for u in User.objects.filter(
            username__in=[entry["username"] for entry in data.get("users", [])]
        )
    }
    for entry in data.get("users", []):
        if entry["username"] not in users:
            new = User(
                username=entry["username"],
                first_name=entry.get("first_name", ""),
                last_name=entry.get("last_name", ""),
                email=entry.get("email", ""),
            )
            new.set_unusable_password()
            new.save()
            users[new.username] = new

    def user(name: str | None) -> User | None:
        if name is None:
            return None
        if name not in users:
            raise ProjectFileError(f"The file names user “{name}” but does not list them.")
        return users[name]

    memberships = [
        (Membership(project=project, user=user(m["user"]), role=m["role"]), m)
        for m in data.get("memberships", [])
    ]
    Membership.objects.bulk_create([row for row, _ in memberships])
    _restore_times(Membership, memberships, ["created_at", "decisions_seen_at"])

    people = _create(
        Person,
        data.get("people", []),
        lambda p: Person(
            project=project,
            kind=p["kind"],
            display_name=p["display_name"],
            family=p["family"],
            given=p["given"],
            literal=p["literal"],
            description=p["description"],
            orcid=p["orcid"],
            wikidata=p["wikidata"],
            search_key=name_key(p["display_name"]),
            sort_key=name_key(p["family"] or p["literal"] or p["display_name"]),
            **_version(p, user),
        ),
    )
    NameVariant.objects.bulk_create(
        [
            NameVariant(person=people[p["id"]], name=name, search_key=name_key(name))
            for p in data.get("people", [])
            for name in p.get("variants", [])
        ],
        batch_size=BATCH,
    )

    def ref(table: dict, key: int | None, what: str):
        if key is None:
            return None
        if key not in table:
            raise ProjectFileError(f"The file refers to {what} {key}, which it does not hold.")
        return table[key]

    sources = _create(
        Source,
        data.get("sources", []),
        lambda s: Source(
            project=project,
            accessed=_parse_date(s.get("accessed")),
            **{name: s[name] for name in SOURCE_FIELDS},
            **_version(s, user),
        ),
    )
    _import_texts(data.get("sources", []), sources, user)
    Contributor.objects.bulk_create(
        [
            Contributor(
                source=sources[s["id"]],
                person=ref(people, c["person"], "person"),
                role=c["role"],
                position=c["position"],
            )
            for s in data.get("sources", [])
            for c in s.get("contributors", [])
        ],
        batch_size=BATCH,
    )
    SourceIdentifier.objects.bulk_create(
        [
            SourceIdentifier(source=sources[s["id"]], scheme=i["scheme"], value=i["value"])
            for s in data.get("sources", [])
            for i in s.get("identifiers", [])
        ],
        batch_size=BATCH,
    )
    concepts = _create(
        Concept,
        data.get("concepts", []),
        lambda c: Concept(
            project=project,
            name=c["name"],
            definition=c["definition"],
            originator=ref(people, c.get("originator"), "person"),
            **_version(c, user),
        ),
    )
    with_parents = []
    for c in data.get("concepts", []):
        if c.get("parent") is not None:
            concept = concepts[c["id"]]
            concept.parent = ref(concepts, c["parent"], "concept")
            with_parents.append(concept)
    Concept.objects.bulk_update(with_parents, ["parent"], batch_size=BATCH)
    claims = _create(
        Claim,
        data.get("claims", []),
        lambda c: Claim(
            project=project,
            statement=c["statement"],
            kind=c["kind"],
            created_by=user(c.get("created_by")),
            **_version(c, user),
        ),
    )
    ClaimRelation.objects.bulk_create(
        [
            ClaimRelation(
                source=ref(claims, r["source"], "claim"),
                target=ref(claims, r["target"], "claim"),
                kind=r["kind"],
            )
            for r in data.get("claim_relations", [])
        ],
        batch_size=BATCH,
    )
    annotation_rows = data.get("annotations", [])
    annotations = _create(
        Annotation,
        annotation_rows,
        lambda a: Annotation(
            project=project,
            source=ref(sources, a["source"], "source"),
            author=user(a["author"]),
            status=a["status"],
            status_changed_at=_parse_time(a["status_changed_at"]),
            **{name: a[name] for name in ANNOTATION_FIELDS},
            # Version 1 files have none: adopt_stored_texts() below places them.
            **{name: a[name] for name in ANCHOR_STATE_FIELDS if name in a},
            note_html=render_markdown(a["note"]),
            withdrawn_at=_parse_time(a.get("withdrawn_at")),
            withdrawn_by=user(a.get("withdrawn_by")),
            **_version(a, user),
        ),
    )
    coding = Annotation.concepts.through
    coding.objects.bulk_create(
        [
            coding(annotation=annotations[a["id"]], concept=ref(concepts, c, "concept"))
            for a in annotation_rows
            for c in a.get("concepts", [])
        ],
        batch_size=BATCH,
    )
    Evidence.objects.bulk_create(
        [
            Evidence(
                annotation=annotations[a["id"]],
                claim=ref(claims, e["claim"], "claim"),
                stance=e["stance"],
            )
            for a in annotation_rows
            for e in a.get("evidence", [])
        ],
        batch_size=BATCH,
    )
    Mention.objects.bulk_create(
        [
            Mention(
                annotation=annotations[a["id"]],
                person=ref(people, m["person"], "person"),
                work=ref(sources, m.get("work"), "source"),
                function=m["function"],
            )
            for a in annotation_rows
            for m in a.get("mentions", [])
        ],
        batch_size=BATCH,
    )
    ReviewEvent.objects.bulk_create(
        [
            ReviewEvent(
                annotation=annotations[a["id"]],
                actor=user(e["actor"]),
                action=e["action"],
                from_status=e["from_status"],
                to_status=e["to_status"],
                reason=e["reason"],
                comment=e["comment"],
                annotation_version=e["annotation_version"],
                created_at=_parse_time(e["created_at"]),
            )
            for a in annotation_rows
            for e in a.get("review_events", [])
        ],
        batch_size=BATCH,
    )
    back = {
        "claims": lambda key: claims[key].pk if key in claims else None,
        "people": lambda key: people[key].pk if key in people else None,
        "works": lambda key: sources[key].pk if key in sources else None,
        "concepts": lambda key: concepts[key].pk if key in concepts else None,
    }
    AnnotationRevision.objects.bulk_create(
        [
            AnnotationRevision(
                annotation=annotations[a["id"]],
                version=r["version"],
                content=_map_snapshot(r["content"], back),
                edited_by=user(r["edited_by"]),
                created_at=_parse_time(r["created_at"]),
            )
            for a in annotation_rows
            for r in a.get("revisions", [])
        ],
        batch_size=BATCH,
    )
    Claim.objects.filter(project=project).refresh_approved_evidence()
    # Passages were bulk-created: count what the lists and the matrix read, once.
    recount_tallies(project)
    adopt_stored_texts(project.pk)
    return project


def _import_texts(rows: list[dict], sources: dict[int, Source], user: Callable) -> None:
    """The sources' text versions (version 2 files); the newest one's words are the source's
    full text."""
    versions, current = [], []
    for row in rows:
        texts = row.get("texts") or []
        if not texts:
            continue
        source = sources[row["id"]]
        newest = max(t["version"] for t in texts)
        if row.get("text_version") != newest:
            raise ProjectFileError(
                f"Source {row['id']} says its text is version {row.get('text_version')!r} "
                f"but its newest text version is {newest}."
            )
        for t in texts:
            versions.append(
                SourceText(
                    source=source,
                    **{name: t[name] for name in TEXT_FIELDS if name != "text"},
                    text=source.full_text if t["version"] == newest else t["text"],
                    created_by=user(t.get("created_by")),
                    created_at=_parse_time(t["created_at"]),
                )
            )
        source.text_version = newest
        current.append(source)
    SourceText.objects.bulk_create(versions, batch_size=100)
    Source.objects.bulk_update(current, ["text_version"], batch_size=BATCH)


def _version(row: dict[str, Any], user: Callable) -> dict[str, Any]:
    return {"version": row["version"], "updated_by": user(row.get("updated_by"))}


def _create(model: type[models.Model], rows: list[dict], build: Callable) -> dict[int, Any]:
    """Insert rows in file order; {file id: saved object}. The timestamps the file gives are
    written back afterwards, since inserting sets auto_now fields to now."""
    objects = [(build(row), row) for row in rows]
    model.objects.bulk_create([obj for obj, _ in objects], batch_size=BATCH)
    names = [f.name for f in model._meta.concrete_fields if f.name in {"created_at", "updated_at"}]
    _restore_times(model, objects, names)
    return {row["id"]: obj for obj, row in objects}


def _restore_times(model: type[models.Model], objects: list[tuple], names: list[str]) -> None:
    if not names or not objects:
        return
    for obj, row in objects:
        for name in names:
            setattr(obj, name, _parse_time(row.get(name)))
    # bulk_update writes the values as given (no auto_now), unlike save() and bulk_create().
    model.objects.bulk_update([obj for obj, _ in objects], names, batch_size=BATCH)

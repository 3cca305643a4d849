"""Load the seed review (fixtures/seed_review.toml) into a new project.

The fixture names everything by key (people, sources, concepts, claims, annotations); this
module turns it into rows, and replays each annotation's review history through the same
transition method the app uses, so the ledger is what real use would have written.
"""

from __future__ import annotations

import datetime
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.accounts.models import Membership, Project, User
from apps.annotations.anchoring import adopt_stored_texts
from apps.annotations.models import (
    Annotation,
    Evidence,
    Mention,
    ReviewAction,
    Status,
)
from apps.annotations.tallies import Counted, retally
from apps.claims.models import Claim, Concept
from apps.library.models import Source
from apps.people.models import Person

SEED_FILE = Path(settings.BASE_DIR) / "fixtures" / "seed_review.toml"
DEMO_PASSWORD = "citemap-demo"
# Fixed times keep the seed deterministic: the same file always gives the same rows.
SEED_START = datetime.datetime(2026, 9, 1, 9, 0, tzinfo=datetime.UTC)


class SeedError(Exception):
    """The fixture refers to something it does not define, or cannot be read."""


@dataclass
class SeedResult:
    project: Project
    created: bool
    users: list[tuple[str, str]]  # (username, role)
    texts_added: int = 0  # texts given to sources of a demo that existed without them


def read_seed(path: Path = SEED_FILE) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SeedError(f"Cannot read {path}: {error}") from error


def parse_issued(value: str) -> tuple[int | None, int | None, int | None]:
    if not value:
        return None, None, None
    parts = [int(part) for part in value.split("-")]
    return tuple(parts + [None] * (3 - len(parts)))  # type: ignore[return-value]


def _lookup(table: dict[str, Any], key: str, what: str, where: str) -> Any:
    try:
        return table[key]
    except KeyError:
        raise SeedError(f"{where} refers to unknown {what} “{key}”.") from None


def seed_users(data: dict[str, Any]) -> dict[str, User]:
    users = {}
    for entry in data["user"]:
        user, created = User.objects.get_or_create(
            username=entry["username"],
            defaults={
                "first_name": entry.get("first_name", ""),
                "last_name": entry.get("last_name", ""),
                "email": entry.get("email", ""),
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users[entry["username"]] = user
    return users


@transaction.atomic
def add_missing_texts(project: Project, data: dict[str, Any], texts_dir: Path) -> int:
    """Store the texts found in `texts_dir` for the demo's sources that have none yet, as
    their first version (the passages are placed in them); the rest is left as it is."""
    from apps.annotations.anchoring import replace_text

    by = project.memberships.filter(role="supervisor").select_related("user").first()
    added = 0
    for entry in data["source"]:
        path = Path(texts_dir) / entry.get("text_file", "")
        if not entry.get("text_file") or not path.is_file():
            continue
        source = Source.objects.filter(project=project, citation_key=entry["key"]).first()
        if source is None or source.full_text:
            continue
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        replace_text(source, text, by=by.user if by else None, origin="txt", filename=path.name)
        added += 1
    return added


def load_seed_review(
    data: dict[str, Any] | None = None, *, texts_dir: Path | None = None, reset: bool = False
) -> SeedResult:
    """Create the seed project unless it exists (then nothing changes, unless `reset`)."""
    data = data if data is not None else read_seed()
    users = seed_users(data)
    user_roles = [(entry["username"], entry["role"]) for entry in data["user"]]
    spec = data["project"]
    existing = Project.objects.filter(slug=spec["slug"]).first()
    if existing and not reset:
        added = add_missing_texts(existing, data, texts_dir) if texts_dir else 0
        return SeedResult(project=existing, created=False, users=user_roles, texts_added=added)
    if existing:
        existing.delete()

    project = Project.objects.create(
        slug=spec["slug"],
        name=spec["name"],
        description=spec.get("description", ""),
        students_see_history=spec.get("students_see_history", False),
    )
    for username, role in user_roles:
        Membership.objects.create(user=users[username], project=project, role=role)

    people = {}
    for entry in data["person"]:
        person = Person.objects.create(
            project=project,
            kind=entry.get("kind", "person"),
            display_name=entry["display_name"],
            family=entry.get("family", ""),
            given=entry.get("given", ""),
            literal=entry.get("literal", ""),
            description=entry.get("description", ""),
        )
        for variant in entry.get("variants", []):
            person.add_variant(variant)
        people[entry["key"]] = person

    sources = {}
    for entry in data["source"]:
        year, month, day = parse_issued(entry.get("issued", ""))
        full_text = ""
        if texts_dir and entry.get("text_file"):
            text_path = Path(texts_dir) / entry["text_file"]
            if text_path.exists():
                full_text = text_path.read_text(encoding="utf-8")
        source = Source.objects.create(
            project=project,
            citation_key=entry["key"],
            csl_type=entry["csl_type"],
            title=entry["title"],
            container_title=entry.get("container_title", ""),
            publisher=entry.get("publisher", ""),
            publisher_place=entry.get("publisher_place", ""),
            genre=entry.get("genre", ""),
            issued_year=year,
            issued_month=month,
            issued_day=day,
            language=entry.get("language", ""),
            url=entry.get("url", ""),
            abstract=entry.get("abstract", ""),
            full_text=full_text,
        )
        for identifier in entry.get("identifiers", []):
            source.add_identifier(identifier["scheme"], identifier["value"])
        where = f"Source {entry['key']}"
        for contributor in entry.get("contributors", []):
            person = _lookup(people, contributor["person"], "person", where)
            source.add_contributor(person, role=contributor.get("role", "author"))
        sources[entry["key"]] = source

    concepts = {}
    for entry in data["concept"]:
        where = f"Concept {entry['key']}"
        concepts[entry["key"]] = Concept.objects.create(
            project=project,
            name=entry["name"],
            definition=entry.get("definition", ""),
            parent=_lookup(concepts, entry["parent"], "concept", where)
            if entry.get("parent")
            else None,
            originator=(
                _lookup(people, entry["originator"], "person", where)
                if entry.get("originator")
                else None
            ),
        )

    claims = {}
    supervisor = next(users[u] for u, role in user_roles if role == "supervisor")
    for entry in data["claim"]:
        claims[entry["key"]] = Claim.objects.create(
            project=project, statement=entry["statement"], kind=entry["kind"], created_by=supervisor
        )
    for entry in data.get("claim_relation", []):
        where = f"Claim relation {entry['from']} → {entry['to']}"
        source_claim = _lookup(claims, entry["from"], "claim", where)
        source_claim.relate(_lookup(claims, entry["to"], "claim", where), entry["kind"])

    for index, entry in enumerate(data["annotation"]):
        _load_annotation(
            entry,
            index=index,
            project=project,
            users=users,
            reviewer=supervisor,
            sources=sources,
            people=people,
            concepts=concepts,
            claims=claims,
        )
    adopt_stored_texts(project.pk)
    if "coding" in data:
        load_coding_round(data, project=project, users=users, supervisor=supervisor)
    return SeedResult(project=project, created=True, users=user_roles)


# The double-coded round happens a month after the review's first passages.
CODING_START = SEED_START + datetime.timedelta(days=30)


def load_coding_round(
    data: dict[str, Any], *, project: Project, users: dict[str, User], supervisor: User
) -> None:
    """The fixture's double-coded round, played through the agreement app's own actions:
    assigned, coded blind, marked done, compared, and one conflict resolved."""
    from apps.agreement import coding, report
    from apps.agreement.models import Assignment, Unit

    spec = data["coding"]
    where = "The coding round"
    source = Source.objects.get(project=project, citation_key=spec["source"])
    coders = [_lookup(users, name, "user", where) for name in spec["coders"]]
    assignment = coding.assign(
        project=project,
        title=spec["title"],
        ranges=[coding.Range(source, spec.get("start"), spec.get("end"))],
        coders=coders,
        variables=spec["variables"],
        due_date=(CODING_START + datetime.timedelta(days=14)).date(),
        tolerance=spec.get("tolerance", 10),
        by=supervisor,
    )
    Assignment.objects.filter(pk=assignment.pk).update(created_at=CODING_START)
    assignment.created_at = CODING_START
    bases = {entry["key"]: entry for entry in data["annotation"]}
    coded: dict[tuple[str, str], Annotation] = {}
    for index, entry in enumerate(spec.get("passage", []), start=1):
        base = _lookup(bases, entry["like"], "annotation", where)
        author = _lookup(users, entry["coder"], "user", where)
        start, end = base.get("start"), base.get("end")
        quote = base["quote"]
        if entry.get("end_shift") and end is not None:
            end += entry["end_shift"]
            quote = quote[: len(quote) + entry["end_shift"]]
        when = CODING_START + datetime.timedelta(hours=index)
        annotation = Annotation.objects.create(
            project=project, source=source, author=author, quote=quote,
            prefix=base.get("prefix", ""), start=start, end=end, locator=base["locator"],
            note=f"Coded blind for “{spec['title']}”.", created_at=when, status_changed_at=when,
        )  # fmt: skip
        claims = Claim.objects.filter(project=project)
        if not entry.get("no_claims"):
            Evidence.objects.bulk_create(
                Evidence(
                    annotation=annotation,
                    claim=claims.get(statement=_claim_statement(data, link["claim"])),
                    stance=entry.get("stance", link["stance"]),
                )
                for link in base.get("evidence", [])
            )
        Mention.objects.bulk_create(
            Mention(
                annotation=annotation,
                person=Person.objects.get(
                    project=project, display_name=_person_name(data, link["person"])
                ),
                function=link.get("function", "mentioning"),
            )
            for link in base.get("mentions", [])
        )
        annotation.concepts.set(
            Concept.objects.filter(
                project=project,
                name__in=[_concept_name(data, key) for key in base.get("concepts", [])],
            )
        )
        retally(None, Counted.of(annotation.pk))
        annotation.record_revision(by=author)
        coded[entry["coder"], entry["like"]] = annotation
    for coder in coders:
        coding.mark_done(assignment=assignment, coder=coder)
    coding.compare(assignment=assignment, by=supervisor)
    # As the comparison job does: the report's figures stored with the comparison.
    report.store(Assignment.objects.with_list_data().get(pk=assignment.pk))
    resolution = spec.get("resolution")
    if resolution:
        chosen = coded[resolution["choose"], resolution["like"]]
        unit = Unit.objects.get(assignment=assignment, passages__annotation=chosen)
        coding.resolve(
            unit=unit,
            by=supervisor,
            kind="picked",
            passage=unit.passages.get(annotation=chosen),
            seen_version=unit.version,
            reason=resolution["reason"],
            comment=resolution["comment"],
        )


def _claim_statement(data: dict[str, Any], key: str) -> str:
    return _lookup({e["key"]: e["statement"] for e in data["claim"]}, key, "claim", "Coding")


def _person_name(data: dict[str, Any], key: str) -> str:
    return _lookup({e["key"]: e["display_name"] for e in data["person"]}, key, "person", "Coding")


def _concept_name(data: dict[str, Any], key: str) -> str:
    return _lookup({e["key"]: e["name"] for e in data["concept"]}, key, "concept", "Coding")


def _load_annotation(
    entry: dict[str, Any],
    *,
    index: int,
    project: Project,
    users: dict[str, User],
    reviewer: User,
    sources: dict[str, Source],
    people: dict[str, Person],
    concepts: dict[str, Concept],
    claims: dict[str, Claim],
) -> Annotation:
    where = f"Annotation {entry['key']}"
    created = SEED_START + datetime.timedelta(hours=7 * index)
    author = _lookup(users, entry["author"], "user", where)
    annotation = Annotation.objects.create(
        project=project,
        source=_lookup(sources, entry["source"], "source", where),
        author=author,
        quote=entry["quote"],
        prefix=entry.get("prefix", ""),
        suffix=entry.get("suffix", ""),
        start=entry.get("start"),
        end=entry.get("end"),
        locator=entry["locator"],
        page_label=entry.get("page_label", ""),
        note=entry.get("note", ""),
        created_at=created,
        status_changed_at=created,
    )
    annotation.concepts.set(
        [_lookup(concepts, key, "concept", where) for key in entry.get("concepts", [])]
    )
    Evidence.objects.bulk_create(
        Evidence(
            annotation=annotation,
            claim=_lookup(claims, link["claim"], "claim", where),
            stance=link["stance"],
        )
        for link in entry.get("evidence", [])
    )
    Mention.objects.bulk_create(
        Mention(
            annotation=annotation,
            person=_lookup(people, link["person"], "person", where),
            work=_lookup(sources, link["work"], "source", where) if link.get("work") else None,
            function=link.get("function", "mentioning"),
        )
        for link in entry.get("mentions", [])
    )
    # Counted as save_content counts a new annotation; the transitions below move it on.
    retally(None, Counted.of(annotation.pk))
    annotation.record_revision(by=author)

    # Replay the review history that leads to the fixture's status.
    status = entry["status"]
    steps: list[tuple[str, User, dict[str, str]]] = []
    if status != Status.DRAFT:
        steps.append((ReviewAction.SUBMIT, author, {}))
    if status == Status.APPROVED:
        steps.append((ReviewAction.APPROVE, reviewer, {}))
    elif status in {Status.CHANGES_REQUESTED, Status.REJECTED}:
        action = (
            ReviewAction.REQUEST_CHANGES
            if status == Status.CHANGES_REQUESTED
            else ReviewAction.REJECT
        )
        decision = {"reason": entry["review_reason"], "comment": entry["review_comment"]}
        steps.append((action, reviewer, decision))
    for step, (action, actor, decision) in enumerate(steps, start=1):
        annotation.transition(
            action,
            by=actor,
            at=created + datetime.timedelta(hours=2 * step, days=step - 1),
            **decision,
        )
    return annotation

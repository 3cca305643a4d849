"""Keeping the tallies (see the models at the end of apps/annotations/models.py) current.

Every change of what an annotation counts for — its status, its withdrawal, its links — goes
through `Counted.before(...)` and `retally(before, after)` in the same transaction, which adds
+1/−1 to the rows it touches (an upsert, so concurrent changes add up instead of overwriting
each other). Bulk loads (the corpus generator, a project import) call `recount(project)`
instead, and `manage.py recount_tallies` repairs a project whose tallies were written by code
that bypassed both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.db import connection, models, transaction
from django.db.models import Count, Q

from apps.accounts.models import Membership, Project
from apps.accounts.policy import tally_scope
from apps.annotations.models import (
    Annotation,
    ClaimTally,
    ConceptTally,
    Evidence,
    Mention,
    PersonTally,
    ProjectTally,
    SourceTally,
    Stance,
    Status,
)

PRO = frozenset({Stance.ASSERTS, Stance.SUPPORTS})
CON = frozenset({Stance.CONTRADICTS})
Coding = Annotation.concepts.through


@dataclass(frozen=True)
class Counted:
    """What one annotation counts for, at one moment."""

    project_id: int
    source_id: int
    approved: bool
    visible: bool
    waiting: bool
    concepts: frozenset[int] = frozenset()
    people: frozenset[int] = frozenset()
    claims: frozenset[tuple[int, str]] = frozenset()  # (claim, stance)

    @classmethod
    def of(cls, annotation_id: int, *, lock: bool = False) -> Counted:
        """The annotation as stored now, with its links (four small queries); `lock` takes
        its row's lock first."""
        rows = Annotation.objects.filter(pk=annotation_id)
        if lock:
            rows = rows.select_for_update()
        row = rows.values("project_id", "source_id", "status", "withdrawn_at").get()
        return cls(
            project_id=row["project_id"],
            source_id=row["source_id"],
            **flags(row["status"], row["withdrawn_at"] is not None),
            concepts=frozenset(
                Coding.objects.filter(annotation_id=annotation_id).values_list(
                    "concept_id", flat=True
                )
            ),
            people=frozenset(
                Mention.objects.filter(annotation_id=annotation_id).values_list(
                    "person_id", flat=True
                )
            ),
            claims=frozenset(
                Evidence.objects.filter(annotation_id=annotation_id).values_list(
                    "claim_id", "stance"
                )
            ),
        )

    def with_state(self, status: str, withdrawn: bool) -> Counted:
        return replace(self, **flags(status, withdrawn))


def flags(status: str, withdrawn: bool) -> dict[str, bool]:
    return {
        "approved": status == Status.APPROVED and not withdrawn,
        "visible": not withdrawn,
        "waiting": status == Status.SUBMITTED and not withdrawn,
    }


def retally(before: Counted | None, after: Counted | None) -> None:
    """Move the tallies from what `before` counted for to what `after` counts for (None: the
    annotation did not exist / no longer exists)."""
    retally_many([(before, after)])


def retally_many(changes: Iterable[tuple[Counted | None, Counted | None]]) -> None:
    """retally() for many annotations of one project at once: the changes are added up first,
    so a batch costs a few statements, not a few per annotation."""
    deltas: dict[type, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    contested: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    waiting = 0
    project_id = None
    for counted, sign in (
        (counted, sign) for before, after in changes for counted, sign in ((before, -1), (after, 1))
    ):
        if counted is None:
            continue
        if project_id is None:
            project_id = counted.project_id
        elif counted.project_id != project_id:
            raise ValueError("retally_many() takes the annotations of one project.")
        for scope, counts in enumerate((counted.approved, counted.visible)):
            if not counts:
                continue
            deltas[ProjectTally][project_id][scope] += sign
            deltas[SourceTally][counted.source_id][scope] += sign
            for concept in counted.concepts:
                deltas[ConceptTally][concept][scope] += sign
            for person in counted.people:
                deltas[PersonTally][person][scope] += sign
            for claim in {claim for claim, _ in counted.claims}:
                deltas[ClaimTally][claim][scope] += sign
        if counted.waiting:
            waiting += sign
        if counted.approved:
            for claim, stance in counted.claims:
                if stance in PRO:
                    contested[claim][0] += sign
                elif stance in CON:
                    contested[claim][1] += sign
    if project_id is None:
        return
    for model, rows in deltas.items():
        _bump(model, project_id, {pk: d for pk, d in rows.items() if d != [0, 0]})
    changed = {pk: d for pk, d in contested.items() if d != [0, 0]}
    if changed:
        _bump(ClaimTally, project_id, changed, fields=("approved_for", "approved_against"))
    if waiting:
        _bump(ProjectTally, project_id, {project_id: [waiting]}, fields=("waiting",))


def passages_seen(membership: Membership) -> int | None:
    """How many passages of the project this member sees, read from the project's tally (one
    row), or None when no tally counts exactly that (see `tally_scope`)."""
    scope = tally_scope(membership)
    if scope is None:
        return None
    row = ProjectTally.objects.filter(project_id=membership.project_id).values_list(scope)
    return next(iter(row), (0,))[0]


def counted_many(annotations: models.QuerySet) -> dict[int, Counted]:
    """`Counted.of` for every annotation of `annotations`, in four queries."""
    ids = annotations.values("pk")
    links: dict[str, dict[int, set]] = {"concepts": defaultdict(set), "people": defaultdict(set),
                                        "claims": defaultdict(set)}  # fmt: skip
    for pk, concept in Coding.objects.filter(annotation_id__in=ids).values_list(
        "annotation_id", "concept_id"
    ):
        links["concepts"][pk].add(concept)
    for pk, person in Mention.objects.filter(annotation_id__in=ids).values_list(
        "annotation_id", "person_id"
    ):
        links["people"][pk].add(person)
    for pk, claim, stance in Evidence.objects.filter(annotation_id__in=ids).values_list(
        "annotation_id", "claim_id", "stance"
    ):
        links["claims"][pk].add((claim, stance))
    return {
        row["pk"]: Counted(
            project_id=row["project_id"],
            source_id=row["source_id"],
            **flags(row["status"], row["withdrawn_at"] is not None),
            concepts=frozenset(links["concepts"][row["pk"]]),
            people=frozenset(links["people"][row["pk"]]),
            claims=frozenset(links["claims"][row["pk"]]),
        )
        for row in annotations.values("pk", "project_id", "source_id", "status", "withdrawn_at")
    }


def _bump(
    model: type[models.Model],
    project_id: int,
    rows: dict[int, list[int]],
    fields: tuple[str, ...] = ("approved", "visible"),
) -> None:
    """Add to the tallies of `rows` ({pk: [Δ of each field]}), creating missing rows:
    INSERT … ON CONFLICT DO UPDATE adds, so two transactions never lose each other's +1 (the
    row lock orders them). Rows are taken in key order, so they lock in the same order."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    key = quote(model._meta.pk.column)
    names = [quote(name) for name in fields]
    has_project = model is not ProjectTally
    columns = [key, *([quote("project_id")] if has_project else []), *names]
    values, params = [], []
    for pk in sorted(rows):
        values.append("(" + ", ".join(["%s"] * len(columns)) + ")")
        params.extend([pk, *([project_id] if has_project else []), *rows[pk]])
    added = ", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(values)} "
            f"ON CONFLICT ({key}) DO UPDATE SET {added}",
            params,
        )


# --- Recounting -------------------------------------------------------------------------------

APPROVED = Q(annotation__status=Status.APPROVED)
SHOWN = Q(annotation__withdrawn_at__isnull=True)


@transaction.atomic
def recount(project: Project) -> None:
    """Count every tally of `project` again from its annotations (after a bulk load, or to
    repair). Grows with the project: never on a request."""
    for model in (SourceTally, ConceptTally, PersonTally, ClaimTally, ProjectTally):
        model.objects.filter(project=project).delete()
    annotations = Annotation.objects.filter(project=project, withdrawn_at__isnull=True)
    approved = Q(status=Status.APPROVED)
    totals = annotations.aggregate(
        visible=Count("pk"),
        approved=Count("pk", filter=approved),
        waiting=Count("pk", filter=Q(status=Status.SUBMITTED)),
    )
    ProjectTally.objects.create(project=project, **totals)
    by_source = (
        annotations.values("source_id")
        .annotate(visible=Count("pk"), approved=Count("pk", filter=approved))
        .order_by()
    )
    SourceTally.objects.bulk_create(
        SourceTally(project=project, **row) for row in by_source.iterator(chunk_size=5000)
    )
    in_project = Q(annotation__project=project) & SHOWN
    counts = {"visible": Count("annotation_id", distinct=True),
              "approved": Count("annotation_id", distinct=True, filter=APPROVED)}  # fmt: skip
    for model, links, field in (
        (ConceptTally, Coding.objects, "concept_id"),
        (PersonTally, Mention.objects, "person_id"),
    ):
        rows = links.filter(in_project).values(field).annotate(**counts).order_by()
        model.objects.bulk_create(
            model(project=project, **row) for row in rows.iterator(chunk_size=5000)
        )
    claims = (
        Evidence.objects.filter(in_project)
        .values("claim_id")
        .annotate(
            **counts,
            approved_for=Count("pk", filter=APPROVED & Q(stance__in=PRO)),
            approved_against=Count("pk", filter=APPROVED & Q(stance__in=CON)),
        )
        .order_by()
    )
    ClaimTally.objects.bulk_create(
        ClaimTally(project=project, **row) for row in claims.iterator(chunk_size=5000)
    )


def recount_sources(source_ids: list[int]) -> None:
    """Count these sources' passages again (after passages moved between sources)."""
    for source_id in sorted(source_ids):
        annotations = Annotation.objects.filter(source_id=source_id, withdrawn_at__isnull=True)
        counts = annotations.aggregate(
            visible=Count("pk"), approved=Count("pk", filter=Q(status=Status.APPROVED))
        )
        project_id = (
            Annotation.objects.filter(source_id=source_id).values_list("project_id", flat=True)
        ).first()
        if project_id is None:
            SourceTally.objects.filter(source_id=source_id).delete()
            continue
        SourceTally.objects.update_or_create(
            source_id=source_id, defaults={"project_id": project_id, **counts}
        )

"""Keeping the tallies (see the models at the end of apps/annotations/models.py) current.

Every change of what an annotation counts for — its status, its withdrawal, its links — goes
through `Counted.before(...)` and `retally(before, after)` in the same transaction, which adds
+1/−1 to the rows it touches (an upsert, so concurrent changes add up instead of overwriting
each other). Bulk loads (the corpus generator, a project import) call `recount(project)`
instead, and `manage.py recount_tallies` repairs a project whose tallies were written by code
that bypassed both.

The co-citation tallies (`CitedTally`, `PairTally`) are kept by the same step: what a source
cites moves by the annotation's change, and a person or work that the source starts (stops)
citing at a level joins (leaves) a pair with each other one it cites at that level. That step
reads the source's current cited rows before adding to them, so it holds the project row's lock
(`hold`), which every writer of a project takes first: two passages of one source changing at
once are counted one after the other, and neither misses the other's person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.db import connection, models, transaction
from django.db.models import Count, F, Q

from apps.accounts.models import Membership, Project
from apps.accounts.policy import tally_scope
from apps.accounts.sync import hold
from apps.annotations.models import (
    Annotation,
    CitedKind,
    CitedTally,
    ClaimTally,
    ConceptTally,
    Evidence,
    Mention,
    PairTally,
    PersonTally,
    ProjectTally,
    SourceTally,
    Stance,
    Status,
)
from apps.library.models import Source

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
    works: frozenset[int] = frozenset()  # the works (sources) its mentions name

    @classmethod
    def of(cls, annotation_id: int, *, lock: bool = False) -> Counted:
        """The annotation as stored now, with its links (four small queries); `lock` takes
        its row's lock first."""
        rows = Annotation.objects.filter(pk=annotation_id)
        if lock:
            rows = rows.select_for_update()
        row = rows.values("project_id", "source_id", "status", "withdrawn_at").get()
        mentions = list(
            Mention.objects.filter(annotation_id=annotation_id).values_list("person_id", "work_id")
        )
        return cls(
            project_id=row["project_id"],
            source_id=row["source_id"],
            **flags(row["status"], row["withdrawn_at"] is not None),
            concepts=frozenset(
                Coding.objects.filter(annotation_id=annotation_id).values_list(
                    "concept_id", flat=True
                )
            ),
            people=frozenset(person for person, _ in mentions),
            works=frozenset(work for _, work in mentions if work),
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
    cited: dict[tuple[int, str, int], list[int]] = defaultdict(lambda: [0, 0])
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
            for kind, ids in ((CitedKind.PEOPLE, counted.people), (CitedKind.WORKS, counted.works)):
                for pk in ids:
                    cited[(counted.source_id, kind, pk)][scope] += sign
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
    cited = {key: d for key, d in cited.items() if d != [0, 0]}
    with transaction.atomic(savepoint=False):  # the caller's transaction, or one of its own
        if cited:
            # Before any tally row's lock, as every writer (see `_move_cited`).
            hold(project_id)
        for model, rows in deltas.items():
            _bump(model, project_id, {pk: d for pk, d in rows.items() if d != [0, 0]})
        changed = {pk: d for pk, d in contested.items() if d != [0, 0]}
        if changed:
            _bump(ClaimTally, project_id, changed, fields=("approved_for", "approved_against"))
        if waiting:
            _bump(ProjectTally, project_id, {project_id: [waiting]}, fields=("waiting",))
        if cited:
            _move_cited(project_id, cited)


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
    links: dict[str, dict[int, set]] = {
        name: defaultdict(set) for name in ("concepts", "people", "claims", "works")
    }
    for pk, concept in Coding.objects.filter(annotation_id__in=ids).values_list(
        "annotation_id", "concept_id"
    ):
        links["concepts"][pk].add(concept)
    for pk, person, work in Mention.objects.filter(annotation_id__in=ids).values_list(
        "annotation_id", "person_id", "work_id"
    ):
        links["people"][pk].add(person)
        if work:
            links["works"][pk].add(work)
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
            works=frozenset(links["works"][row["pk"]]),
        )
        for row in annotations.values("pk", "project_id", "source_id", "status", "withdrawn_at")
    }


def _bump(
    model: type[models.Model],
    project_id: int,
    rows: dict,
    fields: tuple[str, ...] = ("approved", "visible"),
    key: tuple[str, ...] = (),
) -> None:
    """Add to the tallies of `rows` ({pk: [Δ of each field]}, or {(key values): [Δ…]} with the
    columns of a unique `key`), creating missing rows: INSERT … ON CONFLICT DO UPDATE adds, so
    two transactions never lose each other's +1 (the row lock orders them). Rows are taken in
    key order, so they lock in the same order."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    keys = [quote(name) for name in key] or [quote(model._meta.pk.column)]
    names = [quote(name) for name in fields]
    has_project = model is not ProjectTally
    columns = [*keys, *([quote("project_id")] if has_project else []), *names]
    added = ", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in names)
    ordered = sorted(rows)
    for at in range(0, len(ordered), 1000):
        values, params = [], []
        for pk in ordered[at : at + 1000]:
            values.append("(" + ", ".join(["%s"] * len(columns)) + ")")
            params.extend([*(pk if key else [pk]), *([project_id] if has_project else []),
                           *rows[pk]])  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(values)} "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}",
                params,
            )


# --- Co-citation ------------------------------------------------------------------------------

# {(source, kind): {cited: [approved, visible]}}: what sources cite, at the two levels.
CitedBySource = dict[tuple[int, str], dict[int, list[int]]]


def _move_cited(project_id: int, deltas: dict[tuple[int, str, int], list[int]]) -> None:
    """Add `deltas` ({(source, kind, cited): [Δapproved, Δvisible]}) to the cited tallies and
    the pairs they make. The caller holds the project row's lock."""
    before = _stored_cited({source for source, _, _ in deltas})
    after = {
        key: {pk: list(counts) for pk, counts in cited.items()} for key, cited in before.items()
    }
    for (source, kind, pk), delta in deltas.items():
        counts = after.setdefault((source, kind), {}).setdefault(pk, [0, 0])
        counts[0] += delta[0]
        counts[1] += delta[1]
    _replace_cited(project_id, before, after)


def _stored_cited(sources: Iterable[int]) -> CitedBySource:
    found: CitedBySource = defaultdict(dict)
    for source, kind, pk, approved, visible in CitedTally.objects.filter(
        source_id__in=sorted(sources)
    ).values_list("source_id", "kind", "cited", "approved", "visible"):
        found[(source, kind)][pk] = [approved, visible]
    return found


def _replace_cited(
    project_id: int, before: CitedBySource, after: CitedBySource, gone: frozenset[int] = frozenset()
) -> None:
    """Move the cited tallies from `before` to `after`, and each pair by the sources that start
    or stop citing both (at each level). `gone`: deleted sources, whose cited rows went with
    them (their pairs still move)."""
    cited: dict[tuple[int, str, int], list[int]] = {}
    pairs: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for source, kind in before.keys() | after.keys():
        old, new = before.get((source, kind), {}), after.get((source, kind), {})
        for pk in old.keys() | new.keys():
            delta = [b - a for a, b in zip(old.get(pk, (0, 0)), new.get(pk, (0, 0)), strict=True)]
            if delta != [0, 0] and source not in gone:
                cited[(source, kind, pk)] = delta
        for level in (0, 1):
            was = {pk for pk, counts in old.items() if counts[level] > 0}
            now = {pk for pk, counts in new.items() if counts[level] > 0}
            for pair in _pairs_with(now, now - was):
                pairs[(kind, *pair)][level] += 1
            for pair in _pairs_with(was, was - now):
                pairs[(kind, *pair)][level] -= 1
    pairs = {key: delta for key, delta in pairs.items() if delta != [0, 0]}
    _bump(CitedTally, project_id, cited, key=("source_id", "kind", "cited"))
    _bump(PairTally, project_id, pairs, key=("kind", "first", "second"))
    # Rows at 0 go: a source citing nobody, a pair no source cites any more.
    emptied = {source for (source, _, _), delta in cited.items() if delta[1] < 0}
    if emptied:
        CitedTally.objects.filter(source_id__in=sorted(emptied), visible__lte=0).delete()
    for kind in CitedKind.values:
        firsts = {first for (k, first, _), delta in pairs.items() if k == kind and delta[1] < 0}
        if firsts:
            PairTally.objects.filter(kind=kind, first__in=sorted(firsts), visible__lte=0).delete()


def _pairs_with(members: set[int], new: set[int]) -> Iterator[tuple[int, int]]:
    """The pairs (first < second) of `members` that have at least one member in `new`."""
    for one in new:
        for other in members:
            if other != one and (other not in new or one < other):
                yield (one, other) if one < other else (other, one)


@contextmanager
def moving_citations(project_id: int, source_ids: Iterable[int]) -> Iterator[None]:
    """Around a change that moves passages or cited works between sources without the tallies'
    step (a merge of sources): what these sources, and the sources citing them as works, cite
    is counted again after it, and their pairs move by the difference."""
    with transaction.atomic(savepoint=False):
        hold(project_id)  # before reading what the change will move, as every writer
        ids = set(source_ids)
        citing_them = Mention.objects.filter(work_id__in=sorted(ids)).values_list(
            "annotation__source_id", flat=True
        )
        touched = ids | set(citing_them)
        before = _stored_cited(touched)
        yield
        after = _counted_cited(touched)
        remaining = set(Source.objects.filter(pk__in=sorted(touched)).values_list("pk", flat=True))
        _replace_cited(project_id, before, after, gone=frozenset(touched - remaining))


def _counted_cited(sources: set[int]) -> CitedBySource:
    """What these sources cite, counted from their passages (bounded by the sources)."""
    found: CitedBySource = defaultdict(dict)
    for kind, rows in _cited_counts(Q(annotation__source_id__in=sorted(sources)) & SHOWN).items():
        for row in rows:
            found[(row["annotation__source_id"], kind)][row["cited"]] = [
                row["approved"],
                row["visible"],
            ]
    return found


def _cited_counts(condition: Q) -> dict[str, models.QuerySet]:
    """Per (source, person) and (source, work): the passages citing, at both levels."""
    counts = {"visible": Count("annotation_id", distinct=True),
              "approved": Count("annotation_id", distinct=True, filter=APPROVED)}  # fmt: skip
    return {
        kind: Mention.objects.filter(condition & extra)
        .values("annotation__source_id")
        .annotate(cited=F(field))
        .values("annotation__source_id", "cited")
        .annotate(**counts)
        .order_by()
        for kind, field, extra in (
            (CitedKind.PEOPLE, "person_id", Q()),
            (CitedKind.WORKS, "work_id", Q(work__isnull=False)),
        )
    }


def recount_cocitation(project: Project) -> None:
    """Count the cited tallies and the pairs of `project` again from its mentions."""
    CitedTally.objects.filter(project=project).delete()
    PairTally.objects.filter(project=project).delete()
    quote = connection.ops.quote_name
    cited_table = quote(CitedTally._meta.db_table)
    with connection.cursor() as cursor:
        for kind, rows in _cited_counts(Q(annotation__project=project) & SHOWN).items():
            sql, params = rows.query.sql_with_params()
            cursor.execute(
                f"INSERT INTO {cited_table} (project_id, kind, source_id, cited, visible, approved)"
                f" SELECT %s, %s, counted.* FROM ({sql}) AS counted",
                [project.pk, kind, *params],
            )
        if connection.vendor == "postgresql":
            # Statistics for the rows just written, so the self-join below is planned as a
            # hash join (without them PostgreSQL takes the table as empty).
            cursor.execute(f"ANALYZE {cited_table}")
        # A pair per two people (works) one source cites, counted over the sources.
        cursor.execute(
            f"""
            INSERT INTO {quote(PairTally._meta.db_table)}
                (project_id, kind, {quote("first")}, {quote("second")}, approved, visible)
            SELECT %s, a.kind, a.cited, b.cited,
                SUM(CASE WHEN a.approved > 0 AND b.approved > 0 THEN 1 ELSE 0 END), COUNT(*)
            FROM {cited_table} a
            JOIN {cited_table} b
                ON b.source_id = a.source_id AND b.kind = a.kind AND b.cited > a.cited
            WHERE a.project_id = %s
            GROUP BY a.kind, a.cited, b.cited
            ORDER BY a.kind, a.cited, b.cited  -- in the unique index's order: half the time
            """,
            [project.pk, project.pk],
        )


# --- Recounting -------------------------------------------------------------------------------

APPROVED = Q(annotation__status=Status.APPROVED)
SHOWN = Q(annotation__withdrawn_at__isnull=True)


@transaction.atomic
def recount(project: Project, *, cocitation: bool = True) -> None:
    """Count every tally of `project` again from its annotations (after a bulk load, or to
    repair). Grows with the project: never on a request. (`cocitation=False`: for a migration
    older than the co-citation tallies.)"""
    if cocitation:
        recount_cocitation(project)
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

"""The double-coding round as actions: assign, mark done, compare, resolve.

Each action checks its rules on locked rows and raises AgreementError with a message for the
user when they refuse; nothing is written then. Keyword-only functions, since they cross the
annotations and review workflow (STYLE: services only where a workflow crosses apps).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.accounts.models import Membership, Project, ProjectError, Role, User
from apps.accounts.sync import bump
from apps.agreement import blindness
from apps.agreement.models import (
    AssignedSource,
    Assignment,
    AssignmentCoder,
    AssignmentState,
    CodedPassage,
    CoderState,
    Resolution,
    ResolutionKind,
    Unit,
    UnitOutcome,
    Variable,
)
from apps.annotations.models import Annotation, ReasonCode, ReviewAction, TransitionError
from apps.claims.models import Claim, Concept
from apps.library.models import Source
from apps.people.models import Person


class AgreementError(Exception):
    """An action of the double-coding round that the rules refuse; the message is for the user."""


class StaleUnit(AgreementError):
    def __init__(self, seen: int, current: int) -> None:
        super().__init__(
            f"This unit changed since you opened it (you saw version {seen}, it is now version "
            f"{current}): someone resolved it meanwhile. Read it again before you decide."
        )


ACTIVE = (CoderState.ASSIGNED, CoderState.IN_PROGRESS, CoderState.DONE)


# --- Assigning -----------------------------------------------------------------------------------


@dataclass
class Range:
    source: Source
    start: int | None = None
    end: int | None = None


def assign(
    *,
    project: Project,
    title: str,
    ranges: list[Range],
    coders: list[User],
    variables: list[str],
    due_date: datetime.date | None,
    tolerance: int,
    by: User,
) -> Assignment:
    """A new open assignment of `ranges` to `coders`, who must be analysts of the project and
    may not already code one of these sources in another open assignment."""
    if len(set(coders)) < 2:
        raise AgreementError("Choose at least two coders: agreement needs two views.")
    if not ranges:
        raise AgreementError("Choose at least one source.")
    unknown = [v for v in variables if v not in Variable.values]
    if unknown or not variables:
        raise AgreementError("Choose which variables count.")
    with transaction.atomic():
        Project.lock_for_typed_rows(project.pk)
        roles = dict(
            Membership.objects.filter(project=project, user__in=coders).values_list(
                "user_id", "role"
            )
        )
        for coder in coders:
            if roles.get(coder.pk) != Role.ANALYST:
                raise AgreementError(
                    f"{coder.username} is not an analyst of this project; only analysts code."
                )
        for item in ranges:
            if item.source.project_id != project.pk:
                raise AgreementError("A source of another project cannot be assigned.")
        taken = (
            AssignedSource.objects.filter(
                assignment__project=project,
                assignment__state=AssignmentState.OPEN,
                source__in=[r.source for r in ranges],
                assignment__coders__coder__in=coders,
                assignment__coders__state__in=ACTIVE,
            )
            .values_list(
                "source__title", "assignment__title", "assignment__coders__coder__username"
            )
            .first()
        )
        if taken:
            source, other, username = taken
            raise AgreementError(
                f"“{source}” is already assigned to {username} in the open assignment “{other}”; "
                "a coder codes a source in one open assignment at a time."
            )
        assignment = Assignment.objects.create(
            project=project,
            title=title,
            due_date=due_date,
            variables=[v for v in Variable.values if v in variables],
            tolerance=tolerance,
            created_by=by,
        )
        AssignedSource.objects.bulk_create(
            AssignedSource(assignment=assignment, source=r.source, start=r.start, end=r.end)
            for r in ranges
        )
        AssignmentCoder.objects.bulk_create(
            AssignmentCoder(assignment=assignment, coder=coder) for coder in dict.fromkeys(coders)
        )
        blindness.refresh(project.pk)
    return assignment


# --- What a coder coded --------------------------------------------------------------------------


def scope_q(assignment: Assignment, ranges: Iterable[AssignedSource]) -> Q:
    """The passages inside the assignment: on its sources (within its ranges), made since it
    was created, not withdrawn."""
    whole = [r.source_id for r in ranges if r.start is None]
    places = Q(source_id__in=whole)
    for r in ranges:
        if r.start is not None:
            places |= Q(source_id=r.source_id, start__lt=r.end, end__gt=r.start)
    return places & Q(
        project_id=assignment.project_id,
        created_at__gte=assignment.created_at,
        withdrawn_at__isnull=True,
    )


def progress(assignment: Assignment) -> dict[int, int]:
    """Passages coded so far, per coder (user id): counts only, never content."""
    ranges = list(assignment.sources.all())
    coders = [c.coder_id for c in assignment.coders.all()]
    rows = (
        Annotation.objects.filter(scope_q(assignment, ranges), author_id__in=coders)
        .values("author_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys(coders, 0)
    counts.update({row["author_id"]: row["n"] for row in rows})
    return counts


def mark_done(*, assignment: Assignment, coder: User) -> int:
    """Lock the coder's work in the assignment: their passages as they are now become the
    frozen data compared and measured. Returns the number of passages."""
    with transaction.atomic():
        row = (
            AssignmentCoder.objects.select_for_update()
            .filter(assignment=assignment, coder=coder)
            .first()
        )
        if row is None:
            raise AgreementError("You are not a coder of this assignment.")
        current = Assignment.objects.get(pk=assignment.pk)
        if row.state == CoderState.DONE:
            raise AgreementError("Your work in this assignment is already done and locked.")
        if current.state != AssignmentState.OPEN:
            raise AgreementError(finished(current))
        if row.state == CoderState.DROPPED:
            raise AgreementError("You were taken off this assignment.")
        ranges = list(current.sources.all())
        passages = (
            Annotation.objects.filter(scope_q(current, ranges), author=coder)
            .with_links()
            .order_by("source_id", "start", "pk")
        )
        CodedPassage.objects.bulk_create(
            CodedPassage(
                coder=row,
                annotation=a,
                annotation_version=a.version,
                source_id=a.source_id,
                start=a.start,
                end=a.end,
                quote=a.quote,
                locator=a.locator,
                claims=sorted([e.claim_id, e.stance] for e in a.evidence.all()),
                people=sorted([m.person_id, m.work_id or 0, m.function] for m in a.mentions.all()),
                concepts=sorted(c.pk for c in a.concepts.all()),
            )
            for a in passages
        )
        row.state, row.done_at = CoderState.DONE, timezone.now()
        row.save(update_fields=["state", "done_at"])
        # The last coder done: supervisors see the coders' passages again.
        blindness.refresh(current.project_id)
        return row.passages.count()


# --- Comparing -----------------------------------------------------------------------------------


@dataclass
class Cluster:
    start: int | None
    end: int | None
    by_coder: dict[int, CodedPassage] = field(default_factory=dict)


def align(passages: list[CodedPassage], tolerance: int) -> list[Cluster]:
    """Group one source's passages into units: a passage joins the unit it overlaps most (or
    whose span it matches within the tolerance) that has none of its coder's yet. Passages
    without a place in the text are grouped by their exact quote."""
    clusters: list[Cluster] = []
    placed = sorted(
        (p for p in passages if p.start is not None), key=lambda p: (p.start, p.end, p.coder_id)
    )
    active: list[Cluster] = []
    for p in placed:
        active = [c for c in active if c.end + tolerance >= p.start]
        best, best_overlap = None, -1
        for c in active:
            if p.coder_id in c.by_coder:
                continue
            overlap = min(c.end, p.end) - max(c.start, p.start)
            close = abs(c.start - p.start) <= tolerance and abs(c.end - p.end) <= tolerance
            if (overlap > 0 or close) and overlap > best_overlap:
                best, best_overlap = c, overlap
        if best is None:
            best = Cluster(p.start, p.end)
            clusters.append(best)
            active.append(best)
        best.by_coder[p.coder_id] = p
    by_quote: dict[str, list[Cluster]] = defaultdict(list)
    for p in passages:
        if p.start is not None:
            continue
        home = next((c for c in by_quote[p.quote] if p.coder_id not in c.by_coder), None)
        if home is None:
            home = Cluster(None, None)
            by_quote[p.quote].append(home)
            clusters.append(home)
        home.by_coder[p.coder_id] = p
    return clusters


def outcome_of(cluster: Cluster, coders: list[int], assignment: Assignment) -> str:
    if set(cluster.by_coder) != set(coders):
        return UnitOutcome.ONLY_SOME
    versions = list(cluster.by_coder.values())
    if cluster.start is not None:
        starts = [p.start for p in versions]
        ends = [p.end for p in versions]
        if max(starts) - min(starts) > assignment.tolerance:
            return UnitOutcome.DISAGREED
        if max(ends) - min(ends) > assignment.tolerance:
            return UnitOutcome.DISAGREED
    for variable in (Variable.CLAIMS, Variable.PEOPLE, Variable.CONCEPTS):
        counted = variable in assignment.variables
        if counted and len({repr(getattr(p, variable)) for p in versions}) > 1:
            return UnitOutcome.DISAGREED
    return UnitOutcome.AGREED


def compare(*, assignment: Assignment, by: User) -> dict[str, int]:
    """Align the frozen passages of every coder into units; merge the complete agreements into
    one annotation each, submitted for review; withdraw the coders' own annotations (the ledger
    says why). Only when every coder still in the sample is done."""
    with transaction.atomic():
        current = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if current.state != AssignmentState.OPEN:
            raise AgreementError(finished(current))
        coders = list(current.coders.filter(state__in=ACTIVE))
        waiting = [c for c in coders if c.state != CoderState.DONE]
        if waiting:
            raise AgreementError(
                f"{len(waiting)} coder{'s' if len(waiting) != 1 else ''} not done yet: the "
                "comparison waits until every coder has marked their work done."
            )
        if len(coders) < 2:
            raise AgreementError(
                "Fewer than two coders are left: there is nothing to compare. Close the "
                "assignment without measuring: the passages go on in review as they are."
            )
        coder_ids = [c.pk for c in coders]
        passages = list(
            CodedPassage.objects.filter(coder__in=coders).select_related("coder__coder")
        )
        by_source: dict[int, list[CodedPassage]] = defaultdict(list)
        for p in passages:
            by_source[p.source_id].append(p)
        counts = dict.fromkeys(UnitOutcome.values, 0)
        units: list[Unit] = []
        clusters: list[Cluster] = []
        for source_id in sorted(by_source):
            for cluster in align(by_source[source_id], current.tolerance):
                outcome = outcome_of(cluster, coder_ids, current)
                counts[outcome] += 1
                units.append(
                    Unit(
                        assignment=current,
                        source_id=source_id,
                        number=len(units) + 1,
                        start=cluster.start,
                        end=cluster.end,
                        outcome=outcome,
                    )
                )
                clusters.append(cluster)
        # In bulk: thousands of units and passages are a few statements, not one each. The
        # merged annotations first, so that the units are written with them.
        merges = [
            (unit, cluster)
            for unit, cluster in zip(units, clusters, strict=True)
            if unit.outcome == UnitOutcome.AGREED
        ]
        _merge_all(merges, title=current.title)
        Unit.objects.bulk_create(units, batch_size=1000)
        for unit, cluster in zip(units, clusters, strict=True):
            for p in cluster.by_coder.values():
                p.unit = unit
        _set_units(passages)
        Annotation.objects.filter(pk__in=[p.annotation_id for p in passages]).withdraw_all(
            by=by, comment=f"Compared in “{current.title}”."
        )
        current.state, current.compared_at = AssignmentState.COMPARED, timezone.now()
        current.save(update_fields=["state", "compared_at"])
        blindness.refresh(current.project_id)
    return counts


def _merge_all(merges: list[tuple[Unit, Cluster]], *, title: str) -> None:
    """One new annotation per complete agreement, with the first coder's span and the links
    they all gave, submitted for review with a ledger row saying whose agreement it is: made
    in bulk, with their revisions and tallies, as save_content and a submission would."""
    from apps.annotations.models import AnnotationRevision, ReviewEvent, Status
    from apps.annotations.tallies import Counted, retally_many

    if not merges:
        return
    firsts = [cluster.by_coder[min(cluster.by_coder)] for _, cluster in merges]
    originals = Annotation.objects.in_bulk([p.annotation_id for p in firsts])
    claim_ids = {c for p in firsts for c, _ in p.claims}
    person_ids = {x for p in firsts for x, _, _ in p.people}
    work_ids = {w for p in firsts for _, w, _ in p.people if w}
    concept_ids = {c for p in firsts for c in p.concepts}
    statements = dict(Claim.objects.filter(pk__in=claim_ids).values_list("pk", "statement"))
    names = dict(Person.objects.filter(pk__in=person_ids).values_list("pk", "display_name"))
    works = dict(Source.objects.filter(pk__in=work_ids).values_list("pk", "title"))
    concepts = dict(Concept.objects.filter(pk__in=concept_ids).values_list("pk", "name"))
    now = timezone.now()
    made = []
    for p in firsts:
        original = originals[p.annotation_id]
        made.append(
            Annotation(
                project_id=original.project_id, source_id=p.source_id,
                author_id=p.coder.coder_id, status=Status.SUBMITTED, status_changed_at=now,
                quote=p.quote, prefix=original.prefix, suffix=original.suffix, start=p.start,
                end=p.end, page_label=original.page_label, page_index=original.page_index,
                locator=p.locator, anchor_state=original.anchor_state,
                anchor_score=original.anchor_score, anchored_version=original.anchored_version,
                # The same note, so its sanitised rendering is the same too.
                note=original.note, note_html=original.note_html,
                updated_by_id=p.coder.coder_id, created_at=now,
                # Written without save(): stamped for API clients' sync (apps.accounts.sync).
                library_version=bump(original.project_id),
            )
        )  # fmt: skip
    Annotation.objects.bulk_create(made, batch_size=500)
    Evidence = Annotation.claims.through
    Mention = Annotation.people.through
    Coding = Annotation.concepts.through
    Evidence.objects.bulk_create(
        (Evidence(annotation=a, claim_id=c, stance=stance)
         for a, p in zip(made, firsts, strict=True) for c, stance in p.claims),
        batch_size=1000,
    )  # fmt: skip
    Mention.objects.bulk_create(
        (Mention(annotation=a, person_id=x, work_id=w or None, function=f)
         for a, p in zip(made, firsts, strict=True) for x, w, f in p.people),
        batch_size=1000,
    )  # fmt: skip
    Coding.objects.bulk_create(
        (Coding(annotation=a, concept_id=c)
         for a, p in zip(made, firsts, strict=True) for c in p.concepts),
        batch_size=1000,
    )  # fmt: skip
    AnnotationRevision.objects.bulk_create(
        (
            AnnotationRevision(
                annotation=a, version=1, edited_by_id=p.coder.coder_id, created_at=now,
                content={
                    "quote": p.quote, "locator": p.locator, "page_label": a.page_label,
                    "note": a.note,
                    "claims": sorted([c, statements.get(c, ""), s] for c, s in p.claims),
                    "people": sorted(
                        [x, names.get(x, ""), w or 0, works.get(w, "") if w else "", f]
                        for x, w, f in p.people
                    ),
                    "concepts": sorted([c, concepts.get(c, "")] for c in p.concepts),
                },
            )
            for a, p in zip(made, firsts, strict=True)
        ),
        batch_size=500,
    )  # fmt: skip
    ReviewEvent.objects.bulk_create(
        (
            ReviewEvent(
                annotation=a, actor_id=a.author_id, action=ReviewAction.SUBMIT,
                from_status=Status.DRAFT, to_status=Status.SUBMITTED,
                comment=(
                    f"Complete agreement of {_coder_names(cluster)} in “{title}” "
                    f"(unit {unit.number}), merged when compared."
                ),
                annotation_version=1, created_at=now,
            )
            for a, (unit, cluster) in zip(made, merges, strict=True)
        ),
        batch_size=500,
    )  # fmt: skip
    retally_many(
        [
            (None, Counted(
                project_id=a.project_id, source_id=a.source_id, approved=False, visible=True,
                waiting=True, concepts=frozenset(p.concepts),
                people=frozenset(x for x, _, _ in p.people),
                claims=frozenset((c, s) for c, s in p.claims),
                works=frozenset(w for _, w, _ in p.people if w),
            ))
            for a, p in zip(made, firsts, strict=True)
        ]
    )  # fmt: skip
    for annotation, (unit, _) in zip(made, merges, strict=True):
        unit.result = annotation


def _set_units(passages: list[CodedPassage]) -> None:
    """Write each passage's unit: a plain CASE per thousand passages, where bulk_update()
    would build and resolve an expression per row (seconds of Python for 8,000 passages)."""
    quote = connection.ops.quote_name
    table, pk, unit = (quote(CodedPassage._meta.db_table), quote("id"), quote("unit_id"))
    with connection.cursor() as cursor:
        for first in range(0, len(passages), 1000):
            batch = passages[first : first + 1000]
            whens = " ".join(["WHEN %s THEN CAST(%s AS BIGINT)"] * len(batch))
            cursor.execute(
                f"UPDATE {table} SET {unit} = CASE {pk} {whens} END "
                f"WHERE {pk} IN ({', '.join(['%s'] * len(batch))})",
                [*(x for p in batch for x in (p.pk, p.unit_id)), *(p.pk for p in batch)],
            )


def _coder_names(cluster: Cluster) -> str:
    return ", ".join(
        p.coder.coder.username for p in sorted(cluster.by_coder.values(), key=lambda p: p.coder_id)
    )


def _annotation_from(passage: CodedPassage, *, author: User, comment: str) -> Annotation:
    """A new annotation with a frozen passage's span and links (the original stays as it is),
    submitted for review."""
    original = Annotation.objects.get(pk=passage.annotation_id)
    claims = Claim.objects.in_bulk([c for c, _ in passage.claims])
    people = Person.objects.in_bulk([p for p, _, _ in passage.people])
    works = Source.objects.in_bulk([w for _, w, _ in passage.people if w])
    annotation = Annotation(
        project_id=original.project_id,
        source_id=passage.source_id,
        author=author,
        quote=passage.quote,
        prefix=original.prefix,
        suffix=original.suffix,
        start=passage.start,
        end=passage.end,
        page_label=original.page_label,
        page_index=original.page_index,
        locator=passage.locator,
        anchor_state=original.anchor_state,
        anchor_score=original.anchor_score,
        anchored_version=original.anchored_version,
        note=original.note,
        updated_by=author,
    )
    annotation.save_content(
        evidence=[{"claim": claims[c], "stance": s} for c, s in passage.claims if c in claims],
        mentions=[
            {"person": people[p], "work": works.get(w), "function": f}
            for p, w, f in passage.people
            if p in people
        ],
        concepts=list(Concept.objects.filter(pk__in=passage.concepts)),
        by=author,
    )
    annotation.transition(ReviewAction.SUBMIT, by=author, comment=comment)
    return annotation


def merged(versions: list[CodedPassage], *, span: CodedPassage) -> CodedPassage:
    """One version made of several (not saved; the originals are not changed): the span,
    quote and place of `span`, and every claim, person and concept any of them linked. Where
    they give one claim different stances, or one person (and work) different functions, the
    version whose span is kept decides, else the first coder's."""
    ordered = [span, *(v for v in versions if v.pk != span.pk)]
    claims: dict[int, str] = {}
    people: dict[tuple[int, int], str] = {}
    concepts: set[int] = set()
    for version in ordered:
        for claim, stance in version.claims:
            claims.setdefault(claim, stance)
        for person, work, function in version.people:
            people.setdefault((person, work), function)
        concepts |= set(version.concepts)
    return CodedPassage(
        coder=span.coder,
        annotation_id=span.annotation_id,
        annotation_version=span.annotation_version,
        source_id=span.source_id,
        start=span.start,
        end=span.end,
        quote=span.quote,
        locator=span.locator,
        claims=sorted([c, s] for c, s in claims.items()),
        people=sorted([p, w, f] for (p, w), f in people.items()),
        concepts=sorted(concepts),
    )


def _withdraw(annotation_id: int, *, by: User, comment: str) -> None:
    annotation = Annotation.objects.get(pk=annotation_id)
    if annotation.is_withdrawn:
        return
    annotation.transition(ReviewAction.WITHDRAW, by=by, comment=comment)


# --- Resolving -----------------------------------------------------------------------------------


def resolve(
    *,
    unit: Unit,
    by: User,
    kind: str,
    seen_version: int,
    passage: CodedPassage | None = None,
    written: Annotation | None = None,
    reason: str = "",
    comment: str = "",
) -> Resolution:
    """Decide a unit: accept the merged agreement, choose one coder's version, merge the
    versions (the span of `passage`, the links of all), or put a version the resolver wrote in
    its place. Never by one of the assignment's coders; a reason and a
    comment unless a complete agreement is accepted. The chosen or written version is
    approved by the resolver (their decision is the review); the coders' versions stay."""
    comment = comment.strip()
    with transaction.atomic():
        current = Unit.objects.select_for_update().select_related("assignment").get(pk=unit.pk)
        if current.version != seen_version:
            raise StaleUnit(seen_version, current.version)
        if current.is_resolved:
            raise AgreementError("This unit is already resolved.")
        if current.assignment.coders.filter(coder=by).exists():
            raise AgreementError(
                "You coded this assignment, so you cannot resolve its units; another "
                "supervisor must."
            )
        if kind != ResolutionKind.ACCEPTED and (reason not in ReasonCode.values or not comment):
            raise AgreementError("Give a reason and a comment for this resolution.")
        if kind == ResolutionKind.ACCEPTED:
            if current.outcome != UnitOutcome.AGREED or current.result_id is None:
                raise AgreementError("Only a complete agreement can be accepted as it is.")
            result = current.result
            approve_comment = comment or "Complete agreement accepted."
        elif kind == ResolutionKind.PICKED:
            if passage is None or passage.unit_id != current.pk:
                raise AgreementError("Choose one of the versions of this unit.")
            result = _annotation_from(
                passage,
                author=passage.coder.coder,
                comment=f"Chosen by {by.username} to resolve unit {current.number}.",
            )
            approve_comment = comment
        elif kind == ResolutionKind.MERGED:
            versions = list(
                current.passages.select_related("coder__coder").order_by("coder_id", "pk")
            )
            if passage is None or passage.unit_id != current.pk:
                raise AgreementError("Choose the version whose span the merge keeps.")
            if len(versions) < 2:
                raise AgreementError(
                    "Only one coder coded this unit: there is nothing to merge; choose their "
                    "version instead."
                )
            names = ", ".join(p.coder.coder.username for p in versions)
            result = _annotation_from(
                merged(versions, span=passage),
                author=passage.coder.coder,
                comment=(
                    f"Merged by {by.username} from the versions of {names} (the span of "
                    f"{passage.coder.coder.username}'s) to resolve unit {current.number}."
                ),
            )
            approve_comment = comment
        elif kind == ResolutionKind.WRITTEN:
            if (
                written is None
                or written.author_id != by.pk
                or written.source_id != current.source_id
                or written.is_withdrawn
            ):
                raise AgreementError(
                    "Give the number of a passage you wrote on this unit's source."
                )
            result = written
            approve_comment = comment
        else:
            raise AgreementError("Choose how to resolve this unit.")
        if result.status != "approved":
            try:
                if result.status in ("draft", "changes_requested"):
                    result.transition(ReviewAction.SUBMIT, by=result.author)
                if result.author_id != by.pk:
                    result.transition(ReviewAction.APPROVE, by=by, comment=approve_comment)
            except TransitionError as error:
                raise AgreementError(str(error)) from None
        if current.result_id and current.result_id != result.pk:
            _withdraw(
                current.result_id,
                by=by,
                comment=f"Replaced when unit {current.number} was resolved.",
            )
        resolution = Resolution.objects.create(
            unit=current,
            kind=kind,
            chosen=passage if kind in (ResolutionKind.PICKED, ResolutionKind.MERGED) else None,
            by=by,
            reason=reason if kind != ResolutionKind.ACCEPTED else "",
            comment=comment,
            unit_version=current.version,
            result_version=Annotation.objects.filter(pk=result.pk)
            .values_list("version", flat=True)
            .get(),
        )
        Unit.objects.filter(pk=current.pk).update(
            result=result, version=current.version + 1, resolved_at=resolution.created_at
        )
    unit.refresh_from_db()
    return resolution


def accept_agreements(*, assignment: Assignment, by: User) -> tuple[int, list[str]]:
    """Accept every unresolved complete agreement of the assignment, each in the version the
    page showed is not needed: an agreement has no versions to choose from."""
    accepted, refused = 0, []
    units = assignment.units.filter(outcome=UnitOutcome.AGREED, resolved_at__isnull=True)
    for unit in units:
        try:
            resolve(unit=unit, by=by, kind=ResolutionKind.ACCEPTED, seen_version=unit.version)
        except AgreementError as error:
            refused.append(f"unit {unit.number}: {error}")
        else:
            accepted += 1
    return accepted, refused


# --- Closing without measuring -------------------------------------------------------------------


def finished(assignment: Assignment) -> str:
    if assignment.state == AssignmentState.CLOSED:
        return "This assignment is closed without measuring."
    return "This assignment is already compared."


def sample_key(coders: Iterable[AssignmentCoder]) -> str:
    """What a supervisor saw of the sample when they chose to close: the coders' rows and
    states. A close made on a page older than a change to the sample is refused."""
    return ",".join(f"{c.pk}:{c.state}" for c in sorted(coders, key=lambda c: c.pk)) or "none"


def close(*, assignment: Assignment, by: User, reason: str, seen: str) -> Assignment:
    """Finish an open assignment without measuring it: nothing is merged or withdrawn, the
    coders' passages go on in the ordinary review workflow as they are, and, no longer open,
    it hides nothing from anyone (blindness). With fewer than two coders left in the sample it
    is how the assignment ends, once those left are done; with two or more the supervisor
    abandons it (the review no longer needs it). `seen` is sample_key() of the page the
    supervisor decided on."""
    reason = reason.strip()
    if not reason:
        raise AgreementError("Say why the assignment is closed without measuring.")
    with transaction.atomic():
        # The project's version first, as every writer takes it (apps.accounts.sync), then the
        # assignment's row: a drop, a mark-done or a comparison waits or is refused.
        version = bump(assignment.project_id)
        current = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if current.state != AssignmentState.OPEN:
            raise AgreementError(finished(current))
        coders = list(current.coders.select_related("coder").filter(state__in=ACTIVE))
        if sample_key(coders) != seen:
            raise AgreementError(
                "The coders of this assignment changed since you opened it (someone was "
                "dropped, replaced or marked their work done): read it again before you close it."
            )
        waiting = [c.coder.username for c in coders if c.state != CoderState.DONE]
        if len(coders) < 2 and waiting:
            raise AgreementError(
                f"{waiting[0]} is not done yet: the assignment closes once they mark their work "
                "done, or once they are taken off it too."
            )
        # The passages the assignment hid from co-coders become visible to them: stamped, so
        # that API clients syncing since an earlier version receive them, and touched, so that
        # what a coder's pages cached while blind (co-citation, the map, the matrix's columns:
        # keyed on the latest edit, apps.xref.overview.project_stamp) is computed again.
        # Blindness hides all a co-coder wrote in the assignment's sources, from before it too.
        Annotation.objects.filter(
            project_id=current.project_id,
            source_id__in=current.sources.values("source_id"),
            author_id__in=current.coders.values("coder_id"),
        ).update(library_version=version, updated_at=timezone.now())
        current.state = AssignmentState.CLOSED
        current.closed_at, current.closed_by, current.close_reason = timezone.now(), by, reason
        current.save(update_fields=["state", "closed_at", "closed_by", "close_reason"])
        blindness.refresh(current.project_id)
    return current


# --- Members leaving -----------------------------------------------------------------------------


def drop_coder(
    *, assignment: Assignment, coder: User, replacement: User | None = None, why: str = ""
) -> None:
    """Take a coder off an open assignment: their passages leave the sample (the report counts
    one coder fewer), or another analyst takes over their place. `why` is kept with them and
    the report prints it."""
    why = why.strip()
    with transaction.atomic():
        current = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if current.state != AssignmentState.OPEN:
            raise AgreementError(f"{finished(current)} Its coders stay.")
        row = AssignmentCoder.objects.filter(assignment=current, coder=coder).first()
        if row is None or row.state == CoderState.DROPPED:
            raise AgreementError(f"{coder.username} is not coding this assignment.")
        if replacement is not None:
            if current.coders.filter(coder=replacement).exists():
                raise AgreementError(f"{replacement.username} already codes this assignment.")
            role = Membership.objects.filter(project_id=current.project_id, user=replacement)
            if role.values_list("role", flat=True).first() != Role.ANALYST:
                raise AgreementError(
                    f"{replacement.username} is not an analyst of this project; only analysts code."
                )
            AssignmentCoder.objects.create(assignment=current, coder=replacement)
            note = f"Replaced by {replacement.username}."
        else:
            note = "Dropped from the sample."
        if why:
            note = f"{note} {why}"[: AssignmentCoder._meta.get_field("note").max_length]
        row.passages.all().delete()
        row.state, row.note = CoderState.DROPPED, note
        row.save(update_fields=["state", "note"])
        # Dropping the last coder at work ends the blindness; a replacement keeps it.
        blindness.refresh(current.project_id)


def _open_places(member: Membership):
    """The member's places in open assignments of their project that are not done yet, each
    with how many coders the assignment has in the sample."""
    return (
        AssignmentCoder.objects.filter(
            coder_id=member.user_id,
            assignment__project_id=member.project_id,
            assignment__state=AssignmentState.OPEN,
            state__in=(CoderState.ASSIGNED, CoderState.IN_PROGRESS),
        )
        .select_related("assignment")
        .annotate(
            in_sample=Count(
                "assignment__coders", filter=Q(assignment__coders__state__in=ACTIVE), distinct=True
            )
        )
        .order_by("assignment__created_at", "pk")
    )


def open_coding(member: Membership) -> list[str]:
    """What a member leaving the project still codes (apps.accounts.leaving)."""
    lines = []
    for row in _open_places(member):
        line = f"Codes “{row.assignment.title}”, not done yet."
        if row.in_sample <= 2:
            line += (
                " Dropped, it would leave one coder: nothing would be compared or measured, and "
                "a supervisor closes the assignment once the others are done (their passages "
                "go on in review as they are). Another analyst taking over keeps it measured."
            )
        lines.append(line)
    return lines


def hand_over(member: Membership, *, replacement: User | None, by: User) -> list[str]:
    """Another analyst takes the leaving member's place in each open assignment, or they are
    dropped from its sample (drop_coder); all or nothing, inside the removal's transaction."""
    done = []
    for row in _open_places(member):
        try:
            drop_coder(
                assignment=row.assignment,
                coder=member.user,
                replacement=replacement,
                why="They left the project.",
            )
        except AgreementError as error:
            raise ProjectError(f"“{row.assignment.title}”: {error}") from None
        if replacement is not None:
            done.append(f"{replacement.username} codes “{row.assignment.title}” in their place.")
        else:
            done.append(
                f"They are dropped from the sample of “{row.assignment.title}”; its report "
                "counts one coder fewer."
            )
    return done

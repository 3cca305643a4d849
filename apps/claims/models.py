from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import ngettext

from apps.accounts.editing import Versioned
from apps.accounts.models import Membership, Project
from apps.accounts.policy import (
    APPROVED,
    Action,
    approved_annotations_q,
    can,
    tally_scope,
    visible_annotations_q,
)
from apps.accounts.references import MAX_CANDIDATES, Resolution, query_words, referenced_id
from apps.accounts.sync import Synced, SyncedPart, project_version, stamp
from apps.people.models import Person


class ClaimKind(models.TextChoices):
    THESIS = "thesis", "Thesis"
    FINDING = "finding", "Finding"
    PREDICTION = "prediction", "Prediction"
    DEFINITION = "definition", "Definition"
    INTERPRETATION = "interpretation", "Interpretation"
    EXPLANATION = "explanation", "Explanation"
    RECOMMENDATION = "recommendation", "Recommendation"


class RelationKind(models.TextChoices):
    SUPPORTS = "supports", "supports"
    CONTRADICTS = "contradicts", "contradicts"
    REFINES = "refines", "refines"
    DUPLICATES = "duplicates", "duplicates"


def visible_claims_q(membership: Membership, prefix: str = "") -> Q:
    """Which of a project's claims the member sees (see ClaimQuerySet.visible_to); `prefix`
    reaches them through a relation ("target__")."""
    if can(membership, Action.SEE_UNSUPPORTED_CLAIMS) and not membership.approved_only:
        return Q()
    return Q(**{f"{prefix}approved_evidence__gt": 0})


class ClaimQuerySet(models.QuerySet):
    def for_project(self, project: Project) -> ClaimQuerySet:
        return self.filter(project=project)

    def visible_to(self, membership: Membership) -> ClaimQuerySet:
        """Students (and anyone looking at approved work only) see a claim once some evidence
        they may see backs it."""
        return self.filter(visible_claims_q(membership), project_id=membership.project_id)

    def refresh_approved_evidence(self) -> int:
        """Recount `approved_evidence` for these claims from their evidence (the only record).

        Called in the transaction of every change it follows (an approval, a reopening, a
        withdrawal, a change of links). The claims' rows are locked first, in key order, and
        only then counted: under PostgreSQL's READ COMMITTED the count is a new statement, so
        it sees every change committed by a transaction that held the lock before, and the
        last of two racing changes counts both. (Counting inside the UPDATE alone would count
        with the snapshot taken before it waited for the lock, and lose the other's change.)
        FOR NO KEY UPDATE, so inserting evidence that points at a claim does not wait for it.
        """
        # claims sits below annotations, so Evidence is reached through the relation rather
        # than imported.
        with transaction.atomic():
            pks = list(
                self.model.objects.filter(pk__in=self.values("pk"))
                .select_for_update(no_key=True)
                .order_by("pk")
                .values_list("pk", "approved_evidence", "project_id")
            )
            if not pks:
                return 0
            claims = self.model.objects.filter(pk__in=[pk for pk, _, _ in pks])
            changed = claims._recount_approved_evidence()
            _note_visibility(pks, dict(claims.values_list("pk", "approved_evidence")))
            return changed

    def _recount_approved_evidence(self) -> int:
        evidence = self.model.evidence.field.model.objects
        counts = (
            evidence.filter(approved_annotations_q("annotation__"), claim=OuterRef("pk"))
            .order_by()
            .values("claim")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        # The count is shown with the claim (evidence_count): the claims are stamped with the
        # version the change that called this took (apps.accounts.sync.project_version).
        return self.update(
            approved_evidence=Coalesce(Subquery(counts), 0), library_version=project_version()
        )

    def typed_new(self, statement: str, *, project_id: int, kind: str, by) -> Claim:
        """The claim a link typed as "new" stands for: one with the same statement (case and
        spacing aside) if the project has it, perhaps made meanwhile by another request, else
        a new one. Decided under the project's lock, so it never multiplies."""
        statement = " ".join(statement.split())
        with transaction.atomic():
            Project.lock_for_typed_rows(project_id)
            same = (
                self.model.objects.filter(project_id=project_id, statement__iexact=statement)
                .order_by("pk")
                .first()
            )
            if same is not None:
                return same
            return self.model.objects.create(
                project_id=project_id, statement=statement, kind=kind, created_by=by, updated_by=by
            )

    def matching(self, words: str) -> ClaimQuerySet:
        claims = self
        for word in query_words(words):
            claims = claims.filter(statement__icontains=word)
        return claims

    def resolve_reference(self, text: str) -> Resolution:
        """ "#12", or the exact statement (case and spacing aside)."""
        pk = referenced_id(text)
        if pk is not None:
            return Resolution(match=self.filter(pk=pk).first())
        statement = " ".join(text.split())
        exact = list(self.filter(statement__iexact=statement)[:MAX_CANDIDATES])
        if len(exact) == 1:
            return Resolution(match=exact[0])
        return Resolution(candidates=exact or list(self.matching(statement)[:MAX_CANDIDATES]))

    def with_evidence_counts(self, membership: Membership) -> ClaimQuerySet:
        """`evidence_count`: evidence the member may see. A correlated subquery, so a paginated
        list only counts for the rows it shows; for approved work the stored count serves."""
        if membership.approved_only or not can(membership, Action.ANNOTATE):
            return self.annotate(evidence_count=F("approved_evidence"))
        evidence = (
            self.model.evidence.field.model.objects.filter(
                visible_annotations_q(membership, prefix="annotation__"), claim=OuterRef("pk")
            )
            .order_by()
            .values("claim")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(evidence_count=Coalesce(Subquery(evidence), 0))


def _note_visibility(before: list[tuple[int, int, int]], after: dict[int, int]) -> None:
    """Claims that lost their last approved evidence are gone for students: a tombstone tells
    their API clients (apps.accounts.sync); claims that gained it again drop that tombstone."""
    from apps.accounts.models import Tombstone, TombstoneReason
    from apps.accounts.sync import bump

    hidden = [(pk, project) for pk, count, project in before if count and not after.get(pk)]
    shown = [(pk, project) for pk, count, project in before if not count and after.get(pk)]
    if hidden:
        Tombstone.objects.bulk_create(
            Tombstone(
                project_id=project,
                kind="claim",
                object_id=pk,
                reason=TombstoneReason.UNAPPROVED,
                library_version=bump(project),
                approved=True,
            )
            for pk, project in hidden
        )
    if shown:
        Tombstone.objects.filter(
            project_id__in={project for _, project in shown},
            kind="claim",
            object_id__in=[pk for pk, _ in shown],
            reason=TombstoneReason.UNAPPROVED,
        ).delete()


class Claim(Synced, Versioned):
    """A proposition in the team's own words."""

    sync_kind = "claim"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="claims")
    statement = models.TextField()
    kind = models.CharField(max_length=20, choices=ClaimKind.choices, default=ClaimKind.THESIS)
    # How much approved evidence backs the claim: whether students see it. Derived from the
    # evidence (refresh_approved_evidence) whenever an annotation's approval changes, so lists
    # need not join every approved annotation to know it.
    approved_evidence = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["statement", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(statement=""), name="claim_statement_set"),
            models.CheckConstraint(condition=Q(kind__in=ClaimKind.values), name="claim_kind_valid"),
        ]
        indexes = [
            # API lists with ?since=: rows changed after a library version, by version then id.
            models.Index(fields=["project", "library_version", "id"], name="claim_project_synced"),
            # Claims list, filtered by kind.
            models.Index(fields=["project", "kind"], name="claim_project_kind"),
        ]

    def __str__(self) -> str:
        return self.statement

    def save(self, *args, **kwargs) -> None:
        """Saving an existing claim (an edit) writes everything but `approved_evidence`: the
        instance's count was read when the form opened, and an approval may have changed it
        since. Only refresh_approved_evidence() writes it."""
        if (
            not self._state.adding
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
            and not (args and args[0])
        ):
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "approved_evidence"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("xref:claim_detail", args=[self.project.slug, self.pk])

    def sync_audience(self) -> tuple[bool, int | None]:
        # Students see a claim once approved evidence backs it (ClaimQuerySet.visible_to).
        return self.approved_evidence > 0, None

    def relate(self, other: Claim, kind: str) -> ClaimRelation:
        relation, _ = ClaimRelation.objects.get_or_create(source=self, target=other, kind=kind)
        return relation

    def set_relations(self, relations: Iterable[tuple[str, Claim]]) -> None:
        """Replace this claim's outgoing relations by (kind, target) pairs."""
        stamp(Claim, self.pk, self.project_id)
        self.relations_out.all().delete()
        ClaimRelation.objects.bulk_create(
            ClaimRelation(source=self, target=target, kind=kind) for kind, target in relations
        )

    def references(self) -> list[str]:
        """What still points at this claim, e.g. "3 annotations (evidence)"; a claim is deleted
        only when this is empty. Its own outgoing relations go with it."""
        # Evidence belongs to a higher app (annotations): reached through the reverse accessor.
        annotations = self.evidence.values("annotation").distinct().count()
        claims = self.relations_in.values("source").distinct().count()
        found = []
        if annotations:
            found.append(
                ngettext("%(n)d annotation (evidence)", "%(n)d annotations (evidence)", annotations)
                % {"n": annotations}
            )
        if claims:
            found.append(
                ngettext("%(n)d claim (related to it)", "%(n)d claims (related to it)", claims)
                % {"n": claims}
            )
        return found


class ClaimRelation(SyncedPart):
    """A typed edge between two claims of the same project: source <kind> target."""

    sync_owner = "source"

    source = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="relations_out")
    target = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="relations_in")
    kind = models.CharField(max_length=20, choices=RelationKind.choices)

    class Meta:
        ordering = ["kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "kind"], name="claimrelation_unique"
            ),
            models.CheckConstraint(
                condition=~Q(source=F("target")), name="claimrelation_not_reflexive"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RelationKind.values), name="claimrelation_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.target}"

    def clean(self) -> None:
        # Missing claims are the form's "required" error, not ours.
        if self.source_id and self.target_id and self.source.project_id != self.target.project_id:
            raise ValidationError("Both claims must belong to the same project.")


class ConceptQuerySet(models.QuerySet):
    def for_project(self, project: Project) -> ConceptQuerySet:
        return self.filter(project=project)

    def coded_in(self, annotations: models.QuerySet) -> ConceptQuerySet:
        """The concepts these annotations are coded with, each with its number of `passages`."""
        return (
            self.filter(annotations__in=annotations.values("pk"))
            .annotate(passages=models.Count("annotations"))
            .order_by("-passages", "name")
        )

    def annotation_counts(self, membership: Membership) -> dict[int, int]:
        """{concept id: passages the member may see coded with it}, for these concepts.

        Read from the concepts' tallies, which the annotations app keeps current with every
        review decision and link change (`tally` is its reverse relation): approved work, or
        everything for supervisors. An analyst's own unapproved passages are added by counting
        them, which costs what their own backlog holds, not the project. While double coding
        hides the coders' passages from a supervisor, the tally would count them: counted.
        """
        sees_all = can(membership, Action.SEE_ALL_ANNOTATIONS)
        if sees_all and tally_scope(membership) is None:
            codings = self.model.annotations.through.objects
            return dict(
                codings.filter(
                    visible_annotations_q(membership, prefix="annotation__"),
                    concept__in=self.values("pk"),
                )
                .values("concept_id")
                .annotate(n=models.Count("annotation_id"))
                .values_list("concept_id", "n")
                .order_by()
            )
        if membership.approved_only or not can(membership, Action.ANNOTATE):
            scope, own = "approved", False
        else:
            scope, own = ("visible", False) if sees_all else ("approved", True)
        counts = {pk: n for pk, n in self.values_list("pk", f"tally__{scope}").order_by() if n}
        if own:
            codings = self.model.annotations.through.objects
            mine = (
                codings.filter(
                    annotation__project_id=membership.project_id,
                    annotation__author_id=membership.user_id,
                    annotation__withdrawn_at__isnull=True,
                    concept__in=self.values("pk"),
                )
                .exclude(annotation__status=APPROVED)
                .values("concept_id")
                .annotate(n=models.Count("annotation_id"))
                .values_list("concept_id", "n")
            )
            for pk, n in mine:
                counts[pk] = counts.get(pk, 0) + n
        return counts


class Concept(Synced, Versioned):
    """An entry of the team's codebook, optionally nested under a broader concept."""

    sync_kind = "concept"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="concepts")
    name = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    # The colour qualitative analysis tools show the code in (REFI-QDA's `color`), #rrggbb.
    colour = models.CharField(
        max_length=7,
        blank=True,
        validators=[
            RegexValidator(
                r"^#[0-9a-fA-F]{6}$", "A colour is # and six hexadecimal digits: #aa3300."
            )
        ],
        help_text="Optional, as #rrggbb (e.g. #aa3300): how REFI-QDA tools show the code.",
    )
    parent = models.ForeignKey(
        "self", on_delete=models.RESTRICT, null=True, blank=True, related_name="children"
    )
    originator = models.ForeignKey(
        Person,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="originated_concepts",
        help_text="The person the concept goes back to, e.g. Kaplan for the fifth wave.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConceptQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="concept_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="concept_name_set"),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="concept_not_own_parent"),
        ]
        indexes = [
            # API lists with ?since=: rows changed after a library version, by version then id.
            models.Index(
                fields=["project", "library_version", "id"], name="concept_project_synced"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("xref:concept_detail", args=[self.project.slug, self.pk])

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.project_id != self.project_id:
                raise ValidationError({"parent": "The parent belongs to another project."})
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": "A concept cannot sit below itself."})
            ancestor = ancestor.parent

    def references(self) -> list[str]:
        """What still points at this concept, e.g. "4 annotations (coded with it)"; a concept
        is deleted only when this is empty."""
        # Annotation.concepts would silently drop the coding on delete (a plain many-to-many),
        # so the count here is the only guard for it.
        annotations = self.annotations.count()
        children = self.children.count()
        found = []
        if annotations:
            found.append(
                ngettext(
                    "%(n)d annotation (coded with it)",
                    "%(n)d annotations (coded with it)",
                    annotations,
                )
                % {"n": annotations}
            )
        if children:
            found.append(
                ngettext(
                    "%(n)d concept (narrower, below it)",
                    "%(n)d concepts (narrower, below it)",
                    children,
                )
                % {"n": children}
            )
        return found


def concept_tree(concepts) -> list[tuple[Concept, int]]:
    """Concepts in codebook order: each parent followed by its children, with their depth."""
    by_parent: dict[int | None, list[Concept]] = {}
    for concept in concepts:
        by_parent.setdefault(concept.parent_id, []).append(concept)
    known = {c.pk for siblings in by_parent.values() for c in siblings}
    # A parent outside the given set (e.g. filtered away) makes its children roots.
    roots = [
        c
        for pid, siblings in by_parent.items()
        if pid is None or pid not in known
        for c in siblings
    ]
    tree: list[tuple[Concept, int]] = []
    stack = [(c, 0) for c in sorted(roots, key=lambda c: c.name.casefold(), reverse=True)]
    while stack:
        concept, depth = stack.pop()
        tree.append((concept, depth))
        children = sorted(
            by_parent.get(concept.pk, []), key=lambda c: c.name.casefold(), reverse=True
        )
        stack.extend((child, depth + 1) for child in children)
    return tree

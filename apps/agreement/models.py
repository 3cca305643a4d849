"""Double coding: assignments of sources to two or more analysts who code them blind, the
comparison of what they coded, the resolution of what they disagree on, and the data the
agreement report measures.

The coded passages are ordinary annotations by the coders. When a coder marks their work done,
what they coded inside the assignment is copied into `CodedPassage` rows: the frozen data the
comparison aligns and the report measures, whatever is edited later. Comparing groups the
passages into `Unit`s (aligned by span overlap); complete agreements are merged into one new
annotation at once, the other units wait for a supervisor's `Resolution`. The coders' own
annotations are then withdrawn through the review workflow (so the ledger says why), never
changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership, Project
from apps.annotations.models import Annotation, ReasonCode
from apps.library.models import Source


class Variable(models.TextChoices):
    """What the coders code and the report measures. Each is measured on the units that the
    span alignment made; `spans` (did they excerpt the same words) comes first."""

    SPANS = "spans", "Passage spans"
    CLAIMS = "claims", "Claim links with stance"
    PEOPLE = "people", "People cited with function"
    CONCEPTS = "concepts", "Concepts"


class AssignmentState(models.TextChoices):
    OPEN = "open", "Open: coders at work, blind"
    COMPARED = "compared", "Compared: units to resolve"
    # Finished without measuring: fewer than two coders were left in the sample, or a
    # supervisor abandoned it. Nothing is merged or withdrawn; the coders' passages go on in the
    # ordinary review workflow and, no longer open, the assignment hides nothing.
    CLOSED = "closed", "Closed without measuring"


class AssignmentQuerySet(models.QuerySet):
    def for_project(self, project: Project) -> AssignmentQuerySet:
        return self.filter(project=project)

    def open(self) -> AssignmentQuerySet:
        return self.filter(state=AssignmentState.OPEN)

    def visible_to(self, membership: Membership) -> AssignmentQuerySet:
        """Supervisors see every assignment of the project; analysts those they code."""
        from apps.accounts.policy import Action, can

        mine = self.filter(project_id=membership.project_id)
        if can(membership, Action.REVIEW):
            return mine
        return mine.filter(coders__coder_id=membership.user_id)

    def with_list_data(self) -> AssignmentQuerySet:
        return self.select_related("created_by", "closed_by").prefetch_related(
            models.Prefetch(
                "coders", queryset=AssignmentCoder.objects.select_related("coder").order_by("pk")
            ),
            models.Prefetch(
                "sources",
                queryset=AssignedSource.objects.select_related("source")
                .only("assignment_id", "start", "end", "source__id", "source__title")
                .order_by("pk"),
            ),
        )


class Assignment(models.Model):
    """Sources, or ranges of a source's text, that two or more analysts code blind."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    due_date = models.DateField(null=True, blank=True)
    # The variables that count (Variable values), in Variable's order.
    variables = models.JSONField(default=list)
    # Two passages are the same unit when their starts and their ends each differ by at most
    # this many characters.
    tolerance = models.PositiveSmallIntegerField(default=10)
    state = models.CharField(
        max_length=10, choices=AssignmentState.choices, default=AssignmentState.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    compared_at = models.DateTimeField(null=True, blank=True)
    # Who closed it without measuring, when and why (the coders in the sample then are the
    # coders' rows, which keep their states and the notes of those dropped).
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_reason = models.CharField(max_length=500, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=AssignmentState.values), name="assignment_state_valid"
            ),
            # A closed assignment says when it was closed; no other has a closing date.
            models.CheckConstraint(
                condition=Q(state=AssignmentState.CLOSED, closed_at__isnull=False)
                | (~Q(state=AssignmentState.CLOSED) & Q(closed_at__isnull=True)),
                name="assignment_closed_dated",
            ),
        ]
        indexes = [
            # The agreement page: a project's assignments, newest first.
            models.Index(fields=["project", "-created_at"], name="assignment_project_time"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("agreement:assignment_detail", args=[self.project.slug, self.pk])

    @property
    def is_open(self) -> bool:
        return self.state == AssignmentState.OPEN

    @property
    def is_closed(self) -> bool:
        return self.state == AssignmentState.CLOSED

    def coders_in_sample(self) -> list[AssignmentCoder]:
        """The coders not dropped (from the coders loaded with the assignment)."""
        return [c for c in self.coders.all() if c.state != CoderState.DROPPED]

    @property
    def is_stranded(self) -> bool:
        """Open with fewer than two coders left: it can only be closed without measuring."""
        return self.is_open and len(self.coders_in_sample()) < 2

    def variable_labels(self) -> list[str]:
        return [Variable(v).label for v in Variable.values if v in self.variables]


class AssignedSource(models.Model):
    """One source of an assignment, whole or a range of its stored text."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="sources")
    source = models.ForeignKey(Source, on_delete=models.RESTRICT, related_name="+")
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "source"], name="assignedsource_unique"),
            models.CheckConstraint(
                condition=(Q(start__isnull=True) & Q(end__isnull=True))
                | (Q(start__isnull=False) & Q(end__isnull=False) & Q(end__gt=F("start"))),
                name="assignedsource_range_valid",
            ),
        ]
        indexes = [
            # Blindness: the open assignments a source is in.
            models.Index(fields=["source", "assignment"], name="assignedsource_source"),
        ]

    def __str__(self) -> str:
        span = f" {self.start}–{self.end}" if self.start is not None else ""
        return f"{self.source_id}{span}"

    def holds(self, start: int | None, end: int | None) -> bool:
        """Whether a passage at start–end lies in this range (a whole source holds all)."""
        if self.start is None:
            return True
        return start is not None and start < self.end and end > self.start


class CoderState(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done (locked)"
    # Left the project or the assignment; their passages are not in the sample.
    DROPPED = "dropped", "Dropped from the sample"


class AssignmentCoder(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="coders")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coding"
    )
    state = models.CharField(max_length=12, choices=CoderState.choices, default=CoderState.ASSIGNED)
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "coder"], name="assignmentcoder_unique"),
            models.CheckConstraint(
                condition=Q(state__in=CoderState.values), name="assignmentcoder_state_valid"
            ),
        ]
        indexes = [
            # A coder's assignments (project home) and blindness (who codes with whom).
            models.Index(fields=["coder", "assignment"], name="assignmentcoder_coder"),
        ]

    def __str__(self) -> str:
        return f"{self.coder} in {self.assignment_id} ({self.state})"

    @property
    def is_locked(self) -> bool:
        return self.state in (CoderState.DONE, CoderState.DROPPED)


class UnitOutcome(models.TextChoices):
    AGREED = "agreed", "Complete agreement"
    DISAGREED = "disagreed", "Disagreement"
    ONLY_SOME = "only_some", "Coded by only one coder"


class UnitQuerySet(models.QuerySet):
    def visible_to(self, membership: Membership) -> UnitQuerySet:
        """Supervisors see every unit of the project; a coder the units holding a version of
        theirs (as the unit page allows); students none."""
        from apps.accounts.policy import Action, can

        mine = self.filter(assignment__project_id=membership.project_id)
        if can(membership, Action.REVIEW):
            return mine
        if not can(membership, Action.ANNOTATE):
            return mine.none()
        return mine.filter(
            models.Exists(
                CodedPassage.objects.filter(
                    unit_id=models.OuterRef("pk"), coder__coder_id=membership.user_id
                )
            )
        )

    def for_reader(self) -> UnitQuerySet:
        """What the reading view's list of units shows: outcome, place, resolution."""
        return (
            self.select_related("resolution")
            .only(
                "id", "assignment_id", "number", "start", "end", "outcome", "resolved_at",
                "resolution__id", "resolution__kind", "resolution__unit_id",
            )
            .order_by(models.F("start").asc(nulls_last=True), "assignment_id", "number")
        )  # fmt: skip


class Unit(models.Model):
    """Passages of the coders aligned by span overlap: what is compared and resolved."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="units")
    source = models.ForeignKey(Source, on_delete=models.RESTRICT, related_name="+")
    number = models.PositiveIntegerField()
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=UnitOutcome.choices)
    # The annotation that stands for the unit once merged or resolved.
    result = models.ForeignKey(
        Annotation, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    # Bumped by each resolution: a decision made on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["assignment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "number"], name="unit_unique_number"),
            models.CheckConstraint(
                condition=Q(outcome__in=UnitOutcome.values), name="unit_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"unit {self.number} of {self.assignment_id}"

    def get_absolute_url(self) -> str:
        return reverse(
            "agreement:unit_detail",
            args=[self.assignment.project.slug, self.assignment_id, self.pk],
        )

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def is_discrepant(self) -> bool:
        """The resolved passage was edited after the resolution (needs `result` and
        `resolution` loaded)."""
        if not self.is_resolved or self.result is None:
            return False
        decided = self.resolution.result_version
        return decided is not None and self.result.version != decided


class CodedPassage(models.Model):
    """A coder's passage as it was when they marked their work done: the frozen data."""

    coder = models.ForeignKey(AssignmentCoder, on_delete=models.CASCADE, related_name="passages")
    annotation = models.ForeignKey(Annotation, on_delete=models.RESTRICT, related_name="+")
    annotation_version = models.PositiveIntegerField()
    source = models.ForeignKey(Source, on_delete=models.RESTRICT, related_name="+")
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    quote = models.TextField()
    locator = models.CharField(max_length=60)
    # [[claim id, stance], …], [[person id, function], …], [concept id, …], each sorted.
    claims = models.JSONField(default=list)
    people = models.JSONField(default=list)
    concepts = models.JSONField(default=list)
    unit = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="passages"
    )

    class Meta:
        ordering = ["source", "start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["coder", "annotation"], name="codedpassage_unique_annotation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coder_id}: {self.quote[:40]}"


class ResolutionKind(models.TextChoices):
    ACCEPTED = "accepted", "Complete agreement accepted"
    PICKED = "picked", "One coder's version chosen"
    WRITTEN = "written", "A new version written"
    # The span of one version, with every claim, person and concept any version linked.
    MERGED = "merged", "Versions merged"


class Resolution(models.Model):
    """Append-only: how a supervisor who is not a coder resolved a unit, and why."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="resolution")
    kind = models.CharField(max_length=10, choices=ResolutionKind.choices)
    # The version chosen (picked), or whose span the merge took (merged).
    chosen = models.ForeignKey(
        CodedPassage, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=20, choices=ReasonCode.choices, blank=True)
    comment = models.TextField(blank=True)
    unit_version = models.PositiveIntegerField()
    # The version of the unit's result when it was resolved: an edit after that is a
    # discrepancy, shown as such rather than silently diverging from what was decided.
    result_version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ResolutionKind.values), name="resolution_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(reason="") | Q(reason__in=ReasonCode.values),
                name="resolution_reason_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.unit}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise TypeError("Resolutions are append-only.")
        super().save(*args, **kwargs)


class ReportSummary(models.Model):
    """The agreement report's figures of a compared assignment, written by the comparison job
    in its transaction: what a page shows without computing the bootstrap again after a
    restart or in another process.

    Nothing it holds goes stale: it is computed from the frozen passages and the units, which
    neither a resolution nor a later edit changes, and no coder leaves a compared assignment.
    The coders' names and the notes of those dropped are read live beside it; only `method`
    changing (the computation changed) makes it be computed again."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="+")
    method = models.PositiveSmallIntegerField()
    # How many units the comparison found of each outcome ({UnitOutcome value: count}).
    outcomes = models.JSONField()
    # Per counted variable, spans first: the figures VariableReport holds (apps.agreement.report).
    variables = models.JSONField()
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"report of {self.assignment_id}"

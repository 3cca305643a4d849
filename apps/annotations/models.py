from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone

from apps.accounts.editing import Versioned
from apps.accounts.models import Membership, Project, Tombstone, TombstoneReason
from apps.accounts.policy import Action, can, visible_annotations_q
from apps.accounts.sync import Synced, SyncedPart, bump, stamp
from apps.claims.models import Claim, Concept
from apps.library.models import Source, source_texts
from apps.library.richtext import render_markdown
from apps.people.models import Person

if TYPE_CHECKING:
    from apps.accounts.models import User

MAX_QUOTE_LENGTH = 5000
# Characters of context kept on each side of a quote (W3C TextQuoteSelector prefix/suffix).
CONTEXT_LENGTH = 32


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"


class ReviewAction(models.TextChoices):
    SUBMIT = "submit", "Submit for review"
    APPROVE = "approve", "Approve"
    REQUEST_CHANGES = "request_changes", "Request changes"
    REJECT = "reject", "Reject"
    REOPEN = "reopen", "Reopen"
    # Not status changes: a withdrawn annotation keeps its status, hidden until restored.
    WITHDRAW = "withdraw", "Withdraw"
    RESTORE = "restore", "Restore"


class AnchorState(models.TextChoices):
    """How an annotation's quote sits in its source's current text."""

    EXACT = "exact", "Exact"
    MOVED = "moved", "Moved"
    FUZZY = "fuzzy", "Fuzzy"
    AMBIGUOUS = "ambiguous", "Ambiguous"
    ORPHANED = "orphaned", "Orphaned"
    UNPLACED = "unplaced", "Not placed"


# States a reviewer should look at: the quote is not (or not certainly) where it was approved.
ANCHOR_WARNINGS = frozenset({AnchorState.FUZZY, AnchorState.AMBIGUOUS, AnchorState.ORPHANED})


class ReasonCode(models.TextChoices):
    MISQUOTED = "misquoted", "Misquoted"
    WRONG_LOCATOR = "wrong_locator", "Wrong locator"
    UNSUPPORTED_LINK = "unsupported_link", "Unsupported link"
    NOT_A_CLAIM = "not_a_claim", "Not a claim"
    DUPLICATE = "duplicate", "Duplicate"
    UNCLEAR_NOTE = "unclear_note", "Unclear note"
    OTHER = "other", "Other"


# The review workflow of DESIGN.md: (status, action) -> new status. Anything not listed is
# refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.DRAFT, ReviewAction.SUBMIT): Status.SUBMITTED,
    (Status.CHANGES_REQUESTED, ReviewAction.SUBMIT): Status.SUBMITTED,
    (Status.SUBMITTED, ReviewAction.APPROVE): Status.APPROVED,
    (Status.SUBMITTED, ReviewAction.REQUEST_CHANGES): Status.CHANGES_REQUESTED,
    (Status.SUBMITTED, ReviewAction.REJECT): Status.REJECTED,
    (Status.APPROVED, ReviewAction.REOPEN): Status.CHANGES_REQUESTED,
}
# A reviewer's decisions on someone else's work (four eyes: never on one's own).
DECISIONS = {ReviewAction.APPROVE, ReviewAction.REQUEST_CHANGES, ReviewAction.REJECT}
# Actions that send work back or stop it, and so must say why.
NEEDS_REASON = {ReviewAction.REQUEST_CHANGES, ReviewAction.REJECT, ReviewAction.REOPEN}
# What reviewers do to someone's work, as the author's inbox reports it.
REVIEWER_ACTIONS = {*DECISIONS, ReviewAction.REOPEN}
# The statuses in which the author may still change an annotation; approved work is locked.
EDITABLE = {Status.DRAFT, Status.CHANGES_REQUESTED}


class TransitionError(Exception):
    """A review action that is not allowed now; the message says why, for the user."""


class Stance(models.TextChoices):
    ASSERTS = "asserts", "asserts"
    SUPPORTS = "supports", "supports"
    CONTRADICTS = "contradicts", "contradicts"
    QUALIFIES = "qualifies", "qualifies"
    REPORTS = "reports", "reports"


class MentionFunction(models.TextChoices):
    """scite's citation functions."""

    SUPPORTING = "supporting", "supporting"
    CONTRASTING = "contrasting", "contrasting"
    MENTIONING = "mentioning", "mentioning"


# Characters of a quote the reading view's list shows (with an ellipsis when it is longer).
QUOTE_OPENING = 91
# The fields of a reading-view row (`AnnotationQuerySet.reader_rows()`), in this order, which
# is also that of the side list's compact rows reader.js reads.
READER_ROW = ("id", "start", "end", "locator", "status", "anchor_state", "anchor_score")


class AnnotationQuerySet(models.QuerySet):
    def for_project(self, project: Project) -> AnnotationQuerySet:
        return self.filter(project=project)

    def visible_to(self, membership: Membership) -> AnnotationQuerySet:
        return self.filter(visible_annotations_q(membership), project_id=membership.project_id)

    def approved(self) -> AnnotationQuerySet:
        return self.filter(status=Status.APPROVED)

    def withdrawn(self) -> AnnotationQuerySet:
        return self.filter(withdrawn_at__isnull=False)

    def own_work(self, membership: Membership) -> AnnotationQuerySet:
        """The member's own annotations that are not approved yet, with their review events
        (the latest decision says why one was sent back)."""
        return (
            self.filter(
                project_id=membership.project_id,
                author_id=membership.user_id,
                withdrawn_at__isnull=True,
            )
            .exclude(status=Status.APPROVED)
            .select_related("source")
            .defer(*source_texts("source__"))
            .prefetch_related(
                Prefetch("review_events", queryset=ReviewEvent.objects.select_related("actor"))
            )
            .order_by("status_changed_at", "pk")
        )

    def waiting_for_review(self) -> AnnotationQuerySet:
        """The review queue: submitted work, oldest first."""
        return self.filter(status=Status.SUBMITTED, withdrawn_at__isnull=True).order_by(
            "status_changed_at", "pk"
        )

    def in_text_order(self) -> AnnotationQuerySet:
        # Annotations without a text position (no stored full text) follow in creation order.
        return self.order_by(F("start").asc(nulls_last=True), "created_at", "pk")

    def with_links(self) -> AnnotationQuerySet:
        """The links an annotation row shows: evidence with claims, mentions with people and
        works, concepts."""
        return self.prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.select_related("claim")),
            Prefetch(
                "mentions",
                queryset=Mention.objects.select_related("person", "work").only(
                    "annotation_id",
                    "function",
                    "person__id",
                    "person__display_name",
                    "work__id",
                    "work__title",
                ),
            ),
            Prefetch("concepts", queryset=Concept.objects.only("id", "name")),
        )

    def reader_rows(self) -> models.QuerySet:
        """What the reading view shows of every passage of a source, as plain rows (a source
        may have thousands of passages: no model objects are built): READER_ROW and the opening
        of its quote. Notes and links wait until a passage is opened (`with_links()`); concepts
        come from `reader_concepts()`."""
        return self.annotate(quote_opening=Substr("quote", 1, QUOTE_OPENING)).values_list(
            *READER_ROW, "quote_opening"
        )

    def reader_concepts(self) -> models.QuerySet:
        """(annotation id, concept id, concept name) for every concept of these annotations:
        the reading view's colours and legend, in one query whatever the number of passages."""
        return (
            Annotation.concepts.through.objects.filter(annotation__in=self.values("pk"))
            .values_list("annotation_id", "concept_id", "concept__name")
            .order_by()
        )

    def with_list_data(self) -> AnnotationQuerySet:
        """Annotation rows shown out of their source: the source and author too."""
        return self.select_related("source", "author").defer(*source_texts("source__")).with_links()

    def withdraw_all(self, *, by: User, comment: str) -> int:
        """Withdraw these annotations at once, each with its ledger row, as `transition`
        withdraws one: for a bulk step of a background job (a double-coding comparison
        withdraws every coder's passage). Returns how many were withdrawn."""
        from apps.annotations.tallies import counted_many, retally_many

        with transaction.atomic():
            # The project's version first, before the rows' locks, as every writer takes them.
            projects = sorted(set(self.values_list("project_id", flat=True).order_by()))
            versions = {project: bump(project) for project in projects}
            rows = list(
                self.filter(withdrawn_at__isnull=True)
                .select_for_update()
                .values_list("pk", "status", "version", "project_id", "author_id")
            )
            if not rows:
                return 0
            ids = [pk for pk, *_ in rows]
            before = counted_many(Annotation.objects.filter(pk__in=ids))
            when = timezone.now()
            ReviewEvent.objects.bulk_create(
                ReviewEvent(
                    annotation_id=pk,
                    actor=by,
                    action=ReviewAction.WITHDRAW,
                    from_status=status,
                    to_status=status,
                    comment=comment.strip(),
                    annotation_version=version,
                    created_at=when,
                )  # fmt: skip
                for pk, status, version, _, _ in rows
            )
            for project, version in versions.items():
                Annotation.objects.filter(pk__in=ids, project_id=project).update(
                    withdrawn_at=when, withdrawn_by=by, library_version=version
                )
            # API clients learn that they are gone (apps.accounts.sync), as from `transition`.
            Tombstone.objects.bulk_create(
                Tombstone(
                    project_id=project,
                    kind=self.model.sync_kind,
                    object_id=pk,
                    reason=TombstoneReason.WITHDRAWN,
                    library_version=versions[project],
                    approved=status == Status.APPROVED,
                    author_id=author,
                )  # fmt: skip
                for pk, status, _, project, author in rows
            )
            approved = [pk for pk, status, *_ in rows if status == Status.APPROVED]
            if approved:
                Claim.objects.filter(
                    evidence__annotation_id__in=approved
                ).refresh_approved_evidence()
            retally_many([(c, c.with_state(c_status, True)) for c, c_status in (
                (before[pk], status) for pk, status, *_ in rows
            )])  # fmt: skip
        return len(rows)

    def with_sent_back_version(self) -> AnnotationQuerySet:
        """`sent_back_version`: the version last sent back for changes, so a list can tell
        which review actions each row allows (`allowed_actions`) without a query per row."""
        events = ReviewEvent.objects.filter(annotation=OuterRef("pk"))
        return self.annotate(sent_back_version=Subquery(_sent_back_versions(events)[:1]))


class Annotation(Synced, Versioned):
    """An excerpt of a source with the analyst's note and links: the unit of review.

    The target follows the W3C Web Annotation model: a TextQuoteSelector (quote with prefix
    and suffix), an optional TextPositionSelector (start/end in the source's stored text),
    a page label, and the human locator readers cite ("¶12", "p. 14").
    """

    sync_kind = "annotation"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="annotations")
    source = models.ForeignKey(Source, on_delete=models.RESTRICT, related_name="annotations")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # `version` (from Versioned) is bumped on every edit; a decision or an edit made on an older
    # version is refused.

    quote = models.TextField(help_text="The exact words of the source.")
    prefix = models.CharField(max_length=200, blank=True)
    suffix = models.CharField(max_length=200, blank=True)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    page_label = models.CharField(max_length=30, blank=True)
    page_index = models.PositiveIntegerField(null=True, blank=True)
    locator = models.CharField(max_length=60, help_text="Where a reader finds it: ¶12, p. 14.")
    # Where the quote was last found: the state, the match score of a fuzzy match (0–1), and
    # the source text version `start`/`end` count in. Re-anchoring never changes the quote.
    anchor_state = models.CharField(
        max_length=10, choices=AnchorState.choices, default=AnchorState.UNPLACED
    )
    anchor_score = models.FloatField(null=True, blank=True)
    anchored_version = models.PositiveIntegerField(null=True, blank=True)

    note = models.TextField(blank=True, help_text="Markdown.")
    # Derived from `note` on save by render_markdown(); the only copy ever marked safe.
    note_html = models.TextField(blank=True, editable=False)
    # Where an imported annotation came from: {"tool", "file", "id", "url"} as far as known
    # (apps.webanno); empty for one made here.
    origin = models.JSONField(default=dict, blank=True, editable=False)

    concepts = models.ManyToManyField(Concept, blank=True, related_name="annotations")
    claims = models.ManyToManyField(Claim, through="Evidence", related_name="annotations")
    people = models.ManyToManyField(Person, through="Mention", related_name="annotations")

    # Withdrawn annotations are kept but hidden from every list until a supervisor restores them.
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="annotation_status_valid"
            ),
            models.CheckConstraint(condition=~Q(quote=""), name="annotation_quote_set"),
            models.CheckConstraint(
                condition=Q(anchor_state__in=AnchorState.values), name="annotation_anchor_valid"
            ),
            models.CheckConstraint(condition=~Q(locator=""), name="annotation_locator_set"),
            models.CheckConstraint(condition=Q(version__gte=1), name="annotation_version_positive"),
            models.CheckConstraint(
                condition=(Q(start__isnull=True) & Q(end__isnull=True))
                | (Q(start__isnull=False) & Q(end__isnull=False) & Q(end__gt=F("start"))),
                name="annotation_position_valid",
            ),
        ]
        indexes = [
            # API lists with ?since=: rows changed after a library version, by version then id.
            models.Index(
                fields=["project", "library_version", "id"], name="annotation_project_synced"
            ),
            # Source page and reading view: a source's annotations in text order.
            models.Index(fields=["source", "start"], name="annotation_source_start"),
            # A source's orphaned (or doubtful) passages.
            models.Index(fields=["source", "anchor_state"], name="annotation_source_anchor"),
            # Project home and review queue: a project's annotations by status, oldest first.
            models.Index(
                fields=["project", "status", "status_changed_at"], name="annotation_status_time"
            ),
            # An analyst's own work by status.
            models.Index(fields=["author", "status"], name="annotation_author_status"),
            # The matrix: passages per source (and, joined to their links, per column) among
            # those a member may see, read from the index alone (`include` is PostgreSQL's).
            models.Index(
                fields=["project", "source"],
                include=["id", "status", "author"],
                condition=Q(withdrawn_at__isnull=True),
                name="annotation_visible_by_source",
            ),
            # The matrix's cache key: a project's most recent edit of an annotation.
            models.Index(fields=["project", "updated_at"], name="annotation_project_edited"),
        ]

    def __str__(self) -> str:
        return f"{self.source.citation_key} {self.locator}: {self.quote[:60]}"

    def save(self, *args, **kwargs) -> None:
        self.note_html = render_markdown(self.note)
        if kwargs.get("update_fields") is not None and "note" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "note_html"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.source_id and self.project_id and self.source.project_id != self.project_id:
            raise ValidationError({"source": "The source belongs to another project."})

    def sync_audience(self) -> tuple[bool, int | None]:
        return self.status == Status.APPROVED and self.withdrawn_at is None, self.author_id

    def get_absolute_url(self) -> str:
        return reverse("annotations:annotation_detail", args=[self.project.slug, self.pk])

    @property
    def is_approved(self) -> bool:
        return self.status == Status.APPROVED

    @property
    def latest_decision(self) -> ReviewEvent | None:
        """The last reviewer's event, from prefetched review_events."""
        events = [e for e in self.review_events.all() if e.action in REVIEWER_ACTIONS]
        return events[-1] if events else None

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def is_editable_by(self, membership: Membership) -> bool:
        """Authors edit their own work while it is a draft or sent back; approved is locked."""
        return (
            self.author_id == membership.user_id
            and can(membership, Action.ANNOTATE)
            and self.status in EDITABLE
            and not self.is_withdrawn
        )

    def may_ever(self, membership: Membership, action: str) -> bool:
        """Whether the member's role and relation to this annotation allow `action` at all
        (in some state of it). Refusals beyond this are about the moment, not the right."""
        own = self.author_id == membership.user_id
        reviewer = can(membership, Action.REVIEW)
        if action == ReviewAction.SUBMIT:
            return own and can(membership, Action.ANNOTATE)
        if action in DECISIONS:
            return reviewer and (not own or self.may_approve_own(action, membership.project))
        if action == ReviewAction.WITHDRAW:
            return reviewer or (own and can(membership, Action.ANNOTATE))
        return reviewer and action in {ReviewAction.REOPEN, ReviewAction.RESTORE}

    def may_approve_own(self, action: str, project: Project) -> bool:
        """Whether the author may take this decision on their own work: only approving, and
        only where the project allows self-approval (a recorded exception, for projects with
        a single supervisor). Nobody ever rejects or sends back their own work."""
        return action == ReviewAction.APPROVE and project.allow_self_approval

    def refusal(self, membership: Membership, action: str) -> str | None:
        """Why the member may not take `action` now; None when they may."""
        if not self.may_ever(membership, action):
            if action in DECISIONS and self.author_id == membership.user_id:
                return "You cannot decide on your own annotation; another supervisor must."
            if action == ReviewAction.SUBMIT:
                return "Only the author can submit an annotation for review."
            return "Your role in this project does not allow this action."
        try:
            self.target_status(action)
        except TransitionError as error:
            return str(error)
        if (
            action == ReviewAction.WITHDRAW
            and self.is_approved
            and not can(membership, Action.REVIEW)
        ):
            return "Approved annotations are locked; a supervisor can reopen or withdraw them."
        if action == ReviewAction.SUBMIT and not self.edited_since_sent_back():
            return "Change the annotation as the reviewer asked before submitting it again."
        return None

    def allowed_actions(self, membership: Membership) -> set[str]:
        """The review actions this member may take on this annotation now (buttons, views)."""
        return {
            action for action in ReviewAction.values if self.refusal(membership, action) is None
        }

    def edited_since_sent_back(self) -> bool:
        """False while work sent back (changes requested) has not been changed since."""
        if self.status != Status.CHANGES_REQUESTED:
            return True
        if hasattr(self, "sent_back_version"):  # read for a whole list (with_sent_back_version)
            sent_back_at = self.sent_back_version
        else:
            sent_back_at = _sent_back_versions(self.review_events.all()).first()
        return sent_back_at is None or self.version > sent_back_at

    def transition(
        self,
        action: str,
        *,
        by: User,
        membership: Membership | None = None,
        seen_version: int | None = None,
        reason: str = "",
        comment: str = "",
        at: datetime.datetime | None = None,
    ) -> ReviewEvent:
        """Apply a review action under a row lock and record it in the ledger.

        `seen_version` is the version the actor looked at: deciding on text one has not read
        is refused. With `membership` (every request does) the member's right is checked again
        on the locked row, so a concurrent change cannot slip a refused action through; the
        rules that hold whoever asks — the transition table, four eyes, reasons — always are.
        """
        with transaction.atomic():
            # The project's version first, before the row's lock, as every writer takes them.
            version = bump(self.project_id)
            current = Annotation.objects.select_for_update().get(pk=self.pk)
            if membership is not None:
                refused = current.refusal(membership, action)
                if refused:
                    raise TransitionError(refused)
            target = current.target_status(action)
            if action == ReviewAction.SUBMIT and not current.edited_since_sent_back():
                raise TransitionError(
                    "Change the annotation as the reviewer asked before submitting it again."
                )
            if seen_version is not None and seen_version != current.version:
                raise StaleDecision(seen_version, current.version)
            if action == ReviewAction.SUBMIT and current.author_id != by.pk:
                raise TransitionError("Only the author can submit an annotation for review.")
            self_approval = action in DECISIONS and current.author_id == by.pk
            project = membership.project if membership is not None else current.project
            if self_approval and not current.may_approve_own(action, project):
                raise TransitionError(
                    "You cannot decide on your own annotation; another supervisor must."
                )
            if action in NEEDS_REASON and (reason not in ReasonCode.values or not comment.strip()):
                raise TransitionError("Give a reason and a comment for this decision.")
            when = at or timezone.now()
            event = ReviewEvent.objects.create(
                annotation=current,
                actor=by,
                action=action,
                from_status=current.status,
                to_status=target,
                reason=reason if action in NEEDS_REASON else "",
                comment=comment.strip(),
                annotation_version=current.version,
                created_at=when,
                self_approval=self_approval,
            )
            changes: dict[str, object] = {"status": target, "status_changed_at": when}
            if action == ReviewAction.WITHDRAW:
                changes.update(withdrawn_at=when, withdrawn_by=by)
            elif action == ReviewAction.RESTORE:
                changes.update(withdrawn_at=None, withdrawn_by=None)
            if target == current.status:
                del changes["status_changed_at"]
            changes["library_version"] = version
            Annotation.objects.filter(pk=self.pk).update(**changes)
            withdrawn = current.withdrawn_at is not None
            now_withdrawn = {ReviewAction.WITHDRAW: True, ReviewAction.RESTORE: False}.get(
                action, withdrawn
            )
            current.note_gone_or_back(target, now_withdrawn)
            if Status.APPROVED in (current.status, target):
                # What students may see of its claims changed with it. Before the tallies, as
                # in save_content: claims' rows are locked before tally rows, so two changes
                # racing over one claim never wait for each other in a circle.
                Claim.objects.filter(evidence__annotation_id=self.pk).refresh_approved_evidence()
            if (current.status, withdrawn) != (target, now_withdrawn):
                from apps.annotations.tallies import Counted, flags, retally

                if flags(current.status, withdrawn) != flags(target, now_withdrawn):
                    before = Counted.of(self.pk)
                    before = before.with_state(current.status, withdrawn)
                    retally(before, before.with_state(target, now_withdrawn))
        for field, value in changes.items():
            setattr(self, field, value)
        self.version = current.version
        return event

    def note_gone_or_back(self, status: str, withdrawn: bool) -> None:
        """Tombstones for API clients (apps.accounts.sync) when a transition takes this
        annotation (as it was: locked, before the change) out of lists: withdrawn (gone for
        all) or no longer approved (gone for readers of approved work only); and none left
        when it comes back."""
        was_withdrawn = self.withdrawn_at is not None
        was_approved = self.status == Status.APPROVED and not was_withdrawn
        now_approved = status == Status.APPROVED and not withdrawn
        if withdrawn and not was_withdrawn:
            Tombstone.record(self, TombstoneReason.WITHDRAWN)
        elif was_withdrawn and not withdrawn:
            Tombstone.forget(self, TombstoneReason.WITHDRAWN)
        if not withdrawn and not was_withdrawn and was_approved and not now_approved:
            Tombstone.record(self, TombstoneReason.UNAPPROVED)
        elif now_approved and not was_approved:
            Tombstone.forget(self, TombstoneReason.UNAPPROVED)

    def target_status(self, action: str) -> str:
        label = ReviewAction(action).label.lower() if action in ReviewAction.values else action
        if action == ReviewAction.WITHDRAW:
            if self.is_withdrawn:
                raise TransitionError("This annotation is already withdrawn.")
            return self.status
        if action == ReviewAction.RESTORE:
            if not self.is_withdrawn:
                raise TransitionError("Only a withdrawn annotation can be restored.")
            return self.status
        if self.is_withdrawn:
            raise TransitionError(
                "This annotation is withdrawn; a supervisor must restore it first."
            )
        target = TRANSITIONS.get((self.status, action))
        if target is None:
            raise TransitionError(
                f"An annotation that is {self.get_status_display().lower()} cannot be given "
                f"the action “{label}”."
            )
        return target

    def anchor_in(self, text: str, version: int | None = None) -> None:
        """Place the quote in `text` (a source's current text, of `version`) by its saved
        offsets and context, as re-anchoring does; see apps.annotations.anchoring."""
        from apps.annotations.anchoring import Haystack

        haystack = Haystack(text)
        self.apply_anchor(
            haystack.reanchor(self.quote, self.prefix, self.suffix, self.start), haystack, version
        )

    def apply_anchor_at(self, haystack, start: int, end: int, version: int | None) -> None:
        """Place the quote at a span checked to hold it."""
        from apps.annotations.anchoring import Anchor

        self.apply_anchor(Anchor(AnchorState.EXACT, start, end, 1.0), haystack, version)

    def apply_anchor(self, anchor, haystack, version: int | None) -> None:
        """Take a found anchor: offsets, fresh context, state. An orphan keeps its quote and
        context (to be found again) but loses its offsets."""
        self.anchor_state, self.anchor_score = str(anchor.state), anchor.score
        if anchor.start is None:
            if not haystack.text:
                self.anchor_state, self.anchor_score = AnchorState.UNPLACED, None
            self.start = self.end = self.anchored_version = None
            return
        self.start, self.end = anchor.start, anchor.end
        self.prefix, self.suffix = haystack.context(anchor.start, anchor.end)
        self.anchored_version = version
        if not self.page_label:
            self.page_label = haystack.page_label(anchor.start)[:30]

    # What an edit changes: the excerpt and the note. Status, withdrawal and authorship are
    # the workflow's and never written by a content save.
    ANCHOR_FIELDS = [
        "prefix", "suffix", "start", "end", "page_label", "anchor_state", "anchor_score",
        "anchored_version",
    ]  # fmt: skip
    CONTENT_FIELDS = [
        *ANCHOR_FIELDS, "quote", "page_index", "locator",
        "note", "note_html", "version", "updated_by", "updated_at",
    ]  # fmt: skip

    def save_content(
        self,
        *,
        evidence: list[dict],
        mentions: list[dict],
        concepts: list[Concept],
        by: User,
        reanchor: bool = False,
        placed: tuple[int, int] | None = None,
    ) -> None:
        """Save the excerpt, its links and a revision of this version, in one transaction.

        `placed` is the span of the source's current text the quote was chosen at (checked
        again here); `reanchor` looks for the quote instead. New annotations are inserted
        whole; existing ones only get their content written, so an edit racing a review action
        cannot undo it.
        """
        from apps.annotations.anchoring import current_haystack
        from apps.annotations.tallies import Counted, retally

        with transaction.atomic():
            bump(self.project_id)  # the project's version before any row's lock
            # What it counted for before, read under the row's lock so that a review action
            # racing this edit is counted once, by whichever commits first.
            before = None if self._state.adding else Counted.of(self.pk, lock=True)
            if placed is not None or reanchor:
                haystack, version = current_haystack(self.source_id)
                start, end = placed or (None, None)
                if start is not None and haystack.text[start:end] == self.quote:
                    self.apply_anchor_at(haystack, start, end, version)
                else:
                    self.apply_anchor(
                        haystack.reanchor(self.quote, self.prefix, self.suffix, self.start),
                        haystack,
                        version,
                    )
            if self._state.adding:
                self.save()
            else:
                self.save(update_fields=self.CONTENT_FIELDS)
            self.set_links(evidence=evidence, mentions=mentions, concepts=concepts, by=by)
            retally(before, Counted.of(self.pk))
            self.record_revision(by=by)

    def set_links(
        self,
        *,
        evidence: list[dict],
        mentions: list[dict],
        concepts: list[Concept],
        by: User,
    ) -> None:
        """Replace the annotation's links. Rows typed as new create the claim or person."""
        stamp(Annotation, self.pk, self.project_id)
        before = set(self.evidence.values_list("claim_id", flat=True))
        self.evidence.all().delete()
        self.mentions.all().delete()
        Evidence.objects.bulk_create(
            Evidence(annotation=self, claim=self._claim_for(row, by=by), stance=row["stance"])
            for row in evidence
        )
        Mention.objects.bulk_create(
            Mention(
                annotation=self,
                person=self._person_for(row["person"], by=by),
                work=row.get("work"),
                function=row["function"],
            )
            for row in mentions
        )
        self.concepts.set(concepts)
        touched = before | set(self.evidence.values_list("claim_id", flat=True))
        Claim.objects.filter(pk__in=touched).refresh_approved_evidence()

    def _claim_for(self, row: dict, *, by: User) -> Claim:
        claim = row["claim"]
        if isinstance(claim, Claim):
            return claim
        return Claim.objects.typed_new(
            claim.text, project_id=self.project_id, kind=row.get("claim_kind") or "thesis", by=by
        )

    def _person_for(self, person: Person | object, *, by: User) -> Person:
        if isinstance(person, Person):
            return person
        return Person.objects.typed_new(person.text, project_id=self.project_id, by=by)

    def snapshot(self) -> dict:
        """The annotation's content and links as plain data, for its revision history."""
        return {
            "quote": self.quote,
            "locator": self.locator,
            "page_label": self.page_label,
            "note": self.note,
            "claims": sorted(
                [e.claim_id, e.claim.statement, e.stance] for e in self.evidence.all()
            ),
            "people": sorted(
                [
                    m.person_id,
                    m.person.display_name,
                    m.work_id or 0,
                    m.work.title if m.work else "",
                    m.function,
                ]
                for m in self.mentions.all()
            ),
            "concepts": sorted([c.pk, c.name] for c in self.concepts.all()),
        }

    def last_decision(self) -> ReviewEvent | None:
        """What the reviewer said when they sent the work back (changes requested or rejected),
        while that is its status: shown to the analyst who opens it to fix it."""
        if self.status not in (Status.CHANGES_REQUESTED, Status.REJECTED):
            return None
        return (
            self.review_events.filter(
                action__in=[ReviewAction.REQUEST_CHANGES, ReviewAction.REJECT]
            )
            .select_related("actor")
            .order_by("-created_at", "-pk")
            .first()
        )

    def record_revision(self, *, by: User) -> AnnotationRevision:
        """Keep the content of the current version (call after saving it and its links)."""
        fresh = Annotation.objects.with_links().get(pk=self.pk)
        return AnnotationRevision.objects.create(
            annotation=self, version=self.version, content=fresh.snapshot(), edited_by=by
        )


def _sent_back_versions(events: models.QuerySet) -> models.QuerySet:
    """The annotation versions these review events sent back for changes, newest first."""
    return (
        events.filter(to_status=Status.CHANGES_REQUESTED)
        .order_by("-pk")
        .values_list("annotation_version", flat=True)
    )


class StaleDecision(TransitionError):
    """The reviewer decided on a version that is no longer the current one."""

    def __init__(self, seen: int, current: int) -> None:
        super().__init__(
            f"The annotation changed since you opened it (you saw version {seen}, it is now "
            f"version {current}). Read the new version before you decide."
        )
        self.seen = seen
        self.current = current


class AnnotationRevision(models.Model):
    """What an annotation said at each version, so that changes can be shown and none is lost."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    content = models.JSONField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version"]
        constraints = [
            models.UniqueConstraint(
                fields=["annotation", "version"], name="revision_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.annotation_id} v{self.version}"


REVISION_LABELS = {
    "quote": "Quote",
    "locator": "Locator",
    "page_label": "Page",
    "note": "Note",
    "claims": "Claims",
    "people": "People cited",
    "concepts": "Concepts",
}


def revision_changes(old: dict, new: dict) -> list[tuple[str, str, str]]:
    """(label, before, after) for every part of an annotation that differs between versions."""

    def show(key: str, value) -> str:
        if key == "claims":
            return "; ".join(f"{stance}: {statement}" for _, statement, stance in value)
        if key == "people":
            return "; ".join(
                f"{name}{f', {work}' if work else ''} ({function})"
                for _, name, _, work, function in value
            )
        if key == "concepts":
            return ", ".join(name for _, name in value)
        return value or ""

    return [
        (label, show(key, old.get(key)), show(key, new.get(key)))
        for key, label in REVISION_LABELS.items()
        if old.get(key) != new.get(key)
    ]


class EvidenceQuerySet(models.QuerySet):
    def visible_to(self, membership: Membership) -> EvidenceQuerySet:
        """Evidence from annotations the member may see (in their project)."""
        return self.filter(visible_annotations_q(membership, prefix="annotation__"))

    def claim_tally(self) -> models.QuerySet:
        """Rows of (claim, stance, passages): what the evidence argues, most passages first."""
        return (
            self.values("claim_id", "claim__statement", "stance")
            .annotate(passages=models.Count("annotation_id", distinct=True))
            .order_by("-passages", "claim__statement", "claim_id", "stance")
        )


class Evidence(SyncedPart):
    """The annotation's passage bears on the claim with this stance."""

    sync_owner = "annotation"

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="evidence")
    claim = models.ForeignKey(Claim, on_delete=models.RESTRICT, related_name="evidence")
    stance = models.CharField(max_length=20, choices=Stance.choices)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "evidence"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["annotation", "claim"], name="evidence_unique"),
            models.CheckConstraint(
                condition=Q(stance__in=Stance.values), name="evidence_stance_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.annotation_id} {self.stance} {self.claim}"

    def clean(self) -> None:
        if (
            self.annotation_id
            and self.claim_id
            and self.claim.project_id != self.annotation.project_id
        ):
            raise ValidationError({"claim": "The claim belongs to another project."})


class MentionQuerySet(models.QuerySet):
    def visible_to(self, membership: Membership) -> MentionQuerySet:
        """Mentions in annotations the member may see (in their project)."""
        return self.filter(visible_annotations_q(membership, prefix="annotation__"))

    def person_tally(self) -> models.QuerySet:
        """Rows of (person, passages, sources) for the people cited, most cited first."""
        return (
            self.values("person_id", "person__display_name")
            .annotate(
                passages=models.Count("annotation_id", distinct=True),
                sources=models.Count("annotation__source_id", distinct=True),
            )
            .order_by("-passages", "person__display_name", "person_id")
        )

    def work_tally(self) -> models.QuerySet:
        """Rows of (work, passages) for the works cited by name, most cited first."""
        return (
            self.filter(work__isnull=False)
            .values("work_id", "work__title")
            .annotate(passages=models.Count("annotation_id", distinct=True))
            .order_by("-passages", "work__title", "work_id")
        )

    def citing_source_tally(self) -> models.QuerySet:
        """Rows of (source, passages) for the sources whose passages these mentions are in."""
        return (
            self.values("annotation__source_id", "annotation__source__title")
            .annotate(passages=models.Count("annotation_id", distinct=True))
            .order_by("-passages", "annotation__source__title", "annotation__source_id")
        )


class Mention(SyncedPart):
    """The annotation's passage cites a person, optionally a particular work of theirs."""

    sync_owner = "annotation"

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="mentions")
    person = models.ForeignKey(Person, on_delete=models.RESTRICT, related_name="mentions")
    work = models.ForeignKey(
        Source,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="cited_in",
        help_text="The work cited, when the passage names one.",
    )
    function = models.CharField(
        max_length=20, choices=MentionFunction.choices, default=MentionFunction.MENTIONING
    )

    objects = MentionQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            # One mention per person and work; NULL works need their own constraint because
            # NULLs are distinct in unique indexes.
            models.UniqueConstraint(
                fields=["annotation", "person", "work"],
                condition=Q(work__isnull=False),
                name="mention_unique_with_work",
            ),
            models.UniqueConstraint(
                fields=["annotation", "person"],
                condition=Q(work__isnull=True),
                name="mention_unique_without_work",
            ),
            models.CheckConstraint(
                condition=Q(function__in=MentionFunction.values), name="mention_function_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.annotation_id} {self.function} {self.person}"

    def clean(self) -> None:
        if not self.annotation_id:
            return
        project_id = self.annotation.project_id
        if self.person_id and self.person.project_id != project_id:
            raise ValidationError({"person": "The person belongs to another project."})
        if self.work_id and self.work.project_id != project_id:
            raise ValidationError({"work": "The work belongs to another project."})


class ReviewEventQuerySet(models.QuerySet):
    def decisions_on_work_of(self, membership: Membership) -> ReviewEventQuerySet:
        """Reviewers' decisions on the member's annotations in this project."""
        return self.filter(
            annotation__project_id=membership.project_id,
            annotation__author_id=membership.user_id,
            action__in=[*DECISIONS, ReviewAction.REOPEN],
        ).exclude(actor_id=membership.user_id)

    def since(self, moment: datetime.datetime | None) -> ReviewEventQuerySet:
        return self if moment is None else self.filter(created_at__gt=moment)

    def update(self, **kwargs):
        raise TypeError("Review events are append-only.")

    def delete(self):
        raise TypeError("Review events are append-only.")


class ReviewEvent(models.Model):
    """Append-only ledger: one row for every status change of an annotation."""

    # The UI never destroys annotations (they are withdrawn); only deleting a whole project
    # takes its ledger with it.
    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="review_events"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=ReviewAction.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(max_length=20, choices=ReasonCode.choices, blank=True)
    comment = models.TextField(blank=True)
    annotation_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    # An approval by the annotation's own author, which only a project allowing it permits.
    self_approval = models.BooleanField(default=False)

    objects = ReviewEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ReviewAction.values), name="reviewevent_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(from_status__in=Status.values) & Q(to_status__in=Status.values),
                name="reviewevent_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(reason="") | Q(reason__in=ReasonCode.values),
                name="reviewevent_reason_valid",
            ),
        ]
        indexes = [
            # An analyst's inbox: decisions on their work since their last visit.
            models.Index(fields=["annotation", "created_at"], name="reviewevent_annotation_time"),
        ]

    def __str__(self) -> str:
        change = f"{self.from_status} → {self.to_status}"
        return f"{self.actor} {self.action} #{self.annotation_id}: {change}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise TypeError("Review events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Review events are append-only.")


# --- Tallies ----------------------------------------------------------------------------------
# How many passages count for each source, concept, person cited and claim, and for the
# project: kept current in the same transaction as every change of an annotation's status or
# links (apps/annotations/tallies.py), so that lists, the matrix and the project home read a
# number instead of counting the whole project on every request. Two scopes: `approved`
# (approved and not withdrawn: what students see) and `visible` (not withdrawn, any status:
# what supervisors see). A row that does not exist counts 0. Separate tables rather than
# columns of the rows they count, so an edit of a concept or a source can never write back a
# stale count, and the lower apps know nothing of passages.


class Tally(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    approved = models.IntegerField(default=0, db_default=0)
    visible = models.IntegerField(default=0, db_default=0)

    class Meta:
        abstract = True


class SourceTally(Tally):
    source = models.OneToOneField(
        Source, on_delete=models.CASCADE, primary_key=True, related_name="tally"
    )

    class Meta:
        indexes = [
            # The matrix's rows, most passages first (approved work; everything visible).
            models.Index(fields=["project", "-approved", "source"], name="tally_source_approved"),
            models.Index(fields=["project", "-visible", "source"], name="tally_source_visible"),
        ]

    def __str__(self) -> str:
        return f"source {self.source_id}: {self.approved}/{self.visible}"


class ConceptTally(Tally):
    concept = models.OneToOneField(
        Concept, on_delete=models.CASCADE, primary_key=True, related_name="tally"
    )

    def __str__(self) -> str:
        return f"concept {self.concept_id}: {self.approved}/{self.visible}"


class PersonTally(Tally):
    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, primary_key=True, related_name="tally"
    )

    class Meta:
        indexes = [
            # The most cited people (project home, the matrix's people columns).
            models.Index(fields=["project", "-approved", "person"], name="tally_person_approved"),
            models.Index(fields=["project", "-visible", "person"], name="tally_person_visible"),
        ]

    def __str__(self) -> str:
        return f"person {self.person_id}: {self.approved}/{self.visible}"


class ClaimTally(Tally):
    claim = models.OneToOneField(
        Claim, on_delete=models.CASCADE, primary_key=True, related_name="tally"
    )
    # Approved passages for (asserts, supports) and against (contradicts): contested claims.
    approved_for = models.IntegerField(default=0, db_default=0)
    approved_against = models.IntegerField(default=0, db_default=0)

    class Meta:
        indexes = [
            # The matrix's claim columns.
            models.Index(fields=["project", "-approved", "claim"], name="tally_claim_approved"),
            models.Index(fields=["project", "-visible", "claim"], name="tally_claim_visible"),
            # The project home's contested claims.
            models.Index(
                fields=["project", "-approved_against", "-approved_for", "claim"],
                condition=Q(approved_for__gt=0, approved_against__gt=0),
                name="tally_claim_contested",
            ),
        ]

    def __str__(self) -> str:
        return f"claim {self.claim_id}: {self.approved}/{self.visible}"


class ProjectTally(models.Model):
    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    approved = models.IntegerField(default=0, db_default=0)
    visible = models.IntegerField(default=0, db_default=0)
    # Submitted and not withdrawn: the length of the review queue.
    waiting = models.IntegerField(default=0, db_default=0)

    def __str__(self) -> str:
        return f"project {self.project_id}: {self.approved}/{self.visible}"


# --- Co-citation tallies ----------------------------------------------------------------------
# Two people (or two works) are co-cited when one source's passages cite both; the strength of
# a pair is how many sources do. `CitedTally` counts, per source, the passages citing each
# person or work; `PairTally` counts the sources citing both of a pair. Both are kept current
# with the other tallies (apps/annotations/tallies.py: a (source, cited) count going 0 → 1 adds
# the source to the pairs of the cited with every other cited of the source, 1 → 0 takes it
# away), so the co-citation page reads a page of an index instead of joining every mention of
# the project with itself. Rows at 0 are deleted. `cited` and `first`/`second` hold a person's
# id or a source's id (a work), by `kind`: no foreign key, since both are protected from
# deletion while a mention points at them, and the page loads their names fresh.


class CitedKind(models.TextChoices):
    PEOPLE = "people", "people"
    WORKS = "works", "works"


class CitedTally(Tally):
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=6, choices=CitedKind.choices)
    cited = models.IntegerField()

    class Meta:
        constraints = [
            # One row per (source, cited): the key the upsert adds to; it also serves "what
            # does this source cite" when a passage of it changes.
            models.UniqueConstraint(fields=["source", "kind", "cited"], name="tally_cited_unique"),
            models.CheckConstraint(condition=Q(kind__in=CitedKind.values), name="tally_cited_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} cites {self.kind} {self.cited}: {self.approved}/{self.visible}"


class PairTally(Tally):
    kind = models.CharField(max_length=6, choices=CitedKind.choices)
    first = models.IntegerField()
    second = models.IntegerField()

    class Meta:
        constraints = [
            # The upsert's key; it also serves the pairs of one person or work as `first`.
            models.UniqueConstraint(fields=["kind", "first", "second"], name="tally_pair_unique"),
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="tally_pair_ordered"),
            models.CheckConstraint(condition=Q(kind__in=CitedKind.values), name="tally_pair_kind"),
        ]
        indexes = [
            # The co-citation page: the strongest pairs of a project (approved work; everything
            # visible), a page at a time.
            models.Index(
                fields=["project", "kind", "-approved", "first", "second"],
                name="tally_pair_approved",
            ),
            models.Index(
                fields=["project", "kind", "-visible", "first", "second"],
                name="tally_pair_visible",
            ),
            # The pairs of one person or work as `second`.
            models.Index(fields=["kind", "second", "first"], name="tally_pair_second"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.first} & {self.second}: {self.approved}/{self.visible}"

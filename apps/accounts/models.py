from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core import signing
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare


class ProjectError(Exception):
    """A change to a project or its members that the rules refuse; the message is for the user."""


class User(AbstractUser):
    """Our own user model from the first migration, so adding fields later needs no swap."""

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def can_create_projects(self) -> bool:
        """Staff, and anyone who already supervises a project, may start a new one."""
        return self.is_staff or self.memberships.supervisors().exists()


class ProjectQuerySet(models.QuerySet):
    def create_with_supervisor(self, user: User, **fields) -> Project:
        """A new project with `user` as its first supervisor, so it never lacks one."""
        try:
            with transaction.atomic():
                project = self.create(**fields)
                Membership.objects.create(project=project, user=user, role=Role.SUPERVISOR)
        except IntegrityError:
            # Another request took the slug between the form's check and this insert.
            raise ProjectError(
                f"The address “{fields.get('slug')}” is already taken; choose another."
            ) from None
        return project


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    students_see_history = models.BooleanField(
        default=False,
        help_text="Students may read the review history of approved annotations.",
    )
    allow_self_approval = models.BooleanField(
        default=False,
        help_text="A supervisor may approve their own annotation, as a recorded exception "
        "(for projects with one supervisor). Off: nobody decides on their own work.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Taken by every write to the project's synced rows, in the write's transaction
    # (apps.accounts.sync): what API clients sync by.
    library_version = models.PositiveBigIntegerField(default=1, editable=False)
    # Set while some double-coding assignment is open with a coder not done yet, so that
    # supervisors' lists leave its coders' passages out: when what they may not see last
    # changed (caches of what supervisors see are keyed by it); None when nothing is hidden.
    # Kept current by apps.agreement.blindness in the transaction that changes an assignment,
    # and read with the project, so a supervisor's page pays for that filter only while it
    # can hide something.
    coding_blind_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("xref:project_home", args=[self.slug])

    @staticmethod
    def lock_for_typed_rows(project_id: int) -> None:
        """Take the project's row lock (inside a transaction) before looking for a claim or
        person typed as "new" and creating it: two requests typing the same new name at once
        are served one after the other, and the second finds the first's row instead of
        making a twin. FOR NO KEY UPDATE, so rows pointing at the project are not held up."""
        list(
            Project.objects.filter(pk=project_id)
            .select_for_update(no_key=True)
            .values_list("pk", flat=True)
        )

    def add_member(self, user: User, *, role: str) -> Membership:
        if role not in Role.values:
            raise ProjectError("Choose a role: supervisor, analyst or student.")
        try:
            with transaction.atomic():
                return Membership.objects.create(project=self, user=user, role=role)
        except IntegrityError:
            raise ProjectError(f"{user.username} is already a member of this project.") from None

    def invite(self, email: str, *, role: str, by: User) -> Invitation:
        """A pending invitation for `email`; the caller sends its link. Refused when a member
        already uses the address (supervisors see members' addresses anyway) or when one is
        pending for it. Whether anyone else has an account with it is never revealed."""
        if role not in Role.values:
            raise ProjectError("Choose a role: supervisor, analyst or student.")
        email = User.objects.normalize_email(email.strip())
        if self.memberships.filter(user__email__iexact=email).exists():
            raise ProjectError(f"A member of this project already uses {email}.")
        try:
            with transaction.atomic():
                return Invitation.objects.create(
                    project=self, email=email, role=role, invited_by=by, key=new_invitation_key()
                )
        except IntegrityError:
            raise ProjectError(
                f"{email} is already invited; send the invitation again from the list below."
            ) from None


class Role(models.TextChoices):
    SUPERVISOR = "supervisor", "Supervisor"
    ANALYST = "analyst", "Analyst"
    STUDENT = "student", "Student"


# Members are listed supervisors first, then analysts, then students.
ROLE_ORDER = models.Case(
    *(models.When(role=role, then=rank) for rank, role in enumerate(Role.values)),
    default=len(Role.values),
)


class MembershipQuerySet(models.QuerySet):
    def for_project(self, project: Project) -> MembershipQuerySet:
        return self.filter(project=project)

    def supervisors(self) -> MembershipQuerySet:
        return self.filter(role=Role.SUPERVISOR)

    def with_list_data(self) -> MembershipQuerySet:
        return self.select_related("user").order_by(ROLE_ORDER, "user__username")


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the member last saw the reviewers' decisions on their work (the project home).
    decisions_seen_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MembershipQuerySet.as_manager()

    # Not stored: set per request from the member's choice of scope (policy.apply_scope). When
    # true, lists and counts show approved work only, as a student sees them.
    approved_only = False

    class Meta:
        ordering = ["project__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "project"], name="membership_unique_user_project"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.project}"

    def mark_decisions_seen(self) -> None:
        self.decisions_seen_at = timezone.now()
        Membership.objects.filter(pk=self.pk).update(decisions_seen_at=self.decisions_seen_at)

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_analyst(self) -> bool:
        return self.role == Role.ANALYST

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    def change_role(self, role: str) -> None:
        if role not in Role.values:
            raise ProjectError("Choose a role: supervisor, analyst or student.")
        with transaction.atomic():
            current, supervisors = self._lock_with_supervisors()
            if current.is_supervisor and role != Role.SUPERVISOR and supervisors == 1:
                raise ProjectError(
                    f"{self.user.username} is the only supervisor of this project and keeps that "
                    "role; make another member a supervisor first."
                )
            Membership.objects.filter(pk=self.pk).update(role=role)
        self.role = role

    def remove(self) -> None:
        """Take the user out of the project: removed by a supervisor, or leaving."""
        with transaction.atomic():
            current, supervisors = self._lock_with_supervisors()
            if current.is_supervisor and supervisors == 1:
                raise ProjectError(
                    f"{self.user.username} is the only supervisor of this project and cannot "
                    "leave it; make another member a supervisor first."
                )
            Membership.objects.filter(pk=self.pk).delete()

    def _lock_with_supervisors(self) -> tuple[Membership, int]:
        """Lock this membership and the project's supervisor memberships; return this row as it
        is now, and how many supervisors the project has.

        Concurrent changes to one project's supervisors wait for each other here, and each
        decides on the rows as they are once it holds the lock, not as the caller loaded them:
        two supervisors demoting each other at once leave one of them in place.
        """
        locked = list(
            Membership.objects.select_for_update()
            .filter(
                models.Q(pk=self.pk) | models.Q(project_id=self.project_id, role=Role.SUPERVISOR)
            )
            .order_by("pk")  # one lock order for every request, so none deadlock
        )
        current = next((m for m in locked if m.pk == self.pk), None)
        if current is None:
            raise ProjectError(f"{self.user.username} is no longer a member of this project.")
        return current, sum(m.is_supervisor for m in locked)

    @property
    def may(self):
        """What this member may do, for templates: `{% if membership.may.edit_library %}`."""
        from apps.accounts.policy import Permissions

        return Permissions(self)


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


class InvitationError(Exception):
    """An invitation link that cannot be used; the message is for the person who followed it,
    `status` the HTTP status of the page that says so (410 Gone for a link that worked once,
    404 for one that never did)."""

    def __init__(self, message: str, *, status: int = 410) -> None:
        super().__init__(message)
        self.status = status


class InvitationQuerySet(models.QuerySet):
    def for_project(self, project: Project) -> InvitationQuerySet:
        return self.filter(project=project)

    def pending(self) -> InvitationQuerySet:
        return self.filter(status=InvitationStatus.PENDING)

    def with_list_data(self) -> InvitationQuerySet:
        return self.select_related("invited_by").order_by("-sent_at", "pk")


class Invitation(models.Model):
    """A supervisor's invitation for an email address to join a project with a role.

    The link sent is signed (salt INVITATION_SALT) and carries the invitation's id, its current
    `key` and the time it was signed: it expires INVITATION_MAX_AGE_DAYS later, sending it again
    makes a new key (so the earlier link stops working), and once accepted or revoked no link
    of it works. The key is never shown anywhere but in the link.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    status = models.CharField(
        max_length=20, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    key = models.CharField(max_length=64, editable=False)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        constraints = [
            # One open invitation per address and project: inviting again means sending again.
            models.UniqueConstraint(
                "project",
                Lower("email"),
                condition=models.Q(status="pending"),
                name="invitation_one_pending_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="invitation_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=InvitationStatus.values),
                name="invitation_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} as {self.get_role_display()} in {self.project}"

    @property
    def expires_at(self):
        return self.sent_at + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    def make_token(self) -> str:
        return signing.dumps({"i": self.pk, "k": self.key}, salt=INVITATION_SALT, compress=True)

    def send_again(self) -> None:
        """A new key and a fresh expiry: the link sent before stops working."""
        with transaction.atomic():
            current = Invitation.objects.select_for_update().get(pk=self.pk)
            if current.status != InvitationStatus.PENDING:
                raise ProjectError(f"The invitation for {self.email} is no longer pending.")
            self.key, self.sent_at = new_invitation_key(), timezone.now()
            Invitation.objects.filter(pk=self.pk).update(key=self.key, sent_at=self.sent_at)

    def revoke(self) -> None:
        updated = Invitation.objects.filter(pk=self.pk, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.REVOKED, decided_at=timezone.now()
        )
        if not updated:
            raise ProjectError(f"The invitation for {self.email} is no longer pending.")
        self.status = InvitationStatus.REVOKED

    def accept(self, user: User) -> Membership | None:
        """Make `user` a member with the invited role and use the invitation up, or raise
        InvitationError when it can no longer be used or `user`'s email is not the invited
        address. A user who already is a member keeps their role (None is returned)."""
        with transaction.atomic():
            current = Invitation.objects.select_for_update().get(pk=self.pk)
            current.check_usable(self.key)
            if (refusal := self.refusal_for(user)) is not None:
                raise refusal
            membership = None
            if not Membership.objects.filter(project_id=self.project_id, user=user).exists():
                membership = Membership.objects.create(
                    project_id=self.project_id, user=user, role=self.role
                )
            Invitation.objects.filter(pk=self.pk).update(
                status=InvitationStatus.ACCEPTED, accepted_by=user, decided_at=timezone.now()
            )
        self.status, self.accepted_by = InvitationStatus.ACCEPTED, user
        return membership

    def refusal_for(self, user: User) -> InvitationError | None:
        """Why `user` may not accept: a link that reached someone else (forwarded, or opened
        while signed in to another account) neither lets them in nor uses the invitation up."""
        if (user.email or "").strip().lower() == self.email.strip().lower():
            return None
        return InvitationError(
            f"This invitation was sent to {self.email}, and you are signed in as "
            f"{user.get_username()}, whose address is another. Sign out and open the link "
            "again to join with that address.",
            status=403,
        )

    def check_usable(self, key: str) -> None:
        """Raise InvitationError unless a link with `key` may still be accepted."""
        if self.status == InvitationStatus.ACCEPTED:
            raise InvitationError(
                "This invitation has already been used. Sign in to reach the project."
            )
        if self.status == InvitationStatus.REVOKED:
            raise InvitationError("This invitation was withdrawn by the project's supervisors.")
        if not constant_time_compare(key, self.key):
            raise InvitationError(
                "This link was replaced by a newer invitation: use the link in the latest email."
            )
        if self.is_expired:
            raise InvitationError(
                "This invitation has expired. Ask the project's supervisor to send it again."
            )

    @classmethod
    def from_token(cls, token: str) -> Invitation:
        """The pending invitation a link names, or InvitationError saying why it cannot be
        used. Forged and tampered links fail the signature; expired ones its timestamp."""
        max_age = timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
        try:
            data = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
        except signing.SignatureExpired:
            raise InvitationError(
                "This invitation has expired. Ask the project's supervisor to send it again."
            ) from None
        except signing.BadSignature:
            raise InvitationError(
                "This invitation link is not valid: it may have been cut short or changed. "
                "Open it again from the email, or ask for a new invitation.",
                status=404,
            ) from None
        try:
            pk, key = int(data["i"]), str(data["k"])
        except (KeyError, TypeError, ValueError):
            raise InvitationError("This invitation link is not valid.", status=404) from None
        invitation = cls.objects.select_related("project", "invited_by").filter(pk=pk).first()
        if invitation is None:
            raise InvitationError("This invitation no longer exists.", status=404)
        invitation.check_usable(key)
        return invitation


INVITATION_SALT = "citemap.accounts.invitation"


class SyncedKind(models.TextChoices):
    """The kinds of rows API clients sync (apps.accounts.sync.Synced)."""

    SOURCE = "source", "Source"
    PERSON = "person", "Person"
    CLAIM = "claim", "Claim"
    CONCEPT = "concept", "Concept"
    ANNOTATION = "annotation", "Annotation"


class TombstoneReason(models.TextChoices):
    DELETED = "deleted", "Deleted"
    MERGED = "merged", "Merged into another"
    # Annotations: withdrawn (hidden from every list until restored).
    WITHDRAWN = "withdrawn", "Withdrawn"
    # No longer approved (reopened, sent back, rejected): gone for readers of approved work
    # only, still there for its author and supervisors.
    UNAPPROVED = "unapproved", "No longer approved"


class TombstoneQuerySet(models.QuerySet):
    def visible_to(self, membership: Membership) -> TombstoneQuerySet:
        from apps.accounts.policy import visible_tombstones_q

        return self.filter(visible_tombstones_q(membership))


class Tombstone(models.Model):
    """What was deleted, merged away or withdrawn, at which library version: the API's feed of
    deletions (…/deleted/?since=N). Written in the transaction of the change it records.

    `approved` and `author` say who may learn of it (the access policy's
    visible_tombstones_q): readers of approved work only hear of what they could have seen.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=SyncedKind.choices)
    object_id = models.BigIntegerField()
    reason = models.CharField(max_length=12, choices=TombstoneReason.choices)
    merged_into = models.BigIntegerField(null=True, blank=True)
    library_version = models.PositiveBigIntegerField()
    approved = models.BooleanField(
        help_text="Whether readers of approved work only could see the object then."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TombstoneQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SyncedKind.values), name="tombstone_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(reason__in=TombstoneReason.values),
                name="tombstone_reason_valid",
            ),
        ]
        indexes = [
            # The API's …/deleted/?since=N: a project's tombstones after a version, in order.
            models.Index(
                fields=["project", "library_version", "id"], name="tombstone_project_version"
            ),
            # Tombstone.forget and the claims' recount: an object's tombstones, when it is back.
            models.Index(fields=["project", "kind", "object_id"], name="tombstone_object"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} {self.reason} at {self.library_version}"

    @classmethod
    def record(cls, row: models.Model, reason: str, *, merged_into: int | None = None) -> Tombstone:
        """The tombstone of a synced `row`, numbered with this transaction's version."""
        from apps.accounts.sync import bump

        approved, author_id = row.sync_audience()
        return cls.objects.create(
            project_id=row.project_id,
            kind=row.sync_kind,
            object_id=row.pk,
            reason=reason,
            merged_into=merged_into,
            library_version=bump(row.project_id),
            approved=approved,
            author_id=author_id,
        )

    @classmethod
    def forget(cls, row: models.Model, *reasons: str) -> None:
        """The object is back (restored, approved again): its tombstones no longer hold."""
        cls.objects.filter(
            project_id=row.project_id, kind=row.sync_kind, object_id=row.pk, reason__in=reasons
        ).delete()


def new_invitation_key() -> str:
    return secrets.token_urlsafe(24)

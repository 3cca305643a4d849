from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone


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
    created_at = models.DateTimeField(auto_now_add=True)

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

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse


class User(AbstractUser):
    """Our own user model from the first migration, so adding fields later needs no swap."""

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    students_see_history = models.BooleanField(
        default=False,
        help_text="Students may read the review history of approved annotations.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("xref:project_home", args=[self.slug])


class Role(models.TextChoices):
    SUPERVISOR = "supervisor", "Supervisor"
    ANALYST = "analyst", "Analyst"
    STUDENT = "student", "Student"


class MembershipQuerySet(models.QuerySet):
    def supervisors(self) -> MembershipQuerySet:
        return self.filter(role=Role.SUPERVISOR)


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

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

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_analyst(self) -> bool:
        return self.role == Role.ANALYST

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @property
    def may(self):
        """What this member may do, for templates: `{% if membership.may.edit_library %}`."""
        from apps.accounts.policy import Permissions

        return Permissions(self)

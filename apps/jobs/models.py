from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.db import models
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.models import Membership, Project

# How long an uploaded file waits for its confirmation.
JOB_LIFETIME = datetime.timedelta(hours=12)


class ImportKind(models.TextChoices):
    BIBLIOGRAPHY = "bibliography", "Bibliography"
    PROJECT = "project", "Whole project"


class ImportJobQuerySet(models.QuerySet):
    def of_member(self, membership: Membership) -> ImportJobQuerySet:
        """The member's own uploads to this project that have not expired."""
        return self.filter(
            project_id=membership.project_id,
            user_id=membership.user_id,
            created_at__gte=timezone.now() - JOB_LIFETIME,
        )

    def expired(self) -> ImportJobQuerySet:
        return self.filter(created_at__lt=timezone.now() - JOB_LIFETIME)


class ImportJob(models.Model):
    """An uploaded file, read and waiting for its uploader to confirm the import.

    What the preview showed is kept here, server-side, so the confirmation imports exactly
    that and nothing a browser could re-post; the token in its URL is random.
    """

    token = models.CharField(max_length=64, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    format = models.CharField(max_length=20)
    filename = models.CharField(max_length=255, blank=True)
    # Bibliographies: the entries read from the file; projects: the file's data.
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ImportKind.values), name="importjob_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} import of {self.filename or 'a file'} into {self.project}"

    def save(self, *args, **kwargs) -> None:
        if not self.token:
            self.token = secrets.token_urlsafe(32)
        super().save(*args, **kwargs)

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    def finish(self, result: str) -> None:
        self.finished_at = timezone.now()
        self.result = result
        # The entries are not needed once imported; keep the row as a receipt.
        self.payload = []
        self.save(update_fields=["finished_at", "result", "payload"])


def get_job_for_user(membership: Membership, token: str, kind: str) -> ImportJob:
    """The member's own, unexpired upload; 404 for anyone else's token."""
    return get_object_or_404(ImportJob.objects.of_member(membership), token=token, kind=kind)

"""Personal API tokens: a user's key to one project through the JSON API.

Only the SHA-256 of the secret is stored, so a copy of the database lets nobody in; the secret
is shown once, when the token is made. A token acts for its user in its project only, limited to
its scope, until it expires or is revoked.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Project

# What a script sends: "cm_" and 43 URL-safe characters (256 random bits).
PREFIX = "cm_"
# The first characters of a secret, stored in clear, so the owner recognises a token in the list.
HINT_LENGTH = len(PREFIX) + 4
MAX_LIFETIME_DAYS = 366
# A token's last use is written at most this often (a script making thousands of requests
# does not write thousands of times).
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class Scope(models.TextChoices):
    READ = "read", "Read: look at what you may see"
    WRITE = "write", "Write: also add, change and delete what you may edit"
    REVIEW = "review", "Review: read, and take review decisions you may take"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def of_user(self, user) -> ApiTokenQuerySet:
        return self.filter(user=user)

    def usable(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “R script”.")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=HINT_LENGTH, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=Scope.values), name="apitoken_scope_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="apitoken_name_set"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="apitoken_expires_later"
            ),
        ]
        indexes = [
            # The account page: a user's tokens, newest first.
            models.Index(fields=["user", "-created_at"], name="apitoken_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(
        cls, *, user, project: Project, name: str, scope: str, lifetime: datetime.timedelta
    ) -> tuple[ApiToken, str]:
        """A new token and its secret, which is not stored and cannot be shown again."""
        secret = PREFIX + secrets.token_urlsafe(32)
        now = timezone.now()
        token = cls.objects.create(
            user=user,
            project=project,
            name=name,
            scope=scope,
            key_digest=digest(secret),
            hint=secret[:HINT_LENGTH],
            created_at=now,
            expires_at=now + lifetime,
        )
        return token, secret

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def allows_writes(self) -> bool:
        return self.scope == Scope.WRITE

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def note_use(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION:
            type(self).objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

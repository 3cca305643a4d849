from __future__ import annotations

import datetime
import os
import secrets
import socket
import time

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.models import Membership, Project

# How long an uploaded file waits for its confirmation.
JOB_LIFETIME = datetime.timedelta(hours=12)


class ImportKind(models.TextChoices):
    BIBLIOGRAPHY = "bibliography", "Bibliography"
    PROJECT = "project", "Whole project"
    QDA_PROJECT = "qdpx", "REFI-QDA project"
    QDA_CODEBOOK = "qdc", "REFI-QDA codebook"
    ANNOTATIONS = "annotations", "Annotations"


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


# --- Background jobs ------------------------------------------------------------------------
# Long work (large imports and exports, comparisons) runs outside the request as a Job: the
# row the user's page shows (state, progress, result, error). Django's tasks API runs it (see
# apps/jobs/running.py); this row is ours, so the page never depends on the engine's tables.

# How often a running job's pulse is written, and how old it may get before the job counts as
# dead (its process was killed). Settings override them (tests shorten the second).
PULSE_SECONDS = 2.0
STALE_AFTER_SECONDS = 30.0
# Results are kept this long, then `prune_jobs` deletes them.
RESULT_LIFETIME = datetime.timedelta(days=7)
# Result and input files are stored in the database in chunks of this size: every app process
# reads them, whatever machine it runs on, and they appear in the same commit as the work.
CHUNK_SIZE = 512 * 1024


class JobState(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"


class FileRole(models.TextChoices):
    INPUT = "input", "Input"
    RESULT = "result", "Result"


class JobQuerySet(models.QuerySet):
    def visible_to(self, membership: Membership) -> JobQuerySet:
        """A member's own jobs in the project; supervisors see everyone's."""
        jobs = self.filter(project_id=membership.project_id)
        if membership.role == "supervisor":
            return jobs
        return jobs.filter(user_id=membership.user_id)

    def running(self) -> JobQuerySet:
        return self.filter(state=JobState.RUNNING)

    def expired(self) -> JobQuerySet:
        finished = models.Q(state__in=[JobState.SUCCEEDED, JobState.FAILED])
        return self.filter(finished, finished_at__lt=timezone.now() - RESULT_LIFETIME)


class Job(models.Model):
    """One piece of background work a member started, as its page shows it."""

    token = models.CharField(max_length=64, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # A name registered with `apps.jobs.running.job_kind`; not a choice list, because the
    # kinds live in higher apps this one never imports.
    kind = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Progress: `done` of `total` (unknown while null) and what is being done.
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    message = models.CharField(max_length=200, blank=True)
    # What the job did, or why it failed, in words for the person who started it.
    summary = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # Where to go next (e.g. the imported sources), set by the job.
    next_url = models.CharField(max_length=500, blank=True)
    result_name = models.CharField(max_length=255, blank=True)
    result_type = models.CharField(max_length=100, blank=True)
    result_size = models.BigIntegerField(null=True, blank=True)
    input_name = models.CharField(max_length=255, blank=True)
    input_size = models.BigIntegerField(null=True, blank=True)
    # "host:pid" of the process running it, to tell a dead process from a busy one.
    worker = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The jobs list: a member's recent jobs in a project.
            models.Index(fields=["project", "user", "-created_at"], name="job_member_recent"),
            # prune_jobs and the stale sweep.
            models.Index(fields=["state", "finished_at"], name="job_state_finished"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=JobState.values), name="job_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(total__isnull=True) | models.Q(done__lte=models.F("total")),
                name="job_done_within_total",
            ),
            models.CheckConstraint(
                condition=~models.Q(state=JobState.FAILED) | ~models.Q(error=""),
                name="job_failure_says_why",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    def save(self, *args, **kwargs) -> None:
        if not self.token:
            self.token = secrets.token_urlsafe(32)
        super().save(*args, **kwargs)

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)

    @property
    def has_result(self) -> bool:
        return self.state == JobState.SUCCEEDED and bool(self.result_name)

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.state == JobState.SUCCEEDED else None
        return min(100, round(100 * self.done / self.total))

    # --- Life of a job (called by apps/jobs/running.py) ----------------------------------

    def begin(self) -> None:
        """Mark the job as running in this process; committed before its work starts."""
        now = timezone.now()
        self.state = JobState.RUNNING
        self.attempts += 1
        self.started_at = self.heartbeat_at = now
        self.worker = this_worker()
        self.done, self.total, self.message, self.error = 0, None, "", ""
        self.save(
            update_fields=[
                "state", "attempts", "started_at", "heartbeat_at", "worker",
                "done", "total", "message", "error",
            ]
        )  # fmt: skip

    def report(self, done: int, total: int | None = None, message: str = "") -> None:
        """Progress, as the job's page will show it: `done` of `total`, and what it does.

        Cheap to call often: it is published at most a few times a second, outside the job's
        transaction, so other processes see it while the work is still uncommitted.
        """
        if total is not None:
            total = max(total, 0)
            done = min(done, total)
        self.done, self.total = max(done, 0), total
        if message:
            self.message = message[:200]
        if time.monotonic() - getattr(self, "_published_at", 0.0) >= 0.5:
            self.publish_pulse()

    def publish_pulse(self) -> None:
        """Progress and a sign of life into the shared cache (every process reads it)."""
        self._published_at = time.monotonic()
        pulse = {"done": self.done, "total": self.total, "message": self.message,
                 "at": time.time()}  # fmt: skip
        cache.set(pulse_key(self.pk), pulse, timeout=int(stale_after() * 4) + 60)

    def write_pulse(self) -> None:
        """Progress and heartbeat into the row, from a connection of its own (not SQLite,
        whose single writer is the job's own transaction)."""
        Job.objects.filter(pk=self.pk, state=JobState.RUNNING).update(
            done=self.done, total=self.total, message=self.message,
            heartbeat_at=timezone.now(),
        )  # fmt: skip

    def succeed(self, summary: str = "") -> None:
        """Written inside the job's transaction: the work and "done" commit together."""
        self.state = JobState.SUCCEEDED
        self.summary = summary or self.summary
        if self.total is not None:
            self.done = self.total
        self.finished_at = self.heartbeat_at = timezone.now()
        self.save(
            update_fields=[
                "state", "summary", "done", "total", "message", "finished_at", "heartbeat_at",
                "next_url", "result_name", "result_type", "result_size",
            ]
        )  # fmt: skip
        cache.delete(pulse_key(self.pk))

    def fail(self, error: str) -> None:
        """After the job's transaction was rolled back: nothing it did was kept."""
        self.state = JobState.FAILED
        self.error = error or "The job failed."
        self.finished_at = timezone.now()
        self.result_name, self.result_type, self.result_size = "", "", None
        Job.objects.filter(pk=self.pk).update(
            state=self.state, error=self.error, finished_at=self.finished_at,
            result_name="", result_type="", result_size=None,
        )  # fmt: skip
        cache.delete(pulse_key(self.pk))

    def retry(self) -> None:
        """A failed job waits to run again (its input, if any, is still stored)."""
        self.state = JobState.QUEUED
        self.error = ""
        self.done, self.total, self.message = 0, None, ""
        self.finished_at = None
        self.save(update_fields=["state", "error", "done", "total", "message", "finished_at"])

    def read_pulse(self) -> None:
        """Take the newest progress: the shared cache has it while the job's transaction is
        open; the row has it once written."""
        if self.state != JobState.RUNNING:
            return
        pulse = cache.get(pulse_key(self.pk))
        if not pulse:
            return
        at = datetime.datetime.fromtimestamp(pulse["at"], tz=datetime.UTC)
        if self.heartbeat_at is None or at > self.heartbeat_at:
            self.done, self.total, self.message = pulse["done"], pulse["total"], pulse["message"]
            self.heartbeat_at = at

    @property
    def is_stale(self) -> bool:
        """Running, but its process is gone: dead on this machine, or silent too long."""
        if self.state != JobState.RUNNING:
            return False
        host, _, pid = self.worker.rpartition(":")
        if host == socket.gethostname() and pid.isdigit():
            return not process_alive(int(pid))
        last = self.heartbeat_at or self.started_at or self.created_at
        return (timezone.now() - last).total_seconds() > stale_after()

    def check_pulse(self) -> None:
        """Report a job whose process died; its transaction died with it, so nothing of its
        work was kept, and it may be run again."""
        self.read_pulse()
        if not self.is_stale:
            return
        stopped = Job.objects.filter(pk=self.pk, state=JobState.RUNNING).update(
            state=JobState.FAILED,
            error=DIED_MESSAGE,
            finished_at=timezone.now(),
        )
        if stopped:
            self.state, self.error = JobState.FAILED, DIED_MESSAGE
        else:
            self.refresh_from_db()

    def chunks(self, role: str = FileRole.RESULT):
        """The stored file's bytes, one chunk at a time (never the whole file at once)."""
        seqs = JobChunk.objects.filter(job=self, role=role).order_by("seq")
        for seq in list(seqs.values_list("seq", flat=True)):
            data = seqs.filter(seq=seq).values_list("data", flat=True).first()
            if data is None:  # pruned while being read
                return
            yield bytes(data)


class JobChunk(models.Model):
    """A piece of a job's input or result file, in order."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10, choices=FileRole.choices)
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            # Also the index the download reads by.
            models.UniqueConstraint(fields=["job", "role", "seq"], name="jobchunk_unique_seq"),
            models.CheckConstraint(
                condition=models.Q(role__in=FileRole.values), name="jobchunk_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} chunk {self.seq} of job {self.job_id}"


DIED_MESSAGE = (
    "The job stopped before it finished (the process running it ended). Nothing it had done "
    "was kept. You can run it again."
)


def pulse_key(job_id: int) -> str:
    return f"jobs:pulse:{job_id}"


def stale_after() -> float:
    return float(getattr(settings, "JOBS_STALE_AFTER", STALE_AFTER_SECONDS))


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def get_job_for_member(membership: Membership, token: str) -> Job:
    """A job its starter (or a supervisor) may see; 404 for anyone else's token."""
    return get_object_or_404(Job.objects.visible_to(membership).select_related("user"), token=token)

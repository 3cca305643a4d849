"""REFI-QDA as background jobs: the project archive written into a file on disk, then kept as
the job's download; a large archive imported."""

from __future__ import annotations

import tempfile

from django.urls import reverse

from apps.accounts.policy import Action, can
from apps.jobs.models import Job
from apps.jobs.running import JobRefused, job_kind, read_input, write_result
from apps.qda import importing, refi
from apps.qda.reading import QdaError


@job_kind("qda.export", snapshot=True)
def export_qdpx(job: Job) -> None:
    project = job.project
    membership = project.memberships.filter(user=job.user).select_related("project").first()
    if membership is None:
        raise JobRefused("You are no longer a member of this project.")

    def progress(done: int, total: int) -> None:
        job.report(done, total, "Writing sources and their passages…")

    with tempfile.TemporaryFile() as archive:
        counts = refi.write_project(archive, membership, progress=progress)
        archive.seek(0)
        size = write_result(
            job,
            iter(lambda: archive.read(1 << 16), b""),
            filename=f"{project.slug}.qdpx",
            content_type="application/zip",
        )
    megabytes = f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size // 1024 + 1} KB"
    job.summary = (
        f"The REFI-QDA project is ready ({megabytes}): {counts['sources']} sources with their "
        f"texts, {counts['selections']} passages, {counts['codings']} codings and "
        f"{counts['links']} links."
    )


@job_kind("qda.import")
def import_qdpx(job: Job, *, file_name: str = "", keep_orphans: bool = False) -> None:
    """A large archive imported as the member's drafts, all or nothing: a job that fails or
    is killed leaves nothing behind (one transaction)."""
    membership = (
        job.project.memberships.filter(user=job.user).select_related("project", "user").first()
    )
    if membership is None or not can(membership, Action.ANNOTATE):
        raise JobRefused("You may no longer add passages to this project.")
    with tempfile.TemporaryFile() as stream:
        for chunk in read_input(job):
            stream.write(chunk)
        stream.seek(0)
        try:
            report = importing.import_project(
                membership,
                stream,
                file_name=file_name,
                keep_orphans=keep_orphans,
                progress=lambda done, total: job.report(done, total, "Placing passages…"),
            )
        except QdaError as error:
            raise JobRefused(f"Nothing was imported. {error}") from None
    job.summary = f"Imported {report.summary()}"
    job.next_url = reverse("annotations:annotation_list", args=[job.project.slug]) + "?status=draft"

"""The REFI-QDA project archive as a background job: sources and passages of any number are
written into a file on disk, then kept as the job's download."""

from __future__ import annotations

import tempfile

from apps.jobs.models import Job
from apps.jobs.running import JobRefused, job_kind, write_result
from apps.qda import refi


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

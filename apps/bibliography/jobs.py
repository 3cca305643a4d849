"""Large bibliography imports as a background job: the confirmed upload's entries written in
one transaction, with progress on the job's page."""

from __future__ import annotations

from django.urls import reverse

from apps.jobs.models import ImportJob, ImportKind
from apps.jobs.running import JobRefused, job_kind

IMPORT_JOB = "bibliography.import"


@job_kind(IMPORT_JOB)
def import_bibliography(job, *, token: str, merge: list[int], skip_rejected: bool) -> None:
    from apps.bibliography.importing import ImportRefused, importing
    from apps.bibliography.views import job_entries

    upload = (
        ImportJob.objects.select_for_update()
        .filter(token=token, kind=ImportKind.BIBLIOGRAPHY, project=job.project, user=job.user)
        .first()
    )
    if upload is None:
        raise JobRefused("The uploaded file is no longer kept: upload it again.")
    if upload.is_finished:
        raise JobRefused(f"This file was imported already: {upload.result}")
    entries = job_entries(upload)
    steps = importing(
        project=job.project,
        entries=entries,
        by=job.user,
        merge=merge,
        skip_rejected=skip_rejected,
    )
    try:
        while True:
            try:
                done, total = next(steps)
            except StopIteration as finished:
                result = finished.value
                break
            job.report(done, total, f"{done:,} of {total:,} entries written…")
    except ImportRefused as error:
        raise JobRefused(str(error)) from None
    upload.finish(result.summary())
    job.summary = result.summary()
    job.next_url = reverse("xref:source_list", args=[job.project.slug])

"""The whole-project file as background jobs: writing a large project's file, and importing a
large file, with their progress on the job's page."""

from __future__ import annotations

import tempfile

from django.urls import reverse

from apps.backup import project_file
from apps.jobs.models import Job
from apps.jobs.running import JobRefused, job_kind, read_input, write_result

SECTION_NAMES = {
    "users": "users",
    "memberships": "members",
    "people": "people",
    "sources": "sources",
    "concepts": "concepts",
    "claims": "claims",
    "claim_relations": "relations between claims",
    "annotations": "annotations",
}


class _Tally:
    """Rows done over all sections, for the progress bar."""

    def __init__(self, job: Job, total: int, verb: str) -> None:
        self.job, self.total, self.verb = job, total, verb
        self.done: dict[str, int] = {}

    def __call__(self, section: str, done: int) -> None:
        self.done[section] = done
        self.job.report(
            sum(self.done.values()),
            self.total,
            f"{self.verb} {SECTION_NAMES.get(section, section)}…",
        )


@job_kind("backup.export", snapshot=True)
def export_project(job: Job) -> None:
    project = job.project
    counts = project_file.imported_counts(project)
    tally = _Tally(job, sum(counts.values()), "Writing")
    size = write_result(
        job,
        project_file.iter_project_file(project, progress=tally),
        filename=f"{project.slug}-project.json",
        content_type="application/json",
    )
    megabytes = f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size // 1024 + 1} KB"
    job.summary = (
        f"The project file is ready ({megabytes}): {_count(counts['sources'], 'source')}, "
        f"{_count(counts['annotations'], 'annotation')}."
    )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@job_kind("backup.import")
def import_project(job: Job, *, slug: str, total: int = 0) -> None:
    # The reader needs a file it can go back to the start of; the upload is copied out of the
    # database in chunks to a temporary file of this process.
    with tempfile.TemporaryFile() as stream:
        for chunk in read_input(job):
            stream.write(chunk)
        stream.seek(0)
        try:
            created = project_file.import_project(
                stream, slug=slug, progress=_Tally(job, total, "Importing")
            )
        except project_file.ProjectFileError as error:
            raise JobRefused(str(error)) from None
    job.summary = f"Imported the project “{created.name}” at /p/{created.slug}/."
    job.next_url = reverse("xref:project_home", args=[created.slug])

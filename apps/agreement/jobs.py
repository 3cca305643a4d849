"""The comparison as a background job: with thousands of passages per coder it writes a unit
per aligned passage and an annotation per complete agreement, longer than a request may take."""

from __future__ import annotations

from apps.agreement import coding, report
from apps.agreement.models import Assignment
from apps.jobs.models import Job
from apps.jobs.running import JobRefused, job_kind

COMPARE = "agreement.compare"


@job_kind(COMPARE)
def compare(job: Job, assignment: int) -> None:
    found = Assignment.objects.filter(project=job.project, pk=assignment).first()
    if found is None:
        raise JobRefused("The assignment no longer exists.")
    if not job.project.memberships.filter(user=job.user, role="supervisor").exists():
        raise JobRefused("Only a supervisor of the project compares an assignment.")
    try:
        counts = coding.compare(assignment=found, by=job.user)
    except coding.AgreementError as error:
        raise JobRefused(str(error)) from None
    # The report is computed here, once, into the shared cache: the frozen data never changes
    # after the comparison, and the first supervisor to open it need not wait for the bootstrap.
    found.refresh_from_db()
    report.build(found)
    job.summary = (
        f"Compared: {counts['agreed']} complete agreements merged and submitted for review, "
        f"{counts['disagreed']} disagreements and {counts['only_some']} units coded by only "
        "some coders to resolve."
    )

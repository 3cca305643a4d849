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
    # The report's figures are computed here, once, and stored with the comparison (a job runs
    # in one transaction: a compared assignment always has them). The frozen data never changes
    # after it, so no page computes the bootstrap again, whichever process serves it.
    report.store(Assignment.objects.with_list_data().get(pk=found.pk))
    job.summary = (
        f"Compared: {counts['agreed']} complete agreements merged and submitted for review, "
        f"{counts['disagreed']} disagreements and {counts['only_some']} units coded by only "
        "some coders to resolve."
    )

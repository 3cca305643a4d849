"""A job's page (progress, then its result or why it failed), its download, and the list of
a member's recent jobs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import project_view
from apps.jobs.models import Job, JobState, get_job_for_member
from apps.jobs.running import job_url, retry_job, stream_download, wake_thread

JOBS_PAGE = 25


def _current(membership: Membership, token: str) -> Job:
    job = get_job_for_member(membership, token)
    job.check_pulse()
    if job.state == JobState.QUEUED:
        wake_thread()  # a job queued before this process (re)started: run it now
    return job


def _context(membership: Membership, job: Job) -> dict:
    return {
        "membership": membership,
        "project": membership.project,
        "job": job,
        "may_retry": job.state == JobState.FAILED and job.user_id == membership.user_id,
    }


@require_safe
@project_view()
def job_detail(request: HttpRequest, membership: Membership, token: str) -> HttpResponse:
    job = _current(membership, token)
    return render(request, "jobs/job_detail.html", _context(membership, job))


@require_safe
@project_view()
def job_status(request: HttpRequest, membership: Membership, token: str) -> HttpResponse:
    """The status part of the page, which the page's script fetches while the job runs."""
    job = _current(membership, token)
    return render(request, "jobs/_job_status.html", _context(membership, job))


@require_safe
@project_view()
def job_download(request: HttpRequest, membership: Membership, token: str) -> HttpResponse:
    job = get_job_for_member(membership, token)
    if not job.has_result:
        raise Http404("This job has no file to download.")
    return stream_download(
        job.chunks(), filename=job.result_name, content_type=job.result_type,
        size=job.result_size,
    )  # fmt: skip


@require_POST
@project_view()
def job_retry(request: HttpRequest, membership: Membership, token: str) -> HttpResponse:
    job = _current(membership, token)
    if job.user_id != membership.user_id:
        raise PermissionDenied
    if job.state != JobState.FAILED:
        messages.info(request, "This job has not failed; there is nothing to run again.")
    else:
        retry_job(job)
    return redirect(job_url(job))


@require_safe
@project_view()
def job_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    jobs = Job.objects.visible_to(membership).select_related("user").defer("params")
    page = Paginator(jobs, JOBS_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "jobs/job_list.html",
        {"membership": membership, "project": membership.project, "page_obj": page},
    )

"""An analyst watches a background job: the bar moves while it runs, then the result is there
to download, with JavaScript and without it."""

import os
import socket

import pytest
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.jobs.models import Job, JobChunk


def running_job(project, username: str) -> Job:
    # Run by "this process", so its page does not take it for dead.
    return Job.objects.create(
        project=project, user=User.objects.get(username=username), kind="test",
        title="Export of the whole project", state="running", attempts=1, done=2, total=8,
        message="Writing sources", worker=f"{socket.gethostname()}:{os.getpid()}",
    )  # fmt: skip


def finish(job: Job) -> None:
    JobChunk.objects.create(job=job, role="result", seq=0, data=b"the whole project\n")
    Job.objects.filter(pk=job.pk).update(
        state="succeeded", done=8, summary="Wrote 8 sources.", result_name="project.json",
        result_type="application/json", result_size=18,
    )  # fmt: skip


def test_the_job_page_follows_the_job_and_offers_its_result(
    page, live_server, seed_review, sign_in, tmp_path
):
    job = running_job(seed_review, "analyst")
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/jobs/{job.token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Export of the whole project")
    status = page.get_by_role("status")
    expect(status).to_contain_text("2 of 8 (25%)")
    expect(status).to_contain_text("Writing sources")

    Job.objects.filter(pk=job.pk).update(done=6, message="Writing annotations")
    expect(status).to_contain_text("6 of 8 (75%)")  # updated in place, no reload
    expect(status).to_contain_text("Writing annotations")
    page.set_viewport_size({"width": 390, "height": 800})
    page.screenshot(path=str(tmp_path / "running-phone.png"), full_page=True)

    finish(job)
    download_link = page.get_by_role("link", name="Download project.json")
    expect(download_link).to_be_visible()
    expect(status).to_contain_text("Wrote 8 sources.")
    with page.expect_download() as download:
        download_link.click()
    saved = tmp_path / "project.json"
    download.value.save_as(saved)
    assert saved.read_bytes() == b"the whole project\n"


@pytest.mark.parametrize("java_script_enabled", [False])
def test_without_javascript_the_page_reloads_until_the_job_is_done(
    browser, live_server, seed_review, sign_in, java_script_enabled
):
    context = browser.new_context(java_script_enabled=java_script_enabled)
    page = context.new_page()
    job = running_job(seed_review, "analyst")
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/jobs/{job.token}/")
    expect(page.locator(".job-status")).to_contain_text("2 of 8")
    finish(job)
    expect(page.get_by_role("link", name="Download project.json")).to_be_visible(timeout=8000)
    context.close()

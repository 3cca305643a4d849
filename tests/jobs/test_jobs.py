"""Background jobs as their starter sees them: progress, the result to download, a failure
that keeps nothing, running again."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.claims.models import Concept
from apps.jobs.models import CHUNK_SIZE, Job, JobChunk, JobState
from apps.jobs.running import job_url, start_job
from tests.jobs import kinds


def start(cast, kind="test.concepts", user=None, **params):
    return start_job(
        kind=kind, project=cast.project, user=user or cast.analyst, title="A test job",
        params=params,
    )  # fmt: skip


def test_a_job_that_succeeds_shows_its_summary_and_where_to_go_next(cast, client_for):
    job = start(cast, names=["isolation", "takfir"])
    assert job.state == JobState.SUCCEEDED
    assert set(Concept.objects.values_list("name", flat=True)) == {"isolation", "takfir"}
    page = client_for(cast.analyst).get(job_url(job)).content.decode()
    assert "Added 2 concepts." in page
    assert f'href="/p/{cast.project.slug}/concepts/"' in page
    assert 'value="1" max="1"' in page  # the bar is full
    assert "http-equiv" not in page  # a finished job's page stops reloading


def test_a_refused_job_keeps_nothing_and_says_why(cast, client_for):
    job = start(cast, names=["one", "two", "three", "four"], fail_at=3)
    assert job.state == JobState.FAILED
    assert not Concept.objects.exists()
    page = client_for(cast.analyst).get(job_url(job)).content.decode()
    assert "three cannot be added." in page
    assert "Run it again" in page


def test_a_job_that_crashes_keeps_nothing_and_tells_the_user_without_the_details(cast, client_for):
    job = start(cast, names=["one", "two"], crash_at=2)
    assert job.state == JobState.FAILED
    assert not Concept.objects.exists()
    page = client_for(cast.analyst).get(job_url(job)).content.decode()
    assert "nothing it had done was kept" in page
    assert "a bug" not in page


def test_progress_is_visible_while_the_job_runs(cast):
    kinds.PEEKS.clear()
    job = start(cast, kind="test.peek")
    status = kinds.PEEKS[-1]
    assert 'data-job-state="running"' in status
    assert 'value="3" max="10"' in status
    assert "3 of 10 (30%)" in status
    assert "Three of ten done" in status
    assert job.state == JobState.SUCCEEDED


def test_the_result_is_downloaded_as_written_in_chunks(cast, client_for):
    count = 60_000  # about 2 MB: several chunks
    job = start(cast, kind="test.lines", count=count)
    assert job.state == JobState.SUCCEEDED
    assert JobChunk.objects.filter(job=job).count() == -(-job.result_size // CHUNK_SIZE) > 2
    page = client_for(cast.analyst).get(job_url(job)).content.decode()
    assert "Download lines.txt (" in page
    response = client_for(cast.analyst).get(
        reverse("jobs:job_download", args=[cast.project.slug, job.token])
    )
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="lines.txt"'
    assert int(response["Content-Length"]) == job.result_size
    body = b"".join(response.streaming_content).decode()
    expected = "".join(f"line {number:08d} of the result\n" for number in range(count))
    assert body == expected


def test_an_input_file_is_stored_and_read_back_in_chunks(cast, client_for):
    import io

    data = b"abc\n" * (CHUNK_SIZE // 2)  # two chunks
    job = start_job(
        kind="test.echo", project=cast.project, user=cast.analyst, title="Echo",
        input_file=io.BytesIO(data), input_name="in.txt",
    )  # fmt: skip
    assert (job.input_name, job.input_size) == ("in.txt", len(data))
    response = client_for(cast.analyst).get(
        reverse("jobs:job_download", args=[cast.project.slug, job.token])
    )
    assert b"".join(response.streaming_content) == data.upper()


def test_a_failed_job_runs_again_when_its_starter_asks(cast, client_for):
    job = start(cast, names=["one", "two"], fail_at=2)
    job.params = {"names": ["one", "two"]}
    job.save(update_fields=["params"])
    client = client_for(cast.analyst)
    url = reverse("jobs:job_retry", args=[cast.project.slug, job.token])
    response = client.post(url)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 2
    assert Concept.objects.count() == 2
    # A job that succeeded is not run again.
    client.post(url)
    assert Concept.objects.count() == 2


def test_only_the_starter_runs_a_job_again(cast, client_for):
    job = start(cast, names=["one"], fail_at=1)
    url = reverse("jobs:job_retry", args=[cast.project.slug, job.token])
    assert client_for(cast.supervisor).post(url).status_code == 403
    assert client_for(cast.analyst2).post(url).status_code == 404
    assert Job.objects.get().state == JobState.FAILED


def test_a_running_job_whose_process_is_gone_is_reported(cast, client_for):
    job = Job.objects.create(
        project=cast.project, user=cast.analyst, kind="test.concepts", title="Orphan",
        state=JobState.RUNNING, attempts=1, done=4, total=10,
        worker="this-host-does-not-exist:1",
    )  # fmt: skip
    page = client_for(cast.analyst).get(job_url(job)).content.decode()
    # Silent for less than the limit: still running, with its last progress.
    assert "4 of 10" in page
    Job.objects.filter(pk=job.pk).update(heartbeat_at="2000-01-01T00:00:00Z")
    page = client_for(cast.analyst).get(job_url(job)).content.decode()
    assert "stopped before it finished" in page
    assert Job.objects.get().state == JobState.FAILED


def test_a_waiting_job_reloads_itself_without_javascript(cast, client_for):
    job = Job.objects.create(
        project=cast.project, user=cast.analyst, kind="test.concepts", title="Waiting"
    )
    page = client_for(cast.analyst).get(job_url(job)).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert "Waiting to start" in page
    assert "js/job.js" in page


def test_unknown_kinds_are_refused_at_start(cast):
    with pytest.raises(ValueError, match="Unknown job kind"):
        start(cast, kind="no.such.kind")
    assert not Job.objects.exists()


def test_a_job_whose_project_was_deleted_meanwhile_does_nothing(cast):
    from apps.jobs.running import run_job

    job = Job.objects.create(
        project=cast.project, user=cast.analyst, kind="test.concepts", title="Orphan",
        params={"names": ["x"]},
    )  # fmt: skip
    cast.project.delete()
    run_job.call(job.pk)
    assert not Concept.objects.exists()


def test_the_list_shows_a_members_own_jobs_and_supervisors_all(cast, client_for):
    start(cast, names=["a"], user=cast.analyst)
    Job.objects.filter().update(title="Analyst's job")
    start(cast, names=["b"], user=cast.analyst2)
    Job.objects.exclude(title="Analyst's job").update(title="Second analyst's job")
    url = reverse("jobs:job_list", args=[cast.project.slug])
    own = client_for(cast.analyst).get(url).content.decode()
    assert "Analyst&#x27;s job" in own and "Second analyst" not in own
    everyone = client_for(cast.supervisor).get(url).content.decode()
    assert "Analyst&#x27;s job" in everyone and "Second analyst&#x27;s job" in everyone


def test_prune_deletes_old_finished_jobs_with_their_files(cast):
    old = start(cast, kind="test.lines", count=10)
    Job.objects.filter(pk=old.pk).update(finished_at="2000-01-01T00:00:00Z")
    recent = start(cast, kind="test.lines", count=10)
    call_command("prune_jobs", stdout=__import__("io").StringIO())
    assert list(Job.objects.values_list("pk", flat=True)) == [recent.pk]
    assert set(JobChunk.objects.values_list("job_id", flat=True)) == {recent.pk}


def test_job_page_queries_do_not_grow_with_the_result(cast, client_for, django_assert_num_queries):
    job = start(cast, kind="test.lines", count=60_000)
    client, url = client_for(cast.analyst), job_url(job)
    # session, user, membership+project, the job (with its starter)
    with django_assert_num_queries(4):
        assert client.get(url).status_code == 200
    # the list: session, user, membership+project, count, the page of jobs with their starters
    with django_assert_num_queries(5):
        assert client.get(reverse("jobs:job_list", args=[cast.project.slug])).status_code == 200

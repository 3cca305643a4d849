"""Job kinds the tests start: they write rows, report progress and write a result the way a
real import or export does."""

import time

from apps.claims.models import Concept
from apps.jobs.models import Job
from apps.jobs.running import JobRefused, job_kind, read_input, write_result


@job_kind("test.concepts")
def add_concepts(job: Job, *, names: list[str], fail_at: int | None = None,
                 crash_at: int | None = None) -> None:  # fmt: skip
    """Adds one concept per name; refuses (or crashes) at `fail_at` (`crash_at`)."""
    for number, name in enumerate(names, start=1):
        Concept.objects.create(project=job.project, name=name)
        job.report(number, len(names), f"Added {name}")
        if number == fail_at:
            raise JobRefused(f"{name} cannot be added.")
        if number == crash_at:
            raise RuntimeError("a bug")
    job.summary = f"Added {len(names)} concepts."
    job.next_url = f"/p/{job.project.slug}/concepts/"


@job_kind("test.lines", snapshot=True)
def write_lines(job: Job, *, count: int) -> None:
    """A result file of `count` numbered lines, written as generated."""

    def lines():
        for number in range(count):
            if number % 10_000 == 0:
                job.report(number, count, "Writing lines")
            yield f"line {number:08d} of the result\n"

    write_result(job, lines(), filename="lines.txt", content_type="text/plain; charset=utf-8")
    job.summary = f"{count:,} lines."


@job_kind("test.echo")
def echo_input(job: Job) -> None:
    """The input file back as the result, upper-cased, chunk by chunk."""
    write_result(
        job, (chunk.upper() for chunk in read_input(job)),
        filename="echo.txt", content_type="text/plain",
    )  # fmt: skip


PEEKS: list[str] = []


@job_kind("test.peek")
def peek(job: Job) -> None:
    """Reports progress, then reads the job's own status page as its starter would."""
    from django.test import Client
    from django.urls import reverse

    Concept.objects.create(project=job.project, name="Written by the peeking job")
    job.report(3, 10, "Three of ten done")
    client = Client()
    client.force_login(job.user)
    PEEKS.append(
        client.get(reverse("jobs:job_status", args=[job.project.slug, job.token])).content.decode()
    )


@job_kind("test.hang")
def hang(job: Job, *, seconds: float) -> None:
    """Writes half its rows, reports it, then waits (to be killed meanwhile)."""
    for number in range(1, 6):
        Concept.objects.create(project=job.project, name=f"Half-way concept {number}")
    job.report(5, 10, "Half way")
    job.publish_pulse()
    time.sleep(seconds)

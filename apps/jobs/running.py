"""Background jobs: how other apps start them and how they run.

A higher app declares a kind of job in its own `jobs.py` (found at start-up, as admin.py is):

    @job_kind("bibliography.import", snapshot=False)
    def import_bibliography(job: Job, *, merge: bool) -> None:
        for done, total in ...:
            job.report(done, total, "Writing sources…")
        job.summary = "Imported 1,204 sources."

and starts one from a view, which then redirects to the job's page:

    job = start_job(kind="bibliography.import", project=project, user=request.user,
                    title="Import of refs.bib", params={"merge": True}, input_file=upload)
    return redirect(job_url(job))

The job function runs inside one transaction together with the row that says "done", so a job
that fails or whose process is killed leaves nothing half-applied. Django's tasks API (the
django-tasks backport, with its database backend) queues and runs it; JOBS_MODE says where:

- "worker": `manage.py db_worker` processes run them (production).
- "thread": the app process runs them in a background thread (SQLite, `make run`).
- "immediate": `start_job` runs the job before it returns (the tests).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils.crypto import get_random_string
from django_tasks import task

from apps.accounts.models import Project, User
from apps.jobs.models import (
    CHUNK_SIZE,
    PULSE_SECONDS,
    FileRole,
    Job,
    JobChunk,
    JobState,
)

T = TypeVar("T")
logger = logging.getLogger(__name__)


class JobRefused(Exception):
    """Raised by a job function to fail with a message for the person who started it
    (a malformed file, a name taken meanwhile…). Everything the job wrote is rolled back."""


@dataclass(frozen=True)
class JobKind:
    name: str
    function: Callable[..., None]
    # Exports read in one REPEATABLE READ transaction on PostgreSQL: one consistent snapshot
    # across all their queries.
    snapshot: bool


KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, snapshot: bool = False) -> Callable[[Callable], Callable]:
    """Register `function(job, **params)` as the job kind `name`."""

    def register(function: Callable[..., None]) -> Callable[..., None]:
        if name in KINDS and KINDS[name].function is not function:
            raise ValueError(f"Job kind {name!r} is registered twice.")
        KINDS[name] = JobKind(name=name, function=function, snapshot=snapshot)
        return function

    return register


def job_url(job: Job) -> str:
    return reverse("jobs:job_detail", args=[job.project.slug, job.token])


def start_job(
    *,
    kind: str,
    project: Project,
    user: User,
    title: str,
    params: dict[str, Any] | None = None,
    input_file: IO[bytes] | None = None,
    input_name: str = "",
) -> Job:
    """Queue a job (storing `input_file` with it, read in chunks) and return its row.

    `params` must be JSON (ids, not objects). In "immediate" mode the job has run when this
    returns; otherwise it starts as soon as a worker is free.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown job kind {kind!r}; register it with @job_kind.")
    with transaction.atomic():
        job = Job.objects.create(
            project=project, user=user, kind=kind, title=title[:200], params=params or {}
        )
        if input_file is not None:
            writer = ChunkWriter(job, FileRole.INPUT)
            while piece := input_file.read(CHUNK_SIZE):
                writer.write(piece)
            job.input_size = writer.close()
            job.input_name = (input_name or getattr(input_file, "name", "") or "")[:255]
            job.save(update_fields=["input_name", "input_size"])
        if jobs_mode() != "immediate":
            # The queue is a table of the same database: it commits with the job's row.
            run_job.enqueue(job.pk)
            transaction.on_commit(wake_thread)
    if jobs_mode() == "immediate":
        run_job.enqueue(job.pk)
        job.refresh_from_db()
    return job


def retry_job(job: Job) -> None:
    """Queue a failed job again, with the same parameters and input."""
    with transaction.atomic():
        job.retry()
        if jobs_mode() != "immediate":
            run_job.enqueue(job.pk)
            transaction.on_commit(wake_thread)
    if jobs_mode() == "immediate":
        run_job.enqueue(job.pk)
        job.refresh_from_db()


def jobs_mode() -> str:
    return getattr(settings, "JOBS_MODE", "immediate")


# --- Running one job --------------------------------------------------------------------------


@task()
def run_job(job_id: int) -> None:
    """The one task Django's tasks API knows: run the Job row `job_id` by its kind."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return  # deleted meanwhile (with its project, say): nothing to do
        if job.state != JobState.QUEUED:
            return  # run already, or reported dead and not retried
        job.begin()
    kind = KINDS.get(job.kind)
    if kind is None:
        job.fail("This kind of job is no longer available.")
        return
    params = dict(job.params)
    pulse = Pulse(job) if jobs_mode() != "immediate" else None
    outer = connection.in_atomic_block
    try:
        with transaction.atomic():
            if kind.snapshot and connection.vendor == "postgresql" and not outer:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            if pulse:
                pulse.start()
            kind.function(job, **params)
            if pulse:
                pulse.stop()
            job.succeed()
    except JobRefused as refusal:
        job.fail(str(refusal) or "The job was refused.")
    except Exception:
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        job.fail(
            "Something went wrong while running this job, and nothing it had done was kept. "
            "The error was logged; you can try again."
        )
    finally:
        if pulse:
            pulse.stop()


class Pulse(threading.Thread):
    """Publishes a running job's progress and heartbeat every few seconds, on a connection of
    its own, so other processes see them while the job's transaction is still open."""

    def __init__(self, job: Job) -> None:
        super().__init__(name=f"job-pulse-{job.pk}", daemon=True)
        self.job = job
        self.stopped = threading.Event()
        # SQLite has one writer, the job's own transaction: the pulse goes to the cache only.
        self.to_row = connection.vendor != "sqlite"

    def run(self) -> None:
        interval = float(getattr(settings, "JOBS_PULSE_SECONDS", PULSE_SECONDS))
        try:
            while not self.stopped.wait(interval):
                try:
                    self.job.publish_pulse()
                    if self.to_row:
                        self.job.write_pulse()
                except Exception:  # a missed pulse is not worth failing the job for
                    logger.warning("Job %s: pulse not written", self.job.pk, exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        if self.is_alive():
            self.stopped.set()
            self.join()


# --- Files ----------------------------------------------------------------------------------


class ChunkWriter:
    """Writes a job's file into the database in CHUNK_SIZE pieces, as they come."""

    def __init__(self, job: Job, role: str) -> None:
        self.job, self.role = job, role
        self.buffer = bytearray()
        self.seq = 0
        self.size = 0
        JobChunk.objects.filter(job=job, role=role).delete()

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        self.buffer += data
        self.size += len(data)
        while len(self.buffer) >= CHUNK_SIZE:
            self._flush(bytes(self.buffer[:CHUNK_SIZE]))
            del self.buffer[:CHUNK_SIZE]

    def _flush(self, data: bytes) -> None:
        JobChunk.objects.create(job=self.job, role=self.role, seq=self.seq, data=data)
        self.seq += 1

    def close(self) -> int:
        if self.buffer:
            self._flush(bytes(self.buffer))
            self.buffer = bytearray()
        return self.size


def write_result(
    job: Job, pieces: Iterable[bytes | str], *, filename: str, content_type: str
) -> int:
    """Store what `pieces` yields as the job's result file (the download on its page).

    `pieces` is the same generator a streaming response sends (see `stream_download`), so an
    export is written once and served either way. Returns the size in bytes.
    """
    writer = ChunkWriter(job, FileRole.RESULT)
    for piece in pieces:
        writer.write(piece)
    job.result_size = writer.close()
    job.result_name = filename[:255]
    job.result_type = content_type[:100]
    return job.result_size


def read_input(job: Job) -> Iterator[bytes]:
    """The job's input file, chunk by chunk."""
    return job.chunks(FileRole.INPUT)


def input_bytes(job: Job) -> bytes:
    """The job's whole input file, for readers that need it at once (bounded by upload
    limits)."""
    return b"".join(read_input(job))


# --- In-process runner (JOBS_MODE=thread) ------------------------------------------------------

_thread_lock = threading.Lock()
_thread: threading.Thread | None = None
_woken = False


def wake_thread() -> None:
    """Start this process's job thread if it is not running (or make it look again).

    The thread runs django-tasks-db's own worker loop in batch mode (until the queue is empty)
    and ends; the queue being a database table, several app processes may each run one.
    """
    global _thread, _woken
    if jobs_mode() != "thread":
        return
    with _thread_lock:
        _woken = True
        if _thread is None:
            _thread = threading.Thread(target=_drain_queue, name="citemap-jobs", daemon=True)
            _thread.start()


def _drain_queue() -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    global _thread, _woken
    try:
        while True:
            with _thread_lock:
                if not _woken:
                    _thread = None
                    return
                _woken = False
            Worker(
                queue_names=["default"],
                interval=0,
                batch=True,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=f"thread-{get_random_string(12)}",
                excluded_queue_names=[],
            ).run()
    except Exception:
        logger.exception("The in-process job runner stopped")
        with _thread_lock:
            _thread = None
    finally:
        connection.close()


def stream_download(
    pieces: Iterable[bytes | str], *, filename: str, content_type: str, size: int | None = None
):
    """A download sent as `pieces` yields them, in blocks of about 64 KiB.

    The same generator can feed `write_result` in a job, so a large export is one function
    whether it is served directly or by a job."""
    from django.http import StreamingHttpResponse

    response = StreamingHttpResponse(_Blocks(pieces), content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename)
    if size is not None:
        response["Content-Length"] = str(size)
    return response


def in_one_snapshot(write: Callable[[], Iterator[T]]) -> Iterator[T]:
    """What `write()` yields, read from one snapshot on PostgreSQL, so a row saved meanwhile is
    either wholly in an export or not at all (PostgreSQL's default gives each statement a
    snapshot of its own). SQLite's transactions here take the write lock up front, which would
    hold every writer back for the length of an export, so there each query reads what is
    committed when it runs; inside a caller's transaction the isolation level is the caller's
    (it cannot change once a query has run)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from write()
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield from write()


def content_disposition(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(as_attachment=True, filename=filename)


class _Blocks:
    """`pieces` in blocks of about `size` bytes. Closing it closes `pieces` too, so what they
    hold (a place of `slots.Held`, a snapshot's transaction) is given back when the server
    closes the response, even before the first block (the client went away at once)."""

    def __init__(self, pieces: Iterable[bytes | str], size: int = 64 * 1024) -> None:
        self.pieces = pieces
        self.size = size

    def __iter__(self) -> Iterator[bytes]:
        buffer = bytearray()
        for piece in self.pieces:
            buffer += piece.encode() if isinstance(piece, str) else piece
            if len(buffer) >= self.size:
                yield bytes(buffer)
                buffer.clear()
        if buffer:
            yield bytes(buffer)

    def close(self) -> None:
        close = getattr(self.pieces, "close", None)
        if close is not None:
            close()

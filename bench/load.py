"""A bounded, local, mixed load on gunicorn: requests/s and latency at 1, 8 and 32 clients,
read-only and while a supervisor approves a passage every 5 s.

    .venv/bin/python bench/load.py --database-url URL [--workers 3] [--redis redis://…/1]
        [--clients 1,8,32] [--seconds 20] [--project bench20k]

It starts gunicorn (config/gunicorn.py) on a free port of 127.0.0.1 with `--workers` processes
of one thread each, signs the clients in (sessions made directly in the database), and drives
each level for `--seconds` seconds twice: read-only, then with the approvals. Only this
machine is ever addressed, every loop ends by itself, and gunicorn is stopped at the end.
"""

import argparse
import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis", help="REDIS_URL for the app (shared cache); none: per process")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--write-every", type=float, default=5.0)
    parser.add_argument("--project", default="bench20k")
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if args.redis:
        os.environ["REDIS_URL"] = args.redis
    else:
        os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-load-" + "x" * 40)
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    from apps.accounts.models import Membership, Project, Role, User
    from apps.annotations.models import Annotation

    project = Project.objects.get(slug=args.project)
    supervisor = Membership.objects.filter(project=project, role=Role.SUPERVISOR).first().user
    student, _ = User.objects.get_or_create(username=f"bench-student-{project.slug}")
    Membership.objects.get_or_create(user=student, project=project, defaults={"role": Role.STUDENT})
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")

    def cookie(user: User) -> str:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    cookies = [cookie(student), cookie(supervisor)]
    slug = project.slug
    first = Annotation.objects.filter(project=project, status="approved").order_by("pk").first()
    urls = [
        f"/p/{slug}/", f"/p/{slug}/", f"/p/{slug}/sources/", f"/p/{slug}/concepts/",
        f"/p/{slug}/claims/", f"/p/{slug}/people/", f"/p/{slug}/matrix/",
        f"/p/{slug}/matrix/?cols=people", f"/p/{slug}/cocitation/",
        f"/p/{slug}/sources/{first.source_id}/", f"/p/{slug}/annotations/{first.pk}/",
        f"/p/{slug}/map/",
    ]  # fmt: skip

    port = free_port()
    env = {**os.environ, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(args.workers),
           "THREADS": str(args.threads), "LOG_LEVEL": "WARNING"}  # fmt: skip
    (ROOT / "data").mkdir(exist_ok=True)
    server_log = (ROOT / "data" / "bench-load-gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "config" / "gunicorn.py"),
         "--access-logfile", "/dev/null", "config.wsgi"],
        env=env, cwd=ROOT, stderr=server_log,
    )  # fmt: skip
    try:
        wait_until_up(port)
        print(
            f"gunicorn: {args.workers} workers x {args.threads} thread(s); cache: "
            f"{'Redis' if args.redis else 'per process'}; {len(urls)} pages of {slug}, half "
            f"as a student, half as its supervisor; {args.seconds:.0f} s per run; load "
            f"average {os.getloadavg()[0]:.2f}"
        )
        warm(port, urls, cookies)
        header = f"{'clients':>7} {'writes':<12} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} " \
                 f"{'p99 ms':>8} {'errors':>6} {'approvals':>9}"  # fmt: skip
        print(header)
        for clients in (int(n) for n in args.clients.split(",")):
            results = {}
            for writes in (False, True):
                result = run(port, urls, cookies, clients, args.seconds,
                             args.write_every if writes else None, project, supervisor)  # fmt: skip
                results[writes] = result
                label = f"every {args.write_every:.0f} s" if writes else "read-only"
                print(
                    f"{clients:>7} {label:<12} "
                    f"{result['rate']:>7.1f} {result['p50']:>8.0f} {result['p95']:>8.0f} "
                    f"{result['p99']:>8.0f} {result['errors']:>6} {result['writes']:>9}",
                    flush=True,
                )
            share = results[True]["rate"] / results[False]["rate"] if results[False]["rate"] else 0
            print(f"{'':>7} with writes: {share:.0%} of read-only throughput; load average "
                  f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 180
    seen = "no answer"
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/healthz/")
            response = connection.getresponse()
            seen = f"{response.status} {response.read()[:200]!r}"
            if response.status == 200:
                return
        except OSError as error:
            seen = str(error)
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not come up: {seen} (see data/bench-load-gunicorn.log)")


def get(connection: http.client.HTTPConnection, url: str, cookie: str) -> int:
    connection.request("GET", url, headers={"Cookie": cookie, "Host": "127.0.0.1"})
    response = connection.getresponse()
    response.read()
    return response.status


def warm(port: int, urls: list[str], cookies: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(2):
        for url in urls:
            for cookie in cookies:
                get(connection, url, cookie)


def run(port, urls, cookies, clients, seconds, write_every, project, supervisor) -> dict:
    from apps.annotations.models import Annotation, ReviewAction

    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    writes = [0]
    lock = threading.Lock()

    def client(number: int) -> None:
        rng = random.Random(number)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        cookie = cookies[number % len(cookies)]
        while time.monotonic() < stop:
            url = rng.choice(urls)
            started = time.perf_counter()
            try:
                status = get(connection, url, cookie)
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors[0] += 1

    def writer() -> None:
        from django.db import connection as db

        try:
            while time.monotonic() + write_every < stop:
                time.sleep(write_every)
                submitted = Annotation.objects.filter(
                    project=project, status="submitted", withdrawn_at=None
                )
                waiting = (
                    submitted.exclude(author=supervisor)
                    .order_by("pk")
                    .first()
                )
                if waiting:
                    waiting.transition(ReviewAction.APPROVE, by=supervisor)
                    writes[0] += 1
        finally:
            db.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    if write_every:
        threads.append(threading.Thread(target=writer))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else 0

    return {
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) if latencies else 0,
        "p95": pct(0.95),
        "p99": pct(0.99),
        "errors": errors[0],
        "writes": writes[0],
    }


if __name__ == "__main__":
    main()

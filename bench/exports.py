"""Time, time to first byte and peak memory of every export, at two corpus sizes.

    .venv/bin/python bench/exports.py --database-url URL [--only csv] [--sizes bench2k,bench20k]

Each export runs in a fresh Python process of its own (so its peak resident memory is the
export's, not what an earlier one left), through Django's test client as the corpus supervisor,
reading the response as a client would: chunk by chunk, keeping only the byte count. Printed
per export and size: seconds to the first byte and to the last, the file's size, the process's
peak RSS and how much it grew over its size before the request (the cost of the export).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXPORTS = {
    "matrix CSV": "/p/{slug}/matrix.csv",
    "map GEXF": "/p/{slug}/map.gexf",
    "map GraphML": "/p/{slug}/map.graphml",
    "BibTeX": "/p/{slug}/export/file/?format=bibtex",
    "RIS": "/p/{slug}/export/file/?format=ris",
    "CSL-JSON": "/p/{slug}/export/file/?format=csljson",
    "project file": "/p/{slug}/export/project.json",
    "JSON-LD": "/p/{slug}/export/annotations.jsonld",
}
# Above 10,000 annotations these two are written by a background job: POSTing the same address
# starts it. Measured here with the job run in this process (JOBS_MODE=immediate): "first" is
# the time until the job is done, "total" adds downloading its stored result.
JOBS = {"project file (job)": "/p/{slug}/export/project.json",
        "JSON-LD (job)": "/p/{slug}/export/annotations.jsonld"}  # fmt: skip
EXPORTS.update(JOBS)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_one(slug: str, name: str) -> dict:
    """In this (fresh) process: one export, read as a client reads it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["JOBS_MODE"] = "immediate"
    import django

    django.setup()
    from django.test import Client

    from apps.accounts.models import Membership, Project, Role

    project = Project.objects.get(slug=slug)
    supervisor = Membership.objects.filter(project=project, role=Role.SUPERVISOR).first().user
    client = Client()
    client.force_login(supervisor)
    client.get("/accounts/login/")  # import what every request imports
    before = rss_mb()
    started = time.perf_counter()
    if name in JOBS:
        from apps.jobs.models import Job

        started_job = client.post(EXPORTS[name].format(slug=slug))
        job = Job.objects.filter(project=project).latest("pk")
        done = time.perf_counter() - started
        assert started_job.status_code == 302 and job.state == "succeeded", (job.state, job.error)
        response = client.get(f"/p/{slug}/jobs/{job.token}/download/")
        size = sum(len(chunk) for chunk in response.streaming_content)
        return {"status": response.status_code, "first": done,
                "total": time.perf_counter() - started, "bytes": size, "streamed": True,
                "peak": peak_rss_mb(), "before": before}  # fmt: skip
    response = client.get(EXPORTS[name].format(slug=slug))
    first = None
    size = 0
    if response.streaming:
        for chunk in response.streaming_content:
            if first is None:
                first = time.perf_counter() - started
            size += len(chunk)
    else:
        first = time.perf_counter() - started
        size = len(response.content)
    return {
        "status": response.status_code,
        "first": first or 0.0,
        "total": time.perf_counter() - started,
        "bytes": size,
        "streamed": bool(response.streaming),
        "peak": peak_rss_mb(),
        "before": before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--sizes", default="bench2k,bench20k")
    parser.add_argument("--only")
    parser.add_argument("--one", nargs=2, metavar=("SLUG", "EXPORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if args.one:
        print(json.dumps(measure_one(*args.one)))
        return
    print(f"load average {os.getloadavg()[0]:.2f}")
    header = (
        f"{'export':<14} {'corpus':<9} {'status':>6} {'first s':>8} {'total s':>8} "
        f"{'MB':>8} {'peak MB':>8} {'grew MB':>8} {'streamed':>8}"
    )
    print(header)
    for name in EXPORTS:
        if args.only and args.only.lower() not in name.lower():
            continue
        for slug in args.sizes.split(","):
            done = subprocess.run(
                [sys.executable, __file__, "--one", slug, name],
                capture_output=True, text=True, env=os.environ, cwd=ROOT,
            )  # fmt: skip
            if done.returncode:
                print(f"{name:<14} {slug:<9} failed: {done.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{name:<14} {slug:<9} {r['status']:>6} {r['first']:>8.2f} {r['total']:>8.2f} "
                f"{r['bytes'] / 2**20:>8.1f} {r['peak']:>8.0f} {r['peak'] - r['before']:>8.0f} "
                f"{'yes' if r['streamed'] else 'no':>8}",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Bibliography imports at real size, with time and peak memory per step.

Two cases, one after the other in one process (SQLite unless --postgres):

1. **Through the pages**: a BibTeX library of about 10 MB (9,000 entries with abstracts, as
   a researcher's Zotero or JabRef library is) uploaded, previewed and confirmed as a person
   does; the confirmation starts the background job (run in the request here, as the tests
   run jobs). The issue's target: under 20 s in all and under 500 MB of memory.
2. **At the limit**: 50,000 entries (the most one upload may hold), read, previewed and
   written by the functions the pages call: parse, preview, write.

    .venv/bin/python bench/imports.py                        # both cases, full size
    .venv/bin/python bench/imports.py --scale 0.05           # a quick run at 5 %
    .venv/bin/python bench/imports.py --postgres             # PostgreSQL, citemap_bench_imports

Peak memory is the process's resident set size, sampled every 20 ms during each step (the
memory the machine must have), and the growth over the process's size before the step.
The PostgreSQL database is dropped and re-created first (only `citemap_bench_imports`).
"""

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIVEN = ["Vera", "Jörg", "Hélène", "Ahmad", "Laura", "Tariq", "Ekaterina", "Renée", "Omar"]
FAMILY = ["Mironova", 'M{\\"u}ller', "P{\\'e}rez", "al-Hashimi", "Kaplan", "Crenshaw", "Byman"]
WORDS = (
    "isolation withdrawal takfir caliphate insurgency doctrine faction purity dissent "
    "movement violence state territory ideology recruitment network leadership"
).split()


def bibtex(entries: int, *, abstract_words: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    parts = [
        "@string{sct = {Studies in Conflict \\& Terrorism}}",
        "@string{tpv = {Terrorism and Political Violence}}",
    ]
    for n in range(1, entries + 1):
        authors = " and ".join(
            f"{rng.choice(FAMILY)}{n % 97 if rng.random() < 0.5 else ''}, {rng.choice(GIVEN)}"
            for _ in range(rng.randint(1, 3))
        )
        title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()
        kind = rng.choice(["article", "article", "book", "incollection", "online"])
        fields = [
            f"  author = {{{authors}}}",
            f"  title = {{{title} {{ISIS}} {n}}}",
            f"  year = {{{rng.randint(1990, 2024)}}}",
            f"  month = {rng.choice(['jan', 'mar', 'jun', 'oct'])}",
        ]
        if kind == "article":
            fields += [
                f"  journal = {rng.choice(['sct', 'tpv'])}",
                f"  pages = {{{n % 300}--{n % 300 + 20}}}",
                f"  doi = {{10.5555/bench.{n}}}",
            ]
        elif kind == "incollection":
            fields += ["  booktitle = {Terrorism in Waves}", "  editor = {Rapoport, David C.}"]
        elif kind == "online":
            fields += [f"  url = {{https://example.org/{n}}}", "  urldate = {2020-01-05}"]
        if abstract_words:
            words = " ".join(rng.choice(WORDS) for _ in range(abstract_words))
            fields.append(f"  abstract = {{{words.capitalize()}.}}")
        fields.append("  keywords = {bench, synthetic}")
        parts.append(f"@{kind}{{bench{n},\n" + ",\n".join(fields) + ",\n}")
    return "\n\n".join(parts) + "\n"


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Peak:
    """The largest resident set size while the block runs, sampled every 20 ms."""

    def __enter__(self):
        self.before = rss()
        self.peak = self.before
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        self.started = time.perf_counter()
        self.cpu = time.process_time()
        return self

    def _sample(self):
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.cpu_seconds = time.process_time() - self.cpu
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, rss())


def report(rows: list[tuple[str, Peak]]) -> None:
    print(f"{'step':<44} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} {'growth MB':>10}")
    for name, peak in rows:
        print(
            f"{name:<44} {peak.seconds:>7.2f} {peak.cpu_seconds:>7.2f} "
            f"{peak.peak / 1e6:>8.0f} {(peak.peak - peak.before) / 1e6:>10.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the sizes")
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL at 127.0.0.1")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    if args.postgres:
        import psycopg

        with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS citemap_bench_imports")
            conn.execute("CREATE DATABASE citemap_bench_imports")
        os.environ["DATABASE_URL"] = f"{args.pg_url}/citemap_bench_imports"
        where = "PostgreSQL database citemap_bench_imports"
    else:
        folder = tempfile.mkdtemp(prefix="citemap-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        where = f"SQLite file {folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    # The confirmation's background job runs before the request returns, so its time counts.
    os.environ["JOBS_MODE"] = "immediate"

    import django

    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client

    from apps.accounts.models import Project, User
    from apps.bibliography.importing import import_entries, preview_import, read_upload
    from apps.jobs.models import Job
    from apps.library.models import Source

    settings.JOBS_MODE = "immediate"
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench-analyst", password="x-bench-password-1")
    print(f"Bibliography imports on {where}; load average {os.getloadavg()[0]:.1f}")

    # 1. Through the pages: ~10 MB, 9,000 entries.
    page_entries = max(10, int(9_000 * args.scale))
    project = Project.objects.create_with_supervisor(user, slug="bench", name="Bench")
    data = bibtex(page_entries, abstract_words=120).encode()
    client = Client()
    client.force_login(user)
    rows = []
    with Peak() as upload_step:
        response = client.post("/p/bench/import/", {"file": SimpleUploadedFile("lib.bib", data)})
    assert response.status_code == 302, response.content[-800:]
    rows.append(("upload: decode, recognise, parse, keep", upload_step))
    with Peak() as preview_step:
        preview = client.get(response.url)
    assert preview.status_code == 200
    rows.append(("preview page", preview_step))
    with Peak() as confirm_step:
        confirmed = client.post(response.url + "confirm/")
        job_page = client.get(confirmed.url)
    assert job_page.status_code == 200
    rows.append(("confirm: background job writes all", confirm_step))
    created = Source.objects.filter(project=project).count()
    assert created == page_entries, (created, Job.objects.values_list("error", flat=True))
    total = sum(peak.seconds for _, peak in rows)
    print(
        f"\n1. Through the pages: {page_entries:,} entries, {len(data) / 1_048_576:.1f} MB of "
        f"BibTeX; {total:.1f} s in all, peak {max(p.peak for _, p in rows) / 1e6:.0f} MB"
    )
    report(rows)

    # 2. At the limit: 50,000 entries, by the functions the pages call.
    limit_entries = max(10, int(50_000 * args.scale))
    project = Project.objects.create_with_supervisor(user, slug="limit", name="Limit")
    data = bibtex(limit_entries, abstract_words=0, seed=2).encode()
    rows = []
    with Peak() as parse:
        reading = read_upload([("limit.bib", data)])
    rows.append(("parse", parse))
    with Peak() as preview_rows:
        preview = preview_import(project=project, entries=reading.entries)
    rows.append(("preview", preview_rows))
    with Peak() as write:
        result = import_entries(project=project, entries=reading.entries, by=user)
    rows.append(("write (one transaction)", write))
    assert result.created == limit_entries, result.summary()
    total = sum(peak.seconds for _, peak in rows)
    print(
        f"\n2. At the limit: {limit_entries:,} entries, {len(data) / 1_048_576:.1f} MB of BibTeX "
        f"({len(preview):,} previewed); {total:.1f} s in all"
    )
    report(rows)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

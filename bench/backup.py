"""Time, peak memory and time to first byte of the whole-project file and the JSON-LD export,
and the time of importing the file back, at 2,000 and 20,000 sources.

    .venv/bin/python bench/backup.py                        # SQLite, throwaway files
    .venv/bin/python bench/backup.py --sizes 2000           # one size only
    .venv/bin/python bench/backup.py --postgres postgres://postgres@127.0.0.1:5432/NAME

The corpora are built by `generate_corpus` on SQLite. With --postgres, each SQLite file is
also imported into that PostgreSQL database (dropped and re-created first: give one of your
own), exported there, and the two files compared byte for byte.

Each measurement runs in a fresh child process, so its peak resident memory (ru_maxrss) is
its own; "over base" subtracts what the process held once Django was loaded, before the
export began. The first byte is the first chunk the export yields.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SLUG = "bench"


def setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(args: argparse.Namespace) -> None:
    """One measurement, in this process; prints its figures as JSON."""
    setup(args.database_url)
    # Everything the measurement uses is imported first: the app's own start-up is not timed.
    from apps.accounts.models import Project
    from apps.accounts.policy import approved_annotations_q
    from apps.annotations.models import Annotation
    from apps.backup.project_file import import_project, imported_counts, iter_project_file
    from apps.webanno.items import Site
    from apps.webanno.w3c import iter_collection

    # A running server has its URLs loaded before its first export: so does this process.
    assert Site(base="", slug="").context_url

    figures: dict = {}
    first = None
    size = 0
    base = rss_mb()
    cpu_started = cpu_seconds()
    started = time.perf_counter()
    if args.child in ("project", "jsonld"):
        project = Project.objects.get(slug=args.slug)
        if args.child == "project":
            chunks = iter_project_file(project)
        else:
            site = Site(base="http://localhost:8000", slug=project.slug)
            # What a student may take: approved annotations.
            annotations = Annotation.objects.for_project(project).filter(approved_annotations_q())
            chunks = iter_collection(
                annotations, site=site, url=site.url("webanno:annotations_export"), label="bench"
            )
        with open(args.file, "w", encoding="utf-8") as out:
            for chunk in chunks:
                if first is None:
                    first = time.perf_counter() - started
                size += len(chunk.encode())
                out.write(chunk)
    else:
        with open(args.file, "rb") as stream:
            project = import_project(stream, slug=args.slug)
        figures["rows"] = imported_counts(project)
        size = Path(args.file).stat().st_size
    figures.update(
        seconds=time.perf_counter() - started,
        cpu=cpu_seconds() - cpu_started,
        first_byte=first,
        bytes=size,
        peak_mb=rss_mb(),
        base_mb=base,
    )
    print(json.dumps(figures))


def measure(what: str, database_url: str, slug: str, file: Path) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            what,
            "--database-url",
            database_url,
            "--slug",
            slug,
            "--file",
            str(file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def build(database_url: str, sources: int) -> float:
    code = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
        f"from bench.backup import setup; setup({database_url!r})\n"
        "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
        "from apps.demo.corpus import create_corpus_project, generate_corpus\n"
        "started = time.perf_counter()\n"
        f"generate_corpus(create_corpus_project({SLUG!r}), sources={sources})\n"
        "print(time.perf_counter() - started)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"generate_corpus failed:\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def migrate_postgres(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )


def row(label: str, figures: dict) -> str:
    first = figures["first_byte"]
    ratio = figures["peak_mb"] * 1024 * 1024 / figures["bytes"] if figures["bytes"] else 0
    return (
        f"{label:<38} {figures['seconds']:>7.1f} s {figures['cpu']:>7.1f} s  "
        f"{(f'{first * 1000:.0f} ms' if first is not None else '–'):>9}  "
        f"{figures['peak_mb']:>7.0f} MB  {figures['peak_mb'] - figures['base_mb']:>6.0f} MB  "
        f"{figures['bytes'] / 1024 / 1024:>8.1f} MB  {ratio:>5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--postgres", help="a PostgreSQL database URL (it is re-created)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--slug", default=SLUG, help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    folder = Path(tempfile.mkdtemp(prefix="citemap-bench-backup-"))
    print(f"Files in {folder}")
    header = (
        f"{'':<38} {'time':>9} {'CPU':>9}  {'1st byte':>9}  {'peak RSS':>10}  {'over base':>9}  "
        f"{'file':>11}  {'peak/file':>5}"
    )
    results: dict[int, dict] = {}
    for sources in args.sizes:
        sqlite = f"sqlite:///{folder}/corpus-{sources}.sqlite3"
        built = build(sqlite, sources)
        print(f"\n{sources:,} sources: generate_corpus {built:.0f} s (SQLite)")
        print(header)
        measured = results[sources] = {}
        project_file = folder / f"project-{sources}.json"
        for what, label, file in [
            ("project", "project file export (SQLite)", project_file),
            ("jsonld", "JSON-LD export, approved (SQLite)", folder / f"anno-{sources}.jsonld"),
            ("import", "import_project (SQLite)", project_file),
        ]:
            slug = "copy" if what == "import" else SLUG
            measured[label] = figures = measure(what, sqlite, slug, file)
            print(row(label, figures), flush=True)
        if args.postgres:
            migrate_postgres(args.postgres)
            for what, label, file in [
                ("import", "import_project (PostgreSQL)", project_file),
                ("project", "project file export (PostgreSQL)", folder / f"pg-{sources}.json"),
                ("jsonld", "JSON-LD export, approved (PostgreSQL)", folder / "pg.jsonld"),
            ]:
                measured[label] = figures = measure(what, args.postgres, SLUG, file)
                print(row(label, figures), flush=True)
            same = (folder / f"pg-{sources}.json").read_bytes() == project_file.read_bytes()
            verdict = "equals" if same else "DIFFERS FROM"
            print(f"PostgreSQL's export {verdict} SQLite's, byte for byte")
    if len(args.sizes) == 2:
        small, large = args.sizes
        print(f"\nGrowth from {small:,} to {large:,} sources ({large / small:.0f}× the data):")
        for label in results[small]:
            ratio = results[large][label]["cpu"] / results[small][label]["cpu"]
            memory = results[large][label]["peak_mb"] / results[small][label]["peak_mb"]
            print(f"  {label:<40} CPU time {ratio:>5.1f}×  peak memory {memory:>4.1f}×")


if __name__ == "__main__":
    main()

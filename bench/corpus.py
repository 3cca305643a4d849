"""Time `generate_corpus` at DESIGN.md's scale and print what it created.

    .venv/bin/python bench/corpus.py                       # SQLite, a throwaway file
    .venv/bin/python bench/corpus.py --postgres            # PostgreSQL, database citemap_bench
    .venv/bin/python bench/corpus.py --sources 2000        # smaller
    .venv/bin/python bench/corpus.py --database-url URL --recreate --project bench20k
                                                           # a database of your own

The PostgreSQL database is dropped and re-created first (only `citemap_bench`, never another),
and left in place afterwards so page benchmarks can run against it.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=20_000)
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL at 127.0.0.1")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database-url", help="build into this database (migrated first)")
    parser.add_argument(
        "--recreate", action="store_true",
        help="drop and re-create the --database-url database first (PostgreSQL)",
    )  # fmt: skip
    parser.add_argument("--project", default="bench", help="slug of the corpus project")
    parser.add_argument(
        "--concepts", type=int,
        help="size of the codebook (default: one concept per 100 sources)",
    )  # fmt: skip
    args = parser.parse_args()

    if args.database_url:
        if args.recreate:
            import psycopg

            server, _, name = args.database_url.rpartition("/")
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = args.database_url
        where = args.database_url.rpartition("@")[2]
    elif args.postgres:
        import psycopg

        with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS citemap_bench")
            conn.execute("CREATE DATABASE citemap_bench")
        os.environ["DATABASE_URL"] = f"{args.pg_url}/citemap_bench"
        where = "PostgreSQL database citemap_bench"
    else:
        folder = tempfile.mkdtemp(prefix="citemap-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        where = f"SQLite file {folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.demo.corpus import create_corpus_project, generate_corpus

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    cpu = time.process_time()
    stats = generate_corpus(
        create_corpus_project(args.project), sources=args.sources, concepts=args.concepts
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if connection.vendor == "postgresql":
        # What autovacuum does some minutes after a bulk load: the visibility map lets counts
        # and lookups read the indexes alone. Pages are measured on a settled database, and
        # this step is timed apart from the build.
        vacuumed = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        print(f"VACUUM (ANALYZE) afterwards: {time.perf_counter() - vacuumed:.1f} s")
    rows = sum(stats.counts.values())
    print(f"generate_corpus --sources {args.sources} on {where}")
    for name, number in stats.counts.items():
        print(f"{number:>12,}  {name}")
    print(
        f"{rows:>12,}  rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s; {cpu:.1f} s CPU "
        f"in this process; load average {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()

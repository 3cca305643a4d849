"""Time `generate_corpus` at DESIGN.md's scale and print what it created.

    .venv/bin/python bench/corpus.py                       # SQLite, a throwaway file
    .venv/bin/python bench/corpus.py --postgres            # PostgreSQL, database citemap_bench
    .venv/bin/python bench/corpus.py --sources 2000        # smaller

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
    args = parser.parse_args()

    if args.postgres:
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
    stats = generate_corpus(create_corpus_project("bench"), sources=args.sources)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    elapsed = time.perf_counter() - started
    rows = sum(stats.counts.values())
    print(f"generate_corpus --sources {args.sources} on {where}")
    for name, number in stats.counts.items():
        print(f"{number:>12,}  {name}")
    print(f"{rows:>12,}  rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)")


if __name__ == "__main__":
    main()

"""Time a 10,000-entry BibTeX import through the pages a person uses: upload (read and
keep the entries), preview, confirm (streamed, one transaction).

    .venv/bin/python bench/imports.py                  # SQLite, a throwaway file
    .venv/bin/python bench/imports.py --postgres       # PostgreSQL, database citemap_bench_imports
    .venv/bin/python bench/imports.py --entries 2000

The PostgreSQL database is dropped and re-created first (only `citemap_bench_imports`).
"""

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIVEN = ["Vera", "Jörg", "Hélène", "Ahmad", "Laura", "Tariq", "Ekaterina", "Renée", "Omar"]
FAMILY = ["Mironova", 'M{\\"u}ller', "P{\\'e}rez", "al-Hashimi", "Kaplan", "Crenshaw", "Byman"]
WORDS = "isolation withdrawal takfir caliphate insurgency doctrine faction purity dissent".split()


def bibtex(entries: int, seed: int = 1) -> str:
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
        fields.append("  keywords = {bench, synthetic}")
        parts.append(f"@{kind}{{bench{n},\n" + ",\n".join(fields) + ",\n}")
    return "\n\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
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

    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client

    from apps.accounts.models import Project, User
    from apps.library.models import Source

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench-analyst", password="x-bench-password-1")
    project = Project.objects.create_with_supervisor(user, slug="bench", name="Bench")
    data = bibtex(args.entries).encode()
    client = Client()
    client.force_login(user)

    timings = {}
    started = time.perf_counter()
    response = client.post("/p/bench/import/", {"file": SimpleUploadedFile("bench.bib", data)})
    assert response.status_code == 302, response.status_code
    timings["upload: read and keep the entries"] = time.perf_counter() - started

    step = time.perf_counter()
    preview = client.get(response.url)
    assert preview.status_code == 200
    timings["preview page"] = time.perf_counter() - step

    step = time.perf_counter()
    confirmed = client.post(response.url + "confirm/")
    body = b"".join(confirmed.streaming_content) if confirmed.streaming else confirmed.content
    timings["confirm: write in one transaction"] = time.perf_counter() - step
    total = time.perf_counter() - started
    created = Source.objects.filter(project=project).count()
    assert created == args.entries, (created, body[-500:])

    print(f"BibTeX import of {args.entries:,} entries ({len(data) / 1e6:.1f} MB) on {where}")
    for name, seconds in timings.items():
        print(f"{seconds:>8.2f} s  {name}")
    print(f"{total:>8.2f} s  in all ({created:,} sources)")


if __name__ == "__main__":
    main()

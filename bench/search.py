"""Search speed on the generated corpus (see bench/corpus.py), next to the same SQL run directly.

    .venv/bin/python bench/search.py --postgres             # the existing citemap_bench
    .venv/bin/python bench/search.py --postgres --build     # build citemap_bench first
    .venv/bin/python bench/search.py --postgres --repeat 9 --show

A fixed set of realistic queries is drawn from the corpus's own vocabulary
(apps/demo/corpus.py WORDS and FAMILY; seeded, so every run asks the same): one, two and
three words, and a few phrases (taken from quotes), prefixes, exclusions and names. Each
query's results page is requested `--repeat` times after one warm-up, through Django's test
client in this process, as the corpus supervisor and as a student; its time is the median of
those. Beside it, "SQL" is the search statement that page ran (candidates, counts, facets and
hits in one statement), executed again directly with psycopg, without Django: the floor under
the page. The figures are the median and 95th percentile over the queries of each group.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def queries(words: list[str], names: list[str], quotes: list[str]) -> dict[str, list[str]]:
    rng = random.Random(7)
    groups = {
        f"{n} word{'s' if n > 1 else ''}": [" ".join(rng.sample(words, n)) for _ in range(20)]
        for n in (1, 2, 3)
    }
    # Phrases are remembered from quotes: two or three words that follow each other in one.
    groups["phrases"] = []
    for quote in rng.sample(quotes, 5):
        said = quote.rstrip(".").split()
        start = rng.randrange(len(said) - 3)
        groups["phrases"].append(f'"{" ".join(said[start : start + rng.choice([2, 3])])}"')
    groups["prefixes"] = [f"{rng.choice(words)} {rng.choice(words)[:4]}" for _ in range(5)]
    groups["exclusions"] = [f"{a} {b} -{c}" for a, b, c in (rng.sample(words, 3) for _ in range(5))]
    groups["names"] = [rng.choice(names) for _ in range(5)]
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument("--project", default="bench")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print every query's figures")
    parser.add_argument(
        "--build",
        action="store_true",
        help="first (re)build the corpus with bench/corpus.py (20,000 sources; PostgreSQL only)",
    )
    args = parser.parse_args()
    if args.build:
        if not args.postgres:
            parser.error("--build goes with --postgres")
        import subprocess

        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "corpus.py"), "--postgres"], check=True
        )
    if args.postgres:
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/citemap_bench"
    elif args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    # A corpus built before the search app gets its index here (post_migrate builds it).
    call_command("migrate", "search", verbosity=0)
    migrated = time.perf_counter() - started

    from apps.accounts.models import Membership, Project, Role, User
    from apps.annotations.models import Annotation
    from apps.demo.corpus import FAMILY, WORDS
    from apps.search.models import Document

    project = Project.objects.get(slug=args.project)
    student, _ = User.objects.get_or_create(username="bench-student")
    Membership.objects.get_or_create(user=student, project=project, defaults={"role": Role.STUDENT})
    supervisor = Membership.objects.filter(project=project, role=Role.SUPERVISOR).first().user
    url = f"/p/{project.slug}/search/"

    print(
        f"{Annotation.objects.filter(project=project).count():,} annotations, "
        f"{Document.objects.count():,} documents in the index on {connection.vendor} "
        f"(migrate took {migrated:.1f} s); {args.repeat} requests per query; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    import psycopg

    raw = None
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        raw = psycopg.connect(
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            user=settings["USER"],
            dbname=settings["NAME"],
            autocommit=True,
        )

    def timed(run) -> float:
        run()
        timings = []
        for _ in range(args.repeat):
            begun = time.perf_counter()
            run()
            timings.append((time.perf_counter() - begun) * 1000)
        return statistics.median(timings)

    def measure(client: Client, q: str) -> tuple[float, float | None]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"q": q})
        assert response.status_code == 200, (q, response.status_code)
        # Read now: every request clears the log.
        statements = [c["sql"] for c in captured.captured_queries if "candidates" in c["sql"]]
        page = timed(lambda: client.get(url, {"q": q}))
        floor = None
        if raw is not None and statements:
            # The SQL as Django sent it, parameters already in place.
            floor = timed(lambda: raw.execute(statements[0]).fetchall())
        return page, floor

    quotes = list(
        Annotation.objects.filter(project=project)
        .order_by("pk")
        .values_list("quote", flat=True)[:1000]
    )
    groups = queries(WORDS, FAMILY, quotes)
    header = (
        f"{'queries':<14} {'role':<11} {'page median':>12} {'p95':>7} {'SQL median':>11} {'p95':>7}"
    )
    for role, user in (("supervisor", supervisor), ("student", student)):
        client = Client()
        client.force_login(user)
        print()
        print(header)
        every_page, every_floor = [], []
        for name, group in groups.items():
            pages, floors = [], []
            for q in group:
                page, floor = measure(client, q)
                pages.append(page)
                if floor is not None:
                    floors.append(floor)
                if args.show:
                    shown = f"{floor:7.1f}" if floor is not None else "      -"
                    print(f"  {q:<40} {page:7.1f} {shown}")
            if name.endswith(("word", "words")):
                every_page += pages
                every_floor += floors
            print(row(name, role, pages, floors))
        print(row("1-3 words", role, every_page, every_floor))
    print()
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


def row(name: str, role: str, pages: list[float], floors: list[float]) -> str:
    floor = (
        f"{statistics.median(floors):>11.1f} {percentile(floors, 0.95):>7.1f}"
        if floors
        else f"{'-':>11} {'-':>7}"
    )
    return (
        f"{name:<14} {role:<11} {statistics.median(pages):>12.1f} "
        f"{percentile(pages, 0.95):>7.1f} {floor}"
    )


if __name__ == "__main__":
    main()

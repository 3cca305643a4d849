"""Server time of every browsing page on a generated corpus (see bench/corpus.py).

    .venv/bin/python bench/pages.py --postgres --build    # build citemap_bench, then measure
    .venv/bin/python bench/pages.py --postgres            # measure the existing citemap_bench
    .venv/bin/python bench/pages.py --database-url URL --repeat 30

Requests go through Django's test client in this process (no network), signed in as the
corpus supervisor and as a student; each page is requested `--repeat` times after one warm-up.
The median and 95th percentile are printed next to a trivial page (the sign-in form) as the
framework's floor.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument("--project", default="bench")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--build",
        action="store_true",
        help="first (re)build the corpus with bench/corpus.py (20,000 sources; PostgreSQL only)",
    )
    parser.add_argument("--sources", type=int, default=20_000, help="corpus size for --build")
    args = parser.parse_args()
    if args.build:
        if not args.postgres:
            parser.error("--build goes with --postgres (the SQLite corpus is built in a temp file)")
        import subprocess

        corpus = [sys.executable, str(ROOT / "bench" / "corpus.py"), "--postgres"]
        subprocess.run([*corpus, "--sources", str(args.sources)], check=True)
    if args.postgres:
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/citemap_bench"
    elif args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)  # a corpus built before the latest migrations

    from apps.accounts.models import Membership, Project, Role, User
    from apps.annotations.models import Annotation
    from apps.claims.models import Claim, Concept
    from apps.library.models import Source
    from apps.people.models import Person

    project = Project.objects.get(slug=args.project)
    student, _ = User.objects.get_or_create(username="bench-student")
    Membership.objects.get_or_create(user=student, project=project, defaults={"role": Role.STUDENT})
    supervisor = Membership.objects.filter(project=project, role=Role.SUPERVISOR).first().user

    slug = project.slug
    busiest_person = Person.objects.filter(project=project).order_by("-pk").first()
    pages = {
        "project list": "/",
        "project home": f"/p/{slug}/",
        "sources": f"/p/{slug}/sources/",
        "sources, filtered": f"/p/{slug}/sources/?q=war&year_min=1990&year_max=2020&person=Kaplan",
        "sources, page 200": f"/p/{slug}/sources/?page=200",
        "source page": f"/p/{slug}/sources/{Source.objects.filter(project=project).first().pk}/",
        "people": f"/p/{slug}/people/",
        "people, name search": f"/p/{slug}/people/?q=al-Amin",
        "person page": f"/p/{slug}/people/{busiest_person.pk}/",
        "claims": f"/p/{slug}/claims/",
        "claim page": f"/p/{slug}/claims/{Claim.objects.filter(project=project).first().pk}/",
        "concepts": f"/p/{slug}/concepts/",
        "concept page": f"/p/{slug}/concepts/{Concept.objects.filter(project=project).first().pk}/",
        "annotation page": (
            f"/p/{slug}/annotations/"
            f"{Annotation.objects.filter(project=project, status='approved').first().pk}/"
        ),
        "members": f"/p/{slug}/members/",
        "passages": f"/p/{slug}/annotations/",
        "co-citation": f"/p/{slug}/cocitation/",
        "co-citation of works": f"/p/{slug}/cocitation/?kind=works",
        # The map remembers which nodes are the most connected for ten minutes on a project
        # this size (apps/xref/graph.py, EXACT_ANNOTATIONS): after the warm-up request these
        # are the figures of a remembered ranking with fresh links, weights and labels.
        "map": f"/p/{slug}/map/",
        "map, people and sources": f"/p/{slug}/map/?nodes=source&nodes=person",
        "map, GEXF": f"/p/{slug}/map.gexf",
        "map, GraphML": f"/p/{slug}/map.graphml",
        # The matrix keeps its column totals until the data changes (apps/xref/matrix.py):
        # after the warm-up request these are the figures of fresh rows and cells with
        # remembered column totals. "2,000 rows": the sources of 2019 on, their last full page.
        "matrix": f"/p/{slug}/matrix/",
        "matrix, people": f"/p/{slug}/matrix/?cols=people",
        "matrix, claims": f"/p/{slug}/matrix/?cols=claims",
        "matrix, by title": f"/p/{slug}/matrix/?sort=title",
        "matrix, 2,000 rows": (
            f"/p/{slug}/matrix/?year_min=2019&sort=title&page="
            f"{Source.objects.filter(project=project, issued_year__gte=2019).count() // 50}"
        ),
        "matrix, 200 x 60": f"/p/{slug}/matrix/?per_page=200&limit=60",
    }
    # Pages only supervisors (or editors) open.
    supervisor_pages = {
        "review queue": f"/p/{slug}/review/",
        "review queue, filtered": f"/p/{slug}/review/?source=war",
        "withdrawn": f"/p/{slug}/review/withdrawn/",
        "new annotation form": (
            f"/p/{slug}/sources/{Source.objects.filter(project=project).first().pk}/annotations/new/"
        ),
    }
    print(
        f"{Source.objects.filter(project=project).count():,} sources, "
        f"{Annotation.objects.filter(project=project).count():,} annotations; "
        f"{args.repeat} requests per page; load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'page':<24} {'role':<11} {'median ms':>10} {'p95 ms':>8}")

    def measure(client: Client, name: str, role: str, url: str) -> None:
        client.get(url)
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        print(f"{name:<24} {role:<11} {statistics.median(timings):>10.1f} {p95:>8.1f}")

    measure(Client(), "floor: sign-in form", "anonymous", "/accounts/login/")
    for role, user in (("supervisor", supervisor), ("student", student)):
        client = Client()
        client.force_login(user)
        for name, url in pages.items():
            measure(client, name, role, url)
        if role == "supervisor":
            for name, url in supervisor_pages.items():
                measure(client, name, role, url)


if __name__ == "__main__":
    main()

"""Server time of every browsing page at two corpus sizes side by side (see bench/corpus.py).

    .venv/bin/python bench/corpus.py --database-url URL --recreate --project bench20k \
        --sources 20000
    .venv/bin/python bench/corpus.py --database-url URL --project bench2k --sources 2000
    .venv/bin/python bench/pages.py --database-url URL [--repeat 7] [--cold 3] [--only matrix]

Both projects live in one database and are measured in the same run, page by page, so the
ratio compares like with like on a busy machine. Requests go through Django's test client in
this process (no network, no WSGI server), signed in as the corpus supervisor and as a
student. Per page and size: the median wall time of `--repeat` requests after one warm-up, the
CPU time this process spent per request (Python, ORM, templates; the database server's own
time is not in it), and "cold": the median of `--cold` first requests right after a write (a
supervisor approving a submitted passage, which is what invalidates cached figures).
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
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--large", default="bench20k", help="slug of the large corpus")
    parser.add_argument("--small", default="bench2k", help="slug of the small corpus")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cold", type=int, default=3, help="requests after a write per page")
    parser.add_argument("--only", help="measure the pages whose name contains this")
    parser.add_argument("--roles", default="supervisor,student")
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)  # a corpus built before the latest migrations

    from apps.accounts.models import Project
    from apps.annotations.models import Annotation, ReviewAction

    projects = {size: Project.objects.get(slug=slug)
                for size, slug in (("small", args.small), ("large", args.large))}  # fmt: skip
    people = {size: _people(project) for size, project in projects.items()}
    pages = {size: _pages(project) for size, project in projects.items()}

    def write(size: str) -> None:
        """A supervisor approves a submitted passage (the data every cache depends on)."""
        project = projects[size]
        supervisor = people[size]["supervisor"]
        waiting = (
            Annotation.objects.filter(project=project, status="submitted", withdrawn_at=None)
            .exclude(author=supervisor)
            .order_by("pk")
            .first()
        )
        waiting.transition(ReviewAction.APPROVE, by=supervisor)

    load = os.getloadavg()[0]
    print(
        f"{Annotation.objects.filter(project=projects['small']).count():,} and "
        f"{Annotation.objects.filter(project=projects['large']).count():,} annotations; "
        f"{args.repeat} warm requests per page and size, {args.cold} after a write; "
        f"load average {load:.2f}"
    )
    header = (
        f"{'page':<24} {'role':<10} {'2k ms':>7} {'20k ms':>7} {'ratio':>6} "
        f"{'cpu 2k':>7} {'cpu 20k':>7} {'cold 20k':>8} {'cold/warm':>9}"
    )
    print(header)
    print("-" * len(header))
    roles = args.roles.split(",")
    clients = {}
    for size in projects:
        for role in roles:
            client = Client()
            client.force_login(people[size][role])
            clients[size, role] = client
    floor = Client()
    results = []
    for name in pages["large"]:
        if args.only and args.only not in name:
            continue
        for role in roles:
            if name in SUPERVISOR_ONLY and role != "supervisor":
                continue
            row = {}
            for size in ("small", "large"):
                client, url = clients[size, role], pages[size][name]
                client.get(url)
                walls, cpus = [], []
                for _ in range(args.repeat):
                    wall, cpu = _timed(client, url)
                    walls.append(wall)
                    cpus.append(cpu)
                colds = []
                for _ in range(args.cold):
                    write(size)
                    colds.append(_timed(client, url)[0])
                row[size] = (statistics.median(walls), statistics.median(cpus),
                             statistics.median(colds) if colds else float("nan"))  # fmt: skip
            small, large = row["small"], row["large"]
            results.append((name, role, small, large))
            print(
                f"{name:<24} {role:<10} {small[0]:>7.1f} {large[0]:>7.1f} "
                f"{large[0] / small[0]:>6.2f} {small[1]:>7.1f} {large[1]:>7.1f} "
                f"{large[2]:>8.1f} {large[2] / large[0]:>9.2f}",
                flush=True,
            )
    floor.get("/accounts/login/")
    walls = [_timed(floor, "/accounts/login/")[0] for _ in range(args.repeat)]
    print(f"{'floor: sign-in form':<24} {'anonymous':<10} {statistics.median(walls):>7.1f}")
    if results:
        worst = max(results, key=lambda r: r[3][0] / r[2][0])
        cpu = max(results, key=lambda r: r[3][1])
        print(
            f"worst ratio {worst[3][0] / worst[2][0]:.2f} ({worst[0]}, {worst[1]}); most CPU at "
            f"20k {cpu[3][1]:.0f} ms ({cpu[0]}, {cpu[1]}); load average now "
            f"{os.getloadavg()[0]:.2f}"
        )


def _timed(client, url: str) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    wall = (time.perf_counter() - started) * 1000
    cpu = (time.process_time() - cpu) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return wall, cpu


def _people(project) -> dict:
    from apps.accounts.models import Membership, Role, User

    student, _ = User.objects.get_or_create(username=f"bench-student-{project.slug}")
    Membership.objects.get_or_create(user=student, project=project, defaults={"role": Role.STUDENT})
    supervisor = Membership.objects.filter(project=project, role=Role.SUPERVISOR).first().user
    return {"student": student, "supervisor": supervisor}


SUPERVISOR_ONLY = {"review queue", "review queue, filtered", "withdrawn", "new annotation form"}


def _pages(project) -> dict[str, str]:
    from apps.annotations.models import Annotation
    from apps.claims.models import Claim, Concept
    from apps.library.models import Source
    from apps.people.models import Person

    slug = project.slug
    first_source = Source.objects.filter(project=project).order_by("pk").first().pk
    approved = Annotation.objects.filter(project=project, status="approved").order_by("pk")
    return {
        "project home": f"/p/{slug}/",
        "sources": f"/p/{slug}/sources/",
        "sources, filtered": f"/p/{slug}/sources/?q=war&year_min=1990&year_max=2020&person=Kaplan",
        "source page": f"/p/{slug}/sources/{first_source}/",
        "people": f"/p/{slug}/people/",
        "person page": (
            f"/p/{slug}/people/{Person.objects.filter(project=project).order_by('-pk').first().pk}/"
        ),
        "claims": f"/p/{slug}/claims/",
        "claim page": (
            f"/p/{slug}/claims/{Claim.objects.filter(project=project).order_by('pk').first().pk}/"
        ),
        "concepts": f"/p/{slug}/concepts/",
        "concept page": (
            f"/p/{slug}/concepts/"
            f"{Concept.objects.filter(project=project).order_by('pk').first().pk}/"
        ),
        "annotation page": f"/p/{slug}/annotations/{approved.first().pk}/",
        "passages": f"/p/{slug}/annotations/",
        "co-citation": f"/p/{slug}/cocitation/",
        "co-citation of works": f"/p/{slug}/cocitation/?kind=works",
        "map": f"/p/{slug}/map/",
        "map, GEXF": f"/p/{slug}/map.gexf",
        "matrix": f"/p/{slug}/matrix/",
        "matrix, people": f"/p/{slug}/matrix/?cols=people",
        "matrix, claims": f"/p/{slug}/matrix/?cols=claims",
        "matrix, by title": f"/p/{slug}/matrix/?sort=title",
        "matrix, 200 x 60": f"/p/{slug}/matrix/?per_page=200&limit=60",
        "matrix, everything": f"/p/{slug}/matrix/?scope=visible",
        "matrix CSV": f"/p/{slug}/matrix.csv",
        "review queue": f"/p/{slug}/review/",
        "new annotation form": f"/p/{slug}/sources/{first_source}/annotations/new/",
    }


if __name__ == "__main__":
    main()

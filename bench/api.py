"""Server time of each API list page (100 rows) beside the matching HTML page, in one run.

    .venv/bin/python bench/corpus.py --database-url URL --project bench20k --sources 20000
    .venv/bin/python bench/api.py --database-url URL [--project bench20k] [--repeat 15]

Requests go through Django's test client in this process (no network, no WSGI server): the
API with a read token of the corpus supervisor (and of a student), the pages signed in as the
same member. Per list: the median and 95th percentile of `--repeat` requests after one warm-up,
for the first page and for a page deep in the list (the API follows its cursor ten pages on;
the HTML page is asked for page 10), and the ratio of the API's median to the page's. The
API's page holds 100 rows, the HTML page its own page size (50): the ratio is per request.
Then a `since=` pull after 100 changes: 100 sources saved again (values unchanged, new library
versions), and the changed sources and deletions since the version before, per role.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LISTS = ["sources", "people", "claims", "concepts", "annotations"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--project", default="bench20k", help="slug of the corpus project")
    parser.add_argument("--repeat", type=int, default=15)
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

    from apps.accounts.models import Membership, Project, Role, User
    from apps.annotations.models import Annotation
    from apps.api.models import ApiToken

    project = Project.objects.get(slug=args.project)
    student, _ = User.objects.get_or_create(username=f"bench-student-{project.slug}")
    Membership.objects.get_or_create(user=student, project=project, defaults={"role": Role.STUDENT})
    people = {
        "supervisor": Membership.objects.filter(project=project, role=Role.SUPERVISOR).first().user,
        "student": student,
    }
    print(
        f"{project.sources.count():,} sources, "
        f"{Annotation.objects.filter(project=project).count():,} annotations; "
        f"{args.repeat} requests per page after a warm-up; load average {os.getloadavg()[0]:.2f}"
    )
    header = (
        f"{'list':<22} {'role':<10} {'api p50':>8} {'api p95':>8} {'html p50':>9} "
        f"{'html p95':>9} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    ratios = []
    for role in args.roles.split(","):
        user = people[role]
        _, secret = ApiToken.issue(
            user=user, project=project, name="bench", scope="read",
            lifetime=datetime.timedelta(days=1),
        )  # fmt: skip
        api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
        html = Client()
        html.force_login(user)
        for name in LISTS:
            first = f"/api/v1/p/{project.slug}/{name}/?limit=100"
            deep = _tenth_page(api, first)
            page = f"/p/{project.slug}/{name}/"
            for label, api_url, html_url in (
                (name, first, page),
                (f"{name}, page 10", deep, page + "?page=10"),
            ):
                if api_url is None:
                    continue
                a = _times(api, api_url, args.repeat)
                h = _times(html, html_url, args.repeat)
                ratio = a[0] / h[0]
                ratios.append((ratio, label, role))
                print(
                    f"{label:<22} {role:<10} {a[0]:>8.1f} {a[1]:>8.1f} {h[0]:>9.1f} {h[1]:>9.1f} "
                    f"{ratio:>6.2f}",
                    flush=True,
                )
    worst = max(ratios)
    print(
        f"worst ratio {worst[0]:.2f} ({worst[1]}, {worst[2]}); "
        f"load average now {os.getloadavg()[0]:.2f}"
    )
    _sync_pull(project, people, args.repeat)


def _sync_pull(project, people, repeat: int) -> None:
    """A since= pull after 100 changes (target: under 100 ms): 100 sources saved again, as an
    edit saves them (their values unchanged; each takes a new library version), then the
    changed sources and the deletions since the version before."""
    from django.test import Client

    from apps.api.models import ApiToken
    from apps.library.models import Source

    project.refresh_from_db()
    before = project.library_version
    for source in Source.objects.filter(project=project).order_by("?")[:100]:
        with source.editing(by=people["supervisor"], loaded_version=source.version):
            source.save()
    print(
        f"\nsince= pull after 100 changes (target < 100 ms); load average {os.getloadavg()[0]:.2f}"
    )
    for role, user in people.items():
        _, secret = ApiToken.issue(
            user=user, project=project, name="bench", scope="read",
            lifetime=datetime.timedelta(days=1),
        )  # fmt: skip
        api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
        for label, url in (
            ("sources since", f"/api/v1/p/{project.slug}/sources/?since={before}&limit=100"),
            ("deleted since", f"/api/v1/p/{project.slug}/deleted/?since={before}"),
        ):
            p50, p95 = _times(api, url, repeat)
            print(f"{label:<22} {role:<10} {p50:>8.1f} {p95:>8.1f}", flush=True)


def _tenth_page(client, url: str) -> str | None:
    for _ in range(9):
        url = client.get(url).json()["next"]
        if url is None:
            return None
    return url.removeprefix("http://testserver")


def _times(client, url: str, repeat: int) -> tuple[float, float]:
    """Median and 95th percentile, in ms."""
    assert client.get(url).status_code == 200, url
    walls = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        walls.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    walls.sort()
    return statistics.median(walls), walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))]


if __name__ == "__main__":
    main()

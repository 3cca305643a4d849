"""A supervisor's pages with no double-coding assignment, while one of 200 sources is open (its
coders' passages hidden from supervisors), and once its coders are done: median wall time and
this process's CPU per request, side by side.

    .venv/bin/python bench/blindness.py --database-url URL [--sources 2000] [--repeat 5]

The database named must exist (a database of your own); it is migrated. The corpus project
`blind<N>` is generated there the first time (then reused); each run deletes its assignments,
assigns 200 sources the busiest analyst coded to the two busiest analysts, and marks them done.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("JOBS_MODE", "immediate")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count
    from django.test import Client

    call_command("migrate", verbosity=0)

    from apps.accounts.models import Membership, Project, Role, User
    from apps.agreement import blindness, coding
    from apps.agreement.models import Assignment, Variable
    from apps.annotations.models import Annotation
    from apps.demo.corpus import generate_corpus
    from apps.library.models import Source

    slug = f"blind{args.sources}"
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        project = Project.objects.create(slug=slug, name=slug)
        started = time.perf_counter()
        generate_corpus(project, sources=args.sources)
        print(f"corpus of {args.sources} sources: {time.perf_counter() - started:.1f} s")
    Assignment.objects.filter(project=project).delete()
    blindness.refresh(project.pk)
    members = Membership.objects.filter(project=project)
    supervisor = members.filter(role=Role.SUPERVISOR).first().user
    analysts = members.filter(role=Role.ANALYST).values_list("user_id", flat=True)
    busiest = list(
        Annotation.objects.filter(project=project, author_id__in=analysts)
        .values("author_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("author_id", flat=True)[:2]
    )
    coders = list(User.objects.filter(pk__in=busiest))
    chosen = list(
        Annotation.objects.filter(project=project, author_id=busiest[0])
        .values_list("source_id", flat=True)
        .distinct()
        .order_by("source_id")[:200]
    )
    hidden = Annotation.objects.filter(
        project=project, author_id__in=busiest, source_id__in=chosen, withdrawn_at__isnull=True
    ).count()
    page, api = Client(HTTP_ACCEPT="text/html"), Client(HTTP_ACCEPT="application/json")
    page.force_login(supervisor)
    api.force_login(supervisor)
    p = f"/p/{slug}"
    pages = {
        "project home": (page, f"{p}/"),
        "passages": (page, f"{p}/annotations/"),
        "review queue": (page, f"{p}/review/"),
        "search": (page, f"{p}/search/?q=isolation"),
        "matrix": (page, f"{p}/matrix/?rows=sources&cols=concepts"),
        "codebook": (page, f"{p}/concepts/"),
        "API passages": (api, f"/api/v1/p/{slug}/annotations/"),
        "reading view": (page, f"{p}/sources/{chosen[0]}/read/"),
    }

    def measure() -> dict[str, tuple[float, float]]:
        out = {}
        for name, (client, url) in pages.items():
            client.get(url)
            walls, cpus = [], []
            for _ in range(args.repeat):
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            out[name] = (statistics.median(walls) * 1000, statistics.median(cpus) * 1000)
        return out

    before = measure()
    assignment = coding.assign(
        project=project, title="Bench round", ranges=[coding.Range(s) for s in
        Source.objects.filter(pk__in=chosen)], coders=coders, variables=list(Variable.values),
        due_date=None, tolerance=10, by=supervisor,
    )  # fmt: skip
    blind = measure()
    for coder in coders:
        coding.mark_done(assignment=assignment, coder=coder)
    after = measure()
    print(
        f"{args.sources} sources, {Annotation.objects.filter(project=project).count()} passages; "
        f"the assignment of {len(chosen)} sources hides {hidden}; load {os.getloadavg()}"
    )
    print(
        f"{'page':14} {'none ms (cpu)':>16} {'open ms (cpu)':>16} {'done ms (cpu)':>16} open/none"
    )
    for name in pages:
        (a, ac), (b, bc), (c, cc) = before[name], blind[name], after[name]
        print(
            f"{name:14} {a:8.1f} ({ac:5.1f}) {b:8.1f} ({bc:5.1f}) {c:8.1f} ({cc:5.1f}) {b / a:6.2f}"
        )


if __name__ == "__main__":
    main()

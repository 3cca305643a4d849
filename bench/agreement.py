"""Double coding at size: one assignment of N sources to two analysts who coded P passages
each; times marking done, the comparison (the background job's work) and the agreement report
at the server (cold: computed; warm: cached).

    .venv/bin/python bench/agreement.py --database-url URL [--sources 200] [--passages 4000]

The database named must exist; it is migrated, and the project `bench-agreement` in it is
made afresh. Most passages are coded alike by both coders (they merge), some end elsewhere
(conflicts) and some are coded by one coder only.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SLUG = "bench-agreement"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--passages", type=int, default=4000, help="per coder")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("JOBS_MODE", "immediate")

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)

    from apps.accounts.models import Membership, Project, Role, User
    from apps.agreement import coding
    from apps.agreement.models import Variable
    from apps.annotations.models import Annotation, Evidence, Mention
    from apps.annotations.tallies import recount
    from apps.claims.models import Claim
    from apps.library.models import Source
    from apps.people.models import Person

    Project.objects.filter(slug=SLUG).delete()
    project = Project.objects.create(slug=SLUG, name="Agreement benchmark")
    users = {}
    for name, role in (("bench-sup", Role.SUPERVISOR), ("bench-a", Role.ANALYST),
                       ("bench-b", Role.ANALYST)):  # fmt: skip
        users[name], _ = User.objects.get_or_create(username=name)
        Membership.objects.create(user=users[name], project=project, role=role)
    per_source = max(1, args.passages // args.sources)
    text = "".join(
        f"Sentence {i} of the source, long enough to quote. " for i in range(per_source * 4)
    )
    sources = Source.objects.bulk_create(
        Source(project=project, title=f"Bench source {i}", citation_key=f"bench{i}", full_text=text)
        for i in range(args.sources)
    )
    claims = Claim.objects.bulk_create(
        Claim(project=project, statement=f"Bench claim {i}") for i in range(50)
    )
    people = Person.objects.bulk_create(
        Person(project=project, display_name=f"Bench Person {i}") for i in range(20)
    )
    started = time.perf_counter()
    assignment = coding.assign(
        project=project, title="Bench round", ranges=[coding.Range(s) for s in sources],
        coders=[users["bench-a"], users["bench-b"]], variables=list(Variable.values),
        due_date=None, tolerance=10, by=users["bench-sup"],
    )  # fmt: skip
    assigned = time.perf_counter() - started
    rng = random.Random(7)
    made = []
    for source in sources:
        for slot in range(per_source):
            start = slot * 4 * 50
            end = start + 120
            claim, person = rng.choice(claims), rng.choice(people)
            kind = rng.random()
            for coder in ("bench-a", "bench-b"):
                if kind > 0.9 and coder == "bench-b":
                    continue  # only one coder
                shift = 40 if kind > 0.8 and coder == "bench-b" else 0
                stance = "asserts" if kind > 0.75 and coder == "bench-b" else "supports"
                made.append((source, coder, start, end + shift, claim, person, stance))
    annotations = Annotation.objects.bulk_create(
        Annotation(
            project=project,
            source=s,
            author=users[c],
            quote=text[a:b],
            start=a,
            end=b,
            locator="¶1",
            anchor_state="exact",
        )  # fmt: skip
        for s, c, a, b, *_ in made
    )
    Evidence.objects.bulk_create(
        Evidence(annotation=n, claim=row[4], stance=row[6])
        for n, row in zip(annotations, made, strict=True)
    )
    Mention.objects.bulk_create(
        Mention(annotation=n, person=row[5]) for n, row in zip(annotations, made, strict=True)
    )
    recount(project)
    print(f"{len(annotations)} passages on {len(sources)} sources; assigned in {assigned:.2f} s")

    for coder in ("bench-a", "bench-b"):
        started = time.perf_counter()
        coding.mark_done(assignment=assignment, coder=users[coder])
        print(f"mark done ({coder}): {time.perf_counter() - started:.2f} s")
    started, cpu = time.perf_counter(), time.process_time()
    counts = coding.compare(assignment=assignment, by=users["bench-sup"])
    print(
        f"compare: {time.perf_counter() - started:.2f} s wall, "
        f"{time.process_time() - cpu:.2f} s CPU of this process; {counts}"
    )
    client = Client()
    client.force_login(users["bench-sup"])
    url = f"/p/{SLUG}/agreement/{assignment.pk}/"
    # Warm the process (templates, middleware, imports) on another page, and once on this one
    # so that what "cold" measures is the report computed afresh, not the process starting.
    client.get(f"/p/{SLUG}/agreement/")
    client.get(url)
    for label in ("report, cold", "report, warm", "report, warm"):
        if label.endswith("cold"):
            cache.clear()
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        print(
            f"{label}: {time.perf_counter() - started:.3f} s wall, "
            f"{time.process_time() - cpu:.3f} s CPU"
        )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

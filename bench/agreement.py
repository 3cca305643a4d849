"""Double coding at size: one assignment of N sources to two analysts who coded P passages
each; times marking done, the comparison (the background job's work: aligning, merging and
storing the report's figures) and the agreement report at the server.

    .venv/bin/python bench/agreement.py --database-url URL [--sources 200] [--passages 4000]
    .venv/bin/python bench/agreement.py --database-url URL --project bench20k

The database named must exist; it is migrated. Without --project the project
`bench-agreement` in it is made afresh, with sources of its own. With --project the round is
made inside that (corpus) project: N of its sources not yet in an assignment, its claims,
people and concepts, two analysts and a supervisor added to it (`bench-a`, `bench-b`,
`bench-sup`); each run adds a round there and leaves it. Most passages are coded alike by both
coders (they merge), some end elsewhere or differ in stance or concept (conflicts) and some
are coded by one coder only.

The report is timed as the first view after a restart costs, in a process already warm
(templates, imports) so that what is measured is the report: with an empty cache and no
stored summary (computed and stored by that view), with an empty cache and the summary the
comparison stored, and warm.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SLUG = "bench-agreement"


def timed(function):
    started, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--project", help="make the round inside this existing project")
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--passages", type=int, default=4000, help="per coder")
    parser.add_argument("--repeat", type=int, default=3, help="times each report view is timed")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("JOBS_MODE", "immediate")

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client

    call_command("migrate", verbosity=0)

    from apps.accounts.models import Membership, Project, Role, User
    from apps.agreement import coding, report
    from apps.agreement.models import AssignedSource, Assignment, ReportSummary, Variable
    from apps.annotations.models import Annotation, Evidence, Mention
    from apps.annotations.tallies import Coding, counted_many, retally_many
    from apps.claims.models import Claim, Concept
    from apps.library.models import Source
    from apps.people.models import Person

    rng = random.Random(7)
    if args.project:
        project = Project.objects.get(slug=args.project)
    else:
        Project.objects.filter(slug=SLUG).delete()
        project = Project.objects.create(slug=SLUG, name="Agreement benchmark")
    users = {}
    for name, role in (("bench-sup", Role.SUPERVISOR), ("bench-a", Role.ANALYST),
                       ("bench-b", Role.ANALYST)):  # fmt: skip
        users[name], _ = User.objects.get_or_create(username=name)
        Membership.objects.get_or_create(user=users[name], project=project, defaults={"role": role})
    per_source = max(1, args.passages // args.sources)
    text = "".join(
        f"Sentence {i} of the source, long enough to quote. " for i in range(per_source * 4)
    )
    if args.project:
        free = list(
            Source.objects.filter(project=project)
            .exclude(pk__in=AssignedSource.objects.values("source_id"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        chosen = sorted(rng.sample(free, args.sources))
        sources = list(Source.objects.filter(pk__in=chosen).order_by("pk"))

        def some(model, n):
            pks = list(model.objects.filter(project=project).values_list("pk", flat=True)[:5000])
            return list(model.objects.filter(pk__in=rng.sample(pks, min(n, len(pks)))))

        claims, people, concepts = some(Claim, 50), some(Person, 20), some(Concept, 10)
    else:
        sources = Source.objects.bulk_create(
            Source(project=project, title=f"Bench source {i}", citation_key=f"bench{i}",
                   full_text=text)
            for i in range(args.sources)
        )  # fmt: skip
        claims = Claim.objects.bulk_create(
            Claim(project=project, statement=f"Bench claim {i}") for i in range(50)
        )
        people = Person.objects.bulk_create(
            Person(project=project, display_name=f"Bench Person {i}") for i in range(20)
        )
        concepts = Concept.objects.bulk_create(
            Concept(project=project, name=f"Bench concept {i}") for i in range(10)
        )
    assignment, assign_wall, _ = timed(
        lambda: coding.assign(
            project=project, title=f"Bench round ({len(sources)} sources)",
            ranges=[coding.Range(s) for s in sources],
            coders=[users["bench-a"], users["bench-b"]], variables=list(Variable.values),
            due_date=None, tolerance=10, by=users["bench-sup"],
        )
    )  # fmt: skip
    made = []
    for source in sources:
        for slot in range(per_source):
            start = slot * 4 * 50
            end = start + 120
            claim, person, concept = rng.choice(claims), rng.choice(people), rng.choice(concepts)
            kind = rng.random()
            for coder in ("bench-a", "bench-b"):
                if kind > 0.9 and coder == "bench-b":
                    continue  # only one coder
                shift = 40 if kind > 0.8 and coder == "bench-b" else 0
                stance = "asserts" if kind > 0.75 and coder == "bench-b" else "supports"
                applied = [] if kind > 0.7 and coder == "bench-b" else [concept]
                made.append((source, coder, start, end + shift, claim, person, stance, applied))
    with transaction.atomic():
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
        Coding.objects.bulk_create(
            Coding(annotation=n, concept=concept)
            for n, row in zip(annotations, made, strict=True)
            for concept in row[7]
        )
        # The tallies follow the new passages (as saving them one by one would), not a recount
        # of the whole (corpus) project.
        new = counted_many(Annotation.objects.filter(pk__in=[a.pk for a in annotations]))
        retally_many((None, counted) for counted in new.values())
    print(
        f"project {project.slug}: {Source.objects.filter(project=project).count():,} sources, "
        f"{Annotation.objects.filter(project=project).count():,} annotations"
    )
    print(f"{len(annotations)} passages on {len(sources)} sources; assigned in {assign_wall:.2f} s")

    for coder in ("bench-a", "bench-b"):
        done = users[coder]
        _, wall, cpu = timed(lambda u=done: coding.mark_done(assignment=assignment, coder=u))
        print(f"mark done ({coder}): {wall:.2f} s wall, {cpu:.2f} s CPU")

    # The comparison job's work, in one transaction as the job runs it.
    def compare():
        with transaction.atomic():
            counts, wall, cpu = timed(
                lambda: coding.compare(assignment=assignment, by=users["bench-sup"])
            )
            compared = Assignment.objects.with_list_data().get(pk=assignment.pk)
            _, s_wall, s_cpu = timed(lambda: report.store(compared))
        return counts, wall, cpu, s_wall, s_cpu

    (counts, c_wall, c_cpu, s_wall, s_cpu), wall, cpu = timed(compare)
    print(
        f"comparison (job): {wall:.2f} s wall, {cpu:.2f} s CPU of this process; of which "
        f"aligning and merging {c_wall:.2f} s wall / {c_cpu:.2f} s CPU, computing and storing "
        f"the report {s_wall:.2f} s wall / {s_cpu:.2f} s CPU; {counts}"
    )
    client = Client()
    client.force_login(users["bench-sup"])
    url = f"/p/{project.slug}/agreement/{assignment.pk}/"
    # Warm the process (templates, middleware, imports) on another page, and once on this one
    # so that what "cold" measures is the report, not the process starting.
    client.get(f"/p/{project.slug}/agreement/")
    client.get(url)

    def view(label: str, before) -> None:
        walls, cpus = [], []
        for _ in range(args.repeat):
            before()
            response, wall, cpu = timed(lambda: client.get(url))
            assert response.status_code == 200, response.status_code
            walls.append(wall)
            cpus.append(cpu)
        print(
            f"{label}: median {statistics.median(walls):.3f} s wall, "
            f"{statistics.median(cpus):.3f} s CPU (each: "
            f"{', '.join(f'{w:.3f}/{c:.3f}' for w, c in zip(walls, cpus, strict=True))})"
        )

    def no_summary():
        cache.clear()
        ReportSummary.objects.filter(assignment=assignment).delete()

    view("report, cold, no stored summary (computed by the view)", no_summary)
    view("report, cold, stored summary", cache.clear)
    view("report, warm", lambda: None)
    reports = report.build(Assignment.objects.with_list_data().get(pk=assignment.pk))
    for r in reports:
        interval = " – ".join(f"{x:.3f}" for x in r.interval) if r.interval else "none"
        alpha = f"{r.alpha:.3f}" if r.alpha is not None else "none"
        print(f"  {r.variable}: {r.n_units} units, alpha {alpha}, 95 % interval {interval}")
    _, wall, cpu = timed(lambda: client.get(url + "data.csv", {"variable": "claims"}))
    print(f"CSV of the claims' reliability data: {wall:.3f} s wall, {cpu:.3f} s CPU")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

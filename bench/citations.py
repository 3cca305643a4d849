"""Time formatted citations (citeproc-js in the app's embedded V8):

- a source page's three citations at the server (Django's test client), with the citations
  cached and without (each request then formats three), next to the formatting alone;
- a formatted bibliography of N sources (10,000 by default) in each style, as the command and
  the background job make it (queries, CSL-JSON, citeproc-js, the file).

    .venv/bin/python bench/citations.py                  # SQLite, a throwaway file
    .venv/bin/python bench/citations.py --sources 2000 --repeat 10

Prints wall and CPU time, the load average, and how long a fixed Python loop takes here (the
machine's speed at the time: about 0.4 s on an idle modern core).
"""

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "tests" / "library" / "citation_sample.json"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def calibration() -> float:
    started = time.process_time()
    total = 0
    for n in range(10_000_000):
        total += n
    return time.process_time() - started


def load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def items(count: int, seed: int = 1) -> list[dict]:
    """`count` CSL-JSON items: the test sample's entries again and again, with other titles
    and more surnames, so the bibliography has repeated authors but few identical entries."""
    rng = random.Random(seed)
    sample = json.loads(SAMPLE.read_text("utf-8"))
    made = []
    for n in range(count):
        item = json.loads(json.dumps(sample[n % len(sample)]))
        item["id"] = f"bench{n}"
        item["title"] = f"{item['title']} {n}"
        for role in ("author", "editor", "translator"):
            for name in item.get(role, []):
                if "family" in name:
                    name["family"] += rng.choice(["", "", "son", "berg", "ov"]) + str(n % 97)
        made.append(item)
    return made


def store(project, batch: list[dict]) -> None:
    """The items as sources with their people, in bulk."""
    from apps.library.citations import CSL_TEXT_FIELDS
    from apps.library.models import Contributor, Source, SourceIdentifier
    from apps.people.models import Person

    sources, people, links, identifiers = [], [], [], []
    for item in batch:
        fields = {f: item[v] for v, f in CSL_TEXT_FIELDS.items() if v in item}
        parts = item.get("issued", {}).get("date-parts", [[]])[0]
        fields.update(zip(["issued_year", "issued_month", "issued_day"], parts, strict=False))
        sources.append(
            Source(project=project, citation_key=item["id"], csl_type=item["type"], **fields)
        )
    Source.objects.bulk_create(sources)
    sources = {s.citation_key: s for s in Source.objects.filter(project=project).only("pk")}
    for item in batch:
        source = sources[item["id"]]
        if "DOI" in item:
            doi = item["DOI"].lower()
            identifiers.append(SourceIdentifier(source=source, scheme="doi", value=doi))
        for role in ("author", "editor", "translator"):
            for position, name in enumerate(item.get(role, []), start=1):
                parts = {key.replace("-", "_"): value for key, value in name.items()}
                display = name.get("literal") or f"{name.get('given', '')} {name['family']}"
                person = Person(project=project, display_name=display.strip(), **parts)
                people.append(person)
                links.append((source, person, role, position))
    Person.objects.bulk_create(people)
    Contributor.objects.bulk_create(
        Contributor(source=s, person=p, role=r, position=n) for s, p, r, n in links
    )
    SourceIdentifier.objects.bulk_create(identifiers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="citemap-bench-citations-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ["CITEMAP_DATA_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from apps.accounts.models import Membership, Project, Role, User
    from apps.bibliography.formatted import formatted_file
    from apps.library.citations import Style, source_citations
    from apps.library.models import Source

    call_command("migrate", verbosity=0)
    project = Project.objects.create(slug="bench", name="Citations bench")
    user = User.objects.create_user(username="bench", password="a-bench-password-9")
    Membership.objects.create(project=project, user=user, role=Role.SUPERVISOR)
    started = time.perf_counter()
    store(project, items(args.sources))
    print(f"{args.sources:,} sources stored in {time.perf_counter() - started:.1f} s")
    print(f"calibration: 10M-step Python loop {calibration():.2f} s CPU; {load()}")

    page_source = Source.objects.filter(project=project, citation_key="bench0").get()
    started_cpu, started = cpu(), time.perf_counter()
    source_citations(page_source)
    print(
        f"first citations of a process (builds the three style engines): "
        f"{time.perf_counter() - started:.2f} s wall, {cpu() - started_cpu:.2f} s CPU"
    )

    client = Client()
    client.force_login(user)
    url = f"/p/bench/sources/{page_source.pk}/"
    assert client.get(url).status_code == 200
    pool = list(Source.objects.filter(project=project).order_by("?")[: args.repeat])
    for label, clear in (("citations cached", False), ("citations formatted", True)):
        walls, cpus = [], []
        for source in pool:
            if clear:
                cache.clear()
            else:
                client.get(f"/p/bench/sources/{source.pk}/")
            started_cpu, started = cpu(), time.perf_counter()
            response = client.get(f"/p/bench/sources/{source.pk}/")
            walls.append(time.perf_counter() - started)
            cpus.append(cpu() - started_cpu)
            assert response.status_code == 200
        print(
            f"source page, {label}: median {1000 * statistics.median(walls):.0f} ms wall, "
            f"{1000 * statistics.median(cpus):.0f} ms CPU ({len(pool)} sources); {load()}"
        )
    walls, cpus = [], []
    for source in pool:
        cache.clear()
        source = Source.objects.prefetch_related("identifiers", "contributors__person").get(
            pk=source.pk
        )
        started_cpu, started = cpu(), time.perf_counter()
        source_citations(source)
        walls.append(time.perf_counter() - started)
        cpus.append(cpu() - started_cpu)
    print(
        f"the three citations alone (formatting, no queries): median "
        f"{1000 * statistics.median(walls):.0f} ms wall, {1000 * statistics.median(cpus):.0f} ms "
        f"CPU; {load()}"
    )

    sources = Source.objects.for_project(project)
    for style in Style:
        started_cpu, started = cpu(), time.perf_counter()
        body, _, _ = formatted_file(project, sources, style, html=False)
        print(
            f"{args.sources:,}-entry bibliography, {style.label}: "
            f"{time.perf_counter() - started:.1f} s wall, {cpu() - started_cpu:.1f} s CPU, "
            f"{len(body) / 1e6:.1f} MB; {load()}"
        )


if __name__ == "__main__":
    main()

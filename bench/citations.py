"""Time formatted citations (citeproc-js in the app's embedded V8), each case in a process of
its own so that start-up costs and peak memory are its own, and print them side by side:

- a source page's three citations at the server (Django's test client): the first request of a
  new process (which builds the three style engines), the first after a warm-up (as gunicorn
  workers do, config/gunicorn.py), and later requests (median), citations not cached;
- a formatted bibliography of 1,000 and of 10,000 sources in each style, as the command and
  the background job make it (queries, CSL-JSON, citeproc-js, the file): engine start-up, the
  bibliography on a warm engine, peak memory (the process's maximum resident set).

    .venv/bin/python bench/citations.py                      # SQLite, a throwaway file
    .venv/bin/python bench/citations.py --sizes 1000         # quicker
    .venv/bin/python bench/citations.py --code ../other-checkout   # the same cases on other code

CPU seconds come from resource.getrusage (the process's user + system time, every thread), next
to wall time and the load average, and how long a fixed Python loop takes here (the machine's
speed at the time: about 0.3 s on an idle core of this machine).
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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


def setup_django(folder: str, code: Path) -> None:
    sys.path.insert(0, str(code))
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ["CITEMAP_DATA_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def warm_engines() -> None:
    """What apps.library.citations.warm_up does (written out: older code lacks it)."""
    from apps.library.citations import Style, format_bibliography

    item = {"type": "book", "title": "Warm-up", "author": [{"family": "Up", "given": "W."}],
            "issued": {"date-parts": [[2000]]}}  # fmt: skip
    for style in Style:
        format_bibliography([item], style, html=True)


def case_page(args) -> dict:
    """A source page: the first request of a process, after a warm-up or not, then later ones."""
    from django.core.cache import cache
    from django.test import Client

    from apps.accounts.models import User
    from apps.library.models import Source

    user = User.objects.get(username="bench")
    client = Client()
    client.force_login(user)
    pool = list(
        Source.objects.filter(project__slug="bench-1000").order_by("pk").values_list("pk", flat=1)
    )[: args.repeat + 1]
    out = {}
    if args.warm:
        started_cpu, started = cpu(), time.perf_counter()
        warm_engines()
        out["warm-up"] = (time.perf_counter() - started, cpu() - started_cpu)
    walls, cpus = [], []
    for pk in pool:
        cache.clear()
        started_cpu, started = cpu(), time.perf_counter()
        response = client.get(f"/p/bench-1000/sources/{pk}/")
        walls.append(time.perf_counter() - started)
        cpus.append(cpu() - started_cpu)
        assert response.status_code == 200, response.status_code
        assert b"cite__text" in response.content
    out["first request"] = (walls[0], cpus[0])
    out["later requests (median)"] = (statistics.median(walls[1:]), statistics.median(cpus[1:]))
    from apps.library.citations import source_citations

    sources = Source.objects.filter(pk__in=pool[1:]).prefetch_related(
        "identifiers", "contributors__person"
    )
    walls, cpus = [], []
    for source in sources:
        cache.clear()
        started_cpu, started = cpu(), time.perf_counter()
        source_citations(source)
        walls.append(time.perf_counter() - started)
        cpus.append(cpu() - started_cpu)
    out["3 citations alone (median)"] = (statistics.median(walls), statistics.median(cpus))
    out["maxrss"] = maxrss_mb()
    return out


def case_bibliography(args) -> dict:
    from apps.accounts.models import Project
    from apps.bibliography.formatted import formatted_file
    from apps.library.citations import STYLE_NAMES
    from apps.library.models import Source

    project = Project.objects.get(slug=f"bench-{args.size}")
    style = STYLE_NAMES[args.style]
    started_cpu, started = cpu(), time.perf_counter()
    warm_engines()
    startup = (time.perf_counter() - started, cpu() - started_cpu)
    before = maxrss_mb()
    started_cpu, started = cpu(), time.perf_counter()
    body, _, _ = formatted_file(project, Source.objects.for_project(project), style, html=args.html)
    done = (time.perf_counter() - started, cpu() - started_cpu)
    return {
        "start-up": startup, "bibliography": done, "rss before": before,
        "maxrss": maxrss_mb(), "entries": body.count("\n\n") + 1 if not args.html
        else body.count("<li>"), "bytes": len(body.encode()),
    }  # fmt: skip


def run_case(folder: str, code: Path, *options: str) -> dict:
    command = [sys.executable, __file__, "--case", *options, "--folder", folder]
    command += ["--code", str(code)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--styles", default="apa,chicago,mla")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--code", type=Path, default=ROOT, help="The checkout whose app is timed.")
    parser.add_argument("--case", choices=["page", "bibliography"])
    parser.add_argument("--folder")
    parser.add_argument("--size", type=int)
    parser.add_argument("--style")
    parser.add_argument("--html", action="store_true")
    parser.add_argument("--warm", action="store_true")
    args = parser.parse_args()

    if args.case:
        setup_django(args.folder, args.code.resolve())
        result = case_page(args) if args.case == "page" else case_bibliography(args)
        print(json.dumps(result))
        sys.stdout.flush()
        os._exit(0)  # V8's thread can hold up the interpreter's exit

    sizes = [int(size) for size in args.sizes.split(",")]
    folder = tempfile.mkdtemp(prefix="citemap-bench-citations-")
    code = args.code.resolve()
    setup_django(folder, code)
    from django.core.management import call_command

    from apps.accounts.models import Membership, Project, Role, User

    call_command("migrate", verbosity=0)
    user = User.objects.create_user(username="bench", password="a-bench-password-9")
    for size in sorted(set(sizes) | {1000}):
        project = Project.objects.create(slug=f"bench-{size}", name=f"Citations bench {size}")
        Membership.objects.create(project=project, user=user, role=Role.SUPERVISOR)
        started = time.perf_counter()
        store(project, items(size))
        print(f"{size:,} sources stored in {time.perf_counter() - started:.1f} s")
    print(f"code: {code}")
    print(f"calibration: 10M-step Python loop {calibration():.2f} s CPU; {load()}\n")

    def seconds(pair) -> str:
        return f"{pair[0]:6.2f} s wall {pair[1]:6.2f} s CPU"

    def milliseconds(pair) -> str:
        return f"{1000 * pair[0]:6.0f} ms wall {1000 * pair[1]:5.0f} ms CPU"

    print("A source page's three citations (not cached), each column a new process:")
    cold = run_case(folder, code, "page", "--repeat", str(args.repeat))
    warm = run_case(folder, code, "page", "--warm", "--repeat", str(args.repeat))
    print(f"  {'':26} {'cold start':>29}   {'after a warm-up':>29}")
    for key in (
        "warm-up",
        "first request",
        "later requests (median)",
        "3 citations alone (median)",
    ):
        left = milliseconds(cold[key]) if key in cold else f"{'-':>29}"
        print(f"  {key:26} {left}   {milliseconds(warm[key])}")
    peaks = f"{cold['maxrss']:26.0f} MB   {warm['maxrss']:26.0f} MB"
    print(f"  {'peak memory':26} {peaks}   {load()}\n")

    print(
        "Formatted bibliography (text), each row a new process: engine start-up (3 styles), "
        "then the bibliography on a warm engine"
    )
    for style in args.styles.split(","):
        for size in sizes:
            result = run_case(folder, code, "bibliography", "--size", str(size), "--style", style)
            start, bib = result["start-up"], result["bibliography"]
            print(
                f"  {style:8} {size:6,} entries: start-up {start[1]:5.2f} s CPU | bibliography "
                f"{seconds(bib)} ({1000 * bib[1] / size:.2f} ms CPU an entry) | peak "
                f"{result['maxrss']:4.0f} MB (before it {result['rss before']:4.0f} MB) | "
                f"{result['entries']:,} entries, {result['bytes'] / 1e6:.1f} MB | {load()}",
                flush=True,
            )


if __name__ == "__main__":
    main()

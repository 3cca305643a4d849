"""What the bibliography tests share: the sample files and a comparable picture of sources."""

from pathlib import Path

from apps.bibliography.importing import import_entries, read_file
from apps.library.models import Source

SAMPLES = Path(__file__).parent / "samples"

FIELDS = [
    "citation_key", "csl_type", "title", "title_short", "container_title", "collection_title",
    "publisher", "publisher_place", "genre", "edition", "volume", "issue", "page",
    "issued_year", "issued_month", "issued_day", "language", "abstract", "url", "accessed",
    "extra",
]  # fmt: skip


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def import_file(project, data: bytes, filename: str, **options):
    _, entries = read_file(data, filename=filename)
    return import_entries(project=project, entries=entries, by=None, **options)


def picture(project) -> list[dict]:
    """Every source of the project as plain data: fields, contributors, identifiers."""
    rows = []
    sources = Source.objects.for_project(project).prefetch_related(
        "identifiers", "contributors__person"
    )
    for source in sources.order_by("citation_key"):
        row = {name: getattr(source, name) for name in FIELDS}
        row["contributors"] = sorted(
            (c.role, c.position, c.person.display_name, c.person.family, c.person.given,
             c.person.literal)
            for c in source.contributors.all()
        )  # fmt: skip
        row["identifiers"] = sorted((i.scheme, i.value) for i in source.identifiers.all())
        rows.append(row)
    return rows


def differences(first: list[dict], second: list[dict]) -> list[tuple]:
    """(citation key, field, before, after) wherever two pictures disagree."""
    found = []
    for a, b in zip(first, second, strict=False):
        for name in a:
            if a[name] != b.get(name):
                found.append((a["citation_key"], name, a[name], b.get(name)))
    if len(first) != len(second):
        found.append(("", "count", len(first), len(second)))
    return found

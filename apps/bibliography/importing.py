"""Bibliography import and export: files in, entries previewed, sources out.

`read_file` turns an upload into entries (or refuses the file with a reason), `preview_import`
says what each entry would become, `import_entries` writes them in one transaction, and
`write_sources` gives a selection back in any format.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, models, transaction
from django.db.models import Prefetch

from apps.accounts.models import Project, User
from apps.accounts.sync import bump
from apps.bibliography import bibtex, csljson, files, ris
from apps.bibliography.files import ReadFormat
from apps.bibliography.records import (
    UNTITLED,
    Entry,
    make_citation_key,
    name_text,
    person_fields,
    title_key,
    unique_key,
    work_key,
)
from apps.jobs.running import in_one_snapshot
from apps.library.models import (
    Contributor,
    ContributorRole,
    Source,
    SourceIdentifier,
    SourceType,
)
from apps.people.models import NameVariant, Person, strict_key
from apps.people.names import match_key

BATCH = 500


class Format(models.TextChoices):
    """The formats written (and read); `ImportFormat` adds those only read."""

    BIBTEX = "bibtex", "BibTeX / BibLaTeX (.bib)"
    RIS = "ris", "RIS (.ris)"
    CSLJSON = "csljson", "CSL-JSON (.json)"


class ImportFormat(models.TextChoices):
    BIBTEX = ReadFormat.BIBTEX, "BibTeX / BibLaTeX"
    RIS = ReadFormat.RIS, "RIS (EndNote, Zotero, Ovid, PsycINFO, Embase, PubMed…)"
    WOS = ReadFormat.WOS, "Web of Science plain text"
    CSLJSON = ReadFormat.CSLJSON, "CSL-JSON (one item or an array)"
    CROSSREF = ReadFormat.CROSSREF, "Crossref REST API JSON"
    ZOTERO = ReadFormat.ZOTERO, "Zotero Web API JSON"


# Sources read at a time by an export (with their contributors and identifiers).
EXPORT_BATCH = 250
PIECES = {Format.BIBTEX: bibtex.pieces, Format.RIS: ris.pieces, Format.CSLJSON: csljson.pieces}
EXTENSIONS = {Format.BIBTEX: "bib", Format.RIS: "ris", Format.CSLJSON: "json"}
CONTENT_TYPES = {
    Format.BIBTEX: "application/x-bibtex; charset=utf-8",
    Format.RIS: "application/x-research-info-systems; charset=utf-8",
    Format.CSLJSON: "application/vnd.citationstyles.csl+json; charset=utf-8",
}


class ImportRefused(Exception):
    """The import was not done; the message says why, and that nothing was written."""


# --- Reading --------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The file's text in whatever encoding it came (files.decode); refuses empty and binary
    files with a reason."""
    return files.decode(data).text


def read_upload(uploads: list[tuple[str, bytes]], *, format: str = "") -> files.Reading:
    """The entries of one or more files uploaded together (files.read_files)."""
    return files.read_files(uploads, format=format)


def read_file(data: bytes, *, format: str = "", filename: str = "") -> tuple[str, list[Entry]]:
    reading = files.read_files([(filename or "file", data)], format=format)
    return reading.format, reading.entries


# --- Duplicates -----------------------------------------------------------------------------


@dataclass
class Duplicate:
    source_id: int | None  # an existing source, or None for an earlier entry of the file
    title: str
    reason: str
    entry_number: int | None = None


# Identifiers that name one work wherever they appear. ISSNs name a journal (shared by all its
# articles) and never make a duplicate; an ISBN names a book, so it makes a duplicate only of
# two whole books (a book's chapters all carry its ISBN).
WORK_IDENTIFIERS = {"doi": "DOI", "pmid": "PMID", "arxiv": "arXiv id"}
BOOK_IDENTIFIERS = {"isbn": "ISBN"}
WHOLE_BOOKS = {SourceType.BOOK}
WORK_RULE = "same title, year and first author"


def identity_keys(
    csl_type: str, identifiers: Iterable[tuple[str, str]], work: tuple
) -> list[tuple[tuple, str]]:
    """(key, the rule it stands for) of each way a record can be the same work as another:
    its DOI, PMID or arXiv id, its ISBN when it is a whole book, its title + year + first
    author (when the title says something and the year or the author is known)."""
    keys = []
    for scheme, value in identifiers:
        label = WORK_IDENTIFIERS.get(scheme)
        if label is None and scheme in BOOK_IDENTIFIERS and csl_type in WHOLE_BOOKS:
            label = f"{BOOK_IDENTIFIERS[scheme]} (both whole books)"
        if label:
            keys.append(((scheme, _match_form(scheme, value)), f"same {label} {value}"))
    title, year, author = work
    if title and title != title_key(UNTITLED) and (year is not None or author):
        keys.append((("work", *work), WORK_RULE))
    return keys


_ARXIV = re.compile(
    r"^(?:https?://arxiv\.org/(?:abs|pdf)/|arxiv:\s*)?(.+?)(?:v\d+)?(?:\.pdf)?$", re.I
)
_PMID = re.compile(r"^(?:https?://pubmed\.ncbi\.nlm\.nih\.gov/|pmid:?\s*)?0*(\d+)/?$", re.I)


def _match_form(scheme: str, value: str) -> str:
    """The identifier as compared: an arXiv id without prefix or version ("arXiv:2101.00001v2"
    is 2101.00001), a PMID without prefix or leading zeros."""
    pattern = {"arxiv": _ARXIV, "pmid": _PMID}.get(scheme)
    match = pattern.match(value.strip()) if pattern else None
    return match.group(1).lower() if match else value


def entry_identity(entry: Entry) -> list[tuple[tuple, str]]:
    return identity_keys(
        entry.fields.get("csl_type", ""), entry.identifiers, _entry_work_key(entry)
    )


@dataclass
class ProjectIndex:
    """What the project already has, to find duplicates and free citation keys."""

    by_identity: dict[tuple, tuple[int, str]] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, project: Project) -> ProjectIndex:
        index = cls()
        sources = Source.objects.for_project(project)
        for pk, title, citation_key, keys in _source_identities(project, sources):
            index.keys.add(citation_key)
            for key, _ in keys:
                index.by_identity.setdefault(key, (pk, title))
        return index

    def match(self, entry: Entry) -> Duplicate | None:
        for key, rule in entry_identity(entry):
            found = self.by_identity.get(key)
            if found:
                return Duplicate(found[0], found[1], rule)
        return None


def _source_identities(
    project: Project, sources: models.QuerySet
) -> list[tuple[int, str, str, list[tuple[tuple, str]]]]:
    """(id, title, citation key, identity keys) of each source, in title order (3 queries)."""
    rows = list(
        sources.order_by("title", "pk").values_list(
            "pk", "title", "citation_key", "issued_year", "csl_type"
        )
    )
    first_authors = first_author_keys(sources)
    identifiers: dict[int, list[tuple[str, str]]] = {}
    schemes = [*WORK_IDENTIFIERS, *BOOK_IDENTIFIERS]
    for source_id, scheme, value in SourceIdentifier.objects.filter(
        source__project=project, scheme__in=schemes
    ).values_list("source_id", "scheme", "value"):
        identifiers.setdefault(source_id, []).append((scheme, value))
    return [
        (
            pk,
            title,
            citation_key,
            identity_keys(
                csl_type,
                identifiers.get(pk, []),
                work_key(title, year, first_authors.get(pk, "")),
            ),
        )
        for pk, title, citation_key, year, csl_type in rows
    ]


def _entry_work_key(entry: Entry) -> tuple:
    return work_key(entry.title, entry.fields.get("issued_year"), entry.first_author_key())


def first_author_keys(sources: models.QuerySet) -> dict[int, str]:
    """{source id: strict key of its first author's family name (particle included) or
    literal name}, as Entry.first_author_key gives it."""
    rows = Contributor.objects.filter(
        source__in=sources.values("pk"), role=ContributorRole.AUTHOR, position=1
    ).values_list(
        "source_id",
        "person__non_dropping_particle",
        "person__family",
        "person__literal",
        "person__display_name",
    )
    return {
        source_id: match_key(f"{particle} {family}" if family else literal or display)
        for source_id, particle, family, literal, display in rows
    }


def preview_import(*, project: Project, entries: list[Entry]) -> list[dict]:
    """What each entry would become: new, duplicate (of a source or an earlier entry, with the
    rule that matched) or rejected, with what was repaired, as plain data for the preview."""
    index = ProjectIndex.of(project)
    seen: dict[tuple, Entry] = {}
    taken = set(index.keys)
    rows = []
    for entry in entries:
        row = {
            "number": entry.number,
            "line": entry.line,
            "where": entry.where,
            "key": entry.key,
            "title": entry.title,
            "year": entry.fields.get("issued_year"),
            "authors": [name_text(name) for role, name in entry.names if role == "author"][:3],
            "type": entry.fields.get("csl_type", ""),
            "warnings": entry.warning_rows(),
        }
        if entry.error:
            row.update(status="rejected", reason=entry.error)
        elif duplicate := index.match(entry) or _earlier(entry, seen):
            row.update(
                status="duplicate",
                reason=duplicate.reason,
                duplicate_of=duplicate.source_id,
                duplicate_title=duplicate.title,
                duplicate_entry=duplicate.entry_number,
            )
        else:
            row.update(status="new")
            _remember(entry, seen)
            key = unique_key(entry.key or make_citation_key(entry), taken)
            taken.add(key)
            if key != entry.key:
                row["warnings"] = [*row["warnings"], (entry.line, _key_note(entry, key))]
                row["key"] = key
        rows.append(row)
    return rows


def _key_note(entry: Entry, key: str) -> str:
    """What the import does to an entry's key (as _create_sources will)."""
    if not entry.key:
        return f"It has no citation key: it gets “{key}”."
    return f"Its key “{entry.key}” is taken by a source of the project: it gets “{key}”."


def _remember(entry: Entry, seen: dict[tuple, Entry]) -> None:
    for key, _ in entry_identity(entry):
        seen.setdefault(key, entry)


def _earlier(entry: Entry, seen: dict[tuple, Entry]) -> Duplicate | None:
    """The earlier entry of the file that records the same work, by the same rules."""
    for key, rule in entry_identity(entry):
        earlier = seen.get(key)
        if earlier is not None:
            return Duplicate(None, earlier.title, rule, earlier.number)
    return None


# --- Importing ------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    merged: int = 0
    skipped: int = 0
    rejected: int = 0
    people: int = 0

    def summary(self) -> str:
        parts = [f"{self.created:,} source{'s' if self.created != 1 else ''} imported"]
        if self.merged:
            parts.append(f"{self.merged:,} merged into existing sources")
        if self.skipped:
            parts.append(f"{self.skipped:,} duplicates skipped")
        if self.rejected:
            parts.append(f"{self.rejected:,} rejected entries skipped")
        if self.people:
            parts.append(f"{self.people:,} new people")
        return ", ".join(parts) + "."


Progress = Callable[[int, int], None]


def refusal_for_rejected(entries: list[Entry]) -> str:
    rejected = [entry for entry in entries if entry.error]
    first = rejected[0]
    more = f" and {len(rejected) - 1:,} more" if len(rejected) > 1 else ""
    return (
        f"Nothing was imported: {first.where} cannot be read ({first.error}){more}. Correct "
        "the file, or choose to skip the rejected entries."
    )


def import_entries(
    *,
    project: Project,
    entries: list[Entry],
    by: User | None,
    merge: Iterable[int] = (),
    skip_rejected: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Create the entries' sources (and new people) in one transaction: all or nothing.

    Duplicates of existing sources are skipped unless their entry number is in `merge`, then
    they complete the existing source. Rejected entries refuse the whole import unless
    `skip_rejected`.
    """
    steps = importing(
        project=project, entries=entries, by=by, merge=merge, skip_rejected=skip_rejected
    )
    while True:
        try:
            done, total = next(steps)
        except StopIteration as finished:
            return finished.value
        if progress:
            progress(done, total)


def importing(
    *,
    project: Project,
    entries: list[Entry],
    by: User | None,
    merge: Iterable[int] = (),
    skip_rejected: bool = False,
) -> Generator[tuple[int, int], None, ImportResult]:
    """`import_entries` step by step: yields (done, total) after each batch and returns the
    result. The transaction spans the whole iteration; stopping early rolls it back."""
    if any(entry.error for entry in entries) and not skip_rejected:
        raise ImportRefused(refusal_for_rejected(entries))
    result = ImportResult(rejected=sum(1 for entry in entries if entry.error))
    try:
        with transaction.atomic():
            yield from _import(project, entries, by, set(merge), result)
    except (IntegrityError, DataError) as error:
        raise ImportRefused(
            f"Nothing was imported: the database refused a row ({error}). Try again; if it "
            "happens again, the file has a value the app cannot store."
        ) from None
    return result


def _import(
    project: Project,
    entries: list[Entry],
    by: User | None,
    merge: set[int],
    result: ImportResult,
) -> Iterator[tuple[int, int]]:
    index = ProjectIndex.of(project)
    seen: dict[tuple, Entry] = {}
    to_create: list[Entry] = []
    to_merge: list[tuple[Entry, int]] = []
    for entry in entries:
        if entry.error:
            continue
        duplicate = index.match(entry) or _earlier(entry, seen)
        if duplicate is None:
            to_create.append(entry)
            _remember(entry, seen)
        elif duplicate.source_id and entry.number in merge:
            to_merge.append((entry, duplicate.source_id))
        else:
            result.skipped += 1
    total = len(to_create) + len(to_merge)
    if total:
        # The project's version before any source's lock, as every writer (apps.accounts.sync).
        bump(project.pk)
    yield 0, total
    people = _people_for(project, [*to_create, *(entry for entry, _ in to_merge)], by, result)
    done = 0
    for start in range(0, len(to_create), BATCH):
        batch = to_create[start : start + BATCH]
        _create_sources(project, batch, by, index.keys, people)
        done += len(batch)
        result.created += len(batch)
        yield done, total
    for entry, source_id in to_merge:
        source = Source.objects.select_for_update().get(pk=source_id)
        source.complete_with(
            fields=_source_fields(entry),
            identifiers=entry.identifiers,
            contributors=[(people[_name_key(name)], role) for role, name in entry.names],
            extra=entry.extra,
            by=by,
        )
        result.merged += 1
        done += 1
        if done % BATCH == 0 or done == total:
            yield done, total


def _name_key(name: dict[str, str]) -> str:
    return strict_key(name_text(name))


def _family_first_key(name: dict[str, str]) -> str:
    parts = ("non-dropping-particle", "family", "given", "dropping-particle", "suffix")
    return strict_key(" ".join(name[part] for part in parts if name.get(part)))


def _people_for(
    project: Project, entries: list[Entry], by: User | None, result: ImportResult
) -> dict[str, Person]:
    """{name key: person} for every name of the entries: existing people found by their name
    or a variant (equal but for case, diacritics and punctuation: see names.match_key), the
    others created with their CSL name parts."""
    wanted: dict[str, dict[str, str]] = {}
    for entry in entries:
        for _, name in entry.names:
            wanted.setdefault(_name_key(name), name)
    known: dict[str, int] = {}
    people = Person.objects.for_project(project)
    for pk, key in people.order_by("-pk").values_list("pk", "match_key"):
        known[key] = pk
    for pk, key in (
        NameVariant.objects.filter(person__project=project)
        .order_by("-person_id")
        .values_list("person_id", "match_key")
    ):
        known.setdefault(key, pk)
    found: dict[str, Person] = {}
    missing: list[tuple[str, dict[str, str]]] = []
    needed_ids: dict[str, int] = {}
    for key, name in wanted.items():
        alternatives = [key]
        if name.get("family") and name.get("given"):
            alternatives.append(_family_first_key(name))
        pk = next((known[k] for k in alternatives if k in known), None)
        if pk is None:
            missing.append((key, name))
        else:
            needed_ids[key] = pk
    by_pk = Person.objects.in_bulk(set(needed_ids.values())) if needed_ids else {}
    for key, pk in needed_ids.items():
        found[key] = by_pk[pk]
    new_people = []
    for key, name in missing:
        person = Person(
            project=project,
            display_name=name_text(name)[:300],
            updated_by=by,
            # bulk_create skips save(): stamped here with the import's version.
            library_version=bump(project.pk),
            **person_fields(name),
        )
        person.set_keys()
        new_people.append(person)
        found[key] = person
    Person.objects.bulk_create(new_people, batch_size=BATCH)
    result.people = len(new_people)
    return found


def _source_fields(entry: Entry) -> dict:
    fields = {name: value for name, value in entry.fields.items() if value not in (None, "")}
    if isinstance(fields.get("accessed"), str):
        fields["accessed"] = datetime.date.fromisoformat(fields["accessed"])
    return fields


def _create_sources(
    project: Project,
    entries: list[Entry],
    by: User | None,
    keys: set[str],
    people: dict[str, Person],
) -> None:
    sources = []
    for entry in entries:
        key = unique_key(entry.key or make_citation_key(entry), keys)
        keys.add(key)
        sources.append(
            Source(
                project=project,
                citation_key=key,
                extra=entry.extra,
                updated_by=by,
                # bulk_create skips save(): stamped here with the import's version.
                library_version=bump(project.pk),
                **_source_fields(entry),
            )
        )
    Source.objects.bulk_create(sources)
    contributors = []
    identifiers = []
    for entry, source in zip(entries, sources, strict=True):
        positions: dict[str, int] = {}
        seen: set[tuple[int, str]] = set()
        for role, name in entry.names:
            person = people[_name_key(name)]
            if (person.pk, role) in seen:
                continue  # the same person twice in one role (a typo in the file)
            seen.add((person.pk, role))
            positions[role] = positions.get(role, 0) + 1
            contributors.append(
                Contributor(source=source, person=person, role=role, position=positions[role])
            )
        identifiers.extend(
            SourceIdentifier(source=source, scheme=scheme, value=value)
            for scheme, value in dict.fromkeys(entry.identifiers)
        )
    Contributor.objects.bulk_create(contributors, batch_size=BATCH)
    SourceIdentifier.objects.bulk_create(identifiers, batch_size=BATCH)


# --- Exporting ------------------------------------------------------------------------------


def export_queryset(sources: models.QuerySet) -> models.QuerySet:
    """What every writer reads of a source: its fields, ordered contributors with their
    people, and identifiers."""
    return (
        sources.defer("full_text")
        .prefetch_related(
            Prefetch(
                "contributors",
                queryset=Contributor.objects.select_related("person").order_by("role", "position"),
            ),
            "identifiers",
        )
        .order_by("citation_key", "pk")
    )


def write_sources(sources: models.QuerySet, format: str) -> str:
    return "".join(source_pieces(sources, format))


def source_pieces(sources: models.QuerySet, format: str) -> Iterator[str]:
    """The file of `sources` in `format`, an entry at a time, read EXPORT_BATCH sources at a
    time from one snapshot: memory does not grow with the selection."""
    pieces = PIECES[Format(format)]
    return in_one_snapshot(
        lambda: pieces(export_queryset(sources).iterator(chunk_size=EXPORT_BATCH))
    )


# --- Duplicates already in the bibliography -------------------------------------------------


def duplicate_groups(project: Project) -> list[list[int]]:
    """Groups of source ids that record the same work, by the import's rules (same DOI, PMID
    or arXiv id, same ISBN of two whole books, or the same title, year and first author),
    each group oldest first, groups in title order."""
    rows = _source_identities(project, Source.objects.for_project(project))
    parent: dict[int, int] = {pk: pk for pk, *_ in rows}

    def root(pk: int) -> int:
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    def join(first: int, second: int) -> None:
        a, b = root(first), root(second)
        if a != b:
            parent[max(a, b)] = min(a, b)

    seen: dict[tuple, int] = {}
    for pk, _, _, keys in rows:
        for key, _ in keys:
            if key in seen:
                join(seen[key], pk)
            else:
                seen[key] = pk
    groups: dict[int, list[int]] = {}
    for pk, *_ in rows:
        groups.setdefault(root(pk), []).append(pk)
    return [sorted(members) for members in groups.values() if len(members) > 1]

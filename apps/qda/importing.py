"""REFI-QDA in: a `.qdpx` project into a Citemap project as the importer's drafts, and a `.qdc`
codebook into the project's concepts. Both are read twice, by the same code: once for the
preview (nothing written), once to import (all or nothing, in one transaction).

Every selection lands by its words, not its offsets. Its quote is the text the file's
offsets select (counted in the text as the file has it, or in its LF-only form, whichever
falls on word boundaries — tools disagree), or the selection's name when the tool wrote the
quoted words there (ATLAS.ti, QualCoder), even if it is cut short with "…". The quote is then
found in the source's text here: the file's own text for a source the import creates, this
project's text for a source it already has, which may differ. Each selection is reported as
exact (where the offsets said), moved (same words elsewhere), fuzzy (words corrected since),
ambiguous, or orphaned (not found: left out unless asked).

Sources are matched to this project's by the GUID a Citemap export gave them, by citation key
(a Citemap export's description) or by title; the others are created with the file's text.
Codes become concepts (their tree kept); under the groups a Citemap export writes ("Claims",
"People cited") they become claims and people, and Links named by a stance or a function
become the passage's evidence and mentions.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.db import transaction

from apps.accounts.models import Membership, Project
from apps.accounts.sync import bump
from apps.annotations.anchoring import Anchor, Haystack, normalise_newlines, replace_text, trimmed
from apps.annotations.models import (
    AnchorState,
    Annotation,
    AnnotationRevision,
    Evidence,
    Mention,
    MentionFunction,
    Stance,
)
from apps.annotations.tallies import Counted, flags, retally_many
from apps.bibliography.records import unique_key
from apps.claims.models import Claim, Concept
from apps.library.models import Source, SourceType, TextOrigin, source_texts
from apps.library.richtext import render_markdown
from apps.people.models import Person
from apps.qda.reading import (
    Archive,
    Code,
    Outline,
    QdaError,
    Selection,
    TextSource,
    iter_sources,
    read_codebook,
    read_outline,
)
from apps.qda.refi import ExportedText, guid

PREVIEW_ROWS = 200
CONTEXT = 32
BATCH = 500
SHORTEST_NAMED_QUOTE = 8  # a name shorter than this is a label, not the quoted words
STATES = ("exact", "moved", "fuzzy", "ambiguous", "orphaned")
Progress = Callable[[int, int], None]


@dataclass
class Row:
    """One selection as the preview lists it."""

    source: str
    name: str
    quote: str
    state: str
    score: float | None
    locator: str


@dataclass
class Report:
    """What an import of the file would do (the preview), or did."""

    origin: str = ""
    selections: Counter = field(default_factory=Counter)  # state -> count
    empty: int = 0
    sources_new: list[str] = field(default_factory=list)
    sources_matched: list[tuple[str, str]] = field(default_factory=list)  # (file's, ours)
    sources_text_added: int = 0
    skipped_sources: dict[str, int] = field(default_factory=dict)
    concepts_new: int = 0
    concepts_same: int = 0
    claims_new: int = 0
    people_new: int = 0
    notes: int = 0
    links: int = 0
    rows: list[Row] = field(default_factory=list)  # the first PREVIEW_ROWS, not exact first

    @property
    def total(self) -> int:
        return sum(self.selections.values())

    @property
    def source_count(self) -> int:
        return len(self.sources_new) + len(self.sources_matched)

    def as_data(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["selections"] = dict(self.selections)
        data["rows"] = [row.__dict__ for row in self.rows]
        return data

    @classmethod
    def from_data(cls, data: dict) -> Report:
        report = cls(**{**data, "rows": []})
        report.selections = Counter(data.get("selections", {}))
        report.sources_matched = [tuple(pair) for pair in data.get("sources_matched", [])]
        report.rows = [Row(**row) for row in data.get("rows", [])]
        return report

    def summary(self) -> str:
        placed = self.total - self.selections.get("orphaned", 0)
        return (
            f"{placed:,} passage{'s' if placed != 1 else ''} as drafts from "
            f"{self.source_count:,} source{'s' if self.source_count != 1 else ''} "
            f"({len(self.sources_new):,} new)."
        )


# --- Where each selection's words are --------------------------------------------------------


def _normal(value: str) -> str:
    return unicodedata.normalize("NFC", normalise_newlines(value))


def _at_word_edges(text: str, start: int, end: int) -> int:
    """How many of the span's two ends fall between words (a tool counting other characters
    than the file has cuts words in two)."""

    def edge(at: int) -> bool:
        if at <= 0 or at >= len(text):
            return True
        return not (text[at - 1].isalnum() and text[at].isalnum())

    return edge(start) + edge(end)


def selected_words(
    selection: Selection, raw: str, exported: ExportedText, *, citemap: bool
) -> tuple[str, int, bool]:
    """The quote the selection marks, where it starts in the exported (NFC, LF) text, and
    whether it was found by its name somewhere else than its offsets say."""
    normal = exported.text
    where = f"Selection “{selection.name[:60]}”"
    if selection.end > len(raw):
        raise QdaError(
            f"{where} ends at {selection.end:,}, beyond the end of its source's text "
            f"({len(raw):,} characters)."
        )
    start, end = exported.position(selection.start), exported.position(selection.end)
    candidates = [(start, end)]
    if normal != raw and selection.end <= len(normal):
        candidates.append((selection.start, selection.end))  # counted in the LF-only text
    candidates = [trimmed(normal, a, b) for a, b in candidates]
    name = " ".join(_normal(selection.name).split())
    if name and not citemap:
        stem = name.rstrip("…").removesuffix("...").rstrip()
        cut = stem != name
        for a, b in candidates:
            words = " ".join(normal[a:b].split())
            if words == name or (
                cut and len(stem) >= SHORTEST_NAMED_QUOTE and words.startswith(stem)
            ):
                return normal[a:b], a, False
        if not cut and len(name) >= SHORTEST_NAMED_QUOTE:
            found = _nearest(normal, _normal(selection.name).strip(), start)
            if found is not None:
                return _normal(selection.name).strip(), found, True
    a, b = max(candidates, key=lambda span: _at_word_edges(normal, *span))
    return normal[a:b], a, False


def _nearest(text: str, words: str, near: int) -> int | None:
    best, at = None, text.find(words)
    while at >= 0:
        if best is None or abs(at - near) < abs(best - near):
            best = at
        at = text.find(words, at + 1)
    return best


# --- Matching sources and codes ------------------------------------------------------------------


class _Library:
    """This project's sources, concepts, claims and people as the file's names them."""

    def __init__(self, project: Project, outline: Outline | None) -> None:
        self.project = project
        self.own_guids: dict[str, int] = {}
        if outline is not None and outline.is_citemap:
            for pk in Source.objects.for_project(project).values_list("pk", flat=True):
                self.own_guids[guid(project, "source", pk)] = pk

    def source(self, source: TextSource) -> Source | None:
        sources = Source.objects.for_project(self.project).defer(*source_texts())
        pk = self.own_guids.get(source.guid)
        if pk is not None:
            return sources.filter(pk=pk).first()
        key = source.description.strip()
        if key and len(key) <= 100 and not any(ch.isspace() for ch in key):
            found = sources.filter(citation_key=key).first()
            if found is not None:
                return found
        if source.name:
            titled = list(sources.filter(title__iexact=source.name).order_by("pk")[:2])
            if len(titled) == 1:
                return titled[0]
        return None


def _concept_matches(project: Project, codes: dict[str, Code]) -> dict[str, Concept | None]:
    """Each concept code's concept here, by name (case aside), or None for a new one."""
    wanted = [code for code in codes.values() if code.kind == "concept"]
    existing: dict[str, Concept] = {}
    for concept in Concept.objects.for_project(project).order_by("pk"):
        existing.setdefault(concept.name.casefold(), concept)
    return {code.guid: existing.get(code.name.casefold()) for code in wanted}


# --- The codebook (.qdc) ------------------------------------------------------------------------


@dataclass
class CodebookRow:
    name: str
    parent: str
    definition: str
    status: str  # "new", "same" or "conflict"
    differences: str = ""
    colour: str = ""


def _codebook(stream: IO[bytes], name: str) -> dict[str, Code]:
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(b"PK"):
        raise QdaError(
            "This is a zip archive, not a REFI-QDA codebook (.qdc): import a project (.qdpx) "
            "as a project."
        )
    return read_codebook(stream, name)


def preview_codebook(project: Project, stream: IO[bytes], name: str) -> list[CodebookRow]:
    codes = _codebook(stream, name)
    matches = _concept_matches(project, codes)
    rows = []
    for code in codes.values():
        if code.kind != "concept":
            continue
        parent = codes[code.parent].name if code.parent in codes else ""
        concept = matches[code.guid]
        if concept is None:
            rows.append(
                CodebookRow(code.name, parent, code.description, "new", colour=_colour(code.color))
            )
            continue
        differences = []
        if code.description.strip() and code.description.strip() != concept.definition.strip():
            here = concept.definition.strip()
            differences.append(
                f"definition (here “{here[:80]}{'…' if len(here) > 80 else ''}”)"
                if here
                else "definition (none here)"
            )
        ours = concept.parent.name if concept.parent_id else ""
        if parent.casefold() != ours.casefold():
            differences.append(f"parent (here “{ours or 'none'}”)")
        if _colour(code.color) and _colour(code.color) != concept.colour:
            differences.append(f"colour (here {concept.colour or 'none'})")
        rows.append(
            CodebookRow(
                code.name,
                parent,
                code.description,
                "conflict" if differences else "same",
                ", ".join(differences),
                colour=_colour(code.color),
            )
        )
    if not rows:
        raise QdaError("The codebook has no codes that could become concepts.")
    return rows


def import_codebook(
    project: Project, stream: IO[bytes], name: str, *, by, take_theirs: bool = False
) -> Counter:
    """Create the codebook's new concepts (their tree kept); concepts it shares with the
    project keep what they have here unless `take_theirs`. All or nothing."""
    codes = _codebook(stream, name)
    counts: Counter = Counter()
    with transaction.atomic():
        concepts = _write_concepts(project, codes, by=by, take_theirs=take_theirs, counts=counts)
    counts["codes"] = len(concepts)
    return counts


def _write_concepts(
    project: Project, codes: dict[str, Code], *, by, take_theirs: bool, counts: Counter
) -> dict[str, Concept]:
    matches = _concept_matches(project, codes)
    made: dict[str, Concept] = {}
    for code in codes.values():  # document order: a parent before its children
        if code.kind != "concept":
            continue
        parent = made.get(code.parent) if code.parent else None
        concept = matches[code.guid]
        if concept is None:
            concept = Concept.objects.create(
                project=project,
                name=code.name,
                definition=code.description.strip(),
                colour=_colour(code.color),
                parent=parent,
                updated_by=by,
            )
            counts["new"] += 1
        elif take_theirs and (
            (code.description.strip() and code.description.strip() != concept.definition)
            or concept.parent_id != (parent.pk if parent else None)
            or (_colour(code.color) and _colour(code.color) != concept.colour)
        ):
            with concept.editing(by=by, loaded_version=concept.version):
                if code.description.strip():
                    concept.definition = code.description.strip()
                concept.colour = _colour(code.color) or concept.colour
                if parent is None or not _is_below(parent, concept):
                    concept.parent = parent
                concept.save()
            counts["updated"] += 1
        else:
            counts["same"] += 1
        made[code.guid] = concept
    return made


def _colour(value: str) -> str:
    """A code's colour as #rrggbb ("" when it has none or an unreadable one)."""
    value = value.strip().lower()
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value if re.fullmatch(r"#[0-9a-f]{6}", value) else ""


def _is_below(candidate: Concept, concept: Concept) -> bool:
    """Whether `candidate` is `concept` or one of its descendants (a loop if made its parent)."""
    seen = candidate
    while seen is not None:
        if seen.pk == concept.pk:
            return True
        seen = seen.parent
    return False


# --- The project (.qdpx) ------------------------------------------------------------------------


@dataclass
class _Placed:
    selection: Selection
    quote: str
    anchor: Anchor
    prefix: str
    suffix: str


def _walk(
    archive: Archive, outline: Outline, library: _Library, report: Report
) -> Iterator[tuple[TextSource, Source | None, str, Haystack, list[_Placed]]]:
    """Each source of the file with its match here, the text its passages will be placed in,
    and each selection's place in it; the report counts as it goes."""
    for source, raw in iter_sources(archive, outline):
        raw = raw.removeprefix("\ufeff")
        exported = ExportedText(raw)
        match = library.source(source)
        ours = Source.objects.values_list("full_text", flat=True).get(pk=match.pk) if match else ""
        title = source.name or "(untitled)"
        if match is None:
            report.sources_new.append(title)
        else:
            report.sources_matched.append((title, match.title))
            if not ours:
                report.sources_text_added += 1
        target = ours or exported.text
        haystack = Haystack(target)
        placed = []
        for selection in source.selections:
            quote, at, by_name = selected_words(
                selection, raw, exported, citemap=outline.is_citemap
            )
            if not quote.strip():
                report.empty += 1
                continue
            normal = exported.text
            prefix = normal[max(0, at - CONTEXT) : at]
            suffix = normal[at + len(quote) : at + len(quote) + CONTEXT]
            if target is normal:
                anchor = Anchor(AnchorState.EXACT, at, at + len(quote), 1.0)
            else:
                anchor = haystack.reanchor(quote, prefix, suffix, at)
            if by_name and anchor.state == AnchorState.EXACT:
                anchor = Anchor(AnchorState.MOVED, anchor.start, anchor.end, 1.0)
            report.selections[str(anchor.state)] += 1
            placed.append(_Placed(selection, quote, anchor, prefix, suffix))
        for item in sorted(placed, key=lambda p: p.anchor.state == AnchorState.EXACT):
            if len(report.rows) >= PREVIEW_ROWS:
                break
            if item.anchor.state == AnchorState.EXACT and report.total > PREVIEW_ROWS:
                continue
            report.rows.append(
                Row(
                    source=title,
                    name=item.selection.name[:200],
                    quote=item.quote[:300],
                    state=str(item.anchor.state),
                    score=item.anchor.score,
                    locator=haystack.locator(item.anchor.start)
                    if item.anchor.start is not None
                    else "",
                )
            )
        yield source, match, target, haystack, placed


def _count_codes(project: Project, outline: Outline, report: Report) -> None:
    matches = _concept_matches(project, outline.codes)
    report.concepts_new = sum(1 for concept in matches.values() if concept is None)
    report.concepts_same = len(matches) - report.concepts_new
    claims = [code for code in outline.codes.values() if code.kind == "claim"]
    statements = {
        s.casefold() for s in Claim.objects.for_project(project).values_list("statement", flat=True)
    }
    report.claims_new = sum(1 for code in claims if _statement(code).casefold() not in statements)
    people = [code for code in outline.codes.values() if code.kind == "person"]
    report.people_new = sum(
        1
        for code in people
        if Person.objects.for_project(project).resolve_reference(code.name).match is None
    )
    report.notes = len(outline.notes)
    report.links = len(outline.links)
    report.skipped_sources = dict(outline.skipped_sources)
    report.origin = outline.origin


def _statement(code: Code) -> str:
    return " ".join((code.description.strip() or code.name).split())


def preview_project(project: Project, stream: IO[bytes]) -> Report:
    """What importing the archive would do; nothing is written."""
    archive = Archive(stream)
    outline = read_outline(archive)
    report = Report()
    _count_codes(project, outline, report)
    for _ in _walk(archive, outline, _Library(project, outline), report):
        pass
    if not outline.sources:
        raise QdaError(
            "The project has no plain-text sources"
            + (f" (only {', '.join(outline.skipped_sources)})" if outline.skipped_sources else "")
            + ": Citemap places passages in texts."
        )
    return report


def import_project(
    membership: Membership,
    stream: IO[bytes],
    *,
    file_name: str,
    keep_orphans: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Import the archive as drafts of the member; all or nothing. Returns what was done."""
    project, by = membership.project, membership.user
    archive = Archive(stream)
    outline = read_outline(archive)
    report = Report()
    _count_codes(project, outline, report)
    library = _Library(project, outline)
    with transaction.atomic():
        codes = _Codes(project, outline, by=by)
        taken = set(Source.objects.for_project(project).values_list("citation_key", flat=True))
        done = 0
        for source, match, target, haystack, placed in _walk(archive, outline, library, report):
            if match is None:
                match = _create_source(project, source, by=by, key=_new_key(source.name, taken))
            if not Source.objects.filter(pk=match.pk).exclude(full_text="").exists():
                replace_text(
                    match, target, by=by, origin=TextOrigin.IMPORTED, filename=file_name,
                    comment="From a REFI-QDA project.",
                )  # fmt: skip
            version = Source.objects.values_list("text_version", flat=True).get(pk=match.pk)
            kept = [p for p in placed if keep_orphans or p.anchor.start is not None]
            _write_passages(
                membership, match, kept, haystack, version, codes, outline, file_name=file_name
            )
            done += len(placed)
            if progress:
                progress(done, outline.selection_count)
    return report


def _create_source(project: Project, source: TextSource, *, by, key: str) -> Source:
    fields = {"abstract": source.description.strip()} if source.description.strip() else {}
    return Source.objects.create(
        project=project,
        citation_key=key,
        csl_type=SourceType.DOCUMENT,
        title=source.name or f"Imported text {source.guid[:8]}",
        updated_by=by,
        **fields,
    )


def _new_key(name: str, taken: set[str]) -> str:
    words = [w for w in "".join(ch if ch.isalnum() else " " for ch in name).split() if w]
    wanted = (
        "".join(
            ch for ch in unicodedata.normalize("NFKD", "".join(words[:3])) if ch.isascii()
        ).lower()[:60]
        or "imported"
    )
    key = unique_key(wanted, taken)
    taken.add(key)
    return key


class _Codes:
    """The file's codes as this project's concepts, claims and people, created on first use."""

    def __init__(self, project: Project, outline: Outline, *, by) -> None:
        self.project, self.outline, self.by = project, outline, by
        self.codes = outline.codes
        self.concepts = _write_concepts(
            project, outline.codes, by=by, take_theirs=False, counts=Counter()
        )
        self.claims: dict[str, Claim] = {}
        self.people: dict[str, Person] = {}
        # (selection, code) -> the Link's name (a stance or a function).
        self.link_names: dict[tuple[str, str], str] = {}
        for link in outline.links:
            self.link_names.setdefault((link.origin, link.target), link.name.casefold())

    def claim(self, code: Code) -> Claim:
        if code.guid not in self.claims:
            self.claims[code.guid] = Claim.objects.typed_new(
                _statement(code)[:2000], project_id=self.project.pk, kind="thesis", by=self.by
            )
        return self.claims[code.guid]

    def person(self, code: Code) -> Person:
        if code.guid not in self.people:
            found = Person.objects.for_project(self.project).resolve_reference(code.name).match
            self.people[code.guid] = found or Person.objects.typed_new(
                code.name, project_id=self.project.pk, by=self.by
            )
        return self.people[code.guid]

    def links_of(self, selection: Selection) -> tuple[list, list, list]:
        concepts, evidence, mentions = [], {}, {}
        for target in dict.fromkeys(selection.codes):
            code = self.codes[target]
            if code.kind == "concept" and target in self.concepts:
                concepts.append(self.concepts[target])
            elif code.kind == "claim":
                named = self.link_names.get((selection.guid, target), "")
                stance = named if named in Stance.values else Stance.ASSERTS
                evidence.setdefault(self.claim(code).pk, (self.claim(code), stance))
            elif code.kind == "person":
                named = self.link_names.get((selection.guid, target), "")
                function = named if named in MentionFunction.values else MentionFunction.MENTIONING
                mentions.setdefault(self.person(code).pk, (self.person(code), function))
        return concepts, list(evidence.values()), list(mentions.values())


def _write_passages(
    membership: Membership,
    source: Source,
    placed: list[_Placed],
    haystack: Haystack,
    version: int,
    codes: _Codes,
    outline: Outline,
    *,
    file_name: str,
) -> None:
    """The source's passages as drafts, BATCH at a time: rows, links, a first revision each
    and the tallies, as saving each through the form would leave them."""
    project, by = membership.project, membership.user
    synced = bump(project.pk)  # this transaction's library version (bulk rows skip save())
    for first in range(0, len(placed), BATCH):
        batch = placed[first : first + BATCH]
        annotations, links = [], []
        for item in batch:
            selection = item.selection
            notes = [selection.description.strip()] + [
                outline.notes.get(note, "").strip() for note in selection.notes
            ]
            note = "\n\n".join(text for text in notes if text)
            annotation = Annotation(
                project=project,
                source=source,
                author=by,
                updated_by=by,
                quote=item.quote,
                prefix=item.prefix,
                suffix=item.suffix,
                note=note,
                note_html=render_markdown(note),
                library_version=synced,
                origin={
                    "tool": f"REFI-QDA ({outline.origin})" if outline.origin else "REFI-QDA",
                    "id": selection.guid,
                    "file": file_name[:200],
                    **({"user": selection.user[:200]} if selection.user else {}),
                },
            )
            annotation.apply_anchor(item.anchor, haystack, version)
            if outline.is_citemap and selection.name.strip():
                annotation.locator = selection.name.strip()[:100]
            elif annotation.start is not None:
                annotation.locator = haystack.locator(annotation.start)
            else:
                annotation.locator = "imported"
            annotations.append(annotation)
            links.append(codes.links_of(selection))
        Annotation.objects.bulk_create(annotations)
        Coding = Annotation.concepts.through
        Coding.objects.bulk_create(
            Coding(annotation_id=a.pk, concept_id=c.pk)
            for a, (concepts, _, _) in zip(annotations, links, strict=True)
            for c in concepts
        )
        Evidence.objects.bulk_create(
            Evidence(annotation=a, claim=claim, stance=stance)
            for a, (_, evidence, _) in zip(annotations, links, strict=True)
            for claim, stance in evidence
        )
        Mention.objects.bulk_create(
            Mention(annotation=a, person=person, function=function)
            for a, (_, _, mentions) in zip(annotations, links, strict=True)
            for person, function in mentions
        )
        AnnotationRevision.objects.bulk_create(
            AnnotationRevision(
                annotation=a,
                version=a.version,
                content=_snapshot(a, *link),
                edited_by=by,
            )
            for a, link in zip(annotations, links, strict=True)
        )
        retally_many(
            (
                None,
                Counted(
                    project_id=project.pk,
                    source_id=source.pk,
                    **flags(a.status, False),
                    concepts=frozenset(c.pk for c in concepts),
                    people=frozenset(p.pk for p, _ in mentions),
                    claims=frozenset((c.pk, s) for c, s in evidence),
                ),
            )
            for a, (concepts, evidence, mentions) in zip(annotations, links, strict=True)
        )


def _snapshot(annotation: Annotation, concepts, evidence, mentions) -> dict:
    """What Annotation.snapshot() reads back from the database, from what was just written."""
    return {
        "quote": annotation.quote,
        "locator": annotation.locator,
        "page_label": annotation.page_label,
        "note": annotation.note,
        "claims": sorted([c.pk, c.statement, s] for c, s in evidence),
        "people": sorted([p.pk, p.display_name, 0, "", f] for p, f in mentions),
        "concepts": sorted([c.pk, c.name] for c in concepts),
    }

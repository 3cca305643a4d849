"""REFI-QDA out: the codebook as a `.qdc` and the project as a `.qdpx`, the exchange files of
NVivo, ATLAS.ti, MAXQDA and QualCoder (https://www.qdasoftware.org).

A `.qdpx` is a zip: `project.qde` (XML in the namespace urn:QDA-XML:project:1.0) and
`sources/<guid>.txt`, one plain text per source. In it:

- the codebook: the concepts with their hierarchy and definitions, then the claims as codes
  under a parent code "Claims", and the people cited under "People cited";
- each source with a text as a TextSource; each passage as a PlainTextSelection, named by its
  locator, its note as the description, coded with its concepts, claims and people;
- evidence as Links from the selection to the claim's code named by the stance ("supports"),
  and mentions as Links to the person's code named by the function ("criticising").

Texts are written in Unicode NFC with "\\n" line ends, and positions count code points of that
text, as the project's description says; a passage's place is moved with its text when the
stored text needed either change. GUIDs are derived from the project and the record, so a
second export names every item as the first did.

Students' exports hold approved work only (the annotations a member may see). Everything is
written as it is read, a batch at a time, into a file on disk: memory stays flat.
"""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
import zipfile
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import IO
from xml.sax.saxutils import XMLGenerator

from django.db.models import Prefetch, Q

from apps.accounts.models import Membership, Project, User
from apps.annotations.models import Annotation, Evidence, Mention
from apps.claims.models import Claim, Concept
from apps.library.models import Source
from apps.people.models import Person

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
BATCH = 500
# The names of grouping codes (not codable themselves).
CLAIMS_CODE = "Claims"
PEOPLE_CODE = "People cited"
CONCEPTS_CODE = "Concepts"
OFFSETS_NOTE = (
    "Exported by Citemap. Source texts are plain text in Unicode NFC with LF line ends; "
    "startPosition and endPosition count Unicode code points of that text."
)
# Characters XML 1.0 cannot carry (C0 controls but tab and line ends, lone surrogates, …).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def guid(project: Project, kind: str, pk: int | str) -> str:
    """The item's GUID: the same for the same project and record in every export."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"citemap:{project.pk}:{project.slug}:{kind}:{pk}"))


def xml_text(value: str) -> str:
    return NOT_XML.sub("\ufffd", value or "")


# --- Texts as exported, with their positions moved along ---------------------------------------


class ExportedText:
    """A source's text as written to the archive (NFC, LF line ends), and where a position of
    the stored text is in it. Only the places that change are remembered (a CR LF, a letter
    and its combining marks composed), so the map is as small as the changes."""

    def __init__(self, stored: str) -> None:
        self._changes: list[tuple[int, int, int, int]] = []
        self._starts: list[int] = []
        if "\r" not in stored and unicodedata.is_normalized("NFC", stored):
            self.text = stored  # the usual case: nothing moves
            return
        # Clusters (a character with the combining marks on it; CR LF as one) normalised on
        # their own; a position inside a changed cluster goes to the cluster's start.
        pieces, kept_from, shift, at = [], 0, 0, 0
        while at < len(stored):
            end = at + 1
            if stored[at] == "\r":
                end += stored.startswith("\n", end)
                piece = "\n"
            else:
                while end < len(stored) and unicodedata.combining(stored[end]):
                    end += 1
                piece = unicodedata.normalize("NFC", stored[at:end])
            if piece != stored[at:end]:
                pieces += [stored[kept_from:at], piece]
                self._starts.append(at)
                self._changes.append((at, end, at + shift, at + shift + len(piece)))
                shift += len(piece) - (end - at)
                kept_from = end
            at = end
        pieces.append(stored[kept_from:])
        self.text = "".join(pieces)

    def position(self, offset: int) -> int:
        index = bisect_right(self._starts, offset) - 1
        if index < 0:
            return offset
        start, end, out_start, out_end = self._changes[index]
        return out_start if offset < end else out_end + (offset - end)


# --- Writing ------------------------------------------------------------------------------------


class _Xml:
    """A streaming XML writer with the few shapes REFI-QDA needs."""

    def __init__(self, out: IO[str]) -> None:
        self.out = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)

    def start(self, tag: str, /, **attributes) -> None:
        self.out.startElement(
            tag, {k: xml_text(str(v)) for k, v in attributes.items() if v not in (None, "")}
        )

    def end(self, tag: str) -> None:
        self.out.endElement(tag)

    def empty(self, tag: str, /, **attributes) -> None:
        self.start(tag, **attributes)
        self.end(tag)

    def text(self, tag: str, value: str) -> None:
        if value:
            self.start(tag)
            self.out.characters(xml_text(value))
            self.end(tag)


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def _code_tree(xml: _Xml, membership: Membership) -> dict[str, dict[int, str]]:
    """The codebook's codes (the claims the member may see); returns the GUIDs of concepts,
    claims and people by id."""
    project = membership.project
    codes: dict[str, dict[int, str]] = {"concept": {}, "claim": {}, "person": {}}
    concepts = list(
        Concept.objects.for_project(project)
        .order_by("name", "pk")
        .values("pk", "name", "definition", "parent_id", "colour")
    )
    children = defaultdict(list)
    for concept in concepts:
        children[concept["parent_id"]].append(concept)

    def concept_code(concept: dict) -> None:
        code = guid(project, "concept", concept["pk"])
        codes["concept"][concept["pk"]] = code
        xml.start(
            "Code", guid=code, name=concept["name"], isCodable="true", color=concept["colour"]
        )
        xml.text("Description", concept["definition"])
        for child in children[concept["pk"]]:
            concept_code(child)
        xml.end("Code")

    xml.start(
        "Code", guid=guid(project, "group", "concepts"), name=CONCEPTS_CODE, isCodable="false"
    )
    for concept in children[None]:
        concept_code(concept)
    xml.end("Code")
    xml.start("Code", guid=guid(project, "group", "claims"), name=CLAIMS_CODE, isCodable="false")
    for claim in (
        Claim.objects.visible_to(membership).order_by("pk").values("pk", "statement").iterator()
    ):
        code = guid(project, "claim", claim["pk"])
        codes["claim"][claim["pk"]] = code
        xml.start("Code", guid=code, name=_short(claim["statement"]), isCodable="true")
        xml.text("Description", claim["statement"])
        xml.end("Code")
    xml.end("Code")
    xml.start("Code", guid=guid(project, "group", "people"), name=PEOPLE_CODE, isCodable="false")
    for person in (
        Person.objects.for_project(project)
        .order_by("sort_key", "pk")
        .values("pk", "display_name")
        .iterator()
    ):
        code = guid(project, "person", person["pk"])
        codes["person"][person["pk"]] = code
        xml.empty("Code", guid=code, name=person["display_name"], isCodable="true")
    xml.end("Code")
    return codes


def _short(statement: str, limit: int = 120) -> str:
    words = " ".join(statement.split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def write_codebook(out: IO[bytes], membership: Membership) -> None:
    """The project's codes as a REFI-QDA codebook (.qdc)."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n", write_through=True)
    xml = _Xml(text)
    xml.out.startDocument()
    xml.start("CodeBook", xmlns=CODEBOOK_NS, origin="Citemap")
    xml.start("Codes")
    _code_tree(xml, membership)
    xml.end("Codes")
    xml.end("CodeBook")
    xml.out.endDocument()
    text.detach()


def write_project(
    out: IO[bytes],
    membership: Membership,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """The project as a REFI-QDA archive (.qdpx) written to `out`; the counts written."""
    project = membership.project
    annotations = Annotation.objects.visible_to(membership).filter(withdrawn_at__isnull=True)
    sources = list(
        Source.objects.for_project(project)
        .exclude(full_text="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    counts = {"sources": 0, "selections": 0, "codings": 0, "links": 0}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("project.qde", "w") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=True)
            xml = _Xml(text)
            xml.out.startDocument()
            xml.start(
                "Project",
                xmlns=PROJECT_NS,
                name=project.name,
                origin="Citemap",
                creationDateTime=_when(project.created_at),
            )
            users = _users(xml, project)
            xml.start("CodeBook")
            xml.start("Codes")
            codes = _code_tree(xml, membership)
            xml.end("Codes")
            xml.end("CodeBook")
            placed = annotations.filter(
                source_id__in=sources, start__isnull=False, end__isnull=False
            )
            if sources:
                xml.start("Sources")
                _sources(xml, project, sources, placed, codes, users, counts, progress)
                xml.end("Sources")
            counts["links"] = _links(xml, project, placed, codes)
            xml.text("Description", OFFSETS_NOTE)
            xml.end("Project")
            xml.out.endDocument()
            text.flush()
            text.detach()
        # The texts, one at a time (the project file above placed the passages in them).
        for pk in sources:
            stored = Source.objects.values_list("full_text", flat=True).get(pk=pk)
            archive.writestr(
                f"sources/{guid(project, 'source', pk)}.txt", ExportedText(stored).text
            )
    return counts


def _users(xml: _Xml, project: Project) -> dict[int, str]:
    users = {}
    xml.start("Users")
    rows = (
        User.objects.filter(memberships__project=project)
        .order_by("username")
        .values("pk", "username", "first_name", "last_name")
    )
    for user in rows:
        users[user["pk"]] = guid(project, "user", user["pk"])
        name = f"{user['first_name']} {user['last_name']}".strip() or user["username"]
        xml.empty("User", guid=users[user["pk"]], name=name, id=user["username"])
    xml.end("Users")
    return users


def _sources(xml, project, sources, placed, codes, users, counts, progress) -> None:
    titles = dict(Source.objects.filter(pk__in=sources).values_list("pk", "title"))
    keys = dict(Source.objects.filter(pk__in=sources).values_list("pk", "citation_key"))
    total = len(sources)
    for done, pk in enumerate(sources, start=1):
        source_guid = guid(project, "source", pk)
        xml.start(
            "TextSource",
            guid=source_guid,
            name=titles.get(pk, ""),
            plainTextPath=f"internal://{source_guid}.txt",
        )
        xml.text("Description", keys.get(pk, ""))
        # Positions count the text as exported: read it to map them (most texts map to
        # themselves), then let it go.
        stored = Source.objects.values_list("full_text", flat=True).get(pk=pk)
        exported = ExportedText(stored)
        del stored
        rows = (
            placed.filter(source_id=pk)
            .order_by("start", "pk")
            .only("pk", "start", "end", "locator", "note", "author_id", "created_at")
        )
        for annotation in _batched(rows):
            _selection(xml, project, annotation, exported, codes, users, counts)
        xml.end("TextSource")
        counts["sources"] += 1
        if progress:
            progress(done, total)


def _links(xml, project, placed, codes) -> int:
    """Evidence as links named by the stance, mentions as links named by the function, from
    the passage's selection to the claim's or person's code; read in batches as written."""
    written = 0
    rows = [
        (
            "evidence",
            Evidence.objects.filter(annotation__in=placed.values("pk"))
            .order_by("annotation_id", "claim_id")
            .values_list("annotation_id", "claim_id", "stance")
            .iterator(chunk_size=BATCH),
            "claim",
        ),
        (
            "mention",
            Mention.objects.filter(annotation__in=placed.values("pk"))
            .order_by("annotation_id", "pk")
            .values_list("annotation_id", "person_id", "function", "pk")
            .iterator(chunk_size=BATCH),
            "person",
        ),
    ]
    for kind, links, target_kind in rows:
        for annotation_id, target_id, name, *mention in links:
            target = codes[target_kind].get(target_id)
            if target is None:
                continue
            if not written:
                xml.start("Links")
            link_id = mention[0] if mention else f"{annotation_id}-{target_id}"
            xml.empty(
                "Link",
                guid=guid(project, kind, link_id),
                name=name,
                direction="OneWay",
                originGUID=guid(project, "annotation", annotation_id),
                targetGUID=target,
            )
            written += 1
    if written:
        xml.end("Links")
    return written


def _batched(queryset) -> Iterator[Annotation]:
    """The annotations in text order with their links, BATCH at a time (keyset on start and
    id: a fixed number of queries per batch, whatever the size)."""
    links = [
        "concepts",
        Prefetch("evidence", queryset=Evidence.objects.only("annotation_id", "claim_id", "stance")),
        Prefetch(
            "mentions", queryset=Mention.objects.only("annotation_id", "person_id", "function")
        ),
    ]
    last = None
    while True:
        page = (
            queryset
            if last is None
            else queryset.filter(Q(start__gt=last.start) | Q(start=last.start, pk__gt=last.pk))
        )
        rows = list(page[:BATCH].prefetch_related(*links))
        yield from rows
        if len(rows) < BATCH:
            return
        last = rows[-1]


def _selection(xml, project, annotation, text: ExportedText, codes, users, counts) -> None:
    selection = guid(project, "annotation", annotation.pk)
    author = users.get(annotation.author_id)
    xml.start(
        "PlainTextSelection",
        guid=selection,
        name=annotation.locator,
        startPosition=text.position(annotation.start),
        endPosition=text.position(annotation.end),
        creatingUser=author,
        creationDateTime=_when(annotation.created_at),
    )
    xml.text("Description", annotation.note)
    targets = [codes["concept"].get(c.pk) for c in annotation.concepts.all()]
    targets += [codes["claim"].get(e.claim_id) for e in annotation.evidence.all()]
    targets += [codes["person"].get(m.person_id) for m in annotation.mentions.all()]
    for target in dict.fromkeys(t for t in targets if t):
        xml.start(
            "Coding",
            guid=guid(project, "coding", f"{annotation.pk}-{target}"),
            creatingUser=author,
        )
        xml.empty("CodeRef", targetGUID=target)
        xml.end("Coding")
        counts["codings"] += 1
    xml.end("PlainTextSelection")
    counts["selections"] += 1

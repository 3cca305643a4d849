"""REFI-QDA in: reading a `.qdpx` archive or a `.qdc` codebook as other tools write them, and
refusing, with a message that names the problem, what is not one or is unsafe to open.

What real files do, and this reader takes:
- the project file under any `*.qde` name at the archive's root, texts in `sources/` or
  `Sources/` (or given inline as PlainTextContent);
- UTF-8 with or without a byte-order mark (UTF-16 with one), CR LF or CR line ends;
- the current namespaces, older ones (`urn:QDA-XML:codebook:0:4`, …) or none: elements are
  read by their local names;
- GUIDs in either of the standard's spellings ("{…}" or bare, any case);
- notes attached through NoteRef or through Links (either direction), selections without
  codings, sources of other kinds (PDF, pictures, audio), which are counted and left out.

What is refused: an archive that is not a zip or holds no project file, member names that
leave the archive (`../`, absolute paths), too many members or more bytes than the limits once
expanded (zip bombs: the count is of bytes actually read, not of the sizes the archive
declares), XML with a DTD or entities (defusedxml), and GUID references that name nothing —
the standard's schema does not check those.

Nothing here touches the database: see importing.py.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 200 * 1024 * 1024  # one text or project file, expanded
MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # everything read from one archive, expanded
MAX_RATIO = 200  # expanded : compressed, for members above 1 MB expanded
MAX_SELECTIONS = 200_000
MAX_CODES = 5_000  # a codebook; each code may become a concept, claim or person
CHUNK = 1024 * 1024

CLAIMS_GROUP = "Claims"
PEOPLE_GROUP = "People cited"
CONCEPTS_GROUP = "Concepts"
OTHER_SOURCES = {"PDFSource", "PictureSource", "AudioSource", "VideoSource"}
HEX = "[0-9a-fA-F]"
GUID = re.compile(rf"^\{{?({HEX}{{8}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{12}})\}}?$")


class QdaError(Exception):
    """The file is refused: the message names the problem, for the user."""


# --- What the files say ------------------------------------------------------------------------


@dataclass
class Code:
    guid: str
    name: str
    description: str = ""
    parent: str | None = None
    codable: bool = True
    color: str = ""
    # What Citemap makes of it: "concept" (any other tool's code), or "claim" / "person" under
    # the groups a Citemap export writes; "group" for those groups themselves.
    kind: str = "concept"


@dataclass
class Selection:
    guid: str
    name: str
    start: int
    end: int
    description: str = ""
    codes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    user: str = ""


@dataclass
class TextSource:
    guid: str
    name: str
    description: str = ""
    path: str = ""  # the member holding its text ("" when inline)
    inline: str | None = None
    selections: list[Selection] = field(default_factory=list)


@dataclass
class Link:
    guid: str
    name: str
    origin: str
    target: str


@dataclass
class Outline:
    """Everything but the selections' contents and the texts (the first reading)."""

    origin: str = ""
    description: str = ""
    users: dict[str, str] = field(default_factory=dict)  # guid -> name
    codes: dict[str, Code] = field(default_factory=dict)  # in document order
    notes: dict[str, str] = field(default_factory=dict)  # guid -> text
    links: list[Link] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # TextSource guids, in order
    selection_count: int = 0
    skipped_sources: dict[str, int] = field(default_factory=dict)  # element -> count
    # Notes attached to a selection through Links, by the selection's GUID.
    linked_notes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_citemap(self) -> bool:
        return self.origin.startswith("Citemap")


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def guid_of(value: str | None, where: str) -> str:
    match = GUID.match((value or "").strip())
    if not match:
        raise QdaError(f"{where} has no valid GUID (“{(value or '')[:60]}”).")
    return match.group(1).lower()


def _position(value: str | None, what: str, where: str) -> int:
    try:
        number = int((value or "").strip())
    except ValueError:
        raise QdaError(f"{where}: {what} is not a whole number (“{(value or '')[:20]}”).") from None
    if number < 0:
        raise QdaError(f"{where}: {what} is negative ({number}).")
    return number


# --- The archive ---------------------------------------------------------------------------------


class Archive:
    """A `.qdpx` opened for reading, its member names checked first."""

    def __init__(self, stream: IO[bytes]) -> None:
        try:
            self.zip = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, OSError, ValueError):
            raise QdaError(
                "This is not a REFI-QDA project (.qdpx): the file is not a zip archive."
            ) from None
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise QdaError(
                f"The archive holds {len(infos):,} files; a project may hold {MAX_MEMBERS:,}."
            )
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            parts = name.replace("\\", "/").split("/")
            if (
                name.startswith(("/", "\\"))
                or ".." in parts
                or re.match(r"^[A-Za-z]:", name)
                or "\x00" in name
            ):
                raise QdaError(
                    f"The archive names a file outside itself (“{name[:120]}”): it is refused "
                    "as unsafe, and nothing was imported."
                )
            if info.is_dir():
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                raise QdaError(
                    f"“{name[:120]}” expands to {info.file_size / 1_048_576:,.0f} MB; a file "
                    f"in a project may have {MAX_MEMBER_BYTES // 1_048_576} MB."
                )
            self.members[posixpath.normpath(name.replace("\\", "/")).casefold()] = info
        self.read_bytes = 0
        projects = [
            info for key, info in self.members.items() if "/" not in key and key.endswith(".qde")
        ]
        if not projects:
            raise QdaError(
                "This zip archive is not a REFI-QDA project: it has no project file (*.qde) at "
                "its top level."
            )
        if len(projects) > 1:
            names = ", ".join(info.filename for info in projects[:3])
            raise QdaError(f"The archive has more than one project file ({names}); keep one.")
        self.project = projects[0]

    def member(self, path: str) -> zipfile.ZipInfo | None:
        """The member at `path` in the archive, whatever the case of its folder and name
        (`sources/` or `Sources/`)."""
        return self.members.get(posixpath.normpath(path.replace("\\", "/")).casefold())

    def open(self, info: zipfile.ZipInfo) -> IO[bytes]:
        return _Bounded(self, info)

    def read(self, info: zipfile.ZipInfo) -> bytes:
        with self.open(info) as stream:
            return stream.read()

    def text(self, info: zipfile.ZipInfo) -> str:
        return decode(self.read(info), info.filename)


class _Bounded:
    """A member's bytes, counted as they are expanded: more than the limits is refused however
    small the archive says the member is."""

    def __init__(self, archive: Archive, info: zipfile.ZipInfo) -> None:
        self.archive, self.info = archive, info
        try:
            self.raw = archive.zip.open(info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as error:
            raise QdaError(
                f"“{info.filename[:120]}” cannot be read from the archive: {error}."
            ) from None
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        chunks, wanted = [], size if size >= 0 else None
        while wanted is None or wanted > 0:
            try:
                chunk = self.raw.read(min(CHUNK, wanted) if wanted is not None else CHUNK)
            except (zipfile.BadZipFile, EOFError, OSError) as error:
                raise QdaError(
                    f"“{self.info.filename[:120]}” is damaged in the archive ({error})."
                ) from None
            if not chunk:
                break
            self._count(len(chunk))
            chunks.append(chunk)
            if wanted is not None:
                wanted -= len(chunk)
        return b"".join(chunks)

    def _count(self, size: int) -> None:
        self.count += size
        self.archive.read_bytes += size
        compressed = max(self.info.compress_size, 1)
        if (
            self.count > MAX_MEMBER_BYTES
            or self.archive.read_bytes > MAX_TOTAL_BYTES
            or (self.count > 1_048_576 and self.count / compressed > MAX_RATIO)
        ):
            raise QdaError(
                f"“{self.info.filename[:120]}” expands far beyond its size in the archive (a "
                "zip bomb?); it is refused and nothing was imported."
            )

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> _Bounded:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def decode(data: bytes, name: str) -> str:
    """A text file's characters: UTF-8 (a byte-order mark dropped) or UTF-16 with its mark."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise QdaError(
            f"“{name[:120]}” is not UTF-8 text (byte {error.start:,} cannot be read); the "
            "standard asks for UTF-8."
        ) from None


# --- The XML --------------------------------------------------------------------------------


def _events(stream: IO[bytes], name: str) -> Iterator[tuple[str, object]]:
    """(event, element) pairs, refusing DTDs, entities and malformed XML with a message."""
    try:
        yield from iterparse(stream, events=("start", "end"), forbid_dtd=True)
    except DefusedXmlException as error:
        raise QdaError(
            f"“{name}” declares a DTD or entities ({type(error).__name__}); REFI-QDA files "
            "have none, and they are refused as unsafe."
        ) from None
    except ParseError as error:
        raise QdaError(f"“{name}” is not well-formed XML: {error}.") from None


def _text_of(element) -> str:
    return "".join(element.itertext())


def read_outline(archive: Archive) -> Outline:
    """The first reading of the project file: users, codes, notes, links and which sources
    hold text, every reference checked. Selections are counted, not kept."""
    outline = Outline()
    name = archive.project.filename
    codes: list[str] = []  # the open Code elements
    selections: set[str] = set()
    sources: set[str] = set()
    references: list[tuple[str, str, str]] = []  # (kind, guid, where)
    depth: list[str] = []
    root_seen = False
    with archive.open(archive.project) as stream:
        for event, element in _events(stream, name):
            tag = local(element.tag)
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if tag != "Project":
                        raise QdaError(
                            f"“{name}” is not a REFI-QDA project file (its root is <{tag}>, "
                            "not <Project>)."
                        )
                    outline.origin = element.get("origin", "")
                depth.append(tag)
                if tag == "Code":
                    code = _code(element, codes, outline.codes)
                    codes.append(code.guid)
                continue
            depth.pop()
            parent = depth[-1] if depth else ""
            if tag == "Code":
                outline.codes[codes.pop()].description = _child_text(element, "Description")
            elif tag == "User":
                where = f"User “{element.get('name', '')[:60]}”"
                outline.users[guid_of(element.get("guid"), where)] = (
                    element.get("name") or element.get("id") or ""
                )
            elif tag == "PlainTextSelection" and parent == "TextSource":
                where = f"Selection “{element.get('name', '')[:60]}”"
                selection = guid_of(element.get("guid"), where)
                if selection in selections:
                    raise QdaError(f"{where}: its GUID {selection} is used twice.")
                selections.add(selection)
                outline.selection_count += 1
                if outline.selection_count > MAX_SELECTIONS:
                    raise QdaError(
                        f"The project has more than {MAX_SELECTIONS:,} selections; import it "
                        "in parts."
                    )
                for child in element:
                    if local(child.tag) == "Coding":
                        for ref in child:
                            if local(ref.tag) == "CodeRef":
                                references.append(("code", ref.get("targetGUID"), where))
                    elif local(child.tag) == "NoteRef":
                        references.append(("note", child.get("targetGUID"), where))
                if element.get("creatingUser"):
                    references.append(("user", element.get("creatingUser"), where))
                element.clear()
            elif tag == "TextSource" and parent == "Sources":
                where = f"Source “{element.get('name', '')[:60]}”"
                source = guid_of(element.get("guid"), where)
                sources.add(source)
                outline.sources.append(source)
                element.clear()
            elif tag in OTHER_SOURCES and parent == "Sources":
                outline.skipped_sources[tag] = outline.skipped_sources.get(tag, 0) + 1
                element.clear()
            elif tag == "Note" and parent == "Notes":
                where = f"Note “{element.get('name', '')[:60]}”"
                note = guid_of(element.get("guid"), where)
                text = _child_text(element, "PlainTextContent")
                path = element.get("plainTextPath", "")
                if not text and path.startswith("internal://"):
                    info = archive.member("sources/" + path.removeprefix("internal://"))
                    text = archive.text(info) if info is not None else ""
                outline.notes[note] = text.strip() or element.get("name", "")
                element.clear()
            elif tag == "Link" and parent == "Links":
                where = f"Link “{element.get('name', '')[:60]}”"
                outline.links.append(
                    Link(
                        guid=guid_of(element.get("guid"), where),
                        name=(element.get("name") or "").strip(),
                        origin=guid_of(element.get("originGUID"), f"{where}: its origin"),
                        target=guid_of(element.get("targetGUID"), f"{where}: its target"),
                    )
                )
                element.clear()
            elif tag == "Description" and parent == "Project":
                outline.description = _text_of(element)
    known = {
        "code": outline.codes.keys(),
        "note": outline.notes.keys(),
        "user": outline.users.keys(),
    }
    for kind, target, where in references:
        reference = guid_of(target, f"{where}: a {kind} reference")
        if reference not in known[kind]:
            raise QdaError(
                f"{where} refers to a {kind} {reference} that the project does not have "
                "(a broken GUID reference)."
            )
    everything = known["code"] | known["note"] | selections | sources | known["user"]
    for link in outline.links:
        for end in (link.origin, link.target):
            if end not in everything:
                raise QdaError(
                    f"Link “{link.name[:60]}” ({link.guid}) refers to {end}, which the project "
                    "does not have (a broken GUID reference)."
                )
        # A note tied to a selection, whichever way the link points (NVivo writes them so).
        for note, selection in ((link.origin, link.target), (link.target, link.origin)):
            if note in outline.notes and selection in selections:
                outline.linked_notes.setdefault(selection, []).append(note)
    _classify(outline.codes)
    return outline


def _code(element, open_codes: list[str], codes: dict[str, Code]) -> Code:
    where = f"Code “{element.get('name', '')[:60]}”"
    code = Code(
        guid=guid_of(element.get("guid"), where),
        name=" ".join((element.get("name") or "").split())[:200],
        parent=open_codes[-1] if open_codes else None,
        codable=(element.get("isCodable") or "true").strip().lower() not in ("false", "0"),
        color=(element.get("color") or "").strip()[:9],
    )
    if not code.name:
        raise QdaError(f"A code ({code.guid}) has no name.")
    if code.guid in codes:
        raise QdaError(f"{where}: its GUID {code.guid} is used twice.")
    if len(codes) >= MAX_CODES:
        raise QdaError(
            f"The file has more than {MAX_CODES:,} codes; Citemap takes codebooks up to that size."
        )
    codes[code.guid] = code
    return code


def _child_text(element, name: str) -> str:
    for child in element:
        if local(child.tag) == name:
            return _text_of(child)
    return ""


def _classify(codes: dict[str, Code]) -> None:
    """Codes under the groups a Citemap export writes become claims and people; every other
    code is a concept (its place in the tree kept)."""
    for code in codes.values():
        if code.parent is None and not code.codable:
            if code.name == CLAIMS_GROUP:
                code.kind = "group-claim"
            elif code.name == PEOPLE_GROUP:
                code.kind = "group-person"
            elif code.name == CONCEPTS_GROUP:
                code.kind = "group-concept"
    groups = {code.guid: code.kind for code in codes.values() if code.kind.startswith("group-")}
    for code in codes.values():  # document order: a parent before its children
        if code.guid in groups:
            code.kind = "group"
            continue
        if code.parent in groups:
            code.kind = groups[code.parent].removeprefix("group-")
            if code.kind == "concept":
                code.parent = None  # the group is not a concept itself
        elif code.parent in codes and codes[code.parent].kind in ("claim", "person"):
            code.kind = codes[code.parent].kind


def iter_sources(archive: Archive, outline: Outline) -> Iterator[tuple[TextSource, str]]:
    """The second reading: each text source with its selections and its text, one at a time
    (only one text is held at once)."""
    name = archive.project.filename
    depth: list[str] = []
    with archive.open(archive.project) as stream:
        current: TextSource | None = None
        for event, element in _events(stream, name):
            tag = local(element.tag)
            if event == "start":
                depth.append(tag)
                if tag == "TextSource" and depth[-2:-1] == ["Sources"]:
                    current = TextSource(
                        guid=guid_of(element.get("guid"), "A source"),
                        name=" ".join((element.get("name") or "").split()),
                        path=element.get("plainTextPath") or "",
                    )
                continue
            depth.pop()
            parent = depth[-1] if depth else ""
            if current is not None and tag == "PlainTextSelection" and parent == "TextSource":
                current.selections.append(_selection(element, outline))
                element.clear()
            elif current is not None and tag == "TextSource" and parent == "Sources":
                current.description = _child_text(element, "Description")
                inline = _child_text(element, "PlainTextContent")
                text = _source_text(archive, current, inline)
                element.clear()
                yield current, text
                current = None


def _selection(element, outline: Outline) -> Selection:
    where = f"Selection “{(element.get('name') or '')[:60]}”"
    start = _position(element.get("startPosition"), "its startPosition", where)
    end = _position(element.get("endPosition"), "its endPosition", where)
    if end < start:
        raise QdaError(f"{where}: it ends ({end}) before it starts ({start}).")
    selection = Selection(
        guid=guid_of(element.get("guid"), where),
        name=element.get("name") or "",
        start=start,
        end=end,
        user=outline.users.get(guid_of(element.get("creatingUser"), where), "")
        if element.get("creatingUser")
        else "",
    )
    for child in element:
        kind = local(child.tag)
        if kind == "Description":
            selection.description = _text_of(child)
        elif kind == "Coding":
            for ref in child:
                if local(ref.tag) == "CodeRef":
                    selection.codes.append(guid_of(ref.get("targetGUID"), where))
        elif kind == "NoteRef":
            selection.notes.append(guid_of(child.get("targetGUID"), where))
    for note in outline.linked_notes.get(selection.guid, []):
        if note not in selection.notes:
            selection.notes.append(note)
    return selection


def _source_text(archive: Archive, source: TextSource, inline: str) -> str:
    if inline:
        return inline
    path = source.path
    where = f"Source “{source.name[:60]}”"
    if path.startswith("internal://"):
        file_name = path.removeprefix("internal://")
        info = archive.member("sources/" + file_name) or archive.member(file_name)
        if info is None:
            raise QdaError(
                f"{where}: its text, {file_name[:120]}, is not in the archive's sources folder."
            )
        return archive.text(info)
    if path:
        raise QdaError(
            f"{where}: its text is outside the archive ({path[:120]}); export the project "
            "with its sources included."
        )
    raise QdaError(f"{where} has neither a text file nor its text inline.")


# --- A codebook (.qdc) ------------------------------------------------------------------------


def read_codebook(stream: IO[bytes], name: str = "codebook") -> dict[str, Code]:
    """The codes of a `.qdc` (any namespace, old or new), classified as read_outline does."""
    codes: dict[str, Code] = {}
    open_codes: list[str] = []
    root_seen = False
    for event, element in _events(stream, name):
        tag = local(element.tag)
        if event == "start":
            if not root_seen:
                root_seen = True
                if tag != "CodeBook":
                    raise QdaError(
                        f"This is not a REFI-QDA codebook (.qdc): its root is <{tag}>, not "
                        "<CodeBook>."
                    )
            if tag == "Code":
                open_codes.append(_code(element, open_codes, codes).guid)
            continue
        if tag == "Code":
            codes[open_codes.pop()].description = _child_text(element, "Description")
    if not root_seen:
        raise QdaError("The codebook is empty.")
    _classify(codes)
    return codes

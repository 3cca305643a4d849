"""Uploaded bibliography files to entries: the bytes' encoding, the format (from the content,
never the file's name), several files of one upload read together, and the size limits.

    decode(data) -> Decoded(text, encoding)
    detect(text) -> the format of the text, or FileError saying it is none we read
    read_files([(name, bytes), …], format="") -> Reading(format, entries, files)

The limits are checked before the expensive step each time: the bytes before decoding, the
number of records while they are found (before any is parsed), so a file of millions of
tiny entries is refused in the time it takes to count to the limit.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from apps.bibliography import bibtex, crossref, csljson, ris, wos, zotero
from apps.bibliography.records import (
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    Entry,
    FileError,
    load_json,
)


class ReadFormat:
    """What a file can be read as (the export formats are a subset: importing.Format)."""

    BIBTEX = "bibtex"
    RIS = "ris"
    WOS = "wos"
    CSLJSON = "csljson"
    CROSSREF = "crossref"
    ZOTERO = "zotero"

    LABELS = {
        BIBTEX: "BibTeX / BibLaTeX",
        RIS: "RIS",
        WOS: "Web of Science plain text",
        CSLJSON: "CSL-JSON",
        CROSSREF: "Crossref REST JSON",
        ZOTERO: "Zotero Web API JSON",
    }
    JSON = {CSLJSON, CROSSREF, ZOTERO}
    choices = list(LABELS.items())
    values = list(LABELS)


# --- Encodings ------------------------------------------------------------------------------

# The encodings bibliography files come in. charset-normalizer chooses among these only: with
# every code page it knows, short Western European files come out as Central European
# (cp1250), which reads "è" as "č".
CANDIDATES = [
    "utf_8", "utf_16", "utf_32", "cp1252", "latin_1", "gb18030", "big5", "shift_jis",
    "euc_jp", "euc_kr", "cp1251", "koi8_r", "cp1256",
]  # fmt: skip
ENCODING_NAMES = {
    "utf_8": "UTF-8",
    "utf_8_sig": "UTF-8 with a byte order mark",
    "utf_16": "UTF-16",
    "utf_16_le": "UTF-16 (little-endian)",
    "utf_16_be": "UTF-16 (big-endian)",
    "utf_32": "UTF-32",
    "cp1252": "Windows-1252 (Latin-1)",
    "latin_1": "Latin-1 (ISO 8859-1)",
    "gb18030": "GB18030 (GBK)",
    "big5": "Big5",
    "shift_jis": "Shift JIS",
    "euc_jp": "EUC-JP",
    "euc_kr": "EUC-KR",
    "cp1251": "Windows-1251",
    "koi8_r": "KOI8-R",
    "cp1256": "Windows-1256",
}
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf_32"),
    (codecs.BOM_UTF32_BE, "utf_32"),
    (codecs.BOM_UTF8, "utf_8_sig"),
    (codecs.BOM_UTF16_LE, "utf_16"),
    (codecs.BOM_UTF16_BE, "utf_16"),
]


@dataclass
class Decoded:
    text: str
    encoding: str  # a name for people, e.g. "Windows-1252 (Latin-1)"


def decode(data: bytes) -> Decoded:
    """The file's text and the encoding it was read in; refuses empty and binary files."""
    if len(data) > MAX_FILE_BYTES:
        raise FileError(_too_large(len(data)))
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return Decoded(_strict(data, codec), ENCODING_NAMES[codec])
    if not data.strip():
        raise FileError("The file is empty.")
    head = data[:8192]
    if b"\x00" in head:
        codec = _utf16_without_bom(head)
        if codec is None:
            raise FileError(
                "This is a binary file, not a bibliography: export BibTeX, RIS or CSL-JSON text."
            )
        return Decoded(_strict(data, codec), ENCODING_NAMES[codec])
    try:
        return Decoded(data.decode("utf-8"), ENCODING_NAMES["utf_8"])
    except UnicodeDecodeError as error:
        problem = error
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=CANDIDATES).best()
    if best is None:
        line = data[: problem.start].count(b"\n") + 1
        raise FileError(
            f"The file's encoding could not be recognised (byte 0x{data[problem.start]:02X} on "
            f"line {line:,} is not UTF-8, and no other common encoding reads the whole file). "
            "Save or export it as UTF-8 and upload it again."
        )
    codec = best.encoding
    return Decoded(_strict(data, codec), ENCODING_NAMES.get(codec, codec))


def _strict(data: bytes, codec: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        raise FileError(
            f"The file starts as {ENCODING_NAMES.get(codec, codec)} text, but byte "
            f"{error.start:,} is not valid in that encoding. Save or export it as UTF-8 and "
            "upload it again."
        ) from None
    if not text.strip("\ufeff \t\r\n"):
        raise FileError("The file is empty.")
    return text.lstrip("\ufeff")


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text has a NUL beside each ASCII character: on odd bytes (little-endian) or on
    even ones (big-endian). Anything else with NULs is binary."""
    pairs = len(head) // 2
    if not pairs:
        return None
    odd = sum(1 for i in range(1, 2 * pairs, 2) if head[i] == 0)
    even = sum(1 for i in range(0, 2 * pairs, 2) if head[i] == 0)
    if odd > 0.3 * pairs and even < 0.05 * pairs:
        return "utf_16_le"
    if even > 0.3 * pairs and odd < 0.05 * pairs:
        return "utf_16_be"
    return None


def _too_large(size: int) -> str:
    return (
        f"The upload is {size / 1_048_576:.1f} MB; the limit is {MAX_FILE_BYTES // 1_048_576} "
        "MB. Split it and import the parts."
    )


# --- Formats --------------------------------------------------------------------------------

_BIBTEX_START = re.compile(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*[{(]", re.MULTILINE)
_RIS_TY = re.compile(r"^[ \t]*(?:<?\d+>?\.?[ \t]*)?TY {1,2}-", re.MULTILINE)
_WOS_START = re.compile(r"\A(?:FN |VR |PT [A-Z]\b)")


def detect(text: str, filename: str = "") -> str:
    """The format of `text`, judged by its content alone."""
    start = text.lstrip("\ufeff \t\r\n")
    if start[:1] in "[{":
        return json_kind(load_json(start))
    if _WOS_START.match(start):
        return ReadFormat.WOS
    head = start[:100_000]
    if _RIS_TY.search(head):
        return ReadFormat.RIS
    if _BIBTEX_START.search(head):
        return ReadFormat.BIBTEX
    first = next((line.strip() for line in start.splitlines() if line.strip()), "")[:60]
    suffix = PurePath(filename or "").suffix
    named = f" Its name ends in {suffix}, but its" if suffix else " Its"
    raise FileError(
        "This file is none of the formats Citemap reads (BibTeX, RIS, Web of Science plain "
        f"text, CSL-JSON, Crossref or Zotero JSON).{named} first line is “{first}”."
    )


def json_kind(data) -> str:
    """Which JSON bibliography `data` is: a Crossref REST response, Zotero Web API items or
    CSL-JSON (an array of items, one item, or {"items": […]})."""
    if isinstance(data, dict) and "message" in data and "status" in data:
        return ReadFormat.CROSSREF
    items = data if isinstance(data, list) else [data]
    first = next((item for item in items if isinstance(item, dict)), None)
    if (
        first is not None
        and isinstance(first.get("data"), dict)
        and ("itemType" in first["data"] or "key" in first)
    ):
        return ReadFormat.ZOTERO
    if first is not None and "itemType" in first:
        return ReadFormat.ZOTERO
    return ReadFormat.CSLJSON


# --- Several files, one reading ---------------------------------------------------------------


@dataclass
class FileRead:
    name: str
    encoding: str
    format: str
    entries: int = 0


@dataclass
class Reading:
    format: str
    entries: list[Entry]
    files: list[FileRead] = field(default_factory=list)

    @property
    def encodings(self) -> str:
        return ", ".join(dict.fromkeys(f.encoding for f in self.files))


_MACRO_ONLY = re.compile(r"^[ \t]*@[ \t]*(?!string\b|preamble\b|comment\b)[A-Za-z]+", re.I | re.M)
_COUNTED = {
    ReadFormat.BIBTEX: re.compile(
        r"^[ \t]*@[ \t]*(?!string\b|preamble\b|comment\b)[A-Za-z]+[ \t]*[{(]", re.I | re.M
    ),
    ReadFormat.RIS: re.compile(r"^[ \t]*(?:<?\d+>?\.?[ \t]*)?TY {1,2}-", re.M),
    ReadFormat.WOS: re.compile(r"^(?:PT) ", re.M),
}


def count_at_most(text: str, format: str, limit: int = MAX_ENTRIES) -> int:
    """How many records `text` starts, counting no further than limit + 1."""
    pattern = _COUNTED.get(format)
    if pattern is None:
        return 0
    count = 0
    for _ in pattern.finditer(text):
        count += 1
        if count > limit:
            break
    return count


def too_many(count: int, what: str = "The upload") -> FileError:
    return FileError(
        f"{what} holds more than {MAX_ENTRIES:,} entries; one import takes at most "
        f"{MAX_ENTRIES:,}. Split it and import the parts."
        if count > MAX_ENTRIES
        else f"{what} holds {count:,} entries; one import takes at most {MAX_ENTRIES:,}."
    )


def read_files(files: list[tuple[str, bytes]], *, format: str = "") -> Reading:
    """The entries of one upload of one or more files, numbered in order.

    BibTeX files are read as one text, files that hold only @string macros first, so a
    bibliography may use the macros of a file beside it. Files of different formats may not
    be mixed (a file of one format at a time has one line numbering to report)."""
    if not files:
        raise FileError("Choose a file to import.")
    total = sum(len(data) for _, data in files)
    if total > MAX_FILE_BYTES:
        raise FileError(_too_large(total))
    texts: list[tuple[str, str, str, str]] = []  # name, text, encoding, format
    parsed: dict[int, object] = {}  # JSON read once, when the format is told from it
    for name, data in files:
        try:
            decoded = decode(data)
            start = decoded.text.lstrip("\ufeff \t\r\n")
            if not format and start[:1] in "[{":
                parsed[len(texts)] = load_json(start)
                kind = json_kind(parsed[len(texts)])
            else:
                kind = format or detect(decoded.text, name)
        except FileError as error:
            raise FileError(f"{name}: {error}" if len(files) > 1 else str(error)) from None
        texts.append((name, decoded.text, decoded.encoding, kind))
    kinds = {kind for *_, kind in texts}
    if len(kinds) > 1 and not kinds <= ReadFormat.JSON:
        listed = ", ".join(f"{name} ({ReadFormat.LABELS[kind]})" for name, _, _, kind in texts)
        raise FileError(
            f"These files are in different formats: {listed}. Upload the files of one format "
            "together."
        )
    chosen = texts[0][3]
    counted = sum(count_at_most(text, kind) for _, text, _, kind in texts)
    if counted > MAX_ENTRIES:
        raise too_many(counted)
    reading = Reading(format=chosen, entries=[])
    if chosen == ReadFormat.BIBTEX:
        _read_bibtex(texts, reading)
    else:
        for number, (name, text, encoding, kind) in enumerate(texts):
            entries = read_text(text, kind, parsed.pop(number, None))
            _number(entries, name if len(texts) > 1 else "", start=len(reading.entries))
            reading.entries.extend(entries)
            reading.files.append(FileRead(name, encoding, kind, len(entries)))
    if len(reading.entries) > MAX_ENTRIES:
        raise too_many(len(reading.entries))
    return reading


def read_text(text: str, format: str, data=None) -> list[Entry]:
    if format in ReadFormat.JSON:
        if data is None:
            data = load_json(text.lstrip("\ufeff \t\r\n"))
        return {
            ReadFormat.CSLJSON: csljson.read_data,
            ReadFormat.CROSSREF: crossref.read_data,
            ReadFormat.ZOTERO: zotero.read_data,
        }[format](data)
    reader = {ReadFormat.BIBTEX: bibtex.read, ReadFormat.RIS: ris.read, ReadFormat.WOS: wos.read}
    if format not in reader:
        raise FileError(f"Unknown format “{format}”.")
    return reader[format](text)


def _number(entries: list[Entry], filename: str, *, start: int) -> None:
    for entry in entries:
        entry.number += start
        if filename:
            entry.file = filename


def _read_bibtex(texts: list[tuple[str, str, str, str]], reading: Reading) -> None:
    # Macro files first: @string definitions must come before the entries that use them.
    ordered = sorted(texts, key=lambda item: bool(_MACRO_ONLY.search(item[1])))
    entries_in_none = not any(_MACRO_ONLY.search(text) for _, text, _, _ in ordered)
    if entries_in_none and any(re.search(r"@\s*string\b", t, re.I) for _, t, _, _ in ordered):
        raise FileError(
            "This upload holds only @string macros: add the bibliography that uses them "
            "(choose both files at once)."
        )
    if len(ordered) == 1:
        name, text, encoding, _ = ordered[0]
        reading.entries = bibtex.read(text)
        reading.files.append(FileRead(name, encoding, ReadFormat.BIBTEX, len(reading.entries)))
        return
    spans: list[tuple[int, str]] = []  # (first line of the file in the joined text, name)
    pieces, line = [], 1
    for name, text, _, _ in ordered:
        spans.append((line, name))
        piece = text if text.endswith("\n") else text + "\n"
        pieces.append(piece)
        line += piece.count("\n")
    entries = bibtex.read("".join(pieces))
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.line:
            first, name = next((s for s in reversed(spans) if s[0] <= entry.line), spans[0])
            entry.line = entry.line - first + 1
            entry.file = name
            counts[name] = counts.get(name, 0) + 1
    reading.entries = entries
    for name, _, encoding, _ in ordered:
        reading.files.append(FileRead(name, encoding, ReadFormat.BIBTEX, counts.get(name, 0)))

"""Web of Science plain text in (“Export → Plain text file”, also Scopus-free tools that copy
it): a header (`FN`, `VR`), records from `PT` to `ER`, the file closed by `EF`.

Each line is a two-letter tag, a space and a value; a line that starts with three spaces
continues the tag above. Names (`AU`, `AF`, `BE`), addresses and cited references (`CR`)
have one value per line; other tags are one value wrapped over several lines. The cited
reference list is kept on the source (extra["wos"]["CR"]), with the tags no field models.
"""

from __future__ import annotations

import re

from apps.bibliography.records import MAX_ENTRIES, Entry, FileError, inverted_name
from apps.library.models import ContributorRole, SourceType

_LINE = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")
# Tags whose lines are separate values; the others are one value wrapped over lines.
LISTS = {"AU", "AF", "BA", "BF", "BE", "CA", "GP", "CR", "C1", "C3", "RP", "EM", "RI", "OI", "FU"}
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
LANGUAGES = {
    "english": "en", "french": "fr", "german": "de", "spanish": "es", "arabic": "ar",
    "russian": "ru", "chinese": "zh", "japanese": "ja", "italian": "it", "portuguese": "pt",
    "turkish": "tr", "polish": "pl", "dutch": "nl", "persian": "fa", "korean": "ko",
}  # fmt: skip
# Tags read into fields (the rest is kept as it is).
_USED = {
    "PT", "DT", "AU", "AF", "BA", "BF", "BE", "CA", "GP", "TI", "SO", "SE", "BS", "PU", "PI",
    "PY", "PD", "VL", "IS", "BP", "EP", "AR", "DI", "SN", "EI", "BN", "PM", "LA", "AB", "UT",
}  # fmt: skip


def read(text: str) -> list[Entry]:
    records = list(_records(text))
    if not records:
        raise FileError(
            "No Web of Science records were found: such a file holds records from a “PT” "
            "line to an “ER” line."
        )
    return [_entry(number, line, tags, error) for number, (line, tags, error) in enumerate(
        records, 1
    )]  # fmt: skip


def _records(text: str):
    """(first line, {tag: [values]}, problem) per record."""
    current: dict[str, list[str]] | None = None
    start = 0
    tag = ""
    count = 0
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        if line.startswith("   ") or line.startswith("\t"):
            if current is not None and tag:
                value = line.strip()
                if tag in LISTS:
                    current[tag].append(value)
                else:
                    current[tag][-1] = f"{current[tag][-1]} {value}"
            continue
        match = _LINE.match(line)
        if not match:
            if current is None and number > 3:
                continue
            if current is None:
                raise FileError(
                    f"Line {number} is not Web of Science plain text: its lines start with a "
                    "two-letter tag and a space (“PT J”, “TI A title”)."
                )
            current.setdefault("??", []).append(line)
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag in {"FN", "VR", "EF"} and current is None:
            continue
        if tag == "PT":
            if current is not None:
                yield start, current, "it has no end: the next record starts before its ER line"
            count += 1
            if count > MAX_ENTRIES:
                raise FileError(
                    f"The file holds more than {MAX_ENTRIES:,} records; one import takes at "
                    f"most {MAX_ENTRIES:,}. Split it and import the parts."
                )
            current, start = {"PT": [value]}, number
        elif tag == "ER":
            if current is None:
                yield number, {}, "an ER line closes no record (its PT line is missing)"
            else:
                yield start, current, ""
            current = None
        elif current is None:
            yield number, {}, f"the tag {tag} stands outside a record (before its PT line)"
        else:
            current.setdefault(tag, []).append(value)
    if current is not None:
        yield start, current, "it has no end: the file stops before its ER line"


def _one(tags: dict[str, list[str]], tag: str) -> str:
    return " ".join(" ".join(tags.get(tag, [])).split())


def _entry(number: int, line: int, tags: dict[str, list[str]], error: str) -> Entry:
    entry = Entry(number=number, line=line, error=error)
    if error:
        return entry
    fields = entry.fields
    document = _one(tags, "DT").lower()
    kind = _one(tags, "PT").upper()
    if "proceedings paper" in document:
        fields["csl_type"] = SourceType.PAPER_CONFERENCE
    elif "book chapter" in document:
        fields["csl_type"] = SourceType.CHAPTER
    elif kind == "B" or document == "book":
        fields["csl_type"] = SourceType.BOOK
    elif kind == "P":
        fields["csl_type"] = SourceType.PATENT
    elif "review" in document and "book review" in document:
        fields["csl_type"] = SourceType.REVIEW_BOOK
    else:
        fields["csl_type"] = SourceType.ARTICLE_JOURNAL
    # Full names (AF) when the file has them, else the abbreviated ones (AU).
    authors = tags.get("AF") or tags.get("AU") or []
    for raw in authors:
        name = inverted_name(raw)
        if name:
            entry.names.append((ContributorRole.AUTHOR, name))
    for raw in tags.get("CA", []) + tags.get("GP", []):
        if raw.strip():
            entry.names.append((ContributorRole.AUTHOR, {"literal": " ".join(raw.split())}))
    for raw in tags.get("BF") or tags.get("BE") or []:
        name = inverted_name(raw)
        if name:
            entry.names.append((ContributorRole.EDITOR, name))
    if _one(tags, "TI"):
        fields["title"] = _one(tags, "TI")
    if _one(tags, "SO"):
        fields["container_title"] = _one(tags, "SO")
    series = _one(tags, "SE") or _one(tags, "BS")
    if series:
        fields["collection_title"] = series
    for tag, name in (("PU", "publisher"), ("PI", "publisher_place"), ("VL", "volume")):
        if _one(tags, tag):
            fields[name] = _one(tags, tag)
    if _one(tags, "IS"):
        fields["issue"] = _one(tags, "IS")
    first, last = _one(tags, "BP"), _one(tags, "EP")
    if first or last:
        fields["page"] = "-".join(part for part in (first, last) if part)
    elif _one(tags, "AR"):
        fields["page"] = _one(tags, "AR")
    year = _one(tags, "PY")
    if year.isdigit():
        fields["issued_year"] = int(year)
        words = _one(tags, "PD").upper().replace("-", " ").split()
        month = next((MONTHS.index(w[:3]) + 1 for w in words if w[:3] in MONTHS), None)
        if month:
            fields["issued_month"] = month
            day = next((int(w) for w in words if w.isdigit() and int(w) <= 31), None)
            if day:
                fields["issued_day"] = day
    language = LANGUAGES.get(_one(tags, "LA").lower())
    if language:
        fields["language"] = language
    if _one(tags, "AB"):
        fields["abstract"] = _one(tags, "AB")
    if _one(tags, "DI"):
        entry.add_identifier("doi", _one(tags, "DI"))
    for tag in ("SN", "EI"):
        for value in tags.get(tag, []):
            entry.add_identifier("issn", value)
    for value in " ".join(tags.get("BN", [])).replace(";", " ").split():
        entry.add_identifier("isbn", value)
    if _one(tags, "PM"):
        entry.add_identifier("pmid", _one(tags, "PM"))
    kept: dict[str, object] = {}
    if _one(tags, "UT"):
        kept["UT"] = _one(tags, "UT")
    if not language and _one(tags, "LA"):
        kept["LA"] = _one(tags, "LA")
    if authors and tags.get("AF") and tags.get("AU"):
        kept["AU"] = tags["AU"]
    for tag, values in tags.items():
        if tag in _USED:
            continue
        kept[tag] = values if tag in LISTS else " ".join(" ".join(values).split())
    if _one(tags, "DT"):
        kept["DT"] = _one(tags, "DT")
    if kept:
        entry.extra["wos"] = kept
    entry.check()
    return entry

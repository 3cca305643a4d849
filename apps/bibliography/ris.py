"""RIS in and out (EndNote, Zotero, Mendeley, databases).

Records are found line by line here, so that each one knows its line and a record cut off
before its ER line is reported; rispy reads each record's tags and writes them back. What the
exporters write around the tags is read as they write it: Ovid and PsycINFO number records
("1.", "<1>") on a line of their own or before the TY tag, EndNote and Embase leave blank
lines, some write "ER  -" without its trailing space or tags with one space ("TY - JOUR"),
and files start with a byte order mark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import rispy

from apps.bibliography.records import (
    MAX_ENTRIES,
    Entry,
    FileError,
    clean_citation_key,
    inverted_name,
)
from apps.library.models import ContributorRole, Source, SourceType

_TAG = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*))?$")
_SEVERAL_URLS = re.compile(r";\s*(?=https?://)")
# A record number line ("1.", "<1>", "12") or a number before a record's TY tag.
_NUMBER = re.compile(r"^\s*<?\d{1,7}>?\.?\s*")

TYPES = {
    "JOUR": SourceType.ARTICLE_JOURNAL,
    "JFULL": SourceType.ARTICLE_JOURNAL,
    "EJOUR": SourceType.ARTICLE_JOURNAL,
    "MGZN": SourceType.ARTICLE_MAGAZINE,
    "NEWS": SourceType.ARTICLE_NEWSPAPER,
    "BOOK": SourceType.BOOK,
    "EBOOK": SourceType.BOOK,
    "EDBOOK": SourceType.BOOK,
    "CHAP": SourceType.CHAPTER,
    "ECHAP": SourceType.CHAPTER,
    "CONF": SourceType.PAPER_CONFERENCE,
    "CPAPER": SourceType.PAPER_CONFERENCE,
    "THES": SourceType.THESIS,
    "RPRT": SourceType.REPORT,
    "ELEC": SourceType.WEBPAGE,
    "WEB": SourceType.WEBPAGE,
    "BLOG": SourceType.POST_WEBLOG,
    "GEN": SourceType.DOCUMENT,
    "DATA": SourceType.DATASET,
    "COMP": SourceType.SOFTWARE,
    "PAT": SourceType.PATENT,
    "UNPB": SourceType.MANUSCRIPT,
    "MANSCPT": SourceType.MANUSCRIPT,
    "PAMP": SourceType.PAMPHLET,
    "DICT": SourceType.ENTRY_DICTIONARY,
    "ENCYC": SourceType.ENTRY_ENCYCLOPEDIA,
    "MAP": SourceType.MAP,
    "VIDEO": SourceType.MOTION_PICTURE,
    "MPCT": SourceType.MOTION_PICTURE,
    "SOUND": SourceType.SONG,
    "MUSIC": SourceType.MUSICAL_SCORE,
    "HEAR": SourceType.HEARING,
    "BILL": SourceType.BILL,
    "CASE": SourceType.LEGAL_CASE,
    "STAT": SourceType.LEGISLATION,
    "LEGAL": SourceType.LEGISLATION,
    "GOVDOC": SourceType.REPORT,
    "ART": SourceType.GRAPHIC,
    "FIGURE": SourceType.FIGURE,
    "PCOMM": SourceType.PERSONAL_COMMUNICATION,
    "INPR": SourceType.ARTICLE_JOURNAL,
    "STAND": SourceType.STANDARD,
    "SLIDE": SourceType.SPEECH,
}
EXPORT_TYPES = {
    SourceType.ARTICLE_JOURNAL: "JOUR",
    SourceType.ARTICLE_MAGAZINE: "MGZN",
    SourceType.ARTICLE_NEWSPAPER: "NEWS",
    SourceType.BOOK: "BOOK",
    SourceType.CHAPTER: "CHAP",
    SourceType.PAPER_CONFERENCE: "CPAPER",
    SourceType.THESIS: "THES",
    SourceType.REPORT: "RPRT",
    SourceType.WEBPAGE: "ELEC",
    SourceType.POST_WEBLOG: "BLOG",
    SourceType.DATASET: "DATA",
    SourceType.SOFTWARE: "COMP",
    SourceType.PATENT: "PAT",
    SourceType.MANUSCRIPT: "UNPB",
    SourceType.PAMPHLET: "PAMP",
    SourceType.ENTRY_DICTIONARY: "DICT",
    SourceType.ENTRY_ENCYCLOPEDIA: "ENCYC",
    SourceType.MAP: "MAP",
    SourceType.MOTION_PICTURE: "VIDEO",
    SourceType.SONG: "SOUND",
    SourceType.MUSICAL_SCORE: "MUSIC",
    SourceType.HEARING: "HEAR",
    SourceType.BILL: "BILL",
    SourceType.LEGAL_CASE: "CASE",
    SourceType.LEGISLATION: "STAT",
    SourceType.GRAPHIC: "ART",
    SourceType.FIGURE: "FIGURE",
    SourceType.PERSONAL_COMMUNICATION: "PCOMM",
    SourceType.STANDARD: "STAND",
    SourceType.SPEECH: "SLIDE",
}
# Name tags as Zotero writes them: A2 editors, A3 series editors, A4 translators.
NAME_KEYS = {
    "authors": ContributorRole.AUTHOR,
    "first_authors": ContributorRole.AUTHOR,
    "secondary_authors": ContributorRole.EDITOR,
    "tertiary_authors": ContributorRole.COLLECTION_EDITOR,
    "subsidiary_authors": ContributorRole.TRANSLATOR,
}
ROLE_KEYS = {
    ContributorRole.AUTHOR: "authors",
    ContributorRole.EDITOR: "secondary_authors",
    ContributorRole.COLLECTION_EDITOR: "tertiary_authors",
    ContributorRole.TRANSLATOR: "subsidiary_authors",
}
# Identifiers RIS has no tag for, written as accession numbers ("AN  - pmid:12345678").
ACCESSION_SCHEMES = {"pmid", "arxiv", "openalex", "wikidata"}
_RIS_DATE = re.compile(r"^(-?\d{1,4})(?:[/-](\d{1,2})?)?(?:[/-](\d{1,2})?)?")


def read(text: str) -> list[Entry]:
    records = _records(text)
    if not records:
        raise FileError(
            "No RIS records were found: a RIS file holds records from a “TY  - ” line to an "
            "“ER  - ” line."
        )
    return [
        _entry(number, line, lines, error) for number, (line, lines, error) in enumerate(records, 1)
    ]


def _records(text: str) -> list[tuple[int, list[str], str]]:
    """(first line, lines, problem) for each record, a record being TY … ER."""
    records: list[tuple[int, list[str], str]] = []
    current: list[str] | None = None
    start = 0
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.rstrip().lstrip("\ufeff")
        match = _TAG.match(line)
        if match is None and current is None and _NUMBER.match(line):
            # "1." on its own line, or "1. TY  - JOUR": the number is the exporter's.
            line = line[_NUMBER.match(line).end() :]
            match = _TAG.match(line)
            if not line:
                continue
        tag = match.group(1) if match else None
        if match:
            line = f"{tag}  - {(match.group(2) or '').strip()}"
        if tag == "TY":
            if current is not None:
                records.append(
                    (start, current, "it has no end: the next record starts before its ER line")
                )
            current, start = [line], number
            if len(records) >= MAX_ENTRIES:
                raise FileError(
                    f"The file holds more than {MAX_ENTRIES:,} records; one import takes at "
                    f"most {MAX_ENTRIES:,}. Split it and import the parts."
                )
        elif tag == "ER":
            if current is None:
                records.append((number, [], "an ER line closes no record (its TY line is missing)"))
            else:
                current.append("ER  - ")
                records.append((start, current, ""))
            current = None
        elif current is not None:
            if match:
                current.append(line)
            elif line.strip():
                # A continuation of the previous tag's value (long abstracts are wrapped).
                current[-1] = f"{current[-1]} {line.strip()}"
        elif line.strip() and not records and number < 5 and tag is None:
            raise FileError(
                f"Line {number} is not RIS: a RIS file is made of lines such as "
                "“TY  - JOUR” (a tag, two spaces, a dash)."
            )
    if current is not None:
        records.append((start, current, "it has no end: the file stops before its ER line"))
    return records


def _entry(number: int, line: int, lines: list[str], error: str) -> Entry:
    entry = Entry(number=number, line=line, error=error)
    if error:
        return entry
    try:
        # URLs are not split at ";" (a query string has them); several URLs in one UR tag
        # are split where the next one starts.
        (record,) = rispy.loads(
            "\n".join(lines), skip_unknown_tags=False, delimiter_tags_mapping={}
        )
    except Exception as problem:
        entry.error = f"it is not valid RIS ({problem})"
        return entry
    _map(entry, record)
    entry.check()
    return entry


def _map(entry: Entry, record: dict[str, Any]) -> None:
    set_ = entry.fields
    rest: dict[str, Any] = {}
    ris_type = str(record.pop("type_of_reference", "GEN")).strip().upper()
    set_["csl_type"] = TYPES.get(ris_type, SourceType.DOCUMENT)
    if EXPORT_TYPES.get(set_["csl_type"], "GEN") != ris_type:
        rest["type_of_reference"] = ris_type
    start = record.pop("start_page", "")
    end = record.pop("end_page", "")
    if start or end:
        set_["page"] = "-".join(part.strip() for part in (start, end) if part.strip())
    for key, value in record.items():
        if key in NAME_KEYS and isinstance(value, list):
            entry.names.extend((NAME_KEYS[key], name) for name in map(inverted_name, value) if name)
        elif key in {"title", "primary_title"} and "title" not in set_:
            set_["title"] = _clean(value)
        elif key in {"secondary_title", "journal_name", "alternate_title3"} and (
            "container_title" not in set_
        ):
            set_["container_title"] = _clean(value)
        elif key == "tertiary_title":
            set_["collection_title"] = _clean(value)
        elif key == "short_title":
            set_["title_short"] = _clean(value)
        elif key == "publisher":
            set_["publisher"] = _clean(value)
        elif key == "place_published":
            set_["publisher_place"] = _clean(value)
        elif key == "edition":
            set_["edition"] = _clean(value)
        elif key == "volume":
            set_["volume"] = _clean(value)
        elif key == "number":
            set_["issue"] = _clean(value)
        elif key == "type_of_work":
            set_["genre"] = _clean(value)
        elif key == "language" and re.match(
            r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$", value.strip()
        ):
            set_["language"] = value.strip()
        elif key == "abstract" or (key == "notes_abstract" and "abstract" not in record):
            # N2 is the abstract too (PsycINFO, Embase and EndNote write it there).
            set_["abstract"] = " ".join(str(value).split())
        elif (
            key in {"year", "publication_year", "date"}
            and _date(value)
            and (key == "date" or "date" not in record)
        ):
            for part, number in zip(("year", "month", "day"), _date(value), strict=False):
                if number:
                    set_[f"issued_{part}"] = number
        elif key in {"year", "publication_year"} and _date(record.get("date", "")):
            pass  # the full date says it too
        elif key == "access_date" and _date(value) and len(_date(value)) == 3:
            year, month, day = _date(value)
            set_["accessed"] = f"{year:04d}-{month:02d}-{day:02d}"
        elif key in {"doi", "issn"} and _identifier(entry, key, value):
            pass
        elif key == "urls" and isinstance(value, list):
            others = []
            value = [part for url in value for part in _SEVERAL_URLS.split(url) if part.strip()]
            for url in value:
                url = url.strip()
                if "doi.org/" in url:
                    entry.add_identifier("doi", url)
                if re.match(r"^https?://\S+$", url) and "url" not in set_ and len(url) <= 2000:
                    set_["url"] = url
                else:
                    others.append(url)
            if others:
                rest["urls"] = others
        elif key == "id":
            entry.key = clean_citation_key(value)
        elif key == "accession_number" and _accession(entry, value):
            pass
        else:
            rest[key] = value
    if rest:
        entry.extra["ris"] = rest


def _clean(value: Any) -> str:
    return " ".join(str(value).split())


def _date(value: str) -> tuple[int, ...] | None:
    match = _RIS_DATE.match(str(value).strip())
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part)


def _identifier(entry: Entry, key: str, value: str) -> bool:
    if key == "doi":
        return entry.add_identifier("doi", value)
    values = [v for v in re.split(r"[\s,;]+", value) if v]
    return bool(values) and all([_serial(entry, v) for v in values])


def _accession(entry: Entry, value: Any) -> bool:
    """An AN line as we write it, "pmid:12345678; arxiv:2101.00001", holds identifiers."""
    pairs = [part.partition(":") for part in re.split(r"\s*;\s*", str(value).strip())]
    if not all(sep and scheme.lower() in ACCESSION_SCHEMES for scheme, sep, _ in pairs):
        return False
    return all([entry.add_identifier(scheme.lower(), rest) for scheme, _, rest in pairs])


def _serial(entry: Entry, value: str) -> bool:
    # SN holds ISBNs for books and ISSNs for serials.
    return entry.add_identifier("isbn", value) or entry.add_identifier("issn", value)


# --- Writing --------------------------------------------------------------------------------


def _ris_name(person) -> str:
    """ "particle Family, Given particle, Suffix", as the RIS specification orders them."""
    name = person.csl_name()
    if "literal" in name:
        return name["literal"]
    family = " ".join(name[p] for p in ("non-dropping-particle", "family") if name.get(p))
    given = " ".join(name[p] for p in ("given", "dropping-particle") if name.get(p))
    parts = [family, given, name.get("suffix", "")]
    while parts and not parts[-1]:
        parts.pop()
    return ", ".join(parts)


def _record(source: Source) -> dict[str, Any]:
    kept = dict((source.extra or {}).get("ris", {}))
    record: dict[str, Any] = {
        "type_of_reference": kept.pop("type_of_reference", None)
        or EXPORT_TYPES.get(source.csl_type, "GEN"),
        "id": source.citation_key,
    }
    for contributor in sorted(source.contributors.all(), key=lambda c: (c.role, c.position)):
        key = ROLE_KEYS.get(contributor.role)
        if key:
            record.setdefault(key, []).append(_ris_name(contributor.person))
    record["title"] = source.title
    for key, value in (
        ("secondary_title", source.container_title),
        ("tertiary_title", source.collection_title),
        ("short_title", source.title_short),
        ("publisher", source.publisher),
        ("place_published", source.publisher_place),
        ("edition", source.edition),
        ("volume", source.volume),
        ("number", source.issue),
        ("type_of_work", source.genre),
        ("language", source.language),
        ("abstract", " ".join(source.abstract.split())),
    ):
        if value:
            record[key] = value
    if source.page:
        start, _, end = source.page.partition("-")
        record["start_page"] = start
        if end:
            record["end_page"] = end
    if source.issued_year is not None:
        record["year"] = str(source.issued_year)
        if source.issued_month:
            day = f"{source.issued_day:02d}" if source.issued_day else ""
            record["date"] = f"{source.issued_year:04d}/{source.issued_month:02d}/{day}/"
    if source.accessed:
        record["access_date"] = source.accessed.strftime("%Y/%m/%d/")
    serials = []
    for identifier in source.identifiers.all():
        if identifier.scheme == "doi":
            record["doi"] = identifier.value
        elif identifier.scheme in {"isbn", "issn"}:
            serials.append(identifier.value)
    if serials:
        record["issn"] = " ".join(serials)
    accessions = [
        f"{identifier.scheme}:{identifier.value}"
        for identifier in source.identifiers.all()
        if identifier.scheme in ACCESSION_SCHEMES
    ]
    if accessions:
        record["accession_number"] = "; ".join(accessions)
    urls = [source.url] if source.url else []
    record["urls"] = urls + list(kept.pop("urls", []))
    if not record["urls"]:
        del record["urls"]
    for key, value in kept.items():
        record.setdefault(key, value)
    return record


class _Writer(rispy.RisWriter):
    def set_header(self, count: int) -> str:
        # rispy numbers records ("1.") by default; reference managers expect bare TY lines.
        return ""


def write(sources: Iterable[Source]) -> str:
    return "".join(pieces(sources))


def pieces(sources: Iterable[Source]) -> Iterator[str]:
    """The file rispy writes for all the records (a blank line between records, a line end
    after the last), a record at a time."""
    writer = _Writer(skip_unknown_tags=False)
    for number, source in enumerate(sources):
        lines = writer._format_reference(_record(source), count=1, n=1)
        yield ("\n" if number else "") + "\n".join(lines) + "\n"

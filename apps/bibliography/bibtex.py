"""BibTeX and BibLaTeX in and out.

bibtexparser 2 splits the file into blocks (entries, @string macros, comments, and the blocks
it could not parse, with their lines); the values are then resolved here, since real exports
need more than its defaults: macros concatenated with #, the month macros, crossref, names in
braces, LaTeX accents and commands (pylatexenc), case-protecting braces.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares.names import parse_single_name_into_parts
from pylatexenc.latex2text import LatexNodes2Text

from apps.bibliography.records import Entry, FileError, clean_citation_key, name_parts
from apps.library.models import ContributorRole, Source, SourceType

# bibtexparser logs every block it skips; we report them as rejected entries instead.
logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)

MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
MONTH_MACROS = {name[:3]: name.capitalize() for name in MONTHS}

# BibTeX/BibLaTeX entry type -> CSL type.
TYPES = {
    "article": SourceType.ARTICLE_JOURNAL,
    "book": SourceType.BOOK,
    "mvbook": SourceType.BOOK,
    "collection": SourceType.BOOK,
    "mvcollection": SourceType.BOOK,
    "proceedings": SourceType.BOOK,
    "mvproceedings": SourceType.BOOK,
    "reference": SourceType.BOOK,
    "manual": SourceType.BOOK,
    "inbook": SourceType.CHAPTER,
    "incollection": SourceType.CHAPTER,
    "bookinbook": SourceType.CHAPTER,
    "suppbook": SourceType.CHAPTER,
    "suppcollection": SourceType.CHAPTER,
    "inreference": SourceType.ENTRY_ENCYCLOPEDIA,
    "inproceedings": SourceType.PAPER_CONFERENCE,
    "conference": SourceType.PAPER_CONFERENCE,
    "phdthesis": SourceType.THESIS,
    "mastersthesis": SourceType.THESIS,
    "thesis": SourceType.THESIS,
    "techreport": SourceType.REPORT,
    "report": SourceType.REPORT,
    "online": SourceType.WEBPAGE,
    "electronic": SourceType.WEBPAGE,
    "www": SourceType.WEBPAGE,
    "webpage": SourceType.WEBPAGE,
    "unpublished": SourceType.MANUSCRIPT,
    "booklet": SourceType.PAMPHLET,
    "patent": SourceType.PATENT,
    "dataset": SourceType.DATASET,
    "software": SourceType.SOFTWARE,
    "periodical": SourceType.PERIODICAL,
    "standard": SourceType.STANDARD,
    "video": SourceType.MOTION_PICTURE,
    "movie": SourceType.MOTION_PICTURE,
    "audio": SourceType.SONG,
    "music": SourceType.SONG,
    "artwork": SourceType.GRAPHIC,
    "image": SourceType.GRAPHIC,
    "letter": SourceType.PERSONAL_COMMUNICATION,
    "legislation": SourceType.LEGISLATION,
    "jurisdiction": SourceType.LEGAL_CASE,
    "review": SourceType.REVIEW,
    "misc": SourceType.DOCUMENT,
}
# CSL type -> the entry type we write; anything else is @misc with entrysubtype = CSL type.
EXPORT_TYPES = {
    SourceType.ARTICLE_JOURNAL: "article",
    SourceType.ARTICLE_MAGAZINE: "article",
    SourceType.ARTICLE_NEWSPAPER: "article",
    SourceType.BOOK: "book",
    SourceType.CHAPTER: "incollection",
    SourceType.ENTRY_ENCYCLOPEDIA: "inreference",
    SourceType.PAPER_CONFERENCE: "inproceedings",
    SourceType.THESIS: "thesis",
    SourceType.REPORT: "techreport",
    SourceType.WEBPAGE: "online",
    SourceType.MANUSCRIPT: "unpublished",
    SourceType.PAMPHLET: "booklet",
    SourceType.PATENT: "patent",
    SourceType.DATASET: "dataset",
    SourceType.SOFTWARE: "software",
    SourceType.PERIODICAL: "periodical",
    SourceType.STANDARD: "standard",
    SourceType.MOTION_PICTURE: "video",
    SourceType.DOCUMENT: "misc",
}
# @article's BibLaTeX subtypes.
ARTICLE_SUBTYPES = {
    "magazine": SourceType.ARTICLE_MAGAZINE,
    "newspaper": SourceType.ARTICLE_NEWSPAPER,
}
THESIS_GENRES = {"phdthesis": "PhD thesis", "mastersthesis": "Master's thesis"}

NAME_FIELDS = {
    "author": ContributorRole.AUTHOR,
    "editor": ContributorRole.EDITOR,
    "translator": ContributorRole.TRANSLATOR,
    "bookauthor": ContributorRole.CONTAINER_AUTHOR,
    "director": ContributorRole.DIRECTOR,
    "compiler": ContributorRole.COMPILER,
}
ROLE_FIELDS = {role: name for name, role in NAME_FIELDS.items()}

# Fields whose value is not LaTeX text: read and written as they are.
VERBATIM = {"url", "doi", "file", "pdf", "eprint", "isbn", "issn", "pmid", "urldate", "date"}
LANGUAGE_NAMES = {
    "english": "en", "american": "en-US", "british": "en-GB", "french": "fr", "german": "de",
    "ngerman": "de", "arabic": "ar", "spanish": "es", "italian": "it", "russian": "ru",
    "portuguese": "pt", "dutch": "nl", "turkish": "tr", "persian": "fa", "farsi": "fa",
    "hebrew": "he", "urdu": "ur", "chinese": "zh", "japanese": "ja", "polish": "pl",
}  # fmt: skip
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_YEAR = re.compile(r"^\s*(-?\d{1,4})\s*$")
_ISO_DATE = re.compile(r"^(-?\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:/.*)?$")
_URL_COMMAND = re.compile(r"^\\url\{(.*)\}$")
_DASHES = re.compile(r"\s*(?:-{1,3}|–|—)\s*")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
_BRACES = str.maketrans("", "", "{}")
_LATEX = LatexNodes2Text(math_mode="text", strict_latex_spaces=False)


def read(text: str) -> list[Entry]:
    """The entries of a BibTeX/BibLaTeX file, in order; unreadable ones carry their error."""
    library = bibtexparser.parse_string(text, parse_stack=[])
    strings: dict[str, str] = dict(MONTH_MACROS)
    raw_entries: list[tuple[Entry, str, dict[str, str]]] = []
    number = 0
    for block in library.blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, model.String):
            strings[block.key.lower()] = resolve(block.value, strings)
        elif isinstance(block, model.Entry):
            number += 1
            entry = Entry(number=number, line=line, key=clean_citation_key(block.key))
            fields: dict[str, str] = {}
            for item in block.fields:
                fields.setdefault(item.key.lower(), resolve(item.value, strings))
            raw_entries.append((entry, block.entry_type.lower(), fields))
        elif isinstance(block, model.ParsingFailedBlock):
            number += 1
            entry = Entry(number=number, line=line, error=_failure(block))
            raw_entries.append((entry, "", {}))
    if not raw_entries:
        raise FileError(
            "No BibTeX entries were found: a BibTeX file holds entries such as "
            "@article{key, title = {…}}."
        )
    by_key = {entry.key.lower(): fields for entry, _, fields in raw_entries if entry.key}
    entries = []
    for entry, entry_type, fields in raw_entries:
        if not entry.error:
            _inherit(fields, by_key)
            try:
                _map(entry, entry_type, fields)
            except Exception as error:  # a value our mapping cannot read: reject the entry
                entry.error = f"a field could not be read ({error})"
            entry.check()
        entries.append(entry)
    return entries


def _failure(block: model.ParsingFailedBlock) -> str:
    if isinstance(block, model.DuplicateBlockKeyBlock):
        return f"its key “{block.key}” is used by an earlier entry"
    if isinstance(block, model.DuplicateFieldKeyBlock):
        return "it has the same field twice"
    reason = getattr(block.error, "abort_reason", None) or str(block.error or "")
    message = " ".join(reason.replace("`", "").split())
    if "end of file" in message:
        return "it is not closed: the file ends inside it (are its braces balanced?)"
    if "closing" in message or "Unexpected block start" in message:
        return f"its braces or quotes are not balanced ({message.rstrip('.')})"
    return f"it is not valid BibTeX ({message.rstrip('.') or 'syntax error'})"


def resolve(raw: str, strings: dict[str, str]) -> str:
    """A raw field value with its outer delimiters gone, macros expanded and # parts joined."""
    parts = []
    for piece in _split_concatenation(raw):
        piece = piece.strip()
        if piece[:1] + piece[-1:] in {"{}", '""'}:
            parts.append(piece[1:-1])
        elif piece.isdigit():
            parts.append(piece)
        else:
            parts.append(strings.get(piece.lower(), piece))
    return "".join(parts)


def _split_concatenation(raw: str) -> list[str]:
    if "#" not in raw:
        return [raw]  # nothing concatenated (most values; abstracts are long)
    pieces, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(raw):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0 and (index == 0 or raw[index - 1] != "\\"):
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            pieces.append(raw[start:index])
            start = index + 1
    pieces.append(raw[start:])
    return pieces


def _inherit(fields: dict[str, str], by_key: dict[str, dict[str, str]]) -> None:
    """BibTeX's crossref: missing fields come from the parent; its title is our book title."""
    parent = by_key.get(fields.get("crossref", "").strip().lower())
    if not parent or parent is fields:
        return
    for name, value in parent.items():
        if name in {"crossref", "ids", "shorttitle"}:
            continue
        target = "booktitle" if name == "title" else name
        fields.setdefault(target, value)


@functools.lru_cache(maxsize=100_000)
def text(value: str) -> str:
    """LaTeX to Unicode text: accents and commands decoded, protecting braces dropped.

    Cached: a library repeats its authors' names and its journals thousands of times, and
    decoding LaTeX is the slowest step of reading a file."""
    if "\\" in value or "$" in value or "`" in value or "''" in value:
        value = _LATEX.latex_to_text(_UNESCAPED_PERCENT.sub(r"\\%", value))
    else:
        value = value.replace("---", "—").replace("--", "–").replace("~", " ").translate(_BRACES)
    return " ".join(value.replace("\xa0", " ").split())


def verbatim(value: str) -> str:
    value = value.strip()
    match = _URL_COMMAND.match(value)
    if match:
        value = match.group(1)
    for escaped in ("\\_", "\\&", "\\%", "\\#", "\\$", "\\~"):
        value = value.replace(escaped, escaped[1])
    return value


def names(value: str) -> list[dict[str, str]]:
    found = []
    for raw in _split_names(value):
        raw = raw.strip()
        if not raw:
            continue
        if _wholly_braced(raw):
            # Corporate authors are written in double braces so BibTeX never splits them.
            found.append({"literal": text(raw[1:-1])})
            continue
        if raw.lower() == "others":
            found.append({"literal": "others"})
            continue
        parts = parse_single_name_into_parts(raw, strict=False)
        family = text(" ".join(parts.last))
        if not parts.first and not parts.jr and not parts.von and " " in family:
            found.append({"literal": family})
            continue
        # BibTeX's "von" part is CSL's non-dropping particle ("van Gennep, Arnold"), its "jr"
        # part the suffix ("Smith, Jr., John").
        name = name_parts(
            family,
            text(" ".join(parts.first)),
            text(" ".join(parts.jr)),
            non_dropping=text(" ".join(parts.von)),
        )
        if name:
            found.append(name)
    return found


def _split_names(value: str) -> list[str]:
    pieces, depth, start, index = [], 0, 0, 0
    lowered = value.lower()
    while index < len(value):
        char = value[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and char.isspace():
            match = re.match(r"\s+and\s+", lowered[index:])
            if match:
                pieces.append(value[start:index])
                index += match.end()
                start = index
                continue
        index += 1
    pieces.append(value[start:])
    return pieces


def _wholly_braced(raw: str) -> bool:
    if not (raw.startswith("{") and raw.endswith("}")):
        return False
    depth = 0
    for index, char in enumerate(raw):
        depth += char == "{"
        depth -= char == "}"
        if depth == 0:
            return index == len(raw) - 1
    return False


def _map(entry: Entry, entry_type: str, fields: dict[str, str]) -> None:
    """Move each field we model onto the entry; the rest is kept in extra["bibtex"]."""
    rest: dict[str, str] = {}
    set_ = entry.fields
    csl_type = TYPES.get(entry_type, SourceType.DOCUMENT)
    subtype = text(fields.get("entrysubtype", "")).lower()
    if entry_type == "article" and subtype in ARTICLE_SUBTYPES:
        csl_type = ARTICLE_SUBTYPES[subtype]
        fields.pop("entrysubtype")
    elif entry_type == "misc" and subtype in SourceType.values:
        csl_type = SourceType(subtype)
        fields.pop("entrysubtype")
    set_["csl_type"] = csl_type
    genre = THESIS_GENRES.get(entry_type)
    for name, value in fields.items():
        if name in NAME_FIELDS:
            entry.names.extend((NAME_FIELDS[name], n) for n in names(value))
        elif name == "title":
            set_["title"] = text(value)
        elif name == "shorttitle":
            set_["title_short"] = text(value)
        elif name in {"journal", "journaltitle", "booktitle"} and "container_title" not in set_:
            set_["container_title"] = text(value)
        elif name == "series":
            set_["collection_title"] = text(value)
        elif name == "publisher" or (
            name in {"institution", "school"} and "publisher" not in fields
        ):
            set_["publisher"] = text(value)
        elif name in {"address", "location"} and "publisher_place" not in set_:
            set_["publisher_place"] = text(value)
        elif name == "edition":
            set_["edition"] = text(value)
        elif name == "volume":
            set_["volume"] = text(value)
        elif name == "issue" or (name == "number" and "issue" not in fields):
            set_["issue"] = text(value)
        elif name == "pages":
            set_["page"] = _DASHES.sub("-", text(value).strip())
        elif name == "type":
            genre = text(value)
        elif name == "abstract":
            set_["abstract"] = text(value)
        elif name in {"language", "langid"} and _language(value) and "language" not in set_:
            set_["language"] = _language(value)
        elif name in {"year", "month"} and _iso_date(verbatim(fields.get("date", ""))):
            pass  # the full date says it too
        elif name == "year" and _YEAR.match(text(value)) and "date" not in fields:
            set_["issued_year"] = int(_YEAR.match(text(value)).group(1))
        elif name == "month" and "date" not in fields and _month(value):
            set_["issued_month"] = _month(value)
        elif name == "date" and _iso_date(verbatim(value)):
            for part, number in zip(
                ("year", "month", "day"), _iso_date(verbatim(value)), strict=False
            ):
                if number:
                    set_[f"issued_{part}"] = number
        elif (
            name == "urldate"
            and _iso_date(verbatim(value))
            and len(_iso_date(verbatim(value))) == 3
        ):
            year, month, day = _iso_date(verbatim(value))
            set_["accessed"] = f"{year:04d}-{month:02d}-{day:02d}"
        elif name in {"url", "howpublished"} and _url(value) and "url" not in set_:
            set_["url"] = _url(value)
            if "doi.org/" in set_["url"]:
                entry.add_identifier("doi", set_["url"])
        elif _identifier(entry, name, value, fields):
            pass
        else:
            rest[name] = value
    if genre and csl_type in {SourceType.THESIS, SourceType.REPORT, SourceType.DOCUMENT} | {
        SourceType.WEBPAGE
    }:
        set_["genre"] = genre
    elif genre:
        rest["type"] = fields["type"]
    if set_.get("title") is None and "booktitle" in fields and csl_type == SourceType.BOOK:
        set_["title"] = text(fields["booktitle"])
    kept: dict[str, Any] = {}
    if (
        entry_type
        and EXPORT_TYPES.get(csl_type, "misc") != entry_type
        and not (csl_type == SourceType.THESIS and entry_type in THESIS_GENRES)
    ):
        kept["type"] = entry_type
    if rest:
        kept["fields"] = rest
    if kept:
        entry.extra["bibtex"] = kept


def _identifier(entry: Entry, name: str, value: str, fields: dict[str, str]) -> bool:
    """Add the identifier a field holds; False when it holds none we can read (the field is
    then kept as it is)."""
    if name in {"doi", "pmid"}:
        return entry.add_identifier(name, verbatim(value))
    if name in {"isbn", "issn"}:
        return _identifiers(entry, name, value)
    archive = text(fields.get("eprinttype", fields.get("archiveprefix", ""))).lower()
    if name == "eprint" and archive == "arxiv":
        return entry.add_identifier("arxiv", verbatim(value))
    # The archive's name goes with the arXiv identifier it qualifies.
    return name in {"eprinttype", "archiveprefix"} and archive == "arxiv" and "eprint" in fields


def _language(value: str) -> str:
    value = text(value).strip()
    if value.lower() in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[value.lower()]
    return value if _LANGUAGE_TAG.match(value) else ""


def _month(value: str) -> int | None:
    value = text(value).strip().rstrip(".").lower()
    if value.isdigit() and 1 <= int(value) <= 12:
        return int(value)
    for number, name in enumerate(MONTHS, start=1):
        if len(value) >= 3 and name.startswith(value):
            return number
    return None


def _iso_date(value: str) -> tuple[int, ...] | None:
    match = _ISO_DATE.match(value.strip())
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part)


def _url(value: str) -> str:
    url = verbatim(value)
    return url if re.match(r"^https?://\S+$", url) and len(url) <= 2000 else ""


def _identifiers(entry: Entry, scheme: str, value: str) -> bool:
    values = [v for v in re.split(r"[\s,;]+", verbatim(value)) if v]
    return bool(values) and all(entry.add_identifier(scheme, v) for v in values)


# --- Writing --------------------------------------------------------------------------------

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL_CHARS = str.maketrans(_SPECIALS)


def latex(value: str) -> str:
    return value.translate(_SPECIAL_CHARS).replace("–", "--").replace("—", "---")


def protected(value: str) -> str:
    """Title text with the case of capitalised words protected from BibTeX styles."""
    words = latex(value).split(" ")
    return " ".join(
        f"{{{word}}}" if index and any(ch.isupper() for ch in word) else word
        for index, word in enumerate(words)
    )


def _name(person) -> str:
    """ "von Last, Jr, First" (BibTeX's full form), or the literal name in braces."""
    name = person.csl_name()
    if "literal" in name:
        return f"{{{latex(name['literal'])}}}"
    last = latex(name["family"])
    if " " in name["family"] or name["family"][:1].islower():
        last = f"{{{last}}}"  # one family name, never split into particles again
    if name.get("non-dropping-particle"):
        last = f"{latex(name['non-dropping-particle'])} {last}"
    first = " ".join(latex(name[part]) for part in ("given", "dropping-particle") if name.get(part))
    if name.get("suffix"):
        return f"{last}, {latex(name['suffix'])}, {first}"
    return f"{last}, {first}" if first else last


def write(sources: Iterable[Source]) -> str:
    return "\n".join(_entry(source) for source in sources)


def _entry(source: Source) -> str:
    kept = (source.extra or {}).get("bibtex", {})
    fields: list[tuple[str, str]] = []
    entry_type = kept.get("type") or EXPORT_TYPES.get(source.csl_type, "misc")
    if source.csl_type == SourceType.THESIS and "type" not in kept:
        entry_type = {v: k for k, v in THESIS_GENRES.items()}.get(source.genre, "thesis")
    if entry_type == "article" and source.csl_type in ARTICLE_SUBTYPES.values():
        subtype = {v: k for k, v in ARTICLE_SUBTYPES.items()}[source.csl_type]
        fields.append(("entrysubtype", subtype))
    elif entry_type == "misc" and source.csl_type != SourceType.DOCUMENT:
        fields.append(("entrysubtype", source.csl_type))

    by_role: dict[str, list[str]] = {}
    for contributor in sorted(source.contributors.all(), key=lambda c: (c.role, c.position)):
        by_role.setdefault(contributor.role, []).append(_name(contributor.person))
    for role, people in by_role.items():
        if role in ROLE_FIELDS:
            fields.append((ROLE_FIELDS[role], " and ".join(people)))
    fields.append(("title", protected(source.title)))
    if source.title_short:
        fields.append(("shorttitle", protected(source.title_short)))
    if source.container_title:
        container = "journal" if entry_type in {"article", "periodical"} else "booktitle"
        fields.append((container, protected(source.container_title)))
    plain = [
        ("series", source.collection_title),
        ("edition", source.edition),
        ("volume", source.volume),
        ("number", source.issue),
        ("pages", source.page.replace("-", "--")),
        ("publisher", source.publisher),
        ("address", source.publisher_place),
        ("type", source.genre if source.genre not in THESIS_GENRES.values() else ""),
        ("language", source.language),
    ]
    fields.extend((name, latex(value)) for name, value in plain if value)
    if source.issued_year is not None:
        fields.append(("year", str(source.issued_year)))
        if source.issued_month:
            fields.append(("month", MONTHS[source.issued_month - 1][:3]))
            if source.issued_day:
                fields.append(("date", source.issued_display))
    identifiers: dict[str, list[str]] = {}
    for identifier in source.identifiers.all():
        identifiers.setdefault(identifier.scheme, []).append(identifier.value)
    for scheme in ("doi", "isbn", "issn", "pmid"):
        if identifiers.get(scheme):
            fields.append((scheme, ", ".join(identifiers[scheme])))
    if identifiers.get("arxiv"):
        fields.extend([("eprint", identifiers["arxiv"][0]), ("eprinttype", "arxiv")])
    if source.url:
        fields.append(("url", source.url))
    if source.accessed:
        fields.append(("urldate", source.accessed.isoformat()))
    if source.abstract:
        fields.append(("abstract", latex(source.abstract)))
    written = {name for name, _ in fields}
    fields.extend(
        (name, value) for name, value in kept.get("fields", {}).items() if name not in written
    )
    lines = [f"@{entry_type}{{{source.citation_key},"]
    for name, value in fields:
        value = value if name != "month" else value
        lines.append(f"  {name} = {value}," if name == "month" else f"  {name} = {{{value}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"

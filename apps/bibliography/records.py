"""The pivot between bibliographic files and sources: every format reads into `Entry` rows and
writes from sources; `entry_from_csl` and `csl_from_source` map CSL-JSON, the vocabulary all of
them share, onto the Source model.

An Entry is plain data (it is kept, as JSON, between an upload's preview and its confirmation).
"""

from __future__ import annotations

import calendar
import datetime
import functools
import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from apps.library.citations import CSL_IDENTIFIERS, CSL_TEXT_FIELDS
from apps.library.identifiers import normalise_identifier
from apps.library.models import ContributorRole, IdentifierScheme, Source, SourceType
from apps.people.names import match_key

# The largest upload (all its files together) or command input read, and the most entries it
# may hold: an 11.6 MB, 9,057-entry library is a real one, and fits several times over.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 50_000


# The title of a work whose file gave none: visible in lists, citations and exports.
UNTITLED = "[Untitled]"


class FileError(Exception):
    """The file as a whole cannot be read; the message names the problem, for the user."""


# JSON objects one file may hold: a 50,000-item bibliography has a few hundred thousand (names,
# dates, Crossref's references), while a 50 MB file of "{}" would hold 16 million and take
# gigabytes once read. The count is checked while the file is parsed.
MAX_JSON_OBJECTS = 1_000_000


class _TooManyObjects(Exception):
    pass


def load_json(text: str) -> Any:
    """The JSON document, or FileError saying why it cannot be one bibliography."""
    hook = None
    # Every object opens with "{": fewer of them than the limit need no counting (the fast
    # path of every real file); otherwise each object parsed is counted.
    if text.count("{") > MAX_JSON_OBJECTS:
        made = 0

        def hook(obj: dict) -> dict:
            nonlocal made
            made += 1
            if made > MAX_JSON_OBJECTS:
                raise _TooManyObjects
            return obj

    try:
        return json.loads(text, object_hook=hook)
    except _TooManyObjects:
        raise FileError(
            f"This JSON holds more than {MAX_JSON_OBJECTS:,} objects, more than a bibliography of "
            f"{MAX_ENTRIES:,} items has. Split it and import the parts."
        ) from None
    except json.JSONDecodeError as error:
        raise FileError(
            f"This is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except RecursionError:
        raise FileError("This JSON is nested too deeply to be a bibliography.") from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise FileError(f"This is not valid JSON: {error}.") from None


@dataclass
class Entry:
    """One bibliographic record read from a file, ready to become a source.

    `names` are (role, CSL name) in the file's order, a CSL name being {"family", "given",
    "non-dropping-particle", "dropping-particle", "suffix"} (as far as known) or {"literal"};
    `fields` are Source field values; `extra` keeps, per format, what no field models.
    """

    number: int
    line: int | None = None
    key: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    names: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    # What was repaired on the way in: [offset from `line` (or None), message] pairs. Lines
    # are kept as offsets so they stay right when the entry's line is shifted.
    warnings: list[list] = field(default_factory=list)
    # The file it was read from, when an upload has several.
    file: str = ""

    @property
    def where(self) -> str:
        if self.line:
            where = f"entry {self.number} (line {self.line:,})"
        else:
            where = f"record {self.number}"
        return f"{where} of {self.file}" if self.file else where

    @property
    def title(self) -> str:
        return self.fields.get("title", "")

    def as_data(self) -> dict[str, Any]:
        # Shallow copies: dataclasses.asdict deep-copies every value, which costs seconds for
        # 50,000 entries; the entry is not changed once read.
        data = dict(self.__dict__)
        data["names"] = [[role, dict(name)] for role, name in self.names]
        data["identifiers"] = [list(pair) for pair in self.identifiers]
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Entry:
        data = dict(data)
        data["names"] = [(role, dict(name)) for role, name in data.get("names", [])]
        data["identifiers"] = [tuple(pair) for pair in data.get("identifiers", [])]
        return cls(**data)

    def add_identifier(self, scheme: str, value: str) -> bool:
        """Add a normalised identifier; False (and nothing added) when it does not parse."""
        try:
            value = normalise_identifier(scheme, value)
        except ValueError:
            return False
        if len(value) > 2000:
            return False
        if (scheme, value) not in self.identifiers:
            self.identifiers.append((scheme, value))
        return True

    def first_author_key(self) -> str:
        for role, name in self.names:
            if role == ContributorRole.AUTHOR:
                family = " ".join(
                    part for part in (name.get("non-dropping-particle"), name.get("family")) if part
                )
                return match_key(family or name.get("literal", ""))
        return ""

    def warn(self, message: str, line: int | None = None) -> None:
        """Note a repair, on `line` of the file (the entry's own line by default)."""
        line = line or self.line
        offset = line - self.line if line and self.line else None
        self.warnings.append([offset, message])

    def warning_rows(self) -> list[tuple[int | None, str]]:
        """(line, message) of each repair, in the file's order."""
        rows = [
            (self.line + offset if offset is not None and self.line else None, message)
            for offset, message in self.warnings
        ]
        return sorted(rows, key=lambda row: row[0] or 0)

    def check(self) -> None:
        """Set `error` when the entry cannot become a valid source; an entry without a title
        is imported with UNTITLED as its title, and a warning."""
        if self.error:
            return
        fields = self.fields
        if not (fields.get("title") or "").strip():
            fields["title"] = UNTITLED
            self.warn(f"It has no title: it is imported as “{UNTITLED}”.")
        for name, limit in _LIMITS.items():
            value = fields.get(name) or ""
            if limit and len(value) > limit:
                label = Source._meta.get_field(name).verbose_name
                if name == "url":  # a cut URL leads nowhere: kept whole, beside the source
                    self.extra.setdefault("long", {})["url"] = fields.pop("url")
                    self.warn(f"Its URL is longer than {limit:,} characters: kept aside.")
                else:
                    fields[name] = value[: limit - 1] + "…"
                    self.warn(f"Its {label} is longer than {limit:,} characters: cut there.")
        year, month, day = (fields.get(f"issued_{part}") for part in ("year", "month", "day"))
        if year is not None and not -9999 <= year <= 9999:
            fields.pop("issued_year")
            self.warn(f"Its year {year} is out of range: left out.")
            year = None
        if month is not None and (year is None or not 1 <= month <= 12):
            fields.pop("issued_month")
            fields.pop("issued_day", None)
            self.warn(
                f"It has a month ({month}) but no year: the month is left out."
                if year is None
                else f"Its month ({month}) is not a month: left out."
            )
        elif day is not None and (
            month is None or not 1 <= day <= calendar.monthrange(year, month)[1]
        ):
            fields.pop("issued_day")
            self.warn(f"Its day ({day}) does not exist in that month: left out.")
        self.error = entry_problem(self)


# SourceType.values builds its list at each call: too slow for 50,000 entries.
CSL_TYPES = frozenset(SourceType.values)

# Source text fields and their lengths: longer values are refused, not silently cut.
_LIMITS = {
    name: Source._meta.get_field(name).max_length
    for name in (
        "title_short",
        "container_title",
        "collection_title",
        "publisher",
        "publisher_place",
        "genre",
        "edition",
        "volume",
        "issue",
        "page",
        "language",
        "url",
    )
}


def entry_problem(entry: Entry) -> str:
    fields = entry.fields
    if not (fields.get("title") or "").strip():
        return "it has no title"
    if fields.get("csl_type") not in CSL_TYPES:
        return f"unknown type “{fields.get('csl_type')}”"
    for name, limit in _LIMITS.items():
        if limit and len(fields.get(name) or "") > limit:
            label = Source._meta.get_field(name).verbose_name
            return f"its {label} is longer than {limit} characters"
    year, month, day = (fields.get(f"issued_{part}") for part in ("year", "month", "day"))
    if year is not None and not -9999 <= year <= 9999:
        return f"the year {year} is out of range"
    if month is not None and (year is None or not 1 <= month <= 12):
        return "its month is not a month of a given year"
    if day is not None and (month is None or day > calendar.monthrange(year, month)[1] or day < 1):
        return "its day does not exist in that month"
    for _, name in entry.names:
        if not any(name.values()):
            return "one of its names is empty"
        if any(len(name.get(part) or "") > limit for part, limit in NAME_LIMITS.items()) or (
            len(name_text(name)) > 300
        ):
            return "one of its names is too long"
    if len(entry.key) > 100:
        return "its citation key is longer than 100 characters"
    return ""


# --- Names ----------------------------------------------------------------------------------

# CSL name part -> Person field, and the longest value each holds.
NAME_FIELDS = {
    "family": "family",
    "given": "given",
    "non-dropping-particle": "non_dropping_particle",
    "dropping-particle": "dropping_particle",
    "suffix": "suffix",
    "literal": "literal",
}
NAME_LIMITS = {"family": 200, "given": 200, "literal": 300} | dict.fromkeys(
    ("non-dropping-particle", "dropping-particle", "suffix"), 50
)
# Generational and similar suffixes, as written after a comma ("Smith, John, Jr.").
_SUFFIX = re.compile(r"^(?:jr|sr|jnr|snr|junior|senior|[ivx]{1,5}|\d(?:st|nd|rd|th))\.?$", re.I)


def name_text(name: dict[str, str]) -> str:
    """The display form of a CSL name: "Given particles Family Suffix", or the literal."""
    if name.get("literal"):
        return name["literal"]
    parts = ("given", "dropping-particle", "non-dropping-particle", "family", "suffix")
    return " ".join(name[part] for part in parts if name.get(part))


def is_suffix(text: str) -> bool:
    return bool(_SUFFIX.match(text.strip()))


def _particle_word(word: str) -> bool:
    # BibTeX's rule for the "von" part: a word that starts in lower case ("van", "de", "d'",
    # "ibn"); a hyphenated word such as "al-Suri" is a family name.
    return bool(word) and word[0].islower() and "-" not in word


def name_parts(
    family: str,
    given: str = "",
    suffix: str = "",
    *,
    non_dropping: str = "",
    dropping: str = "",
) -> dict[str, str] | None:
    """A CSL name from its parts as a file gives them: lower-case words that open the family
    name are its non-dropping particle ("van" in "van Gennep"), those that close the given
    names its dropping particle ("van" in "Beethoven, Ludwig van"). A name with a given name
    but no family name, or no parts at all, is a literal (None when empty)."""
    family, given, suffix = (" ".join(str(v or "").split()) for v in (family, given, suffix))
    non_dropping, dropping = " ".join(non_dropping.split()), " ".join(dropping.split())
    words = family.split(" ")
    cut = 0
    while cut < len(words) - 1 and _particle_word(words[cut]):
        cut += 1
    if cut:
        non_dropping = " ".join(filter(None, (non_dropping, *words[:cut])))
        family = " ".join(words[cut:])
    words = given.split(" ") if given else []
    cut = len(words)
    while cut > 1 and _particle_word(words[cut - 1]) and not words[cut - 1].endswith("."):
        cut -= 1
    if cut < len(words):
        dropping = " ".join(filter(None, (*words[cut:], dropping)))
        given = " ".join(words[:cut])
    if not family:
        literal = " ".join(filter(None, (given, dropping, non_dropping, suffix)))
        return {"literal": literal} if literal else None
    name = {"family": family}
    for part, value in (
        ("given", given),
        ("non-dropping-particle", non_dropping),
        ("dropping-particle", dropping),
        ("suffix", suffix),
    ):
        if value:
            name[part] = value
    return name


def inverted_name(text: str) -> dict[str, str] | None:
    """ "Family, Given", "Family, Given, Suffix" (RIS, EndNote) or "Family, Suffix, Given"
    (BibTeX's order) as a CSL name; without a comma the name is kept as a literal."""
    pieces = [piece.strip() for piece in text.split(",")]
    if len(pieces) == 1 or not pieces[0]:
        literal = " ".join(text.replace(",", " ").split())
        return {"literal": literal} if literal else None
    family, rest = pieces[0], [piece for piece in pieces[1:] if piece]
    suffix = ""
    if len(rest) >= 2 and is_suffix(rest[-1]):
        suffix = rest.pop()
    elif len(rest) >= 2 and is_suffix(rest[0]):
        suffix = rest.pop(0)
    return name_parts(family, " ".join(rest), suffix)


def person_fields(name: dict[str, str]) -> dict[str, str]:
    """A CSL name as Person field values."""
    return {field: name.get(part, "") for part, field in NAME_FIELDS.items()}


# --- Matching -------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[\W_]+")


@functools.lru_cache(maxsize=100_000)
def title_key(title: str) -> str:
    """A title with case, accents, punctuation and spacing ignored."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


def work_key(title: str, year: int | None, first_author: str) -> tuple[str, int | None, str]:
    return (title_key(title), year, first_author)


# --- Citation keys --------------------------------------------------------------------------

_KEY_CHARS = re.compile(r"[^A-Za-z0-9_:.\-]+")


def make_citation_key(entry: Entry) -> str:
    """A key such as mironova2017bloody for entries that come without one."""
    author = ""
    for _, name in entry.names:
        author = name.get("family") or name.get("literal") or ""
        break
    words = [w for w in title_key(entry.title).split() if len(w) > 3] or title_key(
        entry.title
    ).split()
    parts = [
        _ascii(author.split()[-1] if author.split() else ""),
        str(entry.fields.get("issued_year") or ""),
        _ascii(words[0] if words else ""),
    ]
    return _KEY_CHARS.sub("", "".join(parts)).lower()[:60] or "source"


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def clean_citation_key(key: str) -> str:
    return re.sub(r"[\s,{}()\"'#%~\\=]+", "", key)[:100]


def unique_key(wanted: str, taken: set[str]) -> str:
    """`wanted`, or wanted-a, wanted-b … when the project already has it."""
    if wanted not in taken:
        return wanted
    for suffix in key_suffixes():
        candidate = f"{wanted[:95]}-{suffix}"
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable")


def key_suffixes():
    """a, b … z, aa, ab … zz, then 1, 2 …: what tells keys that would be equal apart."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    yield from letters
    for first in letters:
        for second in letters:
            yield first + second
    number = 1
    while True:
        yield str(number)
        number += 1


# --- CSL-JSON -------------------------------------------------------------------------------

CSL_FIELD_FOR = CSL_TEXT_FIELDS  # CSL variable -> Source field
CSL_NAME_ROLES = set(ContributorRole.values)
_CSL_SCHEME_FOR = {variable: scheme for scheme, variable in CSL_IDENTIFIERS.items()}
_DATE = re.compile(r"^(-?\d{1,4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")


def csl_date_parts(value: Any) -> list[int] | None:
    """[year, month, day] (as far as known) of a CSL date (date-parts, raw, or a string)."""
    if isinstance(value, dict):
        parts = value.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            try:
                return [int(part) for part in parts[0][:3]]
            except (TypeError, ValueError):
                return None
        value = value.get("raw") or value.get("literal") or ""
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        match = _DATE.match(value.strip())
        if match:
            return [int(part) for part in match.groups() if part]
    return None


def set_issued(entry: Entry, parts: list[int] | None) -> None:
    if not parts:
        return
    entry.fields["issued_year"] = parts[0]
    if len(parts) > 1 and parts[1]:
        entry.fields["issued_month"] = parts[1]
        if len(parts) > 2 and parts[2]:
            entry.fields["issued_day"] = parts[2]


def set_accessed(entry: Entry, parts: list[int] | None) -> bool:
    if not parts or len(parts) < 3:
        return False
    try:
        entry.fields["accessed"] = datetime.date(*parts[:3]).isoformat()
    except ValueError:
        return False
    return True


def csl_name(value: Any) -> dict[str, str] | None:
    """A CSL-JSON name with its parts kept; particles still inside the family or given name
    are taken out as citeproc-js would (unless the item says "parse-names": false)."""
    if not isinstance(value, dict):
        return None
    if value.get("literal") or value.get("name"):
        literal = " ".join(str(value.get("literal") or value.get("name")).split())
        return {"literal": literal}
    parts = {key: str(value.get(key) or "") for key in NAME_FIELDS}
    if value.get("parse-names") in (False, "false"):
        name = {key: " ".join(v.split()) for key, v in parts.items() if v.strip()}
        if not name.get("family"):
            literal = name_text(name)
            return {"literal": literal} if literal else None
        return name
    return name_parts(
        parts["family"],
        parts["given"],
        parts["suffix"],
        non_dropping=parts["non-dropping-particle"],
        dropping=parts["dropping-particle"],
    )


# Crossref's work types (DOI content negotiation and the REST API give them in CSL-JSON too),
# and the spellings of CSL types older tools write, as CSL 1.0.2 types.
CROSSREF_TYPES = {
    "journal-article": SourceType.ARTICLE_JOURNAL,
    "book-chapter": SourceType.CHAPTER,
    "book-section": SourceType.CHAPTER,
    "book-part": SourceType.CHAPTER,
    "book-track": SourceType.CHAPTER,
    "proceedings-article": SourceType.PAPER_CONFERENCE,
    "monograph": SourceType.BOOK,
    "edited-book": SourceType.BOOK,
    "reference-book": SourceType.BOOK,
    "book-set": SourceType.BOOK,
    "book-series": SourceType.BOOK,
    "proceedings": SourceType.BOOK,
    "proceedings-series": SourceType.BOOK,
    "reference-entry": SourceType.ENTRY_ENCYCLOPEDIA,
    "dissertation": SourceType.THESIS,
    "report-component": SourceType.REPORT,
    "report-series": SourceType.REPORT,
    "posted-content": SourceType.ARTICLE,
    "peer-review": SourceType.REVIEW,
    "journal-issue": SourceType.PERIODICAL,
    "journal-volume": SourceType.PERIODICAL,
    "journal": SourceType.PERIODICAL,
    "database": SourceType.DATASET,
    "component": SourceType.DOCUMENT,
    "grant": SourceType.DOCUMENT,
    "other": SourceType.DOCUMENT,
    "article_journal": SourceType.ARTICLE_JOURNAL,
    "article_magazine": SourceType.ARTICLE_MAGAZINE,
    "article_newspaper": SourceType.ARTICLE_NEWSPAPER,
    "paper_conference": SourceType.PAPER_CONFERENCE,
    "entry_encyclopedia": SourceType.ENTRY_ENCYCLOPEDIA,
    "entry_dictionary": SourceType.ENTRY_DICTIONARY,
    "post_weblog": SourceType.POST_WEBLOG,
    "legal-case": SourceType.LEGAL_CASE,
    "motion-picture": SourceType.MOTION_PICTURE,
    "musical-score": SourceType.MUSICAL_SCORE,
    "personal-communication": SourceType.PERSONAL_COMMUNICATION,
}

_JATS_BLOCK = re.compile(r"</?(?:jats:)?(?:p|sec|title|list|list-item|break)\b[^>]*>", re.I)
_JATS_TAG = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>")


def strip_markup(text: str) -> str:
    """An abstract without its JATS (or HTML) markup: paragraphs kept as blank lines, the
    "Abstract" heading Crossref puts first dropped, entities decoded."""
    if "<" not in text:
        return text.strip()
    text = re.sub(
        r"^\s*<(jats:)?title>\s*abstract\s*</(jats:)?title>", "", text.strip(), flags=re.I
    )
    text = _JATS_BLOCK.sub("\n\n", text)
    text = html.unescape(_JATS_TAG.sub("", text))
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", text)]
    return "\n\n".join(part for part in paragraphs if part)


def csl_type(value: Any) -> str:
    text = str(value or "").strip()
    return CROSSREF_TYPES.get(text, text)


def entry_from_csl(item: dict[str, Any], *, number: int) -> Entry:
    """A CSL-JSON item as an Entry; variables we do not model are kept in extra["csl"]."""
    entry = Entry(number=number)
    extra: dict[str, Any] = {}
    for variable, value in item.items():
        if variable == "id" or variable == "citation-key":
            entry.key = clean_citation_key(str(value))
        elif variable == "type":
            entry.fields["csl_type"] = csl_type(value)
        elif variable == "abstract" and isinstance(value, str):
            entry.fields["abstract"] = strip_markup(value)
        elif variable in CSL_FIELD_FOR and isinstance(value, str | int | float):
            text = str(value).strip()
            if variable != "URL":
                # Crossref's titles come with their ampersands escaped ("&amp;").
                text = " ".join((html.unescape(text) if "&" in text else text).split())
            entry.fields[CSL_FIELD_FOR[variable]] = text
        elif variable == "issued":
            parts = csl_date_parts(value)
            if parts is None:
                extra[variable] = value
            set_issued(entry, parts)
        elif variable == "accessed":
            if not set_accessed(entry, csl_date_parts(value)):
                extra[variable] = value
        elif variable in _CSL_SCHEME_FOR and isinstance(value, str):
            scheme = _CSL_SCHEME_FOR[variable]
            rejected = [
                v for v in value.replace(",", " ").split() if not entry.add_identifier(scheme, v)
            ]
            if rejected:
                extra[variable] = value
        elif variable in CSL_NAME_ROLES and isinstance(value, list):
            names = [csl_name(name) for name in value]
            if any(name is None for name in names):
                extra[variable] = value
            else:
                entry.names.extend((variable, name) for name in names)
        elif variable == "custom" and isinstance(value, dict):
            for identifier in value.get("identifiers", []) or []:
                if isinstance(identifier, dict):
                    entry.add_identifier(
                        str(identifier.get("scheme", "")), str(identifier.get("value", ""))
                    )
            rest = {k: v for k, v in value.items() if k != "identifiers"}
            if rest:
                extra["custom"] = rest
        else:
            extra[variable] = value
    url = entry.fields.get("url", "")
    if url and not url.startswith(("http://", "https://")):
        extra["URL"] = entry.fields.pop("url")
    if extra:
        entry.extra["csl"] = extra
    entry.fields.setdefault("csl_type", SourceType.DOCUMENT)
    if entry.fields["csl_type"] not in CSL_TYPES:
        extra.setdefault("type", entry.fields["csl_type"])
        entry.extra["csl"] = extra
        entry.fields["csl_type"] = SourceType.DOCUMENT
    return entry


def csl_from_source(source: Source) -> dict[str, Any]:
    """The CSL-JSON item of a source for export: the formatted fields, every identifier and
    the CSL variables it was imported with."""
    from apps.library.citations import csl_item

    item = csl_item(source)
    others = [
        {"scheme": identifier.scheme, "value": identifier.value}
        for identifier in source.identifiers.all()
        if identifier.scheme not in CSL_IDENTIFIERS
    ]
    kept = dict((source.extra or {}).get("csl", {}))
    custom = dict(kept.pop("custom", {}) or {})
    if others:
        custom["identifiers"] = others
    if custom:
        item["custom"] = custom
    if "type" in kept and source.csl_type == SourceType.DOCUMENT:
        item["type"] = kept.pop("type")
    else:
        kept.pop("type", None)
    for variable, value in kept.items():
        item.setdefault(variable, value)
    return item


__all__ = ["Entry", "FileError", "IdentifierScheme"]

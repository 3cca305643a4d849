"""A source's text as reading-view HTML: flat segments, each marked with every annotation that
covers it, so overlapping passages need no nested markup and offsets stay countable.

Every segment carries `data-s`, its first character's offset (in code points) in the stored
text; the page script adds the position inside a segment to find a selection's offsets. Page
starts are empty markers whose label CSS draws, so they add no characters to the text.

A highlight (`<mark>`) says which passages cover it (`data-a`) and the status, concept colour
and depth of covering that draw it; the most common values are left out, the stylesheet
taking them as given (`data-status` approved, `data-depth` 1): a long source has thousands of
highlights, and every byte of them is sent and parsed.

Segments are grouped in blocks of a few paragraphs, which the browser lays out only when they
come near the screen (CSS content-visibility): a text of a million characters opens in a
fraction of the time one block would take.
"""

from __future__ import annotations

import html
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.annotations.anchoring import LINE_BREAK, PARAGRAPH_BREAK
from apps.annotations.models import Status

# Concept colours in the legend and the text; concepts beyond these share the last one.
PALETTE_SIZE = 8
MAX_DEPTH = 3
# A block of the text ends at the first paragraph break after this many characters.
BLOCK_CHARS = 2_000
# About how many characters a line of the reading column (70ch of a proportional font) holds.
LINE_CHARS = 80


class Highlight(NamedTuple):
    # A tuple: the reading view makes one per passage, thousands for a long source.
    pk: int
    start: int
    end: int
    status: str
    colour: int  # index into the concept palette, or -1 for no concept


def _chunk(text: str) -> str:
    # A literal CR would become LF in the page's text; a character reference keeps it.
    return html.escape(text).replace("\r", "&#13;")


def _narrowest(highlight: Highlight) -> tuple[int, int]:
    """The passage whose status and colour a place covered by several shows."""
    return (highlight.end - highlight.start, highlight.pk)


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Each paragraph's span, numbered from 1 as locators count them (`paragraph_number`):
    paragraphs are separated by blank lines, or are single lines when the text has none. The
    separators themselves belong to no paragraph."""
    breaks = list(PARAGRAPH_BREAK.finditer(text)) or list(LINE_BREAK.finditer(text))
    starts = [0, *(found.end() for found in breaks)]
    ends = [*(found.start() for found in breaks), len(text)]
    return list(zip(starts, ends, strict=True))


def blocks(text: str) -> dict[int, str]:
    """Where each block begins (at the first paragraph start BLOCK_CHARS or more after the
    previous one), with its opening tag. The tag says about how many lines tall the block is,
    so that the page has nearly its real height, and links into it land in the right place,
    before the blocks around are laid out."""
    starts = [0]
    for found in PARAGRAPH_BREAK.finditer(text):
        if found.end() - starts[-1] >= BLOCK_CHARS and found.end() < len(text):
            starts.append(found.end())
    opening = {}
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        lines = sum(len(line) // LINE_CHARS + 1 for line in text[begin:end].split("\n"))
        # An attribute the stylesheet reads, not a style attribute: the Content-Security-Policy
        # lets no inline style through.
        opening[begin] = f'<div class="reader__block" data-lines="{lines}">'
    return opening


def _inside(
    spans: list[tuple[int, int]], starts: list[int], offset: int, *, end: bool = False
) -> int:
    """`offset` moved out of a paragraph separator: forward to the next paragraph's start, or
    (for a span's `end`) back to the previous paragraph's end. `starts` are the spans'."""
    index = bisect_right(starts, offset) - 1
    if index < 0:
        return spans[0][0]
    start, stop = spans[index]
    if offset < stop or (end and offset == stop):
        return offset
    if end or index + 1 == len(spans):
        return stop
    return spans[index + 1][0]


def render_text(text: str, highlights: list[Highlight], pages: list) -> SafeString:
    """The text as blocks of paragraphs. Each paragraph is its own element, numbered
    (`data-n`, which the stylesheet shows in the margin) and with `dir="auto"`, so that each
    takes the direction of its first letters and brackets pair within it; the blank lines
    between paragraphs are not in the page (their offsets are skipped, never shifted)."""
    spans = paragraphs(text)
    span_starts = [start for start, _ in spans]
    starting: dict[int, list[Highlight]] = defaultdict(list)
    ending: dict[int, list[Highlight]] = defaultdict(list)
    empty: dict[int, list[Highlight]] = defaultdict(list)
    for highlight in highlights:
        # A passage that starts or ends on a blank line between paragraphs is drawn from the
        # first character of the next paragraph (or to the last of the previous one).
        start = _inside(spans, span_starts, highlight.start)
        end = _inside(spans, span_starts, highlight.end, end=True)
        if end <= start:
            # Nothing but blank lines: it still has a target for its link.
            empty[start].append(highlight)
            continue
        starting[start].append(highlight)
        ending[end].append(highlight)
    page_at = {
        _inside(spans, span_starts, start): label
        for start, label in pages
        if 0 <= start < len(text)
    }
    block_at = blocks(text)
    # Empty paragraphs (blank lines following blank lines) keep their number but show nothing.
    paragraph_at = {start: n for n, (start, stop) in enumerate(spans, 1) if stop > start}
    paragraph_end = {stop for _, stop in spans}
    bounds = sorted(
        {0, len(text), *starting, *ending, *empty, *page_at, *block_at}
        | {offset for span in spans for offset in span}
    )
    # The stdlib's escape: Django's (the same characters) costs a wrapper call per segment.
    chunk = _chunk if "\r" in text else html.escape
    active: dict[int, Highlight] = {}
    # The attributes the marks share while the same passages cover the text: made again only
    # where a passage starts or ends, not for every segment a paragraph or block splits.
    covering = ""
    parts: list[str] = [block_at[0]]
    append = parts.append
    in_paragraph = False
    for begin, stop in zip(bounds, [*bounds[1:], len(text)], strict=True):
        if begin in ending:
            for highlight in ending[begin]:
                active.pop(highlight.pk, None)
            covering = ""
        targets = (
            "".join(f'<span id="at-{h.pk}"></span>' for h in empty[begin]) if begin in empty else ""
        )
        if in_paragraph and begin in paragraph_end:
            append(targets + "</p>")
            targets = ""
            in_paragraph = False
        if begin and begin in block_at:
            append("</div>" + block_at[begin])
        if begin in paragraph_at and not in_paragraph:
            append(
                f'<p class="reader__p" id="para-{paragraph_at[begin]}" '
                f'data-n="{paragraph_at[begin]}" dir="auto">'
            )
            in_paragraph = True
        if in_paragraph and targets:
            append(targets)
        starts_here = starting.get(begin, ())
        for highlight in starts_here:
            active[highlight.pk] = highlight
            covering = ""
        if begin in page_at and in_paragraph:
            append(
                f'<span class="page-mark" data-page="{escape(page_at[begin])}" '
                'aria-hidden="true"></span>'
            )
        if not in_paragraph or begin == stop:
            continue  # a separator between paragraphs, or the end
        if not active:
            append(f'<span data-s="{begin}">{chunk(text[begin:stop])}</span>')
            continue
        if not covering:
            inner = min(active.values(), key=_narrowest)
            ids = " ".join(str(pk) for pk in active)
            status = "" if inner.status == Status.APPROVED else f' data-status="{inner.status}"'
            depth = min(len(active), MAX_DEPTH)
            covering = f'data-a="{ids}"{status} data-k="{inner.colour}"' + (
                f' data-depth="{depth}"' if depth > 1 else ""
            )
        # A passage's first segment is where the keyboard and the link #at-<pk> reach it;
        # passages starting at the same character get empty targets of their own before it.
        first = ""
        if starts_here:
            for h in starts_here[1:]:
                append(f'<span id="at-{h.pk}"></span>')
            first = f' id="at-{starts_here[0].pk}" tabindex="0"'
        append(f'<mark data-s="{begin}" {covering}{first}>{chunk(text[begin:stop])}</mark>')
    if in_paragraph:
        parts.append("</p>")
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped


RTL_SCRIPTS = ("ARABIC", "HEBREW", "SYRIAC", "THAANA", "NKO")
SAMPLE = 20_000


def detected_direction(text: str) -> str:
    """ "rtl" when most letters of the text's opening are of right-to-left scripts."""
    rtl = ltr = 0
    for ch in text[:SAMPLE]:
        if ch.isalpha():
            if unicodedata.name(ch, "").startswith(RTL_SCRIPTS):
                rtl += 1
            else:
                ltr += 1
    return "rtl" if rtl > ltr else "ltr"

"""A source's text as reading-view HTML: flat segments, each marked with every annotation that
covers it, so overlapping passages need no nested markup and offsets stay countable.

Every segment carries `data-s`, its first character's offset (in code points) in the stored
text; the page script adds the position inside a segment to find a selection's offsets. Page
starts are empty markers whose label CSS draws, so they add no characters to the text.

Segments are grouped in blocks of a few paragraphs, which the browser lays out only when they
come near the screen (CSS content-visibility): a text of a million characters opens in a
fraction of the time one block would take.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.annotations.anchoring import PARAGRAPH_BREAK

# Concept colours in the legend and the text; concepts beyond these share the last one.
PALETTE_SIZE = 8
MAX_DEPTH = 3
# A block of the text ends at the first paragraph break after this many characters.
BLOCK_CHARS = 2_000
# About how many characters a line of the reading column (70ch of a proportional font) holds.
LINE_CHARS = 80


@dataclass(frozen=True)
class Highlight:
    pk: int
    start: int
    end: int
    status: str
    colour: int  # index into the concept palette, or -1 for no concept


def _chunk(text: str) -> str:
    # A literal CR would become LF in the page's text; a character reference keeps it.
    return escape(text).replace("\r", "&#13;")


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


def render_text(text: str, highlights: list[Highlight], pages: list) -> SafeString:
    starting: dict[int, list[Highlight]] = defaultdict(list)
    ending: dict[int, list[Highlight]] = defaultdict(list)
    for highlight in highlights:
        starting[highlight.start].append(highlight)
        ending[highlight.end].append(highlight)
    page_at = {start: label for start, label in pages if 0 <= start < len(text)}
    block_at = blocks(text)
    bounds = sorted({0, len(text), *starting, *ending, *page_at, *block_at})
    active: dict[int, Highlight] = {}
    parts: list[str] = [block_at[0]]
    for begin, stop in zip(bounds, bounds[1:], strict=False):
        for highlight in ending.get(begin, ()):
            active.pop(highlight.pk, None)
        for highlight in starting.get(begin, ()):
            active[highlight.pk] = highlight
        if begin and begin in block_at:
            parts.append("</div>" + block_at[begin])
        if begin in page_at:
            parts.append(
                f'<span class="page-mark" data-page="{escape(page_at[begin])}" '
                'aria-hidden="true"></span>'
            )
        if not active:
            parts.append(f'<span data-s="{begin}">{_chunk(text[begin:stop])}</span>')
            continue
        inner = min(active.values(), key=lambda h: (h.end - h.start, h.pk))
        ids = " ".join(str(pk) for pk in active)
        # A passage's first segment is where the keyboard and the link #at-<pk> reach it;
        # passages starting at the same character get empty targets of their own before it.
        first = ""
        if begin in starting:
            starts_here = starting[begin]
            parts.extend(f'<span id="at-{h.pk}"></span>' for h in starts_here[1:])
            first = f' id="at-{starts_here[0].pk}" tabindex="0"'
        parts.append(
            f'<mark data-s="{begin}" data-a="{ids}" data-status="{inner.status}" '
            f'data-k="{inner.colour}" data-depth="{min(len(active), MAX_DEPTH)}"{first}>'
            f"{_chunk(text[begin:stop])}</mark>"
        )
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

"""A source's text as reading-view HTML: flat segments, each marked with every annotation that
covers it, so overlapping passages need no nested markup and offsets stay countable.

Every segment carries `data-s`, its first character's offset (in code points) in the stored
text; the page script adds the position inside a segment to find a selection's offsets. Page
starts are empty markers whose label CSS draws, so they add no characters to the text.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Concept colours in the legend and the text; concepts beyond these share the last one.
PALETTE_SIZE = 8
MAX_DEPTH = 3


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


def render_text(text: str, highlights: list[Highlight], pages: list) -> SafeString:
    starting: dict[int, list[Highlight]] = defaultdict(list)
    ending: dict[int, list[Highlight]] = defaultdict(list)
    for highlight in highlights:
        starting[highlight.start].append(highlight)
        ending[highlight.end].append(highlight)
    page_at = {start: label for start, label in pages if 0 <= start < len(text)}
    bounds = sorted({0, len(text), *starting, *ending, *page_at})
    active: dict[int, Highlight] = {}
    parts: list[str] = []
    for begin, stop in zip(bounds, bounds[1:], strict=False):
        for highlight in ending.get(begin, ()):
            active.pop(highlight.pk, None)
        for highlight in starting.get(begin, ()):
            active[highlight.pk] = highlight
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
        # A passage's first segment is where the keyboard reaches it.
        focus = ' tabindex="0"' if begin in starting else ""
        parts.append(
            f'<mark data-s="{begin}" data-a="{ids}" data-status="{inner.status}" '
            f'data-k="{inner.colour}" data-depth="{min(len(active), MAX_DEPTH)}"{focus}>'
            f"{_chunk(text[begin:stop])}</mark>"
        )
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

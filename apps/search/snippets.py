"""Snippets with the matching words marked, as HTML that is safe to show.

The backends return text with the matches between two private-use characters (START and STOP,
never typed by anyone); `marked()` escapes everything and only then turns the pairs into
<mark> elements. Whatever a quote, note or title contains is shown as text.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.people.names import normalise_name

START = "\ue000"
STOP = "\ue001"
_MARKERS = re.compile(f"([{START}{STOP}])")


def marked(text: str) -> SafeString:
    """`text` escaped, with START…STOP turned into <mark>…</mark> (balanced, never nested)."""
    html = []
    inside = False
    for part in _MARKERS.split(text or ""):
        if part == START:
            if not inside:
                html.append("<mark>")
            inside = True
        elif part == STOP:
            if inside:
                html.append("</mark>")
            inside = False
        else:
            html.append(escape(part))
    if inside:
        html.append("</mark>")
    # Safe: every piece of the text went through escape(); only our own tags were added.
    return mark_safe("".join(html))


def has_match(text: str) -> bool:
    return START in (text or "")


def mark_name(name: str, words: set[str], prefixes: set[str]) -> SafeString:
    """A name, marked whole when one of its words (normalised as people.names does) is one of
    `words` or begins with one of `prefixes`."""
    own = normalise_name(name).split()
    if any(word in words or word.startswith(tuple(prefixes)) for word in own):
        return marked(f"{START}{name}{STOP}")
    return marked(name)

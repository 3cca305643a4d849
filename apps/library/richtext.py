"""HTML that is safe to mark safe: annotation notes (Markdown) and formatted citations.

`sanitize()` is the only place bleach is called. Notes are rendered and sanitised once, on write
(`Annotation.save`), and only the sanitised copy is ever shown as HTML.
"""

import html
import re
from collections.abc import Iterable
from functools import cache, partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h3", "h4", "h5", "h6",
        "hr", "i", "kbd", "li", "ol", "p", "pre", "q", "s", "strong", "sub", "sup", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "abbr": ["title"], "q": ["cite"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})


def _external_link_rel(attrs: dict, new: bool = False) -> dict:
    href_key = (None, "href")
    if href_key in attrs and not attrs[href_key].startswith("mailto:"):
        attrs[(None, "rel")] = "nofollow noopener"
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_external_link_rel], skip_tags={"pre", "code"})],
)

# Raw HTML in Markdown is let through to the sanitiser rather than escaped, so that harmless
# inline tags (<sup>, <kbd>) work and everything else is removed in one place.
_markdown = MarkdownIt("commonmark", {"html": True, "breaks": True})


def sanitize(html: str, *, tags: Iterable[str] | None = None) -> str:
    """Keep only harmless formatting and http(s)/mailto links, with rel="nofollow noopener".

    `tags` narrows what is kept to those tags, without attributes or links (a formatted
    citation keeps only its italics and the like).
    """
    if tags is None:
        return _cleaner.clean(html)
    return _narrow_cleaner(frozenset(tags)).clean(html)


@cache
def _narrow_cleaner(tags: frozenset[str]) -> bleach.Cleaner:
    return bleach.Cleaner(tags=tags, attributes={}, strip=True, strip_comments=True)


def render_markdown(text: str) -> str:
    """Markdown to sanitised HTML."""
    if not text.strip():
        return ""
    return sanitize(_markdown.render(text)).strip()


def markdown_to_text(text: str) -> str:
    """What Markdown reads as, without its marks: "Defines *chain takfir*" → "Defines chain
    takfir", a link's words without its address. For snippets of notes, which show plain text
    (characters outside Markdown, like search's match markers, pass through)."""
    if not text.strip():
        return text
    plain = html.unescape(_narrow_cleaner(frozenset()).clean(_markdown.render(text)))
    # A snippet cut out of a note may open an emphasis it does not close ("… *others"): the
    # marks left over at a word's edge go too.
    plain = LOOSE_EMPHASIS.sub("", plain)
    return " ".join(plain.split())


LOOSE_EMPHASIS = re.compile(r"(?<![\w*_])[*_]+(?=\w)|(?<=\w)[*_]+(?![\w*_])")

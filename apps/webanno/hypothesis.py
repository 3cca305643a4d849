"""Annotations as Hypothesis' API returns them: one annotation, a list of them, or a search
response ({"total": …, "rows": […]}).

Each becomes an Item named by the page it was made on (its `uri`, the target's `source` and the
document's links, DOIs among them), placed by its quoted words and their context; Hypothesis'
character positions count the page's own text, not ours, so they are never used. The note is
kept as the Markdown it is, tags become concepts. Replies and page notes (no quoted words) have
no passage: they are skipped, and the import says how many.
"""

from __future__ import annotations

from typing import Any

from apps.webanno.items import (
    DEFAULT_LOCATOR,
    Item,
    SourceRef,
    WebAnnoError,
    add_concept,
    doi_in,
    text_field,
)

# Keys every annotation of Hypothesis' API has, and a W3C annotation has not.
HYPOTHESIS_KEYS = {"uri", "target", "user"}


def looks_like(parsed: Any) -> bool:
    """Whether the JSON document is Hypothesis API output (not a W3C Web Annotation)."""
    if isinstance(parsed, dict) and isinstance(parsed.get("rows"), list) and "total" in parsed:
        return True
    candidates = parsed if isinstance(parsed, list) else [parsed]
    first = next((c for c in candidates if isinstance(c, dict)), None)
    return first is not None and "@context" not in first and first.keys() >= HYPOTHESIS_KEYS


def raw_items(parsed: Any) -> list:
    if isinstance(parsed, dict) and isinstance(parsed.get("rows"), list):
        return parsed["rows"]
    return parsed if isinstance(parsed, list) else [parsed]


def read(parsed: Any, *, limits: dict) -> tuple[list[Item], list[str]]:
    """The annotations with a passage, and a line for each one skipped."""
    rows = raw_items(parsed)
    if not rows:
        raise WebAnnoError("The file holds no annotations.")
    if len(rows) > limits["items"]:
        raise WebAnnoError(
            f"The file holds {len(rows):,} annotations; at most {limits['items']:,} are imported "
            "at once. Split it and import the parts."
        )
    items, skipped = [], []
    for number, raw in enumerate(rows, start=1):
        where = f"Annotation {number}"
        if not isinstance(raw, dict):
            raise WebAnnoError(f"{where} is not a JSON object.")
        if isinstance(raw.get("id"), str):
            where += f" ({raw['id'][:100]})"
        if raw.get("references"):
            skipped.append(f"{where} is a reply to another annotation.")
            continue
        item = _item(raw, where, limits)
        if item is None:
            skipped.append(f"{where} is a page note: it quotes no words of the page.")
            continue
        items.append(item)
    if not items:
        raise WebAnnoError(
            "The file holds no annotation of a passage: "
            + " ".join(skipped[:3])
            + (" …" if len(skipped) > 3 else "")
        )
    return items, skipped


def _item(raw: dict, where: str, limits: dict) -> Item | None:
    targets = raw.get("target")
    targets = targets if isinstance(targets, list) else [targets]
    target = next((t for t in targets if isinstance(t, dict)), {})
    selectors = target.get("selector") or []
    if not isinstance(selectors, list):
        raise WebAnnoError(f"{where}: the target's selectors are not a list.")
    quote = next(
        (s for s in selectors if isinstance(s, dict) and s.get("type") == "TextQuoteSelector"),
        None,
    )
    exact = text_field((quote or {}).get("exact"), where, "the quote", limit=limits["quote"])
    if not exact.strip():
        return None  # a page note: no words of the page
    item = Item(where=where, source=_source(raw, target, where), quote=exact)
    item.origin = {"tool": "Hypothesis"}
    if isinstance(raw.get("id"), str):
        item.origin["id"] = raw["id"][:100]
    links = raw.get("links")
    html = links.get("html") if isinstance(links, dict) else None
    if isinstance(html, str) and html.startswith("https://") and len(html) <= 500:
        item.origin["url"] = html
    keep = limits["context"]
    item.prefix = text_field(quote.get("prefix"), where, "the prefix", limit=10**6)[-keep:]
    item.suffix = text_field(quote.get("suffix"), where, "the suffix", limit=10**6)[:keep]
    page = next(
        (s for s in selectors if isinstance(s, dict) and s.get("type") == "PageSelector"), None
    )
    if page is not None and page.get("label") is not None:
        label = str(page["label"])[: limits["page_label"]]
        item.page_label = label
        item.locator = f"p. {label}"[: limits["locator"]]
    else:
        item.locator = DEFAULT_LOCATOR
    item.note = text_field(raw.get("text"), where, "the note", limit=limits["note"])
    tags = raw.get("tags") or []
    if not isinstance(tags, list):
        raise WebAnnoError(f"{where}: its tags are not a list.")
    for tag in tags:
        add_concept(item, text_field(tag, where, "a tag", limit=limits["concept"]))
    return item


def _source(raw: dict, target: dict, where: str) -> SourceRef:
    """The page's addresses (its URI, the target's source, the document's links) and DOIs."""
    ref = SourceRef()
    document = raw.get("document") if isinstance(raw.get("document"), dict) else {}
    values: list[Any] = [raw.get("uri"), target.get("source")]
    links = document.get("link") or []
    if isinstance(links, list):
        values += [link.get("href") for link in links if isinstance(link, dict)]
    for scheme in ("highwire", "dc"):
        meta = document.get(scheme)
        if isinstance(meta, dict):
            for key in ("doi", "identifier"):
                found = meta.get(key) or []
                values += found if isinstance(found, list) else [found]
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > 2000:
            continue
        value = value.strip()
        doi = doi_in(value)
        if doi and doi not in ref.dois:
            ref.dois.append(doi)
        elif value.startswith(("http://", "https://")) and value not in ref.urls:
            ref.urls.append(value)
    if not ref.urls and not ref.dois:
        raise WebAnnoError(f"{where}: it names no web page or DOI to find its source by.")
    return ref

"""Highlights made in Zotero's PDF reader, as Zotero's Web API returns its items: a list of
{"key", "data": {"itemType": "annotation", "parentItem", "annotationText", …}} beside (when the
export holds them) the PDF attachments they were made on and the works those belong to.

Better BibTeX's shapes are unfolded into that list first: its JSON-RPC answer to
`item.attachments` (attachments, each with "open", "path" and its "annotations" in the Web
API's fields) and a Better BibTeX JSON export whose items' attachments carry their annotations
(the item's "citationKey" then names the work). The JSON-RPC answer does not say which work the
attachment belongs to: a source chosen on the import page takes those highlights.

An annotation names its attachment, which names its work: the work's DOI, URL, citation key
(Better BibTeX's "Citation Key:" line) or Zotero key find the source here. The highlighted
words place the passage; the page label is its locator, the comment its note, the tags its
concepts. Notes, images and ink drawings mark no words of the text and are skipped.
"""

from __future__ import annotations

import re
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

# Zotero keys are eight characters of this alphabet.
ZOTERO_KEY = re.compile(r"^[23456789ABCDEFGHIJKLMNPQRSTUVWXYZ]{8}$")
CITATION_KEY = re.compile(r"^\s*Citation Key:\s*(\S+)\s*$", re.MULTILINE | re.IGNORECASE)
MARKS_WORDS = {"highlight", "underline"}


def _data(item: Any) -> dict:
    if not isinstance(item, dict):
        return {}
    data = item.get("data")
    return data if isinstance(data, dict) else item


def looks_like(parsed: Any) -> bool:
    """A list of Zotero items among which at least one is an annotation."""
    return any(_data(item).get("itemType") == "annotation" for item in _rows(parsed))


def _rows(parsed: Any) -> list:
    """The file's Zotero items as one flat list, as the Web API gives them: each annotation
    naming its attachment (parentItem), each attachment its work."""
    if isinstance(parsed, dict) and "jsonrpc" in parsed and "result" in parsed:
        parsed = parsed["result"]  # Better BibTeX's JSON-RPC answer
    elif isinstance(parsed, dict) and isinstance(parsed.get("items"), list):
        parsed = parsed["items"]  # a Better BibTeX JSON export
    rows = parsed if isinstance(parsed, list) else [parsed]
    flat: list = []
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            flat.append(row)
        elif isinstance(row.get("annotations"), list):  # an attachment with its annotations
            flat.extend(_unfolded(row, work_key=None, number=number))
        elif isinstance(row.get("attachments"), list) and any(
            isinstance(a, dict) and isinstance(a.get("annotations"), list)
            for a in row["attachments"]
        ):
            work_key = str(row.get("itemKey") or row.get("key") or f"work-{number}")
            flat.append({**row, "key": work_key})
            for place, attached in enumerate(row["attachments"]):
                if isinstance(attached, dict) and isinstance(attached.get("annotations"), list):
                    flat.extend(_unfolded(attached, work_key=work_key, number=f"{number}-{place}"))
        else:
            flat.append(row)
    return flat


def _unfolded(attachment: dict, *, work_key: str | None, number) -> list:
    """An attachment of Better BibTeX's (its key in "itemKey", "key" or the end of its "open"
    link) and its annotations, as Web API rows."""
    opened = attachment.get("open")
    key = attachment.get("itemKey") or attachment.get("key")
    if not key and isinstance(opened, str):
        key = opened.rstrip("/").rpartition("/")[2]
    key = str(key or f"attachment-{number}")
    rows: list = [{"key": key, "itemType": "attachment", "parentItem": work_key}]
    for annotation in attachment["annotations"]:
        if isinstance(annotation, dict):
            rows.append({"itemType": "annotation", "parentItem": key, **annotation})
        else:
            rows.append(annotation)
    return rows


def read(parsed: Any, *, limits: dict) -> tuple[list[Item], list[str]]:
    rows = _rows(parsed)
    if len(rows) > limits["items"] * 3:
        raise WebAnnoError(
            f"The file holds {len(rows):,} Zotero items; split it and import the parts."
        )
    by_key = {}
    for row in rows:
        data = _data(row)
        key = data.get("key") or (row.get("key") if isinstance(row, dict) else None)
        if isinstance(key, str):
            by_key[key] = (row, data)
    annotations = [row for row in rows if _data(row).get("itemType") == "annotation"]
    if len(annotations) > limits["items"]:
        raise WebAnnoError(
            f"The file holds {len(annotations):,} annotations; at most {limits['items']:,} are "
            "imported at once. Split it and import the parts."
        )
    items, skipped = [], []
    for number, row in enumerate(annotations, start=1):
        data = _data(row)
        key = data.get("key") or row.get("key")
        where = f"Annotation {number}" + (f" ({key})" if isinstance(key, str) else "")
        kind = data.get("annotationType")
        if kind not in MARKS_WORDS:
            skipped.append(f"{where} is a Zotero {kind or 'annotation'} with no highlighted words.")
            continue
        text = text_field(
            data.get("annotationText"), where, "the highlighted text", limit=limits["quote"]
        )
        if not text.strip():
            skipped.append(f"{where} has no highlighted text (Zotero keeps none for it).")
            continue
        item = Item(where=where, source=_source(data, by_key, where), quote=text)
        label = data.get("annotationPageLabel")
        if isinstance(label, (str, int)) and str(label).strip():
            item.page_label = str(label).strip()[: limits["page_label"]]
            item.locator = f"p. {item.page_label}"[: limits["locator"]]
        else:
            item.locator = DEFAULT_LOCATOR
        item.note = text_field(
            data.get("annotationComment"), where, "the comment", limit=limits["note"]
        )
        tags = data.get("tags") or []
        if not isinstance(tags, list):
            raise WebAnnoError(f"{where}: its tags are not a list.")
        for tag in tags:
            name = tag.get("tag") if isinstance(tag, dict) else tag
            add_concept(item, text_field(name, where, "a tag", limit=limits["concept"]))
        item.origin = {"tool": "Zotero"}
        if isinstance(key, str):
            item.origin["id"] = key[:100]
        items.append(item)
    if not items:
        raise WebAnnoError(
            "The file holds no Zotero highlight with its words: " + " ".join(skipped[:3])
        )
    return items, skipped


def _source(data: dict, by_key: dict, where: str) -> SourceRef:
    """The work the annotation's attachment belongs to, by what the file says of it."""
    ref = SourceRef()
    attachment_key = data.get("parentItem")
    attachment = by_key.get(attachment_key, (None, {}))[1]
    work_key = attachment.get("parentItem") if attachment else None
    work = by_key.get(work_key, (None, {}))[1] if work_key else {}
    if work:
        doi = doi_in(str(work.get("DOI") or ""))
        if doi:
            ref.dois.append(doi)
        url = work.get("url")
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            ref.urls.append(url)
        found = CITATION_KEY.search(str(work.get("extra") or ""))
        if found:
            ref.keys.append(found.group(1))
        for name in ("citationKey", "citekey"):  # Better BibTeX's own field
            key = work.get(name)
            if isinstance(key, str) and key.strip() and key.strip() not in ref.keys:
                ref.keys.append(key.strip())
    # The work's Zotero key, as a bibliography imported from Zotero keeps it; without the
    # attachment in the file, the annotation's parent is all there is to try.
    for key in (work_key, attachment_key):
        if isinstance(key, str) and ZOTERO_KEY.match(key) and key not in ref.zotero_keys:
            ref.zotero_keys.append(key)
    if not (ref.dois or ref.urls or ref.keys or ref.zotero_keys):
        raise WebAnnoError(f"{where}: it names no attachment or work to find its source by.")
    return ref

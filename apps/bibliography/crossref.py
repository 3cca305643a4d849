"""Crossref REST API responses in: {"status": "ok", "message-type": "work", "message": {…}}
for one work, or "work-list" with `message.items` for a search or a list of DOIs.

A Crossref work is close to CSL-JSON but not it: titles and containers are lists, ISSN and
ISBN lists, names carry an ORCID URL and affiliations, abstracts are JATS. Each work is
turned into a CSL item and read as one; its subjects and the references it cites are kept
on the source (extra["crossref"]).
"""

from __future__ import annotations

from typing import Any

from apps.bibliography.csljson import items_to_entries
from apps.bibliography.records import Entry, FileError, entry_from_csl

# Crossref fields that are CSL variables already (lists are joined or their first value kept).
_FIRST = {"title", "container-title", "short-title", "collection-title", "original-title"}
_JOINED = {"ISSN", "ISBN"}
_AS_IS = {
    "type", "DOI", "URL", "publisher", "publisher-place", "page", "volume", "issue",
    "abstract", "language", "PMID", "edition", "genre", "number", "accessed",
}  # fmt: skip
_NAMES = {"author", "editor", "translator", "chair", "container-author", "collection-editor"}
_DATES = ("issued", "published-print", "published-online", "published", "created")
_KEPT = ("subject", "reference", "reference-count", "is-referenced-by-count")


def read_data(data: Any) -> list[Entry]:
    if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
        raise FileError("This Crossref response has no “message”: there is nothing to import.")
    if data.get("status") not in (None, "ok"):
        raise FileError(f"This Crossref response reports an error (status “{data['status']}”).")
    message = data["message"]
    works = message["items"] if isinstance(message.get("items"), list) else [message]
    return items_to_entries(works, entry_from_work, what="Crossref work")


def csl_from_work(work: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for key, value in work.items():
        if key in _FIRST:
            values = value if isinstance(value, list) else [value]
            values = [str(v) for v in values if v]
            if values:
                item[key] = values[0]
        elif key in _JOINED and value:
            item[key] = " ".join(value) if isinstance(value, list) else str(value)
        elif key in _AS_IS and value not in (None, "", []):
            item[key] = value
        elif key in _NAMES and isinstance(value, list):
            item[key] = [_name(name) for name in value if isinstance(name, dict)]
        elif key == "edition-number":
            item["edition"] = value
    subtitle = [s for s in work.get("subtitle") or [] if s]
    if subtitle and item.get("title") and subtitle[0] not in item["title"]:
        item["title"] = f"{item['title'].rstrip(':')}: {subtitle[0]}"
    for key in _DATES:
        if isinstance(work.get(key), dict) and work[key].get("date-parts") not in (None, [[None]]):
            item["issued"] = work[key]
            break
    return item


def _name(name: dict[str, Any]) -> dict[str, Any]:
    if name.get("name") and not name.get("family"):
        return {"literal": name["name"]}
    return {k: v for k, v in name.items() if k in {"family", "given", "suffix"} and v}


def entry_from_work(work: dict[str, Any], *, number: int) -> Entry:
    entry = entry_from_csl(csl_from_work(work), number=number)
    kept = {key: work[key] for key in _KEPT if work.get(key) not in (None, [], "")}
    if kept:
        entry.extra["crossref"] = kept
    return entry

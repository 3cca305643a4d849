"""CSL-JSON in and out: the format Zotero and citeproc share.

Read as tools write it: an array of items, one item alone (DOI content negotiation returns
one, without an `id`), or {"items": […]}; Crossref's types become CSL types and abstracts lose
their JATS markup (records.entry_from_csl).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from apps.bibliography.records import (
    MAX_ENTRIES,
    Entry,
    FileError,
    csl_from_source,
    entry_from_csl,
    load_json,
)
from apps.library.models import Source


def read(text: str) -> list[Entry]:
    return read_data(load_json(text))


def read_data(data: Any) -> list[Entry]:
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    elif isinstance(data, dict) and ("title" in data or "type" in data):
        data = [data]  # one item, as DOI content negotiation returns it
    if not isinstance(data, list):
        kind = {"dict": "an object without “type” or “title”", "str": "a string"}.get(
            type(data).__name__, type(data).__name__
        )
        raise FileError(
            "CSL-JSON is an array of items ([{…}, {…}]) or one item ({“type”: …, “title”: …}); "
            f"this file holds {kind} instead."
        )
    return items_to_entries(data, entry_from_csl, what="CSL item")


def items_to_entries(items: list, mapper, *, what: str) -> list[Entry]:
    """Each JSON item as an entry (an item that cannot be read is a rejected entry)."""
    if not items:
        raise FileError("The file's list of items is empty: there is nothing to import.")
    if len(items) > MAX_ENTRIES:
        raise FileError(
            f"The file holds {len(items):,} items; one import takes at most {MAX_ENTRIES:,}. "
            "Split it and import the parts."
        )
    entries = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            entries.append(Entry(number=number, error=f"it is not a {what} (a JSON object)"))
            continue
        try:
            entry = mapper(item, number=number)
        except (TypeError, ValueError, AttributeError, KeyError) as error:
            entry = Entry(number=number, error=f"a value could not be read ({error})")
        entry.check()
        entries.append(entry)
    return entries


def write(sources: Iterable[Source]) -> str:
    return "".join(pieces(sources))


def pieces(sources: Iterable[Source]) -> Iterator[str]:
    """What `json.dumps(items, indent=2)` writes for the list of items, an item at a time."""
    number = -1
    for number, source in enumerate(sources):
        # The item as a list of one writes it, indented as in the whole list.
        item = json.dumps([csl_from_source(source)], indent=2, ensure_ascii=False)[2:-2]
        yield ("[\n" if number == 0 else ",\n") + item
    yield "[]" if number < 0 else "\n]"

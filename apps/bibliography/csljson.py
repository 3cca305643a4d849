"""CSL-JSON in and out: an array of CSL items, the format Zotero and citeproc share."""

from __future__ import annotations

import json
from collections.abc import Iterable

from apps.bibliography.records import Entry, FileError, csl_from_source, entry_from_csl
from apps.library.models import Source


def read(text: str) -> list[Entry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FileError(
            f"This is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except RecursionError:
        raise FileError("This file's brackets are nested too deeply to be CSL-JSON.") from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise FileError(f"This is not valid CSL-JSON: {error}.") from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        kind = type(data).__name__.replace("dict", "an object").replace("str", "a string")
        raise FileError(
            f"CSL-JSON is an array of items ([{{…}}, {{…}}]); this file holds {kind} instead."
        )
    if not data:
        raise FileError("The CSL-JSON array is empty: there is nothing to import.")
    entries = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            entries.append(Entry(number=number, error="it is not a CSL item (a JSON object)"))
            continue
        try:
            entry = entry_from_csl(item, number=number)
        except (TypeError, ValueError, AttributeError) as error:
            entry = Entry(number=number, error=f"a variable could not be read ({error})")
        entry.check()
        entries.append(entry)
    return entries


def write(sources: Iterable[Source]) -> str:
    return json.dumps([csl_from_source(source) for source in sources], indent=2, ensure_ascii=False)

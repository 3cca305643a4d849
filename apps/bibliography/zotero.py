"""Zotero Web API JSON in: the items `GET /users/<id>/items?format=json` returns,
[{"key": …, "version": …, "data": {"itemType": …, "creators": […], …}}, …] (or the bare
`data` objects, as Zotero's own JSON export writes them).

Each item's fields become a CSL item (Zotero's own field → CSL variable map, abridged) and
are read as one; notes and attachments are not works and are left out. The item key, tags
and fields no variable holds are kept on the source (extra["zotero"]).
"""

from __future__ import annotations

import re
from typing import Any

from apps.bibliography.csljson import items_to_entries
from apps.bibliography.records import (
    Entry,
    FileError,
    clean_citation_key,
    entry_from_csl,
    name_parts,
)
from apps.library.models import SourceType

TYPES = {
    "journalArticle": SourceType.ARTICLE_JOURNAL,
    "book": SourceType.BOOK,
    "bookSection": SourceType.CHAPTER,
    "conferencePaper": SourceType.PAPER_CONFERENCE,
    "thesis": SourceType.THESIS,
    "report": SourceType.REPORT,
    "webpage": SourceType.WEBPAGE,
    "blogPost": SourceType.POST_WEBLOG,
    "forumPost": SourceType.POST,
    "magazineArticle": SourceType.ARTICLE_MAGAZINE,
    "newspaperArticle": SourceType.ARTICLE_NEWSPAPER,
    "encyclopediaArticle": SourceType.ENTRY_ENCYCLOPEDIA,
    "dictionaryEntry": SourceType.ENTRY_DICTIONARY,
    "manuscript": SourceType.MANUSCRIPT,
    "letter": SourceType.PERSONAL_COMMUNICATION,
    "email": SourceType.PERSONAL_COMMUNICATION,
    "instantMessage": SourceType.PERSONAL_COMMUNICATION,
    "interview": SourceType.INTERVIEW,
    "film": SourceType.MOTION_PICTURE,
    "videoRecording": SourceType.MOTION_PICTURE,
    "audioRecording": SourceType.SONG,
    "podcast": SourceType.SONG,
    "radioBroadcast": SourceType.BROADCAST,
    "tvBroadcast": SourceType.BROADCAST,
    "artwork": SourceType.GRAPHIC,
    "map": SourceType.MAP,
    "patent": SourceType.PATENT,
    "statute": SourceType.LEGISLATION,
    "bill": SourceType.BILL,
    "case": SourceType.LEGAL_CASE,
    "hearing": SourceType.HEARING,
    "presentation": SourceType.SPEECH,
    "document": SourceType.DOCUMENT,
    "computerProgram": SourceType.SOFTWARE,
    "dataset": SourceType.DATASET,
    "preprint": SourceType.ARTICLE,
    "standard": SourceType.STANDARD,
}
NOT_WORKS = {"note", "attachment", "annotation"}
# Zotero field -> CSL variable (the first one present wins for each variable).
FIELDS = {
    "title": "title",
    "shortTitle": "title-short",
    "publicationTitle": "container-title",
    "bookTitle": "container-title",
    "proceedingsTitle": "container-title",
    "websiteTitle": "container-title",
    "blogTitle": "container-title",
    "forumTitle": "container-title",
    "encyclopediaTitle": "container-title",
    "dictionaryTitle": "container-title",
    "programTitle": "container-title",
    "series": "collection-title",
    "seriesTitle": "collection-title",
    "publisher": "publisher",
    "university": "publisher",
    "institution": "publisher",
    "label": "publisher",
    "company": "publisher",
    "studio": "publisher",
    "network": "publisher",
    "distributor": "publisher",
    "place": "publisher-place",
    "volume": "volume",
    "issue": "issue",
    "pages": "page",
    "edition": "edition",
    "language": "language",
    "abstractNote": "abstract",
    "url": "URL",
    "DOI": "DOI",
    "ISBN": "ISBN",
    "ISSN": "ISSN",
    "thesisType": "genre",
    "reportType": "genre",
    "websiteType": "genre",
    "genre": "genre",
    "manuscriptType": "genre",
    "letterType": "genre",
    "presentationType": "genre",
    "reportNumber": "number",
}
ROLES = {
    "author": "author",
    "editor": "editor",
    "translator": "translator",
    "seriesEditor": "collection-editor",
    "bookAuthor": "container-author",
    "contributor": "contributor",
    "director": "director",
    "interviewer": "interviewer",
    "recipient": "recipient",
    "reviewedAuthor": "reviewed-author",
    "illustrator": "illustrator",
}
# Zotero's housekeeping, not data about the work.
_HOUSEKEEPING = {
    "key", "version", "itemType", "creators", "tags", "collections", "relations",
    "dateAdded", "dateModified", "date", "accessDate", "extra", "parentItem",
}  # fmt: skip
_CITATION_KEY = re.compile(r"^\s*Citation Key:\s*(\S+)\s*$", re.I | re.M)


def read_data(data: Any) -> list[Entry]:
    items = data if isinstance(data, list) else [data]
    works = []
    for item in items:
        fields = item.get("data", item) if isinstance(item, dict) else item
        if isinstance(fields, dict) and fields.get("itemType") in NOT_WORKS:
            continue
        works.append(item)
    if items and not works:
        raise FileError("These Zotero items are notes and attachments only: no work to import.")
    return items_to_entries(works, entry_from_item, what="Zotero item")


def entry_from_item(item: dict[str, Any], *, number: int) -> Entry:
    fields = item.get("data", item)
    if not isinstance(fields, dict) or "itemType" not in fields:
        raise ValueError("it has no itemType")
    csl: dict[str, Any] = {"type": TYPES.get(fields["itemType"], SourceType.DOCUMENT)}
    rest: dict[str, Any] = {}
    for name, value in fields.items():
        if value in ("", None, [], {}):
            continue
        variable = FIELDS.get(name)
        if variable and variable not in csl:
            csl[variable] = value
        elif name not in _HOUSEKEEPING and not variable:
            rest[name] = value
    if fields.get("date"):
        csl["issued"] = {"raw": str(fields["date"])}
    if fields.get("accessDate"):
        csl["accessed"] = {"raw": str(fields["accessDate"])[:10]}
    entry = entry_from_csl(csl, number=number)
    for creator in fields.get("creators") or []:
        if not isinstance(creator, dict):
            continue
        if creator.get("name"):
            name = {"literal": " ".join(str(creator["name"]).split())}
        else:
            name = name_parts(creator.get("lastName", ""), creator.get("firstName", ""))
        if name:
            entry.names.append((ROLES.get(creator.get("creatorType"), "contributor"), name))
    note = str(fields.get("extra") or "")
    key = _CITATION_KEY.search(note)
    if key:
        entry.key = clean_citation_key(key.group(1))
        note = _CITATION_KEY.sub("", note).strip()
    if fields.get("itemType") not in TYPES:
        rest["itemType"] = fields["itemType"]
    if note:
        rest["extra"] = note
    if fields.get("tags"):
        rest["tags"] = [t.get("tag") for t in fields["tags"] if isinstance(t, dict)]
    if item.get("key") or fields.get("key"):
        rest["key"] = item.get("key") or fields.get("key")
    if rest:
        entry.extra["zotero"] = rest
    return entry

"""Annotations as W3C Web Annotations (JSON-LD), out and in.

Out: an AnnotationCollection whose one AnnotationPage holds every annotation the member may see,
written as it is read. Each annotation stands alone: it carries its own `@context` and is valid
against the Web Annotation data model. What a resource is (a source, a claim, a person) is an
IRI where the model wants one: a source's DOI URL, else its URL, else its page here. What
describes it is beside it, in a node with the same id (`sourceDescription`).
In: that file (or an AnnotationPage, one Annotation, a JSON list of them), in the shape it has
now or had before; every item becomes a draft of the importer, all or nothing (items.py).

What the Web Annotation vocabulary has no word for is in our own vocabulary, declared in the
context document the site serves at /ns/citemap.jsonld (the second `@context`):

- on an annotation: `reviewStatus` (draft, submitted, approved…);
- on its target: `locator` ("¶12", "p. 14"), `pageLabel` (the printed page), `pageIndex`,
  `anchorState` and `anchorScore` (how the quote sits in the source's current text);
- on a specific resource (the target, a linking body): `sourceDescription`, the node that
  describes its source: a source's title, `citationKey`, identifiers and language; a claim's
  statement (`value`); a person's `name`;
- on a linking body: `stance` for a claim (type `Claim`), `function` and the cited `work` for a
  person.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any
from urllib.parse import quote as url_quote

from django.db import connection, transaction
from django.db.models import F

from apps.annotations.forms import MAX_NOTE_LENGTH
from apps.annotations.models import (
    MAX_QUOTE_LENGTH,
    Annotation,
    AnnotationQuerySet,
    Evidence,
    Mention,
    MentionFunction,
    Stance,
)
from apps.library.models import IdentifierScheme, Source, SourceIdentifier
from apps.people.models import NAME_MAX
from apps.webanno import hypothesis, zotero
from apps.webanno.items import (
    DEFAULT_LOCATOR,
    ClaimLink,
    Item,
    PersonLink,
    Site,
    SourceRef,
    WebAnnoError,
    add_concept,
    doi_in,
    text_field,
)

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
# The Web Annotation Protocol's media type: JSON-LD with the annotation profile.
CONTENT_TYPE = f'application/ld+json; profile="{ANNO_CONTEXT}"'
MAX_FILE_BYTES = 20 * 1024 * 1024
# Each item is a dozen queries to write; larger files are split.
MAX_ITEMS = 5000
MAX_STATEMENT_LENGTH = 5000
CONTEXT_KEEP = 200  # Annotation.prefix/suffix max_length
LOCATOR_MAX = 60
PAGE_LABEL_MAX = 30
CONCEPT_NAME_MAX = 200
MAX_PAGE_INDEX = 1_000_000
# Annotations read per query (their links are read for a batch at a time).
BATCH = 500

# Our terms, in the vocabulary under Site.vocab.
TERMS = [
    "reviewStatus", "locator", "pageLabel", "pageIndex", "anchorState", "anchorScore",
    "citationKey", "stance", "function", "Claim",
]  # fmt: skip
# Terms whose values are nodes (or their IRIs).
NODE_TERMS = ["sourceDescription", "work"]


# --- Export ---------------------------------------------------------------------------------


def context_document(site: Site) -> dict:
    """Our terms as a JSON-LD context, served at Site.context_url."""
    terms: dict[str, Any] = {"cm": site.vocab, **{term: f"cm:{term}" for term in TERMS}}
    for term in NODE_TERMS:
        terms[term] = {"@id": f"cm:{term}", "@type": "@id"}
    return {"@context": terms}


def context(site: Site) -> list[str]:
    return [ANNO_CONTEXT, site.context_url]


def iter_collection(
    annotations: AnnotationQuerySet,
    *,
    site: Site,
    url: str,
    label: str,
    progress: Callable[[int], None] = lambda done: None,
) -> Iterator[str]:
    """The annotations as one AnnotationCollection, written as they are read.

    On PostgreSQL they are read from one snapshot (the count and every batch agree); the
    links of each batch are read for that batch only, so no query names every annotation.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from _collection(annotations, site=site, url=url, label=label, progress=progress)
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield from _collection(annotations, site=site, url=url, label=label, progress=progress)


def _collection(
    annotations: AnnotationQuerySet,
    *,
    site: Site,
    url: str,
    label: str,
    progress: Callable[[int], None],
) -> Iterator[str]:
    head = {
        "@context": context(site),
        "id": url,
        "type": "AnnotationCollection",
        "label": label,
        "first": {"id": f"{url}#page-1", "type": "AnnotationPage", "startIndex": 0},
    }
    # The page stays open for its items; the total follows them (so the first bytes leave
    # before any query has run).
    yield json.dumps(head, ensure_ascii=False)[:-2] + ', "items": ['
    rows = (
        annotations.order_by(
            "source__citation_key", F("start").asc(nulls_last=True), "created_at", "pk"
        )
        .values(*ANNOTATION_VALUES)
        .iterator(chunk_size=BATCH)
    )
    sources = _Sources(site)
    written = 0
    while batch := list(islice(rows, BATCH)):
        lines = [
            json.dumps(item, ensure_ascii=False)
            for item in annotation_items(batch, site, sources=sources)
        ]
        yield ("\n" if not written else ",\n") + ",\n".join(lines)
        written += len(batch)
        progress(written)
    yield ("\n" if written else "") + f']}}, "total": {written}}}\n'


# What an exported annotation shows of its row.
ANNOTATION_VALUES = [
    "pk", "source_id", "status", "quote", "prefix", "suffix", "start", "end", "page_label",
    "page_index", "locator", "anchor_state", "anchor_score", "note", "created_at", "updated_at",
    "author__username", "author__first_name", "author__last_name",
]  # fmt: skip


class _Links:
    """The claims, people and concepts of a batch of annotations, by annotation id: read in
    three queries that name the batch's ids only."""

    def __init__(self, pks: list[int]) -> None:
        self.evidence: dict[int, list] = {}
        self.mentions: dict[int, list] = {}
        self.concepts: dict[int, list] = {}
        for annotation, *row in Evidence.objects.filter(annotation_id__in=pks).values_list(
            "annotation_id", "claim_id", "claim__statement", "stance"
        ):
            self.evidence.setdefault(annotation, []).append(row)
        for annotation, *row in Mention.objects.filter(annotation_id__in=pks).values_list(
            "annotation_id", "person_id", "person__display_name", "function", "work_id"
        ):
            self.mentions.setdefault(annotation, []).append(row)
        coding = Annotation.concepts.through.objects.filter(annotation_id__in=pks)
        for annotation, name in coding.order_by("concept__name", "concept_id").values_list(
            "annotation_id", "concept__name"
        ):
            self.concepts.setdefault(annotation, []).append(name)
        self.works = {row[3] for rows in self.mentions.values() for row in rows} - {None}


class _Sources:
    """The description of each source a batch names (annotated, or cited as a work), read a
    batch at a time; the last batch's stay, since annotations come in source order."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.described: dict[int, dict] = {}

    def load(self, pks: set[int]) -> None:
        wanted = pks - set(self.described)
        self.described = {pk: self.described[pk] for pk in pks - wanted}
        if not wanted:
            return
        identifiers: dict[int, list[tuple[str, str]]] = {}
        for source, scheme, value in (
            SourceIdentifier.objects.filter(source_id__in=wanted)
            .order_by("source_id", "scheme", "value")
            .values_list("source_id", "scheme", "value")
        ):
            identifiers.setdefault(source, []).append((scheme, value))
        for pk, title, key, language, url in Source.objects.filter(pk__in=wanted).values_list(
            "pk", "title", "citation_key", "language", "url"
        ):
            self.described[pk] = _source(
                self.site, pk, title, key, language, url, identifiers.get(pk, [])
            )

    def __getitem__(self, pk: int) -> dict:
        return self.described[pk]


def annotation_items(
    rows: list[dict], site: Site, *, sources: _Sources | None = None
) -> list[dict]:
    """These annotations (rows with ANNOTATION_VALUES) as Web Annotations: their links and the
    sources they name are read in four queries for all of them (the file's batches, the
    API's pages)."""
    links = _Links([row["pk"] for row in rows])
    if sources is None:
        sources = _Sources(site)
    sources.load({row["source_id"] for row in rows} | links.works)
    return [annotation_item(row, links, sources, site) for row in rows]


def annotation_item(row: dict, links: _Links, sources: _Sources, site: Site) -> dict:
    pk = row["pk"]
    evidence = links.evidence.get(pk, [])
    mentions = links.mentions.get(pk, [])
    concepts = links.concepts.get(pk, [])
    motivations = ["commenting" if row["note"] else "highlighting"]
    if evidence or mentions:
        motivations.append("linking")
    if concepts:
        motivations.append("tagging")
    item = {
        "@context": context(site),
        "id": site.url("annotations:annotation_detail", pk),
        "type": "Annotation",
        "motivation": motivations[0] if len(motivations) == 1 else motivations,
        "creator": _creator(row, site),
        "created": _when(row["created_at"]),
        "modified": _when(row["updated_at"]),
        "reviewStatus": row["status"],
        "target": _target(row, sources[row["source_id"]]),
    }
    bodies = _bodies(row, evidence, mentions, concepts, sources, site)
    if bodies:
        item["body"] = bodies
    return item


def _when(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _creator(row: dict, site: Site) -> dict:
    username = row["author__username"]
    name = f"{row['author__first_name']} {row['author__last_name']}".strip()
    return {
        "id": f"{site.url('accounts:member_list')}#{url_quote(username)}",
        "type": "Person",
        "name": name or username,
        "nickname": username,
    }


def _target(row: dict, described: dict) -> dict:
    quote = {"type": "TextQuoteSelector", "exact": row["quote"]}
    if row["prefix"]:
        quote["prefix"] = row["prefix"]
    if row["suffix"]:
        quote["suffix"] = row["suffix"]
    selectors = [quote]
    if row["start"] is not None and row["end"] is not None:
        selectors.append({"type": "TextPositionSelector", "start": row["start"], "end": row["end"]})
    target = {
        "type": "SpecificResource",
        "source": described["id"],
        "selector": selectors,
        "locator": row["locator"],
        "anchorState": row["anchor_state"],
    }
    if row["page_label"]:
        target["pageLabel"] = row["page_label"]
    if row["page_index"] is not None:
        target["pageIndex"] = row["page_index"]
    if row["anchor_score"] is not None:
        target["anchorScore"] = row["anchor_score"]
    target["sourceDescription"] = described
    return target


def source_iri(site: Site, pk: int, url: str, identifiers: list[tuple[str, str]]) -> str:
    """The source's DOI URL, else its URL, else its page here."""
    for scheme, value in identifiers:
        if scheme == IdentifierScheme.DOI:
            # Percent-encoded where a DOI holds what an IRI may not (<, >, spaces…).
            return "https://doi.org/" + url_quote(value, safe="/;:@&=+$,!~*'()[]")
    return url or site.url("xref:source_detail", pk)


def _source(
    site: Site,
    pk: int,
    title: str,
    key: str,
    language: str,
    url: str,
    identifiers: list[tuple[str, str]],
) -> dict:
    described = {
        "id": source_iri(site, pk, url, identifiers),
        "type": "Text",
        "dcterms:title": title,
        "citationKey": key,
        "dcterms:identifier": [
            key,
            site.url("xref:source_detail", pk),
            *(_identifier(scheme, value) for scheme, value in identifiers),
        ],
    }
    if language:
        described["language"] = language
    return described


def _identifier(scheme: str, value: str) -> str:
    return SourceIdentifier(scheme=scheme, value=value).link or f"{scheme}:{value}"


def _bodies(
    row: dict,
    evidence: list,
    mentions: list,
    concepts: list[str],
    sources: _Sources,
    site: Site,
) -> list[dict]:
    bodies = []
    if row["note"]:
        bodies.append(
            {
                "type": "TextualBody",
                "value": row["note"],
                "format": "text/markdown",
                "purpose": "commenting",
            }
        )
    for claim, statement, stance in evidence:
        iri = site.url("xref:claim_detail", claim)
        bodies.append(
            {
                "type": "SpecificResource",
                "purpose": "linking",
                "source": iri,
                "stance": stance,
                "sourceDescription": {"id": iri, "type": "Claim", "value": statement},
            }
        )
    for person, name, function, work in mentions:
        iri = site.url("xref:person_detail", person)
        body = {
            "type": "SpecificResource",
            "purpose": "linking",
            "source": iri,
            "function": function,
            "sourceDescription": {"id": iri, "type": "Person", "name": name},
        }
        if work is not None:
            body["work"] = sources[work]
        bodies.append(body)
    bodies += [{"type": "TextualBody", "purpose": "tagging", "value": name} for name in concepts]
    return bodies


# --- Import: reading the file ---------------------------------------------------------------


# --- Import: reading the file ---------------------------------------------------------------


class Items(list):
    """The annotations read from a file, with a line for each one it holds but Citemap skips
    (a reply, a page note)."""

    skipped: list[str]

    def __init__(self, items=(), skipped: list[str] | None = None) -> None:
        super().__init__(items)
        self.skipped = skipped or []


# What one annotation of Hypothesis or Zotero may hold, as for a W3C one.
OTHER_TOOLS_LIMITS = {
    "items": MAX_ITEMS,
    "quote": MAX_QUOTE_LENGTH,
    "context": CONTEXT_KEEP,
    "note": MAX_NOTE_LENGTH,
    "page_label": PAGE_LABEL_MAX,
    "locator": LOCATOR_MAX,
    "concept": CONCEPT_NAME_MAX,
}


def read_items(data: bytes) -> Items:
    """The file's annotations, checked; WebAnnoError for the first problem found. W3C Web
    Annotations (Citemap's, Hypothesis' W3C form, other tools'), Hypothesis' API JSON, or
    Zotero's annotation items (Web API JSON)."""
    parsed = _parse_json(data)
    for tool in (hypothesis, zotero):
        if tool.looks_like(parsed):
            items, skipped = tool.read(parsed, limits=OTHER_TOOLS_LIMITS)
            return Items(items, skipped)
    raws = _raw_items(parsed)
    return Items(parse_item(raw, number) for number, raw in enumerate(raws, start=1))


def _parse_json(data: bytes) -> Any:
    if len(data) > MAX_FILE_BYTES:
        raise WebAnnoError(
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES // 1_048_576} MB. Split it and import the parts."
        )
    if not data.strip():
        raise WebAnnoError("The file is empty.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WebAnnoError("The file is not UTF-8 text (a binary file?).") from None
    if "\x00" in text:
        raise WebAnnoError("The file is not text: it holds NUL bytes (a binary file?).")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise WebAnnoError(
            f"The file is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except (ValueError, RecursionError) as error:  # numbers too long, nesting too deep
        raise WebAnnoError(f"The file is not valid JSON: {error}.") from None
    _check_characters(parsed)
    return parsed


def _check_characters(parsed: Any) -> None:
    """Refuse what JSON escapes can bring in but no text column keeps: NUL characters and lone
    surrogates."""
    stack = [parsed]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack += [*node.keys(), *node.values()]
        elif isinstance(node, list):
            stack += node
        elif isinstance(node, str):
            if "\x00" in node:
                raise WebAnnoError("The file holds a NUL character, which no text can keep.")
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise WebAnnoError(
                    "The file holds an invalid character (a lone surrogate)."
                ) from None


def _raw_items(parsed: Any) -> list:
    """The annotation objects of a collection, a page, one annotation or a list of them."""
    if isinstance(parsed, list):
        for number, raw in enumerate(parsed, start=1):
            if not isinstance(raw, dict) or not _has_anno_context(raw):
                raise WebAnnoError(
                    f"Annotation {number} is neither a W3C Web Annotation (it has no @context "
                    f"“{ANNO_CONTEXT}”) nor a Hypothesis or Zotero annotation."
                )
        items = parsed
    elif isinstance(parsed, dict) and _has_anno_context(parsed):
        items = _items_of(parsed)
    else:
        raise WebAnnoError(
            f"This is neither a W3C Web Annotation file (its @context does not include "
            f"“{ANNO_CONTEXT}”) nor annotations from Hypothesis' API or Zotero."
        )
    if not items:
        raise WebAnnoError("The file holds no annotations.")
    if len(items) > MAX_ITEMS:
        raise WebAnnoError(
            f"The file holds {len(items):,} annotations; at most {MAX_ITEMS:,} are imported at "
            "once. Split it and import the parts."
        )
    return items


def _items_of(document: dict) -> list:
    types = _types(document)
    if "Annotation" in types:
        return [document]
    page = document.get("first") if "AnnotationCollection" in types else document
    if "AnnotationCollection" in types and not isinstance(page, dict):
        raise WebAnnoError(
            "The collection does not include its first page (“first” is not an object); "
            "export it with its annotations inline."
        )
    if "AnnotationCollection" not in types and "AnnotationPage" not in types:
        raise WebAnnoError(
            "This is not an Annotation, AnnotationPage or AnnotationCollection (its “type” "
            f"is {', '.join(sorted(types)) or 'missing'})."
        )
    if page.get("next"):
        raise WebAnnoError(
            "The annotations continue on further pages (“next”); export them as one page."
        )
    items = page.get("items")
    if not isinstance(items, list):
        raise WebAnnoError("The annotation page has no list of “items”.")
    return items


def _has_anno_context(document: dict) -> bool:
    contexts = document.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    return any(
        isinstance(c, str)
        and c.rstrip("/") in {ANNO_CONTEXT, ANNO_CONTEXT.replace("http:", "https:")}
        for c in contexts
    )


def _types(node: Any) -> set[str]:
    if not isinstance(node, dict):
        return set()
    value = node.get("type", node.get("@type"))
    values = value if isinstance(value, list) else [value]
    return {v for v in values if isinstance(v, str)}


def _node_id(node: Any) -> str:
    if isinstance(node, str):
        return node
    value = node.get("id", node.get("@id")) if isinstance(node, dict) else None
    return value if isinstance(value, str) else ""


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_item(raw: Any, number: int) -> Item:
    """One annotation of the file as an Item; WebAnnoError naming it when it is malformed."""
    where = f"Annotation {number}"
    if not isinstance(raw, dict):
        raise WebAnnoError(f"{where} is not a JSON object.")
    if _node_id(raw):
        where += f" ({_node_id(raw)[:200]})"
    if "Annotation" not in _types(raw):
        raise WebAnnoError(f"{where}: its type is not “Annotation”.")
    target = _target_of(raw, where)
    item = Item(where=where, source=_source_ref(target["source"], _described(target)), quote="")
    item.origin = {"tool": "W3C Web Annotation"}
    if _node_id(raw):
        item.origin["id"] = _node_id(raw)[:500]
        if _node_id(raw).startswith(("https://", "http://")):
            item.origin["url"] = _node_id(raw)[:500]
    _read_selectors(item, _as_list(target.get("selector")))
    _read_places(item, target)
    for body in [*_as_list(raw.get("body")), *_body_value(raw)]:
        _read_body(item, body)
    item.note = text_field(item.note, where, "the note", limit=MAX_NOTE_LENGTH)
    return item


def _target_of(raw: dict, where: str) -> dict:
    targets = _as_list(raw.get("target"))
    if not targets:
        raise WebAnnoError(f"{where}: no target (the passage it annotates).")
    if len(targets) > 1:
        raise WebAnnoError(f"{where}: {len(targets)} targets; a Citemap annotation has one.")
    if not isinstance(targets[0], dict) or not targets[0].get("source"):
        raise WebAnnoError(f"{where}: the target names no source and selectors.")
    return targets[0]


def _described(resource: dict) -> dict:
    """What a file says of a specific resource's source: the source itself when it is a node
    (as Citemap wrote it before, and other tools may), else its `sourceDescription`."""
    source = resource.get("source")
    if isinstance(source, dict):
        return source
    description = resource.get("sourceDescription")
    if isinstance(description, dict) and _node_id(description) in ("", source):
        return description
    return {}


def _source_ref(source: Any, description: dict) -> SourceRef:
    """The IRIs, citation keys and DOIs by which a source (or a cited work) is named."""
    ref = SourceRef()
    values = [_node_id(source), description.get("citationKey")]
    for value in [*values, *_as_list(description.get("dcterms:identifier"))]:
        if not isinstance(value, str) or not value.strip():
            continue
        value = value.strip()
        doi = doi_in(value)
        if doi:
            ref.dois.append(doi)
        if value.startswith(("http://", "https://")):
            if value not in ref.urls:
                ref.urls.append(value)
        elif not doi and value not in ref.keys:
            ref.keys.append(value)
    return ref


def _read_selectors(item: Item, selectors: list) -> None:
    by_type = {}
    for selector in selectors:
        for kind in _types(selector):
            by_type.setdefault(kind, selector)
    quote = by_type.get("TextQuoteSelector", {})
    item.quote = text_field(quote.get("exact"), item.where, "the quote", limit=MAX_QUOTE_LENGTH)
    if not item.quote.strip():
        raise WebAnnoError(f"{item.where}: no TextQuoteSelector with the quoted words (“exact”).")
    # Our fields keep the nearest characters of longer contexts.
    prefix = text_field(quote.get("prefix"), item.where, "the prefix", limit=10**6)
    suffix = text_field(quote.get("suffix"), item.where, "the suffix", limit=10**6)
    item.prefix, item.suffix = prefix[-CONTEXT_KEEP:], suffix[:CONTEXT_KEEP]
    if "TextPositionSelector" in by_type:
        item.start, item.end = _position(by_type["TextPositionSelector"], item.where)
    # A PDF fragment (RFC 3778) "page=14", as PDF annotation tools write it.
    fragment = by_type.get("FragmentSelector", {}).get("value")
    if isinstance(fragment, str) and fragment.startswith("page="):
        item.page_label = fragment.removeprefix("page=")[:PAGE_LABEL_MAX]


def _position(selector: dict, where: str) -> tuple[int, int]:
    start, end = selector.get("start"), selector.get("end")
    if not all(type(value) is int for value in (start, end)):
        raise WebAnnoError(f"{where}: the TextPositionSelector's start and end are not integers.")
    if start < 0 or end <= start:
        raise WebAnnoError(
            f"{where}: the TextPositionSelector ({start}–{end}) is not a stretch of text."
        )
    return start, end


def _read_places(item: Item, target: dict) -> None:
    """Our terms for where the passage is: the page and the locator (required by Citemap)."""
    page = target.get("pageLabel")
    if type(page) is int:
        page = str(page)
    if page is not None:
        item.page_label = text_field(page, item.where, "the page label", limit=PAGE_LABEL_MAX)
    index = target.get("pageIndex")
    if index is not None:
        if type(index) is not int or not 0 <= index <= MAX_PAGE_INDEX:
            raise WebAnnoError(f"{item.where}: the page index is not a whole number.")
        item.page_index = index
    locator = text_field(
        target.get("locator"), item.where, "the locator", limit=LOCATOR_MAX
    ).strip()
    item.locator = locator or item.page_label.strip() or DEFAULT_LOCATOR


def _body_value(raw: dict) -> list[dict]:
    """The `bodyValue` shorthand as the note it is."""
    value = raw.get("bodyValue")
    return [{"type": "TextualBody", "value": value}] if value is not None else []


def _read_body(item: Item, body: Any) -> None:
    if not isinstance(body, dict) or not ("source" in body or "value" in body):
        raise WebAnnoError(
            f"{item.where}: a body Citemap cannot keep (only notes, tags and links to claims "
            "and people)."
        )
    if "source" in body:
        _read_link(item, body)
    elif "tagging" in _as_list(body.get("purpose")):
        add_concept(item, text_field(body["value"], item.where, "a tag", limit=CONCEPT_NAME_MAX))
    else:
        # Commenting, or any other textual body (describing, replying…): the note.
        note = text_field(body["value"], item.where, "the note", limit=MAX_NOTE_LENGTH)
        item.note = f"{item.note}\n\n{note}" if item.note else note


def _read_link(item: Item, body: dict) -> None:
    source = body["source"]
    described = _described(body)
    if "stance" in body or "Claim" in _types(described):
        stance = _choice(body.get("stance", Stance.ASSERTS), Stance, item.where, "stance")
        statement = text_field(
            described.get("value"), item.where, "a claim", limit=MAX_STATEMENT_LENGTH
        )
        statement = " ".join(statement.split())
        item.claims.append(ClaimLink(url=_node_id(source), statement=statement, stance=stance))
    elif "function" in body or "Person" in _types(described):
        function = _choice(
            body.get("function", MentionFunction.MENTIONING),
            MentionFunction,
            item.where,
            "function",
        )
        name = text_field(described.get("name"), item.where, "a person's name", limit=NAME_MAX)
        work = body.get("work")
        work = _source_ref(work, work if isinstance(work, dict) else {}) if work else None
        item.people.append(
            PersonLink(url=_node_id(source), name=name, function=function, work=work)
        )
    else:
        raise WebAnnoError(
            f"{item.where}: a link to {_node_id(source) or 'something'} that is neither a claim "
            "(with a stance) nor a person (with a function)."
        )


def _choice(value: Any, choices: type, where: str, what: str) -> str:
    if value not in choices.values:
        raise WebAnnoError(
            f"{where}: the {what} “{value}” is not one of {', '.join(choices.values)}."
        )
    return value

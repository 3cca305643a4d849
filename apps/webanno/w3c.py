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
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import unquote as url_unquote

from django.db import connection, transaction
from django.db.models import F, Prefetch

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
from apps.claims.models import Concept
from apps.library.identifiers import normalise_identifier
from apps.library.models import IdentifierScheme, Source, SourceIdentifier, source_texts
from apps.people.models import NAME_MAX
from apps.webanno.items import (
    DEFAULT_LOCATOR,
    ClaimLink,
    Item,
    PersonLink,
    Site,
    SourceRef,
    WebAnnoError,
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


def export_queryset(annotations: AnnotationQuerySet) -> AnnotationQuerySet:
    """What an exported annotation shows, a fixed number of queries per batch, in text order."""
    works = Source.objects.defer(*source_texts()).prefetch_related("identifiers")
    return (
        annotations.select_related("source", "author")
        .defer(*source_texts("source__"))
        .prefetch_related(
            "source__identifiers",
            Prefetch("evidence", queryset=Evidence.objects.select_related("claim")),
            Prefetch(
                "mentions",
                queryset=Mention.objects.select_related("person").prefetch_related(
                    Prefetch("work", queryset=works)
                ),
            ),
            Prefetch("concepts", queryset=Concept.objects.only("id", "name")),
        )
        .order_by("source__citation_key", F("start").asc(nulls_last=True), "created_at", "pk")
    )


def context_document(site: Site) -> dict:
    """Our terms as a JSON-LD context, served at Site.context_url."""
    terms: dict[str, Any] = {"cm": site.vocab, **{term: f"cm:{term}" for term in TERMS}}
    for term in NODE_TERMS:
        terms[term] = {"@id": f"cm:{term}", "@type": "@id"}
    return {"@context": terms}


def context(site: Site) -> list[str]:
    return [ANNO_CONTEXT, site.context_url]


def iter_collection(
    annotations: AnnotationQuerySet, *, site: Site, url: str, label: str
) -> Iterator[str]:
    """The annotations as one AnnotationCollection, written as they are read.

    On PostgreSQL they are read from one snapshot (the count and every batch agree); the
    links of each batch are read for that batch only, so no query names every annotation.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from _collection(annotations, site=site, url=url, label=label)
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield from _collection(annotations, site=site, url=url, label=label)


def _collection(
    annotations: AnnotationQuerySet, *, site: Site, url: str, label: str
) -> Iterator[str]:
    total = annotations.count()
    head = {
        "@context": context(site),
        "id": url,
        "type": "AnnotationCollection",
        "label": label,
        "total": total,
        "first": {"id": f"{url}#page-1", "type": "AnnotationPage", "startIndex": 0},
    }
    opening = json.dumps(head, ensure_ascii=False)
    yield opening[:-2] + ', "items": ['  # the page stays open for its items
    lines = []
    written = 0
    for annotation in export_queryset(annotations).iterator(chunk_size=BATCH):
        lines.append(json.dumps(annotation_item(annotation, site), ensure_ascii=False))
        written += 1
        if len(lines) == BATCH:
            yield ("\n" if written == BATCH else ",\n") + ",\n".join(lines)
            lines = []
    if lines:
        yield ("\n" if written == len(lines) else ",\n") + ",\n".join(lines)
    yield ("\n" if written else "") + "]}}\n"


def annotation_item(annotation: Annotation, site: Site) -> dict:
    item = {
        "@context": context(site),
        "id": site.url("annotations:annotation_detail", annotation.pk),
        "type": "Annotation",
        "motivation": _motivation(annotation),
        "creator": _creator(annotation.author, site),
        "created": _when(annotation.created_at),
        "modified": _when(annotation.updated_at),
        "reviewStatus": annotation.status,
        "target": _target(annotation, site),
    }
    bodies = _bodies(annotation, site)
    if bodies:
        item["body"] = bodies
    return item


def _when(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _motivation(annotation: Annotation) -> str | list[str]:
    motivations = ["commenting" if annotation.note else "highlighting"]
    if annotation.evidence.all() or annotation.mentions.all():
        motivations.append("linking")
    if annotation.concepts.all():
        motivations.append("tagging")
    return motivations[0] if len(motivations) == 1 else motivations


def _creator(user, site: Site) -> dict:
    return {
        "id": f"{site.url('accounts:member_list')}#{url_quote(user.username)}",
        "type": "Person",
        "name": user.get_full_name() or user.username,
        "nickname": user.username,
    }


def _target(annotation: Annotation, site: Site) -> dict:
    quote = {"type": "TextQuoteSelector", "exact": annotation.quote}
    if annotation.prefix:
        quote["prefix"] = annotation.prefix
    if annotation.suffix:
        quote["suffix"] = annotation.suffix
    selectors = [quote]
    if annotation.start is not None and annotation.end is not None:
        selectors.append(
            {"type": "TextPositionSelector", "start": annotation.start, "end": annotation.end}
        )
    described = _source(annotation.source, site)
    target = {
        "type": "SpecificResource",
        "source": described["id"],
        "selector": selectors,
        "locator": annotation.locator,
        "anchorState": annotation.anchor_state,
    }
    if annotation.page_label:
        target["pageLabel"] = annotation.page_label
    if annotation.page_index is not None:
        target["pageIndex"] = annotation.page_index
    if annotation.anchor_score is not None:
        target["anchorScore"] = annotation.anchor_score
    target["sourceDescription"] = described
    return target


def source_iri(source: Source, site: Site) -> str:
    """The source's DOI URL, else its URL, else its page here."""
    identifiers = source.identifiers.all()
    for identifier in identifiers:
        if identifier.scheme == IdentifierScheme.DOI:
            # Percent-encoded where a DOI holds what an IRI may not (<, >, spaces…).
            return "https://doi.org/" + url_quote(identifier.value, safe="/;:@&=+$,!~*'()[]")
    if source.url:
        return source.url
    return site.url("xref:source_detail", source.pk)


def _source(source: Source, site: Site) -> dict:
    described = {
        "id": source_iri(source, site),
        "type": "Text",
        "dcterms:title": source.title,
        "citationKey": source.citation_key,
        "dcterms:identifier": [
            source.citation_key,
            site.url("xref:source_detail", source.pk),
            *(_identifier(identifier) for identifier in source.identifiers.all()),
        ],
    }
    if source.language:
        described["language"] = source.language
    return described


def _identifier(identifier: SourceIdentifier) -> str:
    return identifier.link or f"{identifier.scheme}:{identifier.value}"


def _bodies(annotation: Annotation, site: Site) -> list[dict]:
    bodies = []
    if annotation.note:
        bodies.append(
            {
                "type": "TextualBody",
                "value": annotation.note,
                "format": "text/markdown",
                "purpose": "commenting",
            }
        )
    bodies += [_claim_body(evidence, site) for evidence in annotation.evidence.all()]
    bodies += [_person_body(mention, site) for mention in annotation.mentions.all()]
    bodies += [
        {"type": "TextualBody", "purpose": "tagging", "value": concept.name}
        for concept in annotation.concepts.all()
    ]
    return bodies


def _claim_body(evidence: Evidence, site: Site) -> dict:
    iri = site.url("xref:claim_detail", evidence.claim_id)
    return {
        "type": "SpecificResource",
        "purpose": "linking",
        "source": iri,
        "stance": evidence.stance,
        "sourceDescription": {"id": iri, "type": "Claim", "value": evidence.claim.statement},
    }


def _person_body(mention: Mention, site: Site) -> dict:
    iri = site.url("xref:person_detail", mention.person_id)
    body = {
        "type": "SpecificResource",
        "purpose": "linking",
        "source": iri,
        "function": mention.function,
        "sourceDescription": {"id": iri, "type": "Person", "name": mention.person.display_name},
    }
    if mention.work is not None:
        body["work"] = _source(mention.work, site)
    return body


# --- Import: reading the file ---------------------------------------------------------------


# --- Import: reading the file ---------------------------------------------------------------


def read_items(data: bytes) -> list[Item]:
    """The file's annotations, checked; WebAnnoError for the first problem found."""
    raws = _raw_items(_parse_json(data))
    return [parse_item(raw, number) for number, raw in enumerate(raws, start=1)]


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
                    f"Annotation {number} is not a Web Annotation: it has no @context "
                    f"“{ANNO_CONTEXT}”."
                )
        items = parsed
    elif isinstance(parsed, dict) and _has_anno_context(parsed):
        items = _items_of(parsed)
    else:
        raise WebAnnoError(
            f"This is not a W3C Web Annotation file: its @context does not include "
            f"“{ANNO_CONTEXT}”."
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


def _text(value: Any, where: str, what: str, *, limit: int) -> str:
    """A string of the item ("" when absent); refused when not a string or too long."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WebAnnoError(f"{where}: {what} is not a string.")
    if len(value) > limit:
        raise WebAnnoError(f"{where}: {what} has {len(value):,} characters; at most {limit:,}.")
    return value


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
    _read_selectors(item, _as_list(target.get("selector")))
    _read_places(item, target)
    for body in [*_as_list(raw.get("body")), *_body_value(raw)]:
        _read_body(item, body)
    item.note = _text(item.note, where, "the note", limit=MAX_NOTE_LENGTH)
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
        doi = _doi(value)
        if doi:
            ref.dois.append(doi)
        if value.startswith(("http://", "https://")):
            if value not in ref.urls:
                ref.urls.append(value)
        elif not doi and value not in ref.keys:
            ref.keys.append(value)
    return ref


def _doi(value: str) -> str:
    """The DOI in `value` when it is one (a doi.org URL, "doi:…" or a bare 10.…/…)."""
    try:
        return normalise_identifier(IdentifierScheme.DOI, url_unquote(value))
    except ValueError:
        return ""


def _read_selectors(item: Item, selectors: list) -> None:
    by_type = {}
    for selector in selectors:
        for kind in _types(selector):
            by_type.setdefault(kind, selector)
    quote = by_type.get("TextQuoteSelector", {})
    item.quote = _text(quote.get("exact"), item.where, "the quote", limit=MAX_QUOTE_LENGTH)
    if not item.quote.strip():
        raise WebAnnoError(f"{item.where}: no TextQuoteSelector with the quoted words (“exact”).")
    # Our fields keep the nearest characters of longer contexts.
    item.prefix = _text(quote.get("prefix"), item.where, "the prefix", limit=10**6)[-CONTEXT_KEEP:]
    item.suffix = _text(quote.get("suffix"), item.where, "the suffix", limit=10**6)[:CONTEXT_KEEP]
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
        item.page_label = _text(page, item.where, "the page label", limit=PAGE_LABEL_MAX)
    index = target.get("pageIndex")
    if index is not None:
        if type(index) is not int or not 0 <= index <= MAX_PAGE_INDEX:
            raise WebAnnoError(f"{item.where}: the page index is not a whole number.")
        item.page_index = index
    locator = _text(target.get("locator"), item.where, "the locator", limit=LOCATOR_MAX).strip()
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
        name = _text(body["value"], item.where, "a tag", limit=CONCEPT_NAME_MAX).strip()
        if name and name not in item.concepts:
            item.concepts.append(name)
    else:
        # Commenting, or any other textual body (describing, replying…): the note.
        note = _text(body["value"], item.where, "the note", limit=MAX_NOTE_LENGTH)
        item.note = f"{item.note}\n\n{note}" if item.note else note


def _read_link(item: Item, body: dict) -> None:
    source = body["source"]
    described = _described(body)
    if "stance" in body or "Claim" in _types(described):
        stance = _choice(body.get("stance", Stance.ASSERTS), Stance, item.where, "stance")
        statement = _text(described.get("value"), item.where, "a claim", limit=MAX_STATEMENT_LENGTH)
        statement = " ".join(statement.split())
        item.claims.append(ClaimLink(url=_node_id(source), statement=statement, stance=stance))
    elif "function" in body or "Person" in _types(described):
        function = _choice(
            body.get("function", MentionFunction.MENTIONING),
            MentionFunction,
            item.where,
            "function",
        )
        name = _text(described.get("name"), item.where, "a person's name", limit=NAME_MAX)
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

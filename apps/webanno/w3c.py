"""Annotations as W3C Web Annotations (JSON-LD), out and in.

Out: an AnnotationCollection whose one AnnotationPage holds every annotation the member may see.
In: that file (or an AnnotationPage, one Annotation, a JSON list of them); every item becomes a
draft of the importer, all or nothing.

What the Web Annotation vocabulary has no word for is in our own vocabulary, under the site's
`/vocab#` IRI and declared in the document's second context:

- on an annotation: `reviewStatus` (draft, submitted, approved…);
- on its target: `locator` ("¶12", "p. 14"), `pageLabel` (the printed page), `pageIndex`,
  `anchorState` and `anchorScore` (how the quote sits in the source's current text);
- on a source or a cited work: `citationKey` (also the first of its `dcterms:identifier`s);
- on a linking body: `stance` for a claim (whose source has type `Claim`), `function` and the
  cited `work` for a person.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F, Prefetch
from django.urls import Resolver404, resolve, reverse

from apps.accounts.models import Project
from apps.accounts.references import NewReference, referenced_id
from apps.annotations.forms import MAX_NOTE_LENGTH
from apps.annotations.models import (
    MAX_QUOTE_LENGTH,
    AnchorState,
    Annotation,
    AnnotationQuerySet,
    Evidence,
    Mention,
    MentionFunction,
    Stance,
)
from apps.claims.models import Claim, Concept
from apps.library.identifiers import normalise_identifier
from apps.library.models import IdentifierScheme, Source, SourceIdentifier, source_texts
from apps.people.models import NAME_MAX, Person

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
DEFAULT_LOCATOR = "imported"

# Our terms, in the vocabulary under Site.vocab.
TERMS = [
    "reviewStatus", "locator", "pageLabel", "pageIndex", "anchorState", "anchorScore",
    "citationKey", "stance", "function", "Claim",
]  # fmt: skip


class WebAnnoError(Exception):
    """A file or an item that is refused; the message names it and says why, for the user."""


@dataclass(frozen=True)
class Site:
    """Where a project's pages are: to write absolute URLs and to recognise our own."""

    base: str  # scheme and host, no trailing slash: "https://citemap.example"
    slug: str

    @classmethod
    def of_request(cls, request, project: Project) -> Site:
        return cls(base=request.build_absolute_uri("/").rstrip("/"), slug=project.slug)

    @property
    def vocab(self) -> str:
        return f"{self.base}/vocab#"

    def url(self, name: str, *args: Any) -> str:
        return self.base + reverse(name, args=[self.slug, *args])

    def local_pk(self, url: Any, name: str) -> int | None:
        """The id in `url` when it is this project's page `name` on this site."""
        if not isinstance(url, str) or not url.startswith(self.base + "/"):
            return None
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            return None
        if match.view_name != name or match.kwargs.get("slug") != self.slug:
            return None
        return match.kwargs.get("pk")


# --- Export ---------------------------------------------------------------------------------


def export_queryset(annotations: AnnotationQuerySet) -> AnnotationQuerySet:
    """What an exported annotation shows, in a fixed number of queries, in text order."""
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


def context(site: Site) -> list:
    terms: dict[str, Any] = {"cm": site.vocab, **{term: f"cm:{term}" for term in TERMS}}
    terms["work"] = {"@id": "cm:work", "@type": "@id"}
    return [ANNO_CONTEXT, terms]


def collection(annotations: Iterable[Annotation], *, site: Site, url: str, label: str) -> dict:
    items = [annotation_item(annotation, site) for annotation in annotations]
    return {
        "@context": context(site),
        "id": url,
        "type": "AnnotationCollection",
        "label": label,
        "total": len(items),
        "first": {"id": f"{url}#page-1", "type": "AnnotationPage", "startIndex": 0, "items": items},
    }


def dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def annotation_item(annotation: Annotation, site: Site) -> dict:
    item = {
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
    target = {
        "type": "SpecificResource",
        "source": _source(annotation.source, site),
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
    return target


def _source(source: Source, site: Site) -> dict:
    described = {
        "id": site.url("xref:source_detail", source.pk),
        "type": "Text",
        "dcterms:title": source.title,
        "citationKey": source.citation_key,
        "dcterms:identifier": [
            source.citation_key,
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
    return {
        "type": "SpecificResource",
        "purpose": "linking",
        "stance": evidence.stance,
        "source": {
            "id": site.url("xref:claim_detail", evidence.claim_id),
            "type": "Claim",
            "value": evidence.claim.statement,
        },
    }


def _person_body(mention: Mention, site: Site) -> dict:
    body = {
        "type": "SpecificResource",
        "purpose": "linking",
        "function": mention.function,
        "source": {
            "id": site.url("xref:person_detail", mention.person_id),
            "type": "Person",
            "name": mention.person.display_name,
        },
    }
    if mention.work is not None:
        body["work"] = _source(mention.work, site)
    return body


# --- Import: reading the file ---------------------------------------------------------------


@dataclass
class SourceRef:
    """How an item names a source: its URL, citation keys and DOIs."""

    url: str = ""
    keys: list[str] = field(default_factory=list)
    dois: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return self.url or ", ".join(self.keys + self.dois) or "(unnamed)"


@dataclass
class ClaimLink:
    url: str
    statement: str
    stance: str


@dataclass
class PersonLink:
    url: str
    name: str
    function: str
    work: SourceRef | None


@dataclass
class Item:
    """One annotation of the file, checked, before anything is looked up."""

    where: str  # "Annotation 3 (https://…)", for messages
    source: SourceRef
    quote: str
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None
    page_label: str = ""
    page_index: int | None = None
    locator: str = DEFAULT_LOCATOR
    note: str = ""
    claims: list[ClaimLink] = field(default_factory=list)
    people: list[PersonLink] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)


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
    item = Item(where=where, source=_source_ref(target.get("source")), quote="")
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


def _source_ref(node: Any) -> SourceRef:
    """The URL, citation keys and DOIs by which a source (or a cited work) is named."""
    ref = SourceRef(url=_node_id(node))
    if not isinstance(node, dict):
        return ref
    for value in [node.get("citationKey"), *_as_list(node.get("dcterms:identifier"))]:
        if not isinstance(value, str) or not value.strip():
            continue
        doi = _doi(value)
        if doi:
            ref.dois.append(doi)
        elif value.strip() not in ref.keys:
            ref.keys.append(value.strip())
    return ref


def _doi(value: str) -> str:
    """The DOI in `value` when it is one (a doi.org URL, "doi:…" or a bare 10.…/…)."""
    try:
        return normalise_identifier(IdentifierScheme.DOI, value)
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
    if "stance" in body or "Claim" in _types(source):
        stance = _choice(body.get("stance", Stance.ASSERTS), Stance, item.where, "stance")
        statement = source.get("value") if isinstance(source, dict) else None
        statement = _text(statement, item.where, "a claim", limit=MAX_STATEMENT_LENGTH)
        statement = " ".join(statement.split())
        item.claims.append(ClaimLink(url=_node_id(source), statement=statement, stance=stance))
    elif "function" in body or "Person" in _types(source):
        function = _choice(
            body.get("function", MentionFunction.MENTIONING),
            MentionFunction,
            item.where,
            "function",
        )
        name = source.get("name") if isinstance(source, dict) else None
        name = _text(name, item.where, "a person's name", limit=NAME_MAX)
        work = _source_ref(body["work"]) if body.get("work") else None
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


# --- Import: writing the annotations --------------------------------------------------------


def import_annotations(*, project: Project, items: list[Item], by, site: Site) -> list[Annotation]:
    """Create every item as a draft of `by`, with its links; all or nothing."""
    with transaction.atomic():
        return [_create(project, item, by=by, site=site) for item in items]


def _create(project: Project, item: Item, *, by, site: Site) -> Annotation:
    source = _find_source(project, item.source, site)
    if source is None:
        raise WebAnnoError(
            f"{item.where}: the source {item.source.describe()} is not in this project (no "
            "source at that address, nor with that citation key or DOI)."
        )
    annotation = Annotation(
        project=project,
        source=source,
        author=by,
        updated_by=by,
        quote=item.quote,
        prefix=item.prefix,
        suffix=item.suffix,
        # Where the file says it is: kept when the source's text holds the quote there,
        # otherwise a hint where to look for it.
        start=item.start,
        end=item.end,
        page_label=item.page_label,
        page_index=item.page_index,
        locator=item.locator,
        note=item.note,
    )
    placement = {"reanchor": True} if item.start is None else {"placed": (item.start, item.end)}
    annotation.save_content(
        evidence=_evidence(project, item, site),
        mentions=_mentions(project, item, site),
        concepts=_concepts(project, item, by=by),
        by=by,
        **placement,
    )
    if item.start is not None and annotation.anchor_state == AnchorState.ORPHANED:
        raise WebAnnoError(
            f"{item.where}: the TextPositionSelector ({item.start}–{item.end}) does not hold "
            "the quote, and the quote is nowhere in the source's text."
        )
    return annotation


def _find_source(project: Project, ref: SourceRef, site: Site) -> Source | None:
    """By this project's URL, else by citation key, else by DOI."""
    sources = Source.objects.for_project(project).defer(*source_texts())
    pk = site.local_pk(ref.url, "xref:source_detail")
    found = sources.filter(pk=pk).first() if pk is not None else None
    if found is None and ref.keys:
        found = sources.filter(citation_key__in=ref.keys).order_by("pk").first()
    if found is None and ref.dois:
        found = (
            sources.filter(
                identifiers__scheme=IdentifierScheme.DOI, identifiers__value__in=ref.dois
            )
            .order_by("pk")
            .first()
        )
    return found


def _evidence(project: Project, item: Item, site: Site) -> list[dict]:
    rows: dict[Any, dict] = {}
    for link in item.claims:
        claim = _find_claim(project, link, site)
        if claim is None:
            if not link.statement.strip():
                raise WebAnnoError(
                    f"{item.where}: the claim {link.url or ''} is not in this project and the "
                    "file gives no statement to create it."
                )
            claim = NewReference(link.statement)
        key = claim.pk if isinstance(claim, Claim) else ("new", claim.text)
        rows.setdefault(key, {"claim": claim, "stance": link.stance})
    return list(rows.values())


def _find_claim(project: Project, link: ClaimLink, site: Site) -> Claim | None:
    claims = Claim.objects.for_project(project)
    pk = site.local_pk(link.url, "xref:claim_detail")
    found = claims.filter(pk=pk).first() if pk is not None else None
    if found is None and link.statement.strip():
        found = claims.filter(statement=link.statement).order_by("pk").first()
    return found


def _mentions(project: Project, item: Item, site: Site) -> list[dict]:
    rows: dict[Any, dict] = {}
    for link in item.people:
        person = _find_person(project, link, site)
        if person is None:
            if not link.name.strip():
                raise WebAnnoError(
                    f"{item.where}: the person {link.url or ''} is not in this project and the "
                    "file gives no name to create them."
                )
            person = NewReference(" ".join(link.name.split()))
        work = None
        if link.work is not None:
            work = _find_source(project, link.work, site)
            if work is None:
                raise WebAnnoError(
                    f"{item.where}: the work cited, {link.work.describe()}, is not in this "
                    "project; import the bibliography first."
                )
        who = person.pk if isinstance(person, Person) else ("new", person.text.casefold())
        rows.setdefault(
            (who, work.pk if work else None),
            {"person": person, "work": work, "function": link.function},
        )
    return list(rows.values())


def _find_person(project: Project, link: PersonLink, site: Site) -> Person | None:
    people = Person.objects.for_project(project)
    pk = site.local_pk(link.url, "xref:person_detail")
    found = people.filter(pk=pk).first() if pk is not None else None
    # "#12" is how forms refer to rows by id; a name is never read that way here.
    if found is None and link.name.strip() and referenced_id(link.name.strip()) is None:
        found = people.resolve_reference(link.name).match
    return found


def _concepts(project: Project, item: Item, *, by) -> list[Concept]:
    concepts = []
    for name in item.concepts:
        concept = Concept.objects.for_project(project).filter(name=name).first()
        if concept is None:
            concept = Concept.objects.create(project=project, name=name, updated_by=by)
        concepts.append(concept)
    return concepts

"""Annotations as Citemap keeps them, whatever format brought them: an Item is one annotation
read from a file (W3C Web Annotations today; other tools' formats can produce the same), and
import_annotations() writes items as drafts of the importer, all or nothing.

Site says where a project's pages are, so that exports write absolute IRIs and imports know
this site's own.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from urllib.parse import unquote as url_unquote

from django.db import transaction
from django.urls import Resolver404, resolve, reverse

from apps.accounts.models import Project
from apps.accounts.references import NewReference, referenced_id
from apps.annotations.anchoring import Haystack, current_haystack
from apps.annotations.models import AnchorState, Annotation
from apps.claims.models import Claim, Concept
from apps.library.identifiers import normalise_identifier
from apps.library.models import IdentifierScheme, Source, source_texts
from apps.people.models import Person

DEFAULT_LOCATOR = "imported"


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
        return f"{self.base}/ns/citemap#"

    @property
    def context_url(self) -> str:
        """Where the site serves the JSON-LD context of our vocabulary."""
        return self.base + _path_template("webanno_vocabulary", ())

    def url(self, name: str, *args: Any) -> str:
        if len(args) == 1 and isinstance(args[0], int):
            # An export names thousands of pages: reversed once per kind, not per row.
            head, _, tail = _path_template(name, (self.slug, _PLACEHOLDER)).rpartition(
                str(_PLACEHOLDER)
            )
            return f"{self.base}{head}{args[0]}{tail}"
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


_PLACEHOLDER = 987_654_321_987


@functools.lru_cache(maxsize=256)
def _path_template(name: str, args: tuple) -> str:
    return reverse(name, args=list(args))


# --- What a file's annotation says ----------------------------------------------------------


@dataclass
class SourceRef:
    """How an item names a source: its IRIs (its DOI URL, its URL, its page on a Citemap
    site), citation keys and DOIs."""

    urls: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    dois: list[str] = field(default_factory=list)
    # Zotero item keys, as a bibliography imported from Zotero keeps them (extra["zotero"]).
    zotero_keys: list[str] = field(default_factory=list)

    def describe(self) -> str:
        named = self.keys + self.dois + [f"Zotero item {key}" for key in self.zotero_keys]
        return (self.urls[:1] or [", ".join(named) or "(unnamed)"])[0]


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
    # Where it came from: the tool, its id there, its page there (see Annotation.origin).
    origin: dict[str, str] = field(default_factory=dict)


# --- Reading: what every format's reader checks the same way -------------------------------


def text_field(value: Any, where: str, what: str, *, limit: int) -> str:
    """A string of the item ("" when absent); refused when not a string or too long."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WebAnnoError(f"{where}: {what} is not a string.")
    if len(value) > limit:
        raise WebAnnoError(f"{where}: {what} has {len(value):,} characters; at most {limit:,}.")
    return value


def doi_in(value: str) -> str:
    """The DOI in `value` when it is one (a doi.org URL, "doi:…" or a bare 10.…/…)."""
    try:
        return normalise_identifier(IdentifierScheme.DOI, url_unquote(value))
    except ValueError:
        return ""


def add_concept(item: Item, name: str) -> None:
    """A tag of the item, as the concept it becomes (spaces tidied, each name once)."""
    name = " ".join(name.split())
    if name and name not in item.concepts:
        item.concepts.append(name)


# --- Writing the annotations -----------------------------------------------------------------


def import_annotations(
    *,
    project: Project,
    items: list[Item],
    by,
    site: Site,
    file_name: str = "",
    new_concepts: bool = True,
    fallback: Source | None = None,
) -> list[Annotation]:
    """Create every item as a draft of `by`, with its links; all or nothing. Each records
    where it came from (the file's name with the item's own origin). Tags that name no
    concept of the project become new concepts, or are left out without `new_concepts`."""
    if not new_concepts:
        known = set(Concept.objects.for_project(project).values_list("name", flat=True))
        for item in items:
            item.concepts = [name for name in item.concepts if name in known]
    for item in items:
        item.origin = {**item.origin, **({"file": file_name[:200]} if file_name else {})}
    # A file's annotations mostly name a few sources: each is looked up, and its text read,
    # once per import.
    sources: dict[tuple, Source | None] = {}
    texts: dict[int, Haystack] = {}
    with transaction.atomic():
        return [
            _create(
                project, item, by=by, site=site, sources=sources, texts=texts, fallback=fallback
            )
            for item in items
        ]


def _create(
    project: Project,
    item: Item,
    *,
    by,
    site: Site,
    sources: dict,
    texts: dict,
    fallback: Source | None = None,
) -> Annotation:
    ref = item.source
    named = (tuple(ref.urls), tuple(ref.keys), tuple(ref.dois), tuple(ref.zotero_keys))
    if named not in sources:
        sources[named] = _find_source(project, ref, site)
    source = sources[named] or fallback
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
        locator=_locator(item, source, texts),
        note=item.note,
        origin=item.origin,
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


def _locator(item: Item, source: Source, texts: dict[int, Haystack]) -> str:
    """The file's locator, else where the quote is in the source's text, as the form would
    say it ("¶12", or the page), else DEFAULT_LOCATOR."""
    if item.locator != DEFAULT_LOCATOR:
        return item.locator
    if source.pk not in texts:
        texts[source.pk] = current_haystack(source.pk)[0]
    haystack = texts[source.pk]
    if not haystack.text:
        return DEFAULT_LOCATOR
    if item.start is not None and haystack.text[item.start : item.end] == item.quote:
        return haystack.locator(item.start)
    anchor = haystack.reanchor(item.quote, item.prefix, item.suffix, item.start)
    return haystack.locator(anchor.start) if anchor.start is not None else DEFAULT_LOCATOR


def _find_source(project: Project, ref: SourceRef, site: Site) -> Source | None:
    """By this project's page, else by citation key, else by DOI, else by URL (the same page
    however reached), else by Zotero key."""
    sources = Source.objects.for_project(project).defer(*source_texts())
    pks = [site.local_pk(url, "xref:source_detail") for url in ref.urls]
    found = sources.filter(pk__in=[pk for pk in pks if pk is not None]).order_by("pk").first()
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
    if found is None and ref.urls:
        found = sources.filter(url__in=ref.urls).order_by("pk").first()
    for url in ref.urls if found is None else []:
        found = _source_at(sources, url)
        if found is not None:
            break
    if found is None and ref.zotero_keys:
        found = sources.filter(extra__zotero__key__in=ref.zotero_keys).order_by("pk").first()
    return found


# Query parameters that say how a reader came to a page, not which page it is.
TRACKING = re.compile(
    r"^(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|_ga|_gl|yclid|ref_src|"
    r"ref_url|spm|__twitter_impression|share|s_cid|cmpid|ito)$",
    re.IGNORECASE,
)


def page_key(url: str) -> str:
    """An address as a page, whatever way it was reached: no scheme (http and https are the
    same page), the host in lower case without "www.", no trailing slash, no fragment, and no
    tracking parameters (the others sorted)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host += f":{parts.port}"
    path = parts.path.rstrip("/")
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING.match(key)
    )
    return f"{host}{path}" + (f"?{urlencode(query)}" if query else "")


def _source_at(sources, url: str) -> Source | None:
    """The source whose URL is the same page as `url` (see page_key); the database narrows the
    candidates to URLs holding the host and path, the keys decide."""
    key = page_key(url)
    if not key.strip("/"):
        return None
    core = key.split("?", 1)[0]
    candidates = sources.filter(url__icontains=core).only("pk", "url").order_by("pk")[:50]
    return next((source for source in candidates if page_key(source.url) == key), None)


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


@dataclass
class Preview:
    """What importing the items would do, found by doing it and rolling it back: the same
    checks, the same places, nothing kept."""

    total: int
    states: dict[str, int]
    sources: list[tuple[str, int]]  # title, passages
    concepts_found: list[str]
    concepts_new: list[str]
    rows: list[dict]

    def as_data(self) -> dict:
        return dict(self.__dict__)


PREVIEW_ROWS = 200


def preview_annotations(
    *,
    project: Project,
    items: list[Item],
    by,
    site: Site,
    file_name: str = "",
    fallback: Source | None = None,
) -> Preview:
    """Raises WebAnnoError as import_annotations() would; writes nothing."""
    known = set(Concept.objects.for_project(project).values_list("name", flat=True))
    tags = list(dict.fromkeys(name for item in items for name in item.concepts))
    with transaction.atomic():
        created = import_annotations(
            project=project,
            items=items,
            by=by,
            site=site,
            file_name=file_name,
            fallback=fallback,
        )
        states: dict[str, int] = {}
        sources: dict[str, int] = {}
        rows = []
        for annotation in created:
            states[annotation.anchor_state] = states.get(annotation.anchor_state, 0) + 1
            title = annotation.source.title
            sources[title] = sources.get(title, 0) + 1
        # Those a reader should look at (not where the file said) first.
        for annotation in sorted(created, key=lambda a: a.anchor_state == AnchorState.EXACT):
            title = annotation.source.title
            if len(rows) < PREVIEW_ROWS:
                rows.append(
                    {
                        "source": title,
                        "quote": annotation.quote[:300],
                        "state": annotation.anchor_state,
                        "score": annotation.anchor_score,
                        "locator": annotation.locator,
                    }
                )
        transaction.set_rollback(True)
    return Preview(
        total=len(created),
        states=states,
        sources=sorted(sources.items(), key=lambda pair: -pair[1]),
        concepts_found=[name for name in tags if name in known],
        concepts_new=[name for name in tags if name not in known],
        rows=rows,
    )

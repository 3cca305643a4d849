"""Reading a source: its text with the passages highlighted, its text versions, finding a
typed quote in it, and attaching orphaned passages again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.html import json_script
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_http_methods, require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import Action, can, project_view
from apps.annotations.anchoring import current_haystack, replace_text, text_pages
from apps.annotations.forms import PassageIdsForm, ReattachForm, SourceTextForm, occurrence_at
from apps.annotations.highlights import PALETTE_SIZE, Highlight, detected_direction, render_text
from apps.annotations.models import (
    ANCHOR_WARNINGS,
    MAX_QUOTE_LENGTH,
    QUOTE_OPENING,
    AnchorState,
    Annotation,
    AnnotationQuerySet,
    Status,
)
from apps.annotations.views import get_annotation_for_user
from apps.library.models import SOURCE_TEXTS, Source, SourceText


def _source(membership: Membership, pk: int, *, with_text: bool = True) -> Source:
    sources = Source.objects.for_project(membership.project)
    if not with_text:
        sources = sources.defer(*SOURCE_TEXTS)
    return get_object_or_404(sources, pk=pk)


def reading_direction(source: Source) -> str:
    """The language's direction when the source names one, else the text's own."""
    if source.text_direction == "rtl":
        return "rtl"
    return "ltr" if source.language else detected_direction(source.full_text)


# The side list's entries drawn by the server; the script builds the rest from compact data
# (`list_data`), and without it "Show all" asks the server for every entry.
LIST_PAGE = 100


class CompactJSON(DjangoJSONEncoder):
    # No space after a comma or colon: a long source's side list is thousands of rows.
    item_separator = ","
    key_separator = ":"


def list_data(placed: list[tuple]) -> dict:
    """The side list as compact rows for reader.js, which takes each quote's opening from the
    text on the page: [id, start, end, locator, status, anchor state, fuzzy score], the usual
    left out at the end: [id, start, end, locator] is approved with its place not in doubt (no
    anchor warning), [id, start, end, locator, status] not in doubt."""
    rows = []
    for pk, start, end, locator, status, anchor_state, anchor_score, _ in placed:
        if anchor_state in ANCHOR_WARNINGS:
            rows.append((pk, start, end, locator, status, anchor_state, anchor_score))
        elif status != Status.APPROVED:
            rows.append((pk, start, end, locator, status))
        else:
            rows.append((pk, start, end, locator))
    return {
        "statuses": dict(Status.choices),
        "anchors": {s: label for s, label in AnchorState.choices if s in ANCHOR_WARNINGS},
        "rows": rows,
    }


# Characters of a quote's opening the side list shows: QUOTE_OPENING are read, so that a
# longer quote is known to be longer.
OPENING_SHOWN = QUOTE_OPENING - 1


def shortened(opening: str) -> str:
    """The opening as `truncatechars` shows it, without its cost for the common case: plain
    ASCII (no combining characters to skip, nothing to normalise)."""
    if not opening.isascii():
        return Truncator(opening).chars(OPENING_SHOWN)
    return opening if len(opening) <= OPENING_SHOWN else opening[: OPENING_SHOWN - 1] + "…"


STATUS_LABELS = dict(Status.choices)
ANCHOR_LABELS = dict(AnchorState.choices)


class ListEntry:
    """A passage as a side-list entry: what the templates (this page's and the shared status
    and anchor badges) read of an annotation, made from a plain row for a fraction of the cost
    of a model object. The list draws a page of them, or all on request, and those not placed.
    """

    __slots__ = ("pk", "locator", "status", "anchor_state", "anchor_score", "quote_opening")

    def __init__(self, row: tuple) -> None:
        pk, _, _, locator, status, anchor_state, anchor_score, opening = row
        # A string already: the template would format a number through the locale each time.
        self.pk = str(pk)
        self.locator = locator
        self.status = status
        self.anchor_state = anchor_state
        self.anchor_score = anchor_score
        self.quote_opening = shortened(opening)

    @property
    def is_approved(self) -> bool:
        return self.status == Status.APPROVED

    def get_status_display(self) -> str:
        return STATUS_LABELS[self.status]

    def get_anchor_state_display(self) -> str:
        return ANCHOR_LABELS[self.anchor_state]


def concept_colours(passages: AnnotationQuerySet) -> tuple[list[tuple[str, int]], dict[int, int]]:
    """The legend (each concept's name and colour, by name) and each passage's colour: that of
    its first concept by name, -1 without one."""
    links = list(passages.reader_concepts())
    names = {concept: name for _, concept, name in links}
    ordered = sorted(names, key=names.__getitem__)
    colour = {concept: min(i, PALETTE_SIZE - 1) for i, concept in enumerate(ordered)}
    passage_colour: dict[int, int] = {}
    for annotation, concept, _ in links:
        k = colour[concept]
        if k < passage_colour.get(annotation, PALETTE_SIZE):
            passage_colour[annotation] = k
    return [(names[c], colour[c]) for c in ordered], passage_colour


# Sections a higher app adds to the side list (the double-coding units of a compared
# assignment, apps.agreement): each a function of (membership, source) giving a template and its
# context, or None when it has nothing to show there. Registered in that app's AppConfig.ready(),
# so this app does not import it. Each is expected to make at most one query.
ReaderSection = Callable[[Membership, Source], tuple[str, dict[str, Any]] | None]
_sections: list[ReaderSection] = []


def register_reader_section(section: ReaderSection) -> None:
    if section not in _sections:
        _sections.append(section)


# Compressed for clients that accept it: the text and its markup shrink about five times (a
# 200,000-character text with 2,000 passages, 0.49 MB, is sent in about 0.1 MB). BREACH needs
# a secret in the page beside text an attacker controls: the page's only secret is the CSRF
# token, which Django masks afresh in every response, so compression reveals nothing.
@gzip_page
@require_safe
@project_view()
def source_read(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    source = _source(membership, pk)
    text = source.full_text
    # The text came with the source; only its page boundaries are read besides.
    pages = text_pages(source.pk, source.text_version)
    passages = Annotation.objects.visible_to(membership).filter(source=source)
    # Plain rows in text order: (id, start, end, locator, status, anchor state, score, opening).
    rows = list(passages.reader_rows().in_text_order())
    legend, passage_colour = concept_colours(passages)
    length = len(text)
    placed, unplaced = [], []
    for row in rows:
        (placed if row[1] is not None and row[2] <= length else unplaced).append(row)
    highlights = [
        Highlight(row[0], row[1], row[2], row[4], passage_colour.get(row[0], -1)) for row in placed
    ]
    page = render_to_string(
        "annotations/source_read.html",
        {
            "membership": membership,
            "project": membership.project,
            "source": source,
            "text_length": length,
            "text_here": mark_safe(TEXT_HERE),  # noqa: S308 - our own constant
            "direction": reading_direction(source),
            "placed": [
                ListEntry(row)
                for row in (placed if request.GET.get("list") == "all" else placed[:LIST_PAGE])
            ],
            "placed_count": len(placed),
            "list_data": (
                json_script(list_data(placed), "reader-list-data", CompactJSON)
                if len(placed) > LIST_PAGE
                else None
            ),
            "unplaced": [ListEntry(row) for row in unplaced],
            "legend_concepts": legend,
            "palette_overflow": len(legend) > PALETTE_SIZE,
            "anchor_counts": Counter(row[5] for row in rows),
            "may_annotate": can(membership, Action.ANNOTATE),
            "may_edit_text": can(membership, Action.EDIT_LIBRARY),
            "warnings": ANCHOR_WARNINGS,
            "passages_max": PassageIdsForm.MAX_IDS,
            "sections": [
                shown for shown in (section(membership, source) for section in _sections) if shown
            ],
        },
        request,
    )
    return HttpResponse(with_text(page, render_text(text, highlights, pages) if text else ""))


# Where the text goes in the reading view. Its HTML is most of the page (up to millions of
# characters), and a template copies what it is given at every level of nested blocks (each
# joins its parts): the template gets this marker instead, and the page is put together around
# it once. Whatever else the page shows is escaped, so it cannot hold the marker.
TEXT_HERE = "<!-- the text -->"


def with_text(page: str, text_html: str) -> bytes:
    head, here, tail = page.partition(TEXT_HERE)
    if not here:
        return page.encode()  # a source without text: none to put in
    return b"".join((head.encode(), text_html.encode(), tail.encode()))


@require_safe
@project_view()
def source_passages(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The cards of the passages at one place of the reading view, with their notes and links:
    what its script shows when a highlight or a list entry is opened."""
    source = _source(membership, pk, with_text=False)
    form = PassageIdsForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "annotations/_reader_cards.html",
            {"errors": form.errors["ids"]},
            status=400,
        )
    annotations = list(
        Annotation.objects.visible_to(membership)
        .filter(source=source, pk__in=form.cleaned_data["ids"])
        .with_list_data()
        .in_text_order()
    )
    if not annotations:
        raise Http404("None of these passages is in this source.")
    return render(
        request,
        "annotations/_reader_cards.html",
        {"membership": membership, "project": membership.project, "annotations": annotations},
    )


@require_http_methods(["GET", "POST"])
@project_view(Action.EDIT_LIBRARY)
def source_text(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Paste, correct or upload the text; every version is kept and the passages re-anchored."""
    source = _source(membership, pk)
    form = SourceTextForm(
        request.POST or None,
        request.FILES or None,
        initial={"text": source.full_text},
    )
    if request.method == "POST" and form.is_valid():
        extracted = form.cleaned_data["extracted"]
        if extracted.text.replace("\r\n", "\n") == source.full_text:
            messages.info(request, "The text is unchanged; no new version was made.")
            return redirect("annotations:source_read", membership.project.slug, source.pk)
        upload = form.cleaned_data.get("file")
        states = replace_text(
            source,
            extracted.text,
            by=request.user,
            origin=extracted.origin,
            pages=extracted.pages,
            filename=upload.name if upload else "",
            comment=form.cleaned_data["comment"],
        )
        messages.success(request, _outcome(source, states))
        return redirect("annotations:source_read", membership.project.slug, source.pk)
    versions = (
        SourceText.objects.filter(source=source).select_related("created_by").defer("text", "pages")
    )
    return render(
        request,
        "annotations/source_text.html",
        {
            "membership": membership,
            "project": membership.project,
            "source": source,
            "form": form,
            "versions": versions,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _outcome(source: Source, states: Counter) -> str:
    done = f"Text saved as version {source.text_version} ({len(source.full_text):,} characters)."
    if not states:
        return done
    parts = ", ".join(
        f"{states[state]} {label.lower()}" for state, label in AnchorState.choices if states[state]
    )
    return f"{done} Passages re-anchored: {parts}."


MAX_MATCHES = 20


@require_safe
@project_view(Action.ANNOTATE)
def source_locate(request: HttpRequest, membership: Membership, pk: int) -> JsonResponse:
    """Where a typed quote is in the text (for the annotation form): exact places, else places
    with the same words, else the closest passages with a score."""
    source = _source(membership, pk, with_text=False)
    quote = request.GET.get("quote", "").replace("\r\n", "\n")
    if not quote.strip():
        return JsonResponse({"error": "Type the quote to look for.", "total": 0, "matches": []})
    if len(quote) > MAX_QUOTE_LENGTH:
        return JsonResponse(
            {"error": f"A quote has at most {MAX_QUOTE_LENGTH:,} characters."}, status=400
        )
    haystack, _ = current_haystack(source.pk)
    if not haystack.text:
        return JsonResponse({"error": "This source has no text yet.", "matches": []}, status=200)
    places = haystack.find(quote)
    return JsonResponse(
        {
            "total": len(places),
            "matches": [
                {
                    "start": o.start,
                    "end": o.end,
                    "words": o.words,
                    "before": o.before,
                    "after": o.after,
                    "page": o.page,
                    "locator": haystack.locator(o.start),
                    "how": o.how,
                    "score": o.score,
                }
                for o in (occurrence_at(haystack, place) for place in places[:MAX_MATCHES])
            ],
        }
    )


@require_safe
@project_view()
def source_orphans(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Passages whose quote is no longer in the text (or not certainly), to attach again."""
    source = _source(membership, pk, with_text=False)
    annotations = list(
        Annotation.objects.visible_to(membership)
        .filter(source=source, anchor_state__in=ANCHOR_WARNINGS)
        .select_related("author")
        .with_links()
        .order_by("anchor_state", "pk")
    )
    return render(
        request,
        "annotations/source_orphans.html",
        {
            "membership": membership,
            "project": membership.project,
            "source": source,
            "annotations": annotations,
            "reattachable": {a.pk for a in annotations if may_reattach(membership, a)},
        },
    )


def may_reattach(membership: Membership, annotation: Annotation) -> bool:
    """Supervisors attach any passage; authors their own while they may edit it."""
    return can(membership, Action.REVIEW) or annotation.is_editable_by(membership)


@require_http_methods(["GET", "POST"])
@project_view(Action.ANNOTATE)
def annotation_reattach(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    annotation = get_annotation_for_user(membership, pk)
    if not may_reattach(membership, annotation):
        raise PermissionDenied(
            "Only a supervisor, or the author while the passage may be edited, can attach it."
        )
    haystack, version = current_haystack(annotation.source_id)
    form = ReattachForm(
        request.POST or None, haystack=haystack, initial={"quote": annotation.quote}
    )
    if request.method == "POST" and form.is_valid():
        start, end = form.placed
        with annotation.editing(by=request.user, loaded_version=annotation.version):
            annotation.quote = haystack.text[start:end]
            annotation.apply_anchor_at(haystack, start, end, version)
            annotation.save(update_fields=Annotation.CONTENT_FIELDS)
            annotation.record_revision(by=request.user)
        messages.success(request, f"Passage {annotation.locator} attached at {start}–{end}.")
        return redirect("annotations:source_orphans", membership.project.slug, annotation.source_id)
    return render(
        request,
        "annotations/annotation_reattach.html",
        {
            "membership": membership,
            "project": membership.project,
            "annotation": annotation,
            "source": annotation.source,
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )

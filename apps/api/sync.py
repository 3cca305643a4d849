"""Incremental sync through the API: the feed of deletions and batch creates of sources.

The project's library version (apps.accounts.sync) is taken by every write in its transaction
and stamped on what it changed; lists take `?since=` (endpoints.py). What left the lists —
deleted, merged into another, withdrawn, or no longer approved for readers of approved work —
is in `…/deleted/?since=`, from tombstones written in the same transactions. A client that
pulls the changed rows and the deletions since its last version, then keeps the
`Last-Modified-Version` of that pull, holds what the server holds.
"""

from __future__ import annotations

from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Body, Header, Query, Schema
from pydantic import Field

from apps.accounts.models import Project, SyncedKind, Tombstone
from apps.accounts.policy import Action
from apps.api import schemas
from apps.api.auth import member
from apps.api.batches import BATCH_ERRORS, MAX_BATCH, Failure, run_batch, validated
from apps.api.endpoints import (
    ERRORS,
    MAX_VERSION,
    ModifiedSince,
    ScopeParam,
    Slug,
    _identifiers,
    _save_source,
    _scoped,
    _source_form,
    _source_out,
    _sources,
    api,
    library_version,
)
from apps.library.models import Source, SourceIdentifier

# What each kind is called in the feed.
FEED_NAMES = {
    SyncedKind.SOURCE: "sources",
    SyncedKind.PERSON: "people",
    SyncedKind.CLAIM: "claims",
    SyncedKind.CONCEPT: "concepts",
    SyncedKind.ANNOTATION: "annotations",
}


class Gone(Schema):
    id: int
    reason: str = Field(
        description="`deleted`; `merged` (into `merged_into`); `withdrawn` (annotations); "
        "`unapproved`: no longer approved, so gone for those who see approved work only."
    )
    merged_into: int | None = Field(None, description="The id it was merged into.")
    version: int = Field(description="The library version of the change.")


class DeletedOut(Schema):
    version: int = Field(description="The project's library version (Last-Modified-Version).")
    sources: list[Gone]
    people: list[Gone]
    claims: list[Gone]
    concepts: list[Gone]
    annotations: list[Gone]


@api.get(
    "/p/{slug:slug}/deleted/",
    response={200: DeletedOut, **ERRORS, 304: None},
    tags=["sync"],
    operation_id="list_deleted",
)
def list_deleted(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    since: int = Query(
        0,
        ge=0,
        le=MAX_VERSION,
        description="The library version of your last pull: what left the lists after it "
        "(0, the default: everything the project keeps).",
    ),
    scope: Literal["visible", "approved"] = ScopeParam,
    seen: int = ModifiedSince,  # None when absent (see Since)
):
    """What was deleted, merged into another object, withdrawn or (for those who see approved
    work only) stopped being approved after library version `since`, per kind, oldest first.
    Only objects the caller could have seen are listed: a student hears of approved work going
    away, never of drafts."""
    membership = member(request, slug)
    version = library_version(response, membership, seen)
    _scoped(membership, scope)  # the approved scope hears of work no longer approved too
    rows = (
        Tombstone.objects.visible_to(membership)
        .filter(library_version__gt=since)
        .order_by("library_version", "pk")
        .values_list("kind", "object_id", "reason", "merged_into", "library_version")
    )
    feed: dict[str, dict[int, dict]] = {name: {} for name in FEED_NAMES.values()}
    for kind, pk, reason, merged_into, changed in rows.iterator(chunk_size=2000):
        # The latest word on an object stands (a later tombstone replaces an earlier one).
        feed[FEED_NAMES[kind]][pk] = {
            "id": pk,
            "reason": reason,
            "merged_into": merged_into,
            "version": changed,
        }
    return {"version": version, **{name: list(found.values()) for name, found in feed.items()}}


# --- Batch creates -----------------------------------------------------------------------------


class BatchOut(Schema):
    version: int = Field(description="The project's library version after the batch.")
    successful: dict[str, schemas.SourceOut] = Field(
        description="By the item's index in the request: the source made from it."
    )
    unchanged: dict[str, int] = Field(
        description="By index: the id of the source of the project that already has one of "
        "the item's identifiers (DOI, ISBN…); nothing was written for it."
    )
    failed: dict[str, Failure] = Field(description="By index: why the item was not saved.")


BatchBody = Body(
    ...,
    description=f"Up to {MAX_BATCH} sources, each as the single create takes it (`SourceIn`); "
    "each is checked and saved on its own.",
)


@api.post(
    "/p/{slug:slug}/sources/batch/",
    response={200: BatchOut, **BATCH_ERRORS},
    tags=["sources", "sync"],
    operation_id="create_sources",
)
def create_sources(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    items: list[Any] = BatchBody,
    library: int | None = Header(
        None,
        alias="If-Unmodified-Since-Version",
        ge=0,
        le=MAX_VERSION,
        description="Optional: the library version you last pulled; 412 (nothing written) "
        "when the project changed since.",
    ),
):
    """Add several sources at once (Zotero's batch write): each item succeeds, is unchanged
    (the project already has a source with one of its identifiers) or fails with its message,
    on its own: one bad item does not stop the others. All that succeed share one library
    version."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    return run_batch(
        request,
        response,
        membership,
        items,
        library=library,
        noun="sources",
        create_one=_create_one,
        shape=lambda pks, actions: {
            source.pk: _source_out(source, actions)
            for source in _sources(membership).filter(pk__in=pks)
        },
    )


def _create_one(request, membership, item: Any) -> Source | int:
    """One item of a batch, in a savepoint of its own: the new source, or the id of the one
    that already has its identifier; ApiError when refused (nothing of it written)."""
    payload = validated(schemas.SourceIn, item, "source")
    identifiers = _identifiers(payload)
    if identifiers:
        existing = _existing(membership.project, identifiers)
        if existing is not None:
            return existing
    source = Source(project=membership.project)
    form = _source_form(payload, source, membership.project, None)
    with transaction.atomic():
        _save_source(request, membership, source, form, identifiers)
    return source


def _existing(project: Project, identifiers: list[tuple[str, str]]) -> int | None:
    """The source of `project` that has one of these (normalised) identifiers, if any."""
    found = None
    for scheme, value in identifiers:
        match = (
            SourceIdentifier.objects.filter(source__project=project, scheme=scheme, value=value)
            .order_by("source_id")
            .values_list("source_id", flat=True)
            .first()
        )
        if match is not None and (found is None or match < found):
            found = match
    return found

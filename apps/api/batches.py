"""Batch creates (Zotero's batch write) for any kind of object: each item checked and saved
on its own, in a savepoint, reported as successful, unchanged or failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Schema
from pydantic import Field
from pydantic import ValidationError as PydanticError

from apps.accounts.models import Project
from apps.api import schemas
from apps.api.auth import ApiError, permitted
from apps.api.endpoints import WRITE_ERRORS, check_library, summary

# Items one batch may carry (Zotero's limit too); more is 413.
MAX_BATCH = 50


class Failure(Schema):
    code: int = Field(description="The status the item alone would have had (400, 409).")
    message: str
    errors: list[schemas.Refusal] = Field(default_factory=list)


# A stale library version answers no object, only the message (and Last-Modified-Version).
BATCH_ERRORS = {**WRITE_ERRORS, 412: schemas.Error}
del BATCH_ERRORS[409]


def run_batch(
    request: HttpRequest,
    response: HttpResponse,
    membership,
    items: list[Any],
    *,
    library: int | None,
    noun: str,
    create_one: Callable[[HttpRequest, Any, Any], Any],
    shape: Callable[[list[int], list[str]], dict[int, dict]],
) -> dict:
    """A batch create (Zotero's batch write), for any kind: each item is made by `create_one`
    in a savepoint of its own — the new object, the id of the one already there (unchanged),
    or ApiError (failed, nothing of it written); one bad item does not stop the others, and
    all that succeed share one library version."""
    if len(items) > MAX_BATCH:
        message = f"A batch holds at most {MAX_BATCH} {noun}; this one has {len(items)}."
        raise ApiError(413, message, errors=[{"where": "body", "message": message}])
    if not items:
        message = f"Send a list of at least one of the {noun}."
        raise ApiError(400, message, errors=[{"where": "body", "message": message}])
    project = membership.project
    successful, unchanged, failed = {}, {}, {}
    with transaction.atomic():
        if library is not None:
            check_library(project, library)
        for index, item in enumerate(items):
            key = str(index)
            try:
                outcome = create_one(request, membership, item)
            except ApiError as refused:
                failed[key] = {
                    "code": refused.status,
                    "message": refused.message,
                    "errors": refused.errors or [],
                }
                continue
            if isinstance(outcome, int):
                unchanged[key] = outcome
            else:
                successful[key] = outcome
        actions = permitted(request, ["view", "edit", "delete"])
        shaped = shape([made.pk for made in successful.values()], actions)
        version = Project.objects.values_list("library_version", flat=True).get(pk=project.pk)
    response["Last-Modified-Version"] = str(version)
    return {
        "version": version,
        "successful": {key: shaped[made.pk] for key, made in successful.items()},
        "unchanged": unchanged,
        "failed": failed,
    }


def validated(schema, item: Any, noun: str):
    """A batch item checked by the single create's schema; ApiError (400) naming the fields."""
    if not isinstance(item, dict):
        raise ApiError(400, f"Each item is a JSON object of a {noun}'s fields.")
    try:
        return schema.model_validate(item)
    except PydanticError as error:
        errors = [
            {
                "where": ".".join(["body", *(str(part) for part in e.get("loc", ()))]),
                "message": e.get("msg", ""),
            }
            for e in error.errors()
        ]
        raise ApiError(400, f"Not saved: {summary(errors)}", errors=errors) from None

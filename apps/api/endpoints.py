"""The JSON API under /api/v1/: the same access policy as the pages, described by OpenAPI 3.1.

Every project URL resolves the caller's membership first (auth.member): outsiders get 404,
members without the right 403, and the querysets are those the pages use, so a student sees
approved work only. Lists are paged by cursor (paging.py).
"""

from __future__ import annotations

from functools import reduce
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Header, NinjaAPI, Path, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field

from apps.accounts.editing import SAVE_FAILED, StaleEdit, delete_if_unreferenced, save_edit
from apps.accounts.models import Membership, Project
from apps.accounts.policy import Action, can
from apps.annotations.models import Annotation, ReviewAction, StaleDecision, TransitionError
from apps.api import citing, jsonld, schemas
from apps.api.auth import AUTH, ApiError, member, permitted
from apps.api.paging import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_ID, MAX_LIMIT, page_headers
from apps.api.paging import paginate as paginate_rows
from apps.bibliography.importing import CONTENT_TYPES, Format, write_sources
from apps.claims.models import Claim, ClaimRelation, Concept, visible_claims_q
from apps.library.forms import SourceForm
from apps.library.identifiers import normalise_identifier
from apps.library.models import Contributor, IdentifierScheme, Source
from apps.people.models import Person
from apps.webanno.items import Site
from apps.webanno.w3c import ANNOTATION_VALUES, annotation_items

api = NinjaAPI(
    title="Citemap API",
    version="1",
    description=(
        "Everything a script needs of a Citemap project, under the access policy of the pages. "
        "Authenticate with `Authorization: Bearer <token>` (tokens are made on your account's "
        "page) or, from the site's own pages, with the session and its CSRF token. Lists are "
        "paged by cursor: follow `next` (or the `Link` header) until it is null."
    ),
    auth=AUTH,
    urls_namespace="api",
    docs_url=None,
    openapi_url=None,
)

ERRORS = {
    400: schemas.ValidationErrors,
    401: schemas.Error,
    403: schemas.Error,
    404: schemas.Error,
}

Slug = Path(..., description="The project's slug, as in its pages' addresses.")
Id = Path(..., ge=0, le=MAX_ID, description="The object's id.")


class Paging(Schema):
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="From the previous page's `next` link.",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page.")


PagingParams = Query(...)

# --- Library versions (apps.accounts.sync): incremental sync, as Zotero's API does it --------
MAX_VERSION = 2**63 - 1
# Parameters declared `int` with a None default: the document says "integer, optional" (a
# header or query string cannot carry a null), and None means the client did not send it.
Since = Query(
    None,
    ge=0,
    le=MAX_VERSION,
    description="Only rows changed after this library version (the `Last-Modified-Version` "
    "of your last pull), ordered by the version that last changed them, then id. What was "
    "deleted, merged away or withdrawn meanwhile is in `…/deleted/?since=`.",
)
ModifiedSince = Header(
    None,
    alias="If-Modified-Since-Version",
    ge=0,
    le=MAX_VERSION,
    description="The library version you last pulled: 304 with no body while it is still "
    "the project's.",
)


class NotModified(Exception):
    def __init__(self, version: int) -> None:
        self.version = version


def library_version(response: HttpResponse, membership: Membership, seen: int | None) -> int:
    """The project's library version, read with the membership before any row (so rows read
    after it are at least that new), in `Last-Modified-Version`; NotModified (304) when the
    caller's `If-Modified-Since-Version` is still it."""
    version = membership.project.library_version
    response["Last-Modified-Version"] = str(version)
    if seen is not None and seen == version:
        raise NotModified(version)
    return version


def check_library(project, seen: int) -> None:
    """412 unless the project's library version is still `seen`, checked under the project
    row's lock (held to the end of the transaction, as the write's own version will be)."""
    current = (
        Project.objects.select_for_update(no_key=True)
        .values_list("library_version", flat=True)
        .get(pk=project.pk)
    )
    if current != seen:
        raise ApiError(
            412,
            f"The project changed since library version {seen}; it is now at {current}. "
            "Pull the changes (since=), then send the write again with the new version.",
            {"Last-Modified-Version": str(current)},
        )


ScopeParam = Query(
    "visible",
    description="`approved`: approved work only, as students see it (analysts and "
    "supervisors may choose).",
)


# --- Errors: always JSON, with a message a person can act on --------------------------------


@api.exception_handler(ApiError)
def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    body = {"detail": exc.message, **exc.body}
    if exc.errors is not None:
        body["errors"] = exc.errors
    elif exc.status == 400:  # every 400 says what was refused
        body["errors"] = [{"where": "request", "message": exc.message}]
    response = api.create_response(request, body, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@api.exception_handler(NotModified)
def not_modified(request: HttpRequest, exc: NotModified) -> HttpResponse:
    response = HttpResponse(status=304, content_type="application/json")
    response["Last-Modified-Version"] = str(exc.version)
    return response


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api_error(
        request,
        ApiError(
            401,
            "Sign in, or send an API token as `Authorization: Bearer <token>`.",
            {"WWW-Authenticate": 'Bearer realm="citemap"'},
        ),
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api_error(request, ApiError(404, str(exc) or "Not found."))


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    message = str(exc) or "Your role in this project does not allow this."
    return api_error(request, ApiError(403, message))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if exc.status_code == 403 and "CSRF" in message:
        message = "A signed-in browser's writes need the CSRF token (X-CSRFToken header)."
    errors, status = None, exc.status_code
    if message == "Cannot parse request body":
        if request.content_type != "application/json":
            status, message = 415, "Send the request body as JSON (Content-Type: application/json)."
        else:
            message = "The request body is not the JSON object this operation takes."
            errors = [{"where": "body", "message": message}]
    return api_error(request, ApiError(status, message, errors=errors))


@api.exception_handler(NinjaValidationError)
def invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        where = [str(part) for part in error.get("loc", ())]
        if where[:2] == ["body", "payload"]:  # the body is the payload: say where in it
            del where[1]
        errors.append({"where": ".".join(where), "message": error.get("msg", "")})
    return api_error(request, ApiError(400, f"Invalid request: {summary(errors)}", errors=errors))


def summary(errors: list[dict]) -> str:
    return "; ".join(f"{e['where']}: {e['message'].rstrip('.')}" for e in errors) + "."


# --- Shaping -----------------------------------------------------------------------------------


def _project_out(request: HttpRequest, membership: Membership) -> dict:
    project = membership.project
    return {
        "id": project.pk,
        "slug": project.slug,
        "name": project.name,
        "description": project.description,
        "role": membership.role,
        "permissions": [action.value for action in Action if can(membership, action)],
        "url": request.build_absolute_uri(f"/api/v1/p/{project.slug}/"),
    }


def _library_actions(request: HttpRequest, membership: Membership) -> list[str]:
    """Sources, people, claims and concepts: anyone sees them, curators edit them."""
    editing = ["edit", "delete"] if can(membership, Action.EDIT_LIBRARY) else []
    return permitted(request, ["view", *editing])


SOURCE_FIELDS = (
    "title", "title_short", "container_title", "collection_title", "publisher",
    "publisher_place", "genre", "edition", "volume", "issue", "page", "language", "abstract",
    "url", "accessed", "created_at", "updated_at",
)  # fmt: skip


def _source_out(source: Source, actions: list[str]) -> dict:
    issued = None
    if source.issued_year is not None:
        issued = {
            "year": source.issued_year,
            "month": source.issued_month,
            "day": source.issued_day,
        }
    return {
        "id": source.pk,
        "version": source.version,
        "citation_key": source.citation_key,
        "type": source.csl_type,
        **{name: getattr(source, name) for name in SOURCE_FIELDS},
        "issued": issued,
        "contributors": [
            {
                "person_id": c.person_id,
                "name": c.person.display_name,
                "role": c.role,
                "position": c.position,
            }
            for c in source.contributors.all()
        ],
        "identifiers": [{"scheme": i.scheme, "value": i.value} for i in source.identifiers.all()],
        "actions": actions,
    }


PERSON_FIELDS = (
    "kind", "display_name", "family", "given", "dropping_particle", "non_dropping_particle",
    "suffix", "literal", "description", "orcid", "wikidata",
)  # fmt: skip


def _person_out(person: Person, actions: list[str]) -> dict:
    return {
        "id": person.pk,
        "version": person.version,
        **{name: getattr(person, name) for name in PERSON_FIELDS},
        "variants": [variant.name for variant in person.variants.all()],
        "actions": actions,
    }


def _claim_out(claim: Claim, actions: list[str]) -> dict:
    return {
        "id": claim.pk,
        "version": claim.version,
        "statement": claim.statement,
        "kind": claim.kind,
        "evidence_count": claim.evidence_count,
        "relations": [
            {"kind": r.kind, "target_id": r.target_id} for r in claim.relations_out.all()
        ],
        "actions": actions,
    }


def _concept_out(concept: Concept, actions: list[str]) -> dict:
    return {
        "id": concept.pk,
        "version": concept.version,
        "name": concept.name,
        "definition": concept.definition,
        "parent_id": concept.parent_id,
        "originator_id": concept.originator_id,
        "colour": concept.colour,
        "actions": actions,
    }


def _annotations_out(
    request: HttpRequest, membership: Membership, annotations: list[Annotation]
) -> list[dict]:
    """The Web Annotation shape the JSON-LD export writes (apps.webanno.w3c), with the id,
    version, review status and actions of each."""
    rows = [
        {name: reduce(getattr, name.split("__"), annotation) for name in ANNOTATION_VALUES}
        for annotation in annotations
    ]
    items = annotation_items(rows, Site.of_request(request, membership.project))
    out = []
    for annotation, item in zip(annotations, items, strict=True):
        item.pop("@context")
        review = annotation.allowed_actions(membership)
        editing = ["edit"] if annotation.is_editable_by(membership) else []
        out.append(
            {
                **item,
                "id": annotation.pk,
                "iri": item["id"],
                "status": annotation.status,
                "version": annotation.version,
                "source_id": annotation.source_id,
                "actions": permitted(request, ["view", *editing, *sorted(review)]),
            }
        )
    return out


def _listed(
    request: HttpRequest,
    response: HttpResponse,
    rows,
    *,
    key: str,
    shape,
    paging: Paging,
    key_type: type = str,
    since: int | None = None,
) -> dict:
    """One page of `rows` by (`key`, id), each row as `shape(rows)` makes it, with the next
    page's link in the body and the `Link` header, and the total in `Total-Results`. With
    `since`: the rows changed after that library version, by (version, id) instead."""
    if since is not None:
        rows = rows.filter(library_version__gt=since)
        key, key_type = "library_version", int
    page = paginate_rows(
        request, rows, key=key, key_type=key_type, cursor=paging.cursor, limit=paging.limit
    )
    page_headers(response, page)
    return {"results": shape(page.rows), "next": page.next_url, "total": page.total}


def _found(rows, pk: int, what: str):
    row = rows.filter(pk=pk).first()
    if row is None:
        raise ApiError(404, f"No such {what} in this project, or none you may see.")
    return row


def _scoped(membership: Membership, scope: str) -> None:
    if can(membership, Action.ANNOTATE):
        membership.approved_only = scope == "approved"


# --- Querysets: the pages' own, with what the API shows ----------------------------------------


def _sources(membership: Membership):
    return (
        Source.objects.for_project(membership.project)
        .defer("full_text", "extra")
        .prefetch_related(
            Prefetch(
                "contributors",
                queryset=Contributor.objects.select_related("person").only(
                    "source_id", "role", "position", "person__display_name", "person__id"
                ),
            ),
            "identifiers",
        )
    )


def _claims(membership: Membership):
    visible = Claim.objects.visible_to(membership)
    # The relations to claims the member may see, by a join on the target (not an IN over every
    # visible claim of the project, which costs what the project holds on each page).
    relations = ClaimRelation.objects.filter(visible_claims_q(membership, prefix="target__"))
    return visible.with_evidence_counts(membership).prefetch_related(
        Prefetch("relations_out", queryset=relations.order_by("kind", "target_id"))
    )


def _annotations(membership: Membership):
    return (
        Annotation.objects.visible_to(membership).select_related("author").with_sent_back_version()
    )


# --- Endpoints ---------------------------------------------------------------------------------


@api.get("/projects/", response={200: schemas.ProjectList, **ERRORS}, tags=["projects"])
def list_projects(request: HttpRequest, response: HttpResponse, paging: Paging = PagingParams):
    """The projects the caller belongs to (with a token: its project only), by name."""
    memberships = Membership.objects.filter(user=request.user).select_related("project")
    if request.api_token is not None:
        memberships = memberships.filter(project=request.api_token.project)

    def shape(rows):
        return [_project_out(request, membership) for membership in rows]

    return _listed(request, response, memberships, key="project__name", shape=shape, paging=paging)


@api.get("/p/{slug:slug}/", response={200: schemas.ProjectOut, **ERRORS}, tags=["projects"])
def get_project(request: HttpRequest, slug: str = Slug):
    """One project, with what the caller's role allows in it."""
    return _project_out(request, member(request, slug))


def _library_shape(request: HttpRequest, membership: Membership, out):
    actions = _library_actions(request, membership)
    return lambda rows: [out(row, actions) for row in rows]


# The files ?format= answers with, beside the JSON page, as the OpenAPI document says.
SOURCE_FILES = {
    CONTENT_TYPES[Format.BIBTEX].split(";")[0]: {"schema": {"type": "string"}},
    CONTENT_TYPES[Format.RIS].split(";")[0]: {"schema": {"type": "string"}},
    # CSL-JSON is JSON: an array of CSL items.
    CONTENT_TYPES[Format.CSLJSON].split(";")[0]: {
        "schema": {"type": "array", "items": {"type": "object"}}
    },
}


@api.get(
    "/p/{slug:slug}/sources/",
    response={200: schemas.SourceList, **ERRORS, 304: None},
    tags=["sources"],
    openapi_extra={"responses": {200: {"content": SOURCE_FILES}}},
)
def list_sources(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    paging: Paging = PagingParams,
    since: int = Since,  # None when absent (see Since)
    seen: int = ModifiedSince,  # None when absent (see Since)
    format: Literal["json", "bibtex", "ris", "csljson"] = Query(  # noqa: A002 (Zotero's name)
        "json",
        description="`bibtex`, `ris` or `csljson`: the same page of sources as a file for a "
        "reference manager, written by the export's own writers (the next page in the `Link` "
        "header).",
    ),
    include: citing.Include = citing.IncludeParam,
    style: citing.StyleName = citing.StyleParam,
):
    """The project's bibliography, by title."""
    membership = member(request, slug)
    version = library_version(response, membership, seen)
    rows = _sources(membership)
    if format != "json":
        answer = _sources_file(request, rows, format, paging, since)
        answer["Last-Modified-Version"] = str(version)
        return answer
    shape = _library_shape(request, membership, _source_out)
    if include == "citation":
        shape = citing.citing(shape, style)
    return _listed(request, response, rows, key="title", shape=shape, paging=paging, since=since)


def _sources_file(
    request: HttpRequest, rows, format: str, paging: Paging, since: int | None = None
) -> HttpResponse:
    key, key_type = "title", str
    if since is not None:
        rows = rows.filter(library_version__gt=since)
        key, key_type = "library_version", int
    page = paginate_rows(
        request, rows, key=key, key_type=key_type, cursor=paging.cursor, limit=paging.limit
    )
    chosen = Format(format)
    text = write_sources(
        Source.objects.filter(pk__in=[row.pk for row in page.rows]).order_by(key, "pk"),
        chosen,
    )
    answer = HttpResponse(text, content_type=CONTENT_TYPES[chosen])
    page_headers(answer, page)
    return answer


@api.get(
    "/p/{slug:slug}/sources/{id:pk}/",
    response={200: schemas.SourceOut, **ERRORS, 304: None},
    tags=["sources"],
)
def get_source(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    pk: int = Id,
    include: citing.Include = citing.IncludeParam,
    style: citing.StyleName = citing.StyleParam,
    seen: int = ModifiedSince,  # None when absent (see Since)
):
    """One source; its `ETag` is its version, for `If-Match` when changing it."""
    membership = member(request, slug)
    library_version(response, membership, seen)
    source = _found(_sources(membership), pk, "source")
    response["ETag"] = f'"{source.version}"'
    out = _source_out(source, _library_actions(request, membership))
    if include == "citation":
        out["citation"] = citing.citations([source.pk], style)[source.pk]
    return out


@api.get(
    "/p/{slug:slug}/people/",
    response={200: schemas.PersonList, **ERRORS, 304: None},
    tags=["people"],
)
def list_people(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    paging: Paging = PagingParams,
    since: int = Since,  # None when absent (see Since)
    seen: int = ModifiedSince,  # None when absent (see Since)
):
    """Authors and cited people, in name order (family name first)."""
    membership = member(request, slug)
    library_version(response, membership, seen)
    shape = _library_shape(request, membership, _person_out)
    rows = Person.objects.for_project(membership.project).with_list_data()
    return _listed(request, response, rows, key="sort_key", shape=shape, paging=paging, since=since)


@api.get(
    "/p/{slug:slug}/people/{id:pk}/",
    response={200: schemas.PersonOut, **ERRORS, 304: None},
    tags=["people"],
)
def get_person(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    pk: int = Id,
    seen: int = ModifiedSince,  # None when absent (see Since)
):
    membership = member(request, slug)
    library_version(response, membership, seen)
    people = Person.objects.for_project(membership.project).with_list_data()
    return _person_out(_found(people, pk, "person"), _library_actions(request, membership))


@api.get(
    "/p/{slug:slug}/claims/",
    response={200: schemas.ClaimList, **ERRORS, 304: None},
    tags=["claims"],
)
def list_claims(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    paging: Paging = PagingParams,
    scope: Literal["visible", "approved"] = ScopeParam,
    since: int = Since,  # None when absent (see Since)
    seen: int = ModifiedSince,  # None when absent (see Since)
):
    """Claims the caller may see (students: those with approved evidence), by statement."""
    membership = member(request, slug)
    library_version(response, membership, seen)
    _scoped(membership, scope)
    shape = _library_shape(request, membership, _claim_out)
    rows = _claims(membership)
    return _listed(
        request, response, rows, key="statement", shape=shape, paging=paging, since=since
    )


@api.get(
    "/p/{slug:slug}/claims/{id:pk}/",
    response={200: schemas.ClaimOut, **ERRORS, 304: None},
    tags=["claims"],
)
def get_claim(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    pk: int = Id,
    seen: int = ModifiedSince,  # None when absent (see Since)
):
    membership = member(request, slug)
    library_version(response, membership, seen)
    claim = _found(_claims(membership), pk, "claim")
    return _claim_out(claim, _library_actions(request, membership))


@api.get(
    "/p/{slug:slug}/concepts/",
    response={200: schemas.ConceptList, **ERRORS, 304: None},
    tags=["concepts"],
)
def list_concepts(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    paging: Paging = PagingParams,
    since: int = Since,  # None when absent (see Since)
    seen: int = ModifiedSince,  # None when absent (see Since)
):
    """The codebook, by name."""
    membership = member(request, slug)
    library_version(response, membership, seen)
    shape = _library_shape(request, membership, _concept_out)
    rows = Concept.objects.for_project(membership.project)
    return _listed(request, response, rows, key="name", shape=shape, paging=paging, since=since)


@api.get(
    "/p/{slug:slug}/concepts/{id:pk}/",
    response={200: schemas.ConceptOut, **ERRORS, 304: None},
    tags=["concepts"],
)
def get_concept(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    pk: int = Id,
    seen: int = ModifiedSince,  # None when absent (see Since)
):
    membership = member(request, slug)
    library_version(response, membership, seen)
    concept = _found(Concept.objects.for_project(membership.project), pk, "concept")
    return _concept_out(concept, _library_actions(request, membership))


AnnotationFormat = Query("json", description=jsonld.FORMAT_DESCRIPTION)


@api.get(
    "/p/{slug:slug}/annotations/",
    response={200: schemas.AnnotationList, **ERRORS, 304: None},
    tags=["annotations"],
    exclude_unset=True,
    openapi_extra={"responses": {200: {"content": jsonld.FILES}}},
)
def list_annotations(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    paging: Paging = PagingParams,
    scope: Literal["visible", "approved"] = ScopeParam,
    format: Literal["json", "jsonld"] = AnnotationFormat,  # noqa: A002
    since: int = Since,  # None when absent (see Since)
    seen: int = ModifiedSince,  # None when absent (see Since)
):
    """Annotations the caller may see (students: approved ones), oldest first, as W3C Web
    Annotations with their review status."""
    membership = member(request, slug)
    version = library_version(response, membership, seen)
    _scoped(membership, scope)
    if jsonld.wanted(request, format):
        rows = _annotations(membership)
        if since is not None:
            rows = rows.filter(library_version__gt=since)
        answer = jsonld.annotation_page(
            request, membership, rows, cursor=paging.cursor, limit=paging.limit
        )
        answer["Last-Modified-Version"] = str(version)
        return answer

    def shape(rows):
        return _annotations_out(request, membership, rows)

    rows = _annotations(membership)
    return _listed(
        request, response, rows, key="pk", key_type=int, shape=shape, paging=paging, since=since
    )


@api.get(
    "/p/{slug:slug}/annotations/{id:pk}/",
    response={200: schemas.AnnotationOut, **ERRORS, 304: None},
    tags=["annotations"],
    exclude_unset=True,
    openapi_extra={"responses": {200: {"content": jsonld.FILES}}},
)
def get_annotation(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    pk: int = Id,
    format: Literal["json", "jsonld"] = AnnotationFormat,  # noqa: A002
    seen: int = ModifiedSince,  # None when absent (see Since)
):
    """One annotation; its `ETag` is its version, for `If-Match` when changing it."""
    membership = member(request, slug)
    version = library_version(response, membership, seen)
    annotation = _found(_annotations(membership), pk, "annotation")
    if jsonld.wanted(request, format):
        answer = jsonld.annotation_document(request, membership, annotation)
        answer["Last-Modified-Version"] = str(version)
        return answer
    response["ETag"] = f'"{annotation.version}"'
    return _annotations_out(request, membership, [annotation])[0]


# --- Writes: sources ---------------------------------------------------------------------------
#
# Checked by the source form of the pages (apps.library.forms.SourceForm), so the API accepts
# what the pages accept. A change names the version it was made on (If-Unmodified-Since-Version,
# or If-Match with the ETag): missing, 428; stale, 412 with the source as it is now. The check
# and the write are one transaction with the row locked (Versioned.editing), so of two writers
# with the same version one wins and the other gets 412.

WRITE_ERRORS = {
    **ERRORS,
    409: schemas.Referenced,
    412: schemas.Stale,
    413: schemas.ValidationErrors,
    415: schemas.Error,
    428: schemas.Error,
}
SeenVersion = Header(
    None,
    alias="If-Unmodified-Since-Version",
    ge=1,
    le=2**31 - 1,
    description="The version you last read (the object's `version`).",
)
SeenTag = Header(
    None, alias="If-Match", max_length=100, description='Or: the ETag you last read, e.g. `"3"`.'
)
# API names of the form's fields, where they differ.
FORM_NAMES = {"csl_type": "type", "issued_year": "issued", "issued_month": "issued",
              "issued_day": "issued", "loaded_version": "If-Unmodified-Since-Version"}  # fmt: skip


def _seen_version(version: int | None, tag: str | None) -> int:
    if version is not None:
        return version
    if tag is not None:
        value = tag.strip().removeprefix("W/").strip('"')
        if value.isdigit() and len(value) < 10:
            return int(value)
        if value != "*":
            message = 'If-Match must be an ETag this API gave out, such as "3".'
            raise ApiError(400, message, errors=[{"where": "header.If-Match", "message": message}])
    raise ApiError(
        428,
        "Say which version you are changing: send If-Unmodified-Since-Version with the "
        "`version` you last read (or If-Match with its ETag).",
    )


def _source_form(payload: schemas.SourceIn, source: Source, project, seen: int | None):
    """The pages' source form, bound to the source's values overlaid with `payload`."""
    # A new source starts from the model's defaults (the type), an existing one from its values.
    data = {}
    for name in SourceForm._meta.fields:
        value = getattr(source, name)
        data[name] = "" if value is None else str(value)
    if source.pk is not None:
        data["loaded_version"] = str(seen)
    given = payload.model_dump(exclude_unset=True, exclude={"identifiers"})
    if "type" in given:
        given["csl_type"] = given.pop("type")
    if "issued" in given:
        issued = given.pop("issued") or {}
        for part in ("year", "month", "day"):
            given[f"issued_{part}"] = issued.get(part)
    for name, value in given.items():
        data[name] = "" if value is None else str(value)
    form = SourceForm(data, instance=source, project=project)
    if not form.is_valid():
        errors = [
            {"where": f"body.{FORM_NAMES.get(name, name)}", "message": str(message)}
            for name, messages in form.errors.items()
            for message in messages
        ]
        raise ApiError(400, f"Not saved: {summary(errors)}", errors=errors)
    return form


def _identifiers(payload: schemas.SourceIn) -> list[tuple[str, str]] | None:
    if payload.identifiers is None:
        return None
    found, errors = [], []
    for number, identifier in enumerate(payload.identifiers):
        where = f"body.identifiers.{number}"
        if identifier.scheme not in IdentifierScheme.values:
            schemes = ", ".join(IdentifierScheme.values)
            errors.append({"where": where, "message": f"The scheme is one of {schemes}."})
            continue
        try:
            found.append((identifier.scheme, normalise_identifier(*identifier.dict().values())))
        except ValueError as error:
            errors.append({"where": where, "message": str(error)})
    if errors:
        raise ApiError(400, f"Not saved: {summary(errors)}", errors=errors)
    return list(dict.fromkeys(found))


def _save_source(request, membership, source: Source, form, identifiers) -> None:
    def save() -> None:
        form.save()
        if identifiers is not None:
            source.set_identifiers(identifiers)

    try:
        save_edit(source, form, by=request.user, save=save)
    except StaleEdit as stale:
        raise _stale(request, membership, stale.current.pk) from None
    except IntegrityError:
        raise ApiError(409, SAVE_FAILED) from None


def _stale(request, membership, pk: int) -> ApiError:
    current = _sources(membership).get(pk=pk)
    error = ApiError(
        412,
        f"The source was changed since the version you read; it is now version "
        f"{current.version}. Compare, then send your change again with that version.",
        {"ETag": f'"{current.version}"'},
    )
    error.body = {"current": _source_out(current, _library_actions(request, membership))}
    return error


def _saved(request, response, membership, pk: int) -> dict:
    source = _sources(membership).get(pk=pk)
    response["ETag"] = f'"{source.version}"'
    return _source_out(source, _library_actions(request, membership))


LibrarySeen = Header(
    None,
    alias="If-Unmodified-Since-Version",
    ge=0,
    le=MAX_VERSION,
    description="Optional on creates: the library version you last pulled; 412 (nothing "
    "written) when the project changed since.",
)


@api.post(
    "/p/{slug:slug}/sources/",
    # A stale library version answers the message only (there is no object to show).
    response={201: schemas.SourceOut, **WRITE_ERRORS, 412: schemas.Error},
    tags=["sources"],
    url_name="list_sources",
)
def create_source(
    request: HttpRequest,
    response: HttpResponse,
    payload: schemas.SourceIn,
    slug: str = Slug,
    library: int | None = LibrarySeen,
):
    """Add a source (analysts and supervisors; a token needs the `write` scope)."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    source = Source(project=membership.project)
    form = _source_form(payload, source, membership.project, None)
    identifiers = _identifiers(payload)
    with transaction.atomic():
        if library is not None:
            check_library(membership.project, library)
        _save_source(request, membership, source, form, identifiers)
    response["Location"] = request.build_absolute_uri(f"{request.path}{source.pk}/")
    return Status(201, _saved(request, response, membership, source.pk))


@api.patch(
    "/p/{slug:slug}/sources/{id:pk}/",
    response={200: schemas.SourceOut, **WRITE_ERRORS},
    tags=["sources"],
    url_name="get_source",
)
def update_source(
    request: HttpRequest,
    response: HttpResponse,
    payload: schemas.SourceIn,
    slug: str = Slug,
    pk: int = Id,
    version: int | None = SeenVersion,
    tag: str | None = SeenTag,
):
    """Change some fields of a source, naming the version you read."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    source = _found(Source.objects.for_project(membership.project), pk, "source")
    seen = _seen_version(version, tag)
    form = _source_form(payload, source, membership.project, seen)
    _save_source(request, membership, source, form, _identifiers(payload))
    return _saved(request, response, membership, source.pk)


@api.delete(
    "/p/{slug:slug}/sources/{id:pk}/",
    response={204: None, **WRITE_ERRORS},
    tags=["sources"],
    url_name="get_source",
)
def delete_source(
    request: HttpRequest,
    slug: str = Slug,
    pk: int = Id,
    version: int | None = SeenVersion,
    tag: str | None = SeenTag,
):
    """Delete a source nothing refers to (409 names what does), naming the version you read."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    source = _found(Source.objects.for_project(membership.project), pk, "source")
    seen = _seen_version(version, tag)
    try:
        with source.editing(by=request.user, loaded_version=seen) as current:
            references = delete_if_unreferenced(current)
            if references:  # raised inside, so the refused delete takes no library version
                error = ApiError(409, "Not deleted: other records refer to this source.")
                error.body = {"references": references}
                raise error
    except StaleEdit:
        raise _stale(request, membership, pk) from None
    return Status(204, None)


# --- Review through the API --------------------------------------------------------------------
#
# The same transition as the pages' buttons (Annotation.transition): under the row's lock, with
# the four-eyes rule, the reasons and the member's right checked there again. The version read
# is required: deciding on a version one has not read is refused with 412 and the current one.

REVIEW_ERRORS = {**ERRORS, 409: schemas.Error, 412: schemas.StaleAnnotation, 415: schemas.Error}
# The right each action needs (and so the token scope: REVIEW needs "review", others "write").
ACTION_RIGHTS = {
    ReviewAction.SUBMIT: Action.ANNOTATE,
    ReviewAction.WITHDRAW: Action.ANNOTATE,
}


@api.post(
    "/p/{slug:slug}/annotations/{id:pk}/transitions/",
    response={201: schemas.ReviewEventOut, **REVIEW_ERRORS},
    tags=["review"],
)
def annotation_transition(
    request: HttpRequest, payload: schemas.TransitionIn, slug: str = Slug, pk: int = Id
):
    """Submit, approve, request changes, reject, reopen, withdraw or restore an annotation, as
    the review queue's buttons do; answers the ledger row it wrote."""
    membership = member(request, slug, ACTION_RIGHTS.get(payload.action, Action.REVIEW))
    annotation = _found(_annotations(membership), pk, "annotation")
    try:
        event = annotation.transition(
            payload.action,
            by=request.user,
            membership=membership,
            seen_version=payload.version,
            reason=payload.reason or "",
            comment=payload.comment,
        )
    except StaleDecision as stale:
        error = ApiError(412, str(stale), {"ETag": f'"{stale.current}"'})
        error.body = {"version": stale.current}
        raise error from None
    except TransitionError as refused:
        raise ApiError(409, str(refused)) from None
    return Status(201, event_out(event))


def event_out(event) -> dict:
    """A row of the review ledger as the API gives it (the transition's answer, the lists)."""
    return {
        "id": event.pk,
        "annotation_id": event.annotation_id,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason,
        "comment": event.comment,
        "actor": event.actor.get_username(),
        "annotation_version": event.annotation_version,
        "self_approval": event.self_approval,
        "created_at": event.created_at,
    }


# Routes of other modules, on the same API (imported last: they use the helpers above).
from apps.api import exports, writes  # noqa: E402, F401

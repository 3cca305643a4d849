"""`?format=jsonld` (or `Accept: application/ld+json`) on annotations: W3C Web Annotations as the
JSON-LD export writes them (apps.webanno.w3c), a list page as an AnnotationPage of the Web
Annotation Protocol, with the next page's IRI in `next` and the `Link` header."""

from __future__ import annotations

from functools import reduce

from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.accounts.models import Membership
from apps.api.paging import page_headers, paginate
from apps.webanno.items import Site
from apps.webanno.w3c import ANNOTATION_VALUES, CONTENT_TYPE, annotation_items, context

FORMAT_DESCRIPTION = (
    "`jsonld`: W3C Web Annotations (JSON-LD, as the annotation export writes them); a list is "
    "an AnnotationPage. `Accept: application/ld+json` asks for the same."
)
# The answer's media type, as the OpenAPI document names it.
MEDIA_TYPE = CONTENT_TYPE.split(";")[0]
FILES = {MEDIA_TYPE: {"schema": {"type": "object"}}}


def wanted(request: HttpRequest, format: str) -> bool:  # noqa: A002 (the API's name)
    """`?format=jsonld`, or (without `format`) an Accept header that prefers JSON-LD."""
    if "format" in request.GET:
        return format == "jsonld"
    if MEDIA_TYPE not in request.headers.get("Accept", ""):
        return False
    return request.get_preferred_type(["application/json", MEDIA_TYPE]) == MEDIA_TYPE


def _items(request: HttpRequest, membership: Membership, annotations: list) -> tuple[Site, list]:
    site = Site.of_request(request, membership.project)
    rows = [
        {name: reduce(getattr, name.split("__"), annotation) for name in ANNOTATION_VALUES}
        for annotation in annotations
    ]
    return site, annotation_items(rows, site)


def _answer(document: dict) -> HttpResponse:
    return JsonResponse(
        document, content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
    )


def annotation_document(request: HttpRequest, membership: Membership, annotation) -> HttpResponse:
    _, items = _items(request, membership, [annotation])
    return _answer(items[0])


def annotation_page(
    request: HttpRequest, membership: Membership, rows, *, cursor: str | None, limit: int
) -> HttpResponse:
    page = paginate(request, rows, key="pk", key_type=int, cursor=cursor, limit=limit)
    site, items = _items(request, membership, page.rows)
    for item in items:
        del item["@context"]  # the page's applies
    collection = request.build_absolute_uri(request.path) + "?format=jsonld"
    document = {
        "@context": context(site),
        "id": request.build_absolute_uri(),
        "type": "AnnotationPage",
        "partOf": {"id": collection, "type": "AnnotationCollection", "total": page.total},
        "items": items,
    }
    if page.next_url:
        document["next"] = page.next_url
    answer = _answer(document)
    page_headers(answer, page)
    return answer

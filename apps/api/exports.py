"""Members, the review ledger, and the matrix and map as files, under the pages' policy.

- `…/members/`: supervisors only (the right to manage members), with each member's role.
- `…/annotations/<id>/events/`: the review ledger of one annotation, as its page shows it: to
  students only where the project lets them read the history, and then only from the approval
  on (apps.annotations.views.visible_history). `…/review-events/`: the whole project's ledger,
  for those who review.
- `…/matrix/?format=csv` and `…/map/?format=gexf|graphml`: the files of the matrix and map
  pages, read from the same forms (so the same query parameters) and written by the same
  writers. Students' files count approved work only, whatever the parameters say.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Query

from apps.accounts.models import Membership
from apps.accounts.policy import Action, can_see_review_history
from apps.annotations.models import ReviewEvent
from apps.annotations.views import visible_history
from apps.api import write_schemas as ws
from apps.api.auth import ApiError, member, permitted
from apps.api.endpoints import (
    ERRORS,
    Id,
    Paging,
    PagingParams,
    Slug,
    _annotations,
    _found,
    _listed,
    api,
    event_out,
    summary,
)
from apps.jobs.running import content_disposition, stream_download
from apps.xref.graph import build_graph, gexf_pieces, graphml_pieces, lay_out
from apps.xref.map_forms import MapForm
from apps.xref.matrix import build_matrix
from apps.xref.views.matrix import _csv_lines
from apps.xref.views.matrix import _form as matrix_form

# --- Members -----------------------------------------------------------------------------------


@api.get("/p/{slug:slug}/members/", response={200: ws.MemberList, **ERRORS}, tags=["members"])
def list_members(
    request: HttpRequest, response: HttpResponse, slug: str = Slug, paging: Paging = PagingParams
):
    """The project's members and their roles, by username (supervisors only)."""
    membership = member(request, slug, Action.MANAGE)
    rows = Membership.objects.for_project(membership.project).select_related("user")
    actions = permitted(request, ["view"])

    def shape(members):
        return [
            {
                "user_id": m.user_id,
                "username": m.user.username,
                "name": m.user.get_full_name(),
                "role": m.role,
                "joined": m.created_at,
                "actions": actions,
            }
            for m in members
        ]

    return _listed(request, response, rows, key="user__username", shape=shape, paging=paging)


# --- The review ledger -------------------------------------------------------------------------


def _events_shape(request: HttpRequest):
    actions = permitted(request, ["view"])
    return lambda events: [{**event_out(event), "actions": actions} for event in events]


@api.get(
    "/p/{slug:slug}/annotations/{id:pk}/events/",
    response={200: ws.ReviewEventList, **ERRORS},
    tags=["review"],
)
def annotation_events(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = Slug,
    pk: int = Id,
    paging: Paging = PagingParams,
):
    """An annotation's review ledger, oldest first, as its page shows it (students: where the
    project lets them, from the approval on)."""
    membership = member(request, slug)
    annotation = _found(_annotations(membership), pk, "annotation")
    if not can_see_review_history(membership, annotation):
        raise ApiError(403, "This project does not show students the review history.")
    events, _ = visible_history(membership, annotation)
    rows = events.select_related("actor")
    return _listed(request, response, rows, key="pk", key_type=int, shape=_events_shape(request),
                   paging=paging)  # fmt: skip


@api.get(
    "/p/{slug:slug}/review-events/",
    response={200: ws.ReviewEventList, **ERRORS},
    tags=["review"],
)
def list_review_events(
    request: HttpRequest, response: HttpResponse, slug: str = Slug, paging: Paging = PagingParams
):
    """Every review action in the project, oldest first (those who review)."""
    membership = member(request, slug, Action.REVIEW)
    rows = ReviewEvent.objects.filter(annotation__project=membership.project).select_related(
        "actor"
    )
    return _listed(request, response, rows, key="pk", key_type=int, shape=_events_shape(request),
                   paging=paging)  # fmt: skip


# --- Matrix and map files ----------------------------------------------------------------------

ScopeChoice = Query(
    None,
    description="`approved` or `visible`; by default what the caller may see (students: "
    "approved work only, whatever is asked).",
)


def _refused_query(errors: dict) -> ApiError:
    refused = [
        {"where": "query" if name == "__all__" else f"query.{name}", "message": str(message)}
        for name, messages in errors.items()
        for message in messages
    ]
    return ApiError(400, f"Invalid request: {summary(refused)}", errors=refused)


@api.get(
    "/p/{slug:slug}/matrix/",
    response={200: None, **ERRORS},
    tags=["exports"],
    openapi_extra={
        "responses": {200: {"description": "The matrix as CSV.",
                            "content": {"text/csv": {"schema": {"type": "string"}}}}}
    },
)  # fmt: skip
def matrix_file(
    request: HttpRequest,
    slug: str = Slug,
    format: Literal["csv"] = Query("csv", description="`csv`, as the matrix page's link."),  # noqa: A002
    cols: Literal["concepts", "people", "claims"] = Query("concepts", description="Columns."),
    scope: Literal["approved", "visible"] | None = ScopeChoice,
):
    """The concept matrix as CSV, every row of the filter: the matrix page's query parameters
    (`type`, `year_min`, `year_max`, `concept`, `sort`, `col_sort`, `limit`) apply too."""
    membership = member(request, slug)
    form = matrix_form(request, membership)
    if not form.is_valid():
        raise _refused_query(form.errors)
    table = build_matrix(membership, form.query(), list(form.concepts.values()))
    answer = StreamingHttpResponse(_csv_lines(table), content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = content_disposition(
        f"{membership.project.slug}-matrix-{table.query.axis}.csv"
    )
    return answer


MAP_FILES = {
    "gexf": (gexf_pieces, "application/gexf+xml"),
    "graphml": (graphml_pieces, "application/graphml+xml"),
}


@api.get(
    "/p/{slug:slug}/map/",
    response={200: None, **ERRORS},
    tags=["exports"],
    openapi_extra={
        "responses": {
            200: {
                "description": "The map as GEXF 1.3 or GraphML.",
                "content": {
                    media: {"schema": {"type": "string"}} for _, media in MAP_FILES.values()
                },
            }
        }
    },
)
def map_file(
    request: HttpRequest,
    slug: str = Slug,
    format: Literal["gexf", "graphml"] = Query(  # noqa: A002
        "gexf", description="`gexf` (Gephi) or `graphml` (yEd, Cytoscape, networkx)."
    ),
    scope: Literal["approved", "visible"] | None = ScopeChoice,
):
    """The network map as a file, as the map page's exports write it: its query parameters
    (`nodes`, `edges`, `concept`, `limit`) apply too."""
    membership = member(request, slug, Action.EXPORT)
    form = MapForm(request.GET, membership=membership)
    if not form.is_valid():
        raise _refused_query(form.errors)
    graph = build_graph(membership, form.spec())
    lay_out(graph)
    writer, media = MAP_FILES[format]
    pieces = writer(
        graph, title=membership.project.name, absolute=request.build_absolute_uri("/")[:-1]
    )
    return stream_download(
        pieces,
        filename=f"{membership.project.slug}-map.{format}",
        content_type=f"{media}; charset=utf-8",
    )

"""The network map and its GEXF and GraphML exports."""

from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import Action, Scope, project_view
from apps.jobs.running import stream_download
from apps.xref.graph import (
    HEIGHT,
    PATTERNS,
    TYPE_ORDER,
    WIDTH,
    EdgeType,
    Graph,
    NodeType,
    build_graph,
    gexf_pieces,
    graphml_pieces,
    lay_out,
    legend_shape,
)
from apps.xref.map_forms import MapForm

# Up to this many nodes the table under the map starts open; a bigger one starts folded.
OPEN_TABLE_NODES = 40


@require_safe
@project_view()
def map_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = MapForm(request.GET, membership=membership)
    graph = None
    context = {}
    if form.is_valid():
        graph = build_graph(membership, form.spec())
        lay_out(graph)
        spec = graph.spec
        context = {
            "approved_only": spec.scope == Scope.APPROVED,
            "narrowed": spec.is_narrowed,
            "left_out": graph.left_out_text,
            "legend_nodes": [
                (kind, NodeType(kind).label, legend_shape(kind)) for kind in spec.node_types
            ],
            "legend_edges": [(kind, EdgeType(kind).label) for kind in spec.shown_edge_types()],
            "legend_patterns": [(name, *labels) for name, labels in PATTERNS.items()],
            "table_nodes": sorted(
                graph.nodes, key=lambda n: (TYPE_ORDER[n.type], -n.weight, n.label.casefold())
            ),
            "table_open": len(graph.nodes) <= OPEN_TABLE_NODES,
        }
    return render(
        request,
        "xref/map.html",
        {
            "membership": membership,
            "project": membership.project,
            "form": form,
            "graph": graph,
            "width": WIDTH,
            "height": HEIGHT,
            "query": request.GET.urlencode(),
            "concept_choices": form.concept_choices(),
            "chosen_concept": str(form["concept"].value() or ""),
            **context,
        },
    )


def _export(
    request: HttpRequest,
    membership: Membership,
    writer: Callable[..., Iterator[bytes]],
    extension: str,
    content_type: str,
) -> HttpResponse:
    form = MapForm(request.GET, membership=membership)
    if not form.is_valid():
        return HttpResponseBadRequest(
            f"The map cannot be exported with these parameters.\n{form.error_text()}\n",
            content_type="text/plain; charset=utf-8",
        )
    graph: Graph = build_graph(membership, form.spec())
    lay_out(graph)
    project = membership.project
    # Node URLs are absolute in the files: they are opened outside the site. Written a node
    # and an edge at a time as the response is sent.
    pieces = writer(graph, title=project.name, absolute=request.build_absolute_uri("/")[:-1])
    return stream_download(
        pieces, filename=f"{project.slug}-map.{extension}", content_type=content_type
    )


@require_safe
@project_view(Action.EXPORT)
def map_gexf(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _export(request, membership, gexf_pieces, "gexf", "application/gexf+xml; charset=utf-8")


@require_safe
@project_view(Action.EXPORT)
def map_graphml(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _export(
        request, membership, graphml_pieces, "graphml", "application/graphml+xml; charset=utf-8"
    )

"""The network map: sources, people, claims and concepts with the typed links between them.

`build_graph()` aggregates the links in the database (one GROUP BY per kind of link, weights =
the annotations behind a link), keeps the most connected nodes when the graph is bigger than the
member asked for (ranked by the tallies in large projects; see EXACT_ANNOTATIONS), and labels
what it keeps. `lay_out()` places the nodes (networkx's spring layout with a fixed seed, from
the nodes and links alone, so the same graph is drawn the same way; a map drawn before keeps
its picture when a write adds weight, a link or a few nodes) and prepares what the SVG template
prints. `write_gexf()` and `write_graphml()` write the same graph for Gephi, yEd
and Cytoscape.

Visibility follows the access policy: every link that comes from an annotation is counted only
through annotations the member may see (`visible_annotations_q`, narrowed to approved work when
the member asks for "approved only", as students always see it).
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import math
import re
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.urls import reverse

from apps.accounts.models import Membership
from apps.accounts.policy import Action, Scope, can, tally_scope, visible_annotations_q
from apps.annotations.models import (
    Annotation,
    ClaimTally,
    ConceptTally,
    Evidence,
    Mention,
    PersonTally,
    ProjectTally,
    SourceTally,
)
from apps.claims.models import Claim, ClaimRelation, Concept
from apps.library.models import Contributor, ContributorRole, Source
from apps.people.models import Person
from apps.xref.caching import served_while_refreshed
from apps.xref.overview import project_stamp, visibility_key


class NodeType(models.TextChoices):
    SOURCE = "source", "Sources"
    PERSON = "person", "People"
    CLAIM = "claim", "Claims"
    CONCEPT = "concept", "Concepts"


class EdgeType(models.TextChoices):
    AUTHORED = "authored", "Authored (person → source)"
    MENTIONS = "mentions", "Mentions a person (source → person)"
    CITES = "cites", "Cites a work (source → source)"
    EVIDENCE = "evidence", "Evidence (source → claim)"
    RELATION = "relation", "Claim relation (claim → claim)"
    CODED = "coded", "Coded with (source → concept)"


# What each kind of link joins, in the direction it is drawn and exported.
ENDS: dict[str, tuple[str, str]] = {
    EdgeType.AUTHORED: (NodeType.PERSON, NodeType.SOURCE),
    EdgeType.MENTIONS: (NodeType.SOURCE, NodeType.PERSON),
    EdgeType.CITES: (NodeType.SOURCE, NodeType.SOURCE),
    EdgeType.EVIDENCE: (NodeType.SOURCE, NodeType.CLAIM),
    EdgeType.RELATION: (NodeType.CLAIM, NodeType.CLAIM),
    EdgeType.CODED: (NodeType.SOURCE, NodeType.CONCEPT),
}
# The attribute that qualifies a link in the exports (and the table): a stance, a citation
# function or a relation kind.
QUALIFIER_NAME = {
    EdgeType.MENTIONS: "function",
    EdgeType.CITES: "function",
    EdgeType.EVIDENCE: "stance",
    EdgeType.RELATION: "kind",
}
# Line patterns: colour says which kind of link, the pattern says the attitude, so one legend
# row per pattern explains every stance, function and relation kind.
PATTERNS: dict[str, tuple[str, str]] = {
    "solid": ("Solid", "agrees: asserts, supports, supporting; plain links"),
    "dashed": ("Dashed", "disagrees: contradicts, contrasting"),
    "dotted": ("Dotted", "neutral: mentioning, reports"),
    "dashdot": ("Dash-dot", "nuances: qualifies, refines"),
    "double": ("Dash-dot-dot", "duplicates"),
}
PATTERN_OF = {
    "asserts": "solid",
    "supports": "solid",
    "supporting": "solid",
    "contradicts": "dashed",
    "contrasting": "dashed",
    "mentioning": "dotted",
    "reports": "dotted",
    "qualifies": "dashdot",
    "refines": "dashdot",
    "duplicates": "double",
}
# Fill colours of node types in the exports (the page takes them from the stylesheet), and the
# GEXF viz shapes that match the SVG shapes.
COLOURS = {
    NodeType.SOURCE: (43, 108, 176),
    NodeType.PERSON: (221, 138, 31),
    NodeType.CLAIM: (176, 80, 143),
    NodeType.CONCEPT: (47, 158, 116),
}
GEXF_SHAPES = {
    NodeType.SOURCE: "square",
    NodeType.PERSON: "disc",
    NodeType.CLAIM: "diamond",
    NodeType.CONCEPT: "triangle",
}
TYPE_ORDER = {value: index for index, value in enumerate(NodeType.values)}
EDGE_ORDER = {value: index for index, value in enumerate(EdgeType.values)}

DEFAULT_LIMIT = 150
MAX_LIMIT = 400
MIN_LIMIT = 10
# Up to this many annotations in scope the ranking is computed on every request; above it, the
# whole-project aggregation takes about a second on PostgreSQL. There, a map that narrows
# nothing, for a member who reads approved work or everything (students, supervisors), ranks
# nodes by the tallies a write keeps current (`_rank_from_tallies`): no whole-project
# aggregate on any request, and a write costs the next request nothing. Other maps (a concept
# or a kind of node left out, an analyst's own drafts, a blind coder) use the computed
# ranking, remembered per map and visibility; once an annotation is edited or reviewed
# (overview.project_stamp), or after RANK_TTL seconds (authorships and claim relations change
# without either), the previous ranking is served while one process computes it again in the
# background. The links and weights shown are always computed afresh, so a ranking can pick a
# slightly different set of nodes, never show anything the member may not see now, nor a
# stale number.
EXACT_ANNOTATIONS = 5_000
RANK_TTL = 10 * 60
RANK_KEPT = 24 * 60 * 60
# Candidates per place on the map: of the POOL × limit most connected nodes, the map keeps those
# most linked to each other, so that trimming a big graph leaves a network, not scattered hubs.
POOL = 3
# Positions are keyed by the graph's nodes and links without their weights (see lay_out), so
# a cached one is never wrong and a write that only adds weight re-uses it.
LAYOUT_TTL = 24 * 60 * 60
LAYOUT_SEED = 20161
LAYOUT_ITERATIONS = 80

# The SVG canvas (viewBox units, about CSS pixels on a wide screen).
WIDTH = 1200
HEIGHT = 780
MARGIN = 36
LABEL_CHARS = 26
LABEL_FONT = 11.5
# Average advance of a character of the label font, in canvas units (a generous estimate, so
# labels that are drawn never overlap).
CHAR_WIDTH = 6.4
CURVE_SPREAD = 16.0

# Characters XML 1.0 cannot carry, even escaped.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class MapSpec:
    """What the member asked to see (the map form's cleaned data)."""

    node_types: tuple[str, ...] = tuple(NodeType.values)
    edge_types: tuple[str, ...] = tuple(EdgeType.values)
    scope: str = Scope.APPROVED
    concept: Concept | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def is_narrowed(self) -> bool:
        """Whether the map leaves some kind of node or link out, or follows one concept."""
        return (
            self.concept is not None
            or set(self.node_types) != set(NodeType.values)
            or set(self.edge_types) != set(EdgeType.values)
        )

    def shown_edge_types(self) -> list[str]:
        """The kinds of link asked for whose both ends are node types asked for."""
        return [
            kind
            for kind in EdgeType.values
            if kind in self.edge_types and all(end in self.node_types for end in ENDS[kind])
        ]


@dataclass
class Node:
    type: str
    pk: int
    label: str
    url: str
    detail: str = ""
    # Weighted degree in the graph shown: the annotations behind its links, plus one per
    # authorship and claim relation.
    weight: int = 0
    links: int = 0
    # Set by lay_out().
    x: float = 0.0
    y: float = 0.0
    r: float = 6.0
    path: str = ""
    short_label: str = ""
    label_x: float = 0.0
    label_y: float = 0.0
    label_anchor: str = "start"
    label_shown: bool = False

    @property
    def key(self) -> str:
        return f"{self.type}-{self.pk}"

    @property
    def type_label(self) -> str:
        return NODE_NAMES[self.type]


NOUNS = {
    NodeType.SOURCE: ("source", "sources"),
    NodeType.PERSON: ("person", "people"),
    NodeType.CLAIM: ("claim", "claims"),
    NodeType.CONCEPT: ("concept", "concepts"),
}
NODE_NAMES = {
    NodeType.SOURCE: "Source",
    NodeType.PERSON: "Person",
    NodeType.CLAIM: "Claim",
    NodeType.CONCEPT: "Concept",
}


@dataclass
class Edge:
    type: str
    source: Node
    target: Node
    qualifier: str
    # The annotations behind the link (1 for an authorship or a claim relation).
    weight: int
    # Set by lay_out().
    d: str = ""
    width: float = 1.0

    @property
    def key(self) -> str:
        return f"{self.type}:{self.source.key}:{self.target.key}:{self.qualifier}"

    @property
    def counts_annotations(self) -> bool:
        return self.type not in (EdgeType.AUTHORED, EdgeType.RELATION)

    @property
    def pattern(self) -> str:
        return PATTERN_OF.get(self.qualifier, "solid")

    @property
    def description(self) -> str:
        """How the table and tooltips name the link: "supports", "mentions (contrasting)"."""
        if self.type == EdgeType.AUTHORED:
            return "authored"
        if self.type == EdgeType.CODED:
            return "is coded with"
        if self.type == EdgeType.MENTIONS:
            return f"mentions ({self.qualifier})"
        if self.type == EdgeType.CITES:
            return f"cites ({self.qualifier})"
        if self.type == EdgeType.EVIDENCE:
            return self.qualifier
        return f"{self.qualifier} (claim relation)"


@dataclass
class Graph:
    spec: MapSpec
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    # Nodes of each type in the whole graph asked for, before trimming to the limit.
    totals: dict[str, int] = field(default_factory=dict)
    # Where the ranking of a large project came from (see EXACT_ANNOTATIONS): the cache, or
    # the tallies.
    ranking_cached: bool = False
    ranking_from_tallies: bool = False
    # Names this map for this kind of member (lay_out remembers its last picture under it).
    map_key: str = ""

    @property
    def shown(self) -> dict[str, int]:
        counts = dict.fromkeys(self.spec.node_types, 0)
        for node in self.nodes:
            counts[node.type] += 1
        return counts

    @property
    def left_out(self) -> list[tuple[str, int]]:
        """(type label, count) of the nodes the limit left out, in type order."""
        shown = self.shown
        counts = [(kind, self.totals.get(kind, 0) - shown.get(kind, 0)) for kind in NodeType.values]
        return [(NOUNS[kind][count != 1], count) for kind, count in counts if count > 0]

    @property
    def left_out_text(self) -> str:
        return ", ".join(f"{count:,} {label}" for label, count in self.left_out)

    @property
    def is_empty(self) -> bool:
        return not self.nodes

    def shape_hash(self) -> str:
        """The nodes and links, without labels or weights: what the positions depend on."""
        content = [
            [n.key for n in self.nodes],
            [[e.source.key, e.target.key, e.type, e.qualifier] for e in self.edges],
        ]
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()


# -- Building the graph from the database ---------------------------------------------------

Coding = Annotation.concepts.through


@dataclass
class _Links:
    """One kind of link as an aggregate over a queryset: which fields hold its two ends, its
    qualifier, and what counts as one unit of weight."""

    queryset: QuerySet
    source_field: str
    target_field: str
    qualifier_field: str | None
    # Links that come from annotations weigh the number of distinct annotations behind them.
    annotation_field: str | None

    def weight(self) -> Count:
        if self.annotation_field:
            return Count(self.annotation_field, distinct=True)
        return Count("pk")


class _Scope:
    """The annotations a map is built from: those the member may see (approved ones only when
    asked, and always for students), narrowed to a concept's subtree when one is chosen."""

    def __init__(self, membership: Membership, spec: MapSpec, concept_ids: list[int] | None):
        self.project = membership.project
        # The policy narrows what the member sees to approved work when asked to; the map's
        # own choice of scope wins over the project-wide one for this request.
        self.viewer = copy.copy(membership)
        self.viewer.approved_only = spec.scope == Scope.APPROVED or not can(
            membership, Action.ANNOTATE
        )
        self.concept_ids = concept_ids

    def restrict(self, queryset: QuerySet, prefix: str, ref: str) -> QuerySet:
        """Rows reached through visible annotations: `prefix` leads to the annotation, `ref`
        is the outer field holding its id (for the concept filter)."""
        queryset = queryset.filter(visible_annotations_q(self.viewer, prefix=prefix))
        if self.concept_ids is not None:
            coded = Coding.objects.filter(
                annotation_id=OuterRef(ref), concept_id__in=self.concept_ids
            )
            queryset = queryset.filter(Exists(coded))
        return queryset

    def annotations(self) -> QuerySet:
        return self.restrict(Annotation.objects.order_by(), "", "pk")

    def is_large(self, level: str | None = None) -> bool:
        if level:
            # The project's tally answers with one row what the capped count below reads up
            # to 5,000 index entries for (85 ms at 200,000 annotations).
            counted = ProjectTally.objects.filter(project_id=self.project.pk).values_list(
                level, flat=True
            )
            return (counted.first() or 0) > EXACT_ANNOTATIONS
        return self.annotations()[: EXACT_ANNOTATIONS + 1].count() > EXACT_ANNOTATIONS

    def tally_level(self, spec: MapSpec) -> str | None:
        """The tallies' field that counts what this member sees ("approved" or "visible"), or
        None when no tally counts it: a narrowed map (a concept, some kinds left out), an
        analyst's own drafts, or blind coding (analysts, even reading approved work only, may
        have a co-coder's passages hidden from them)."""
        if spec.is_narrowed or self.concept_ids is not None:
            return None
        return tally_scope(self.viewer)

    def claims(self) -> QuerySet:
        """Claims the map may show: visible to the viewer, and, under a concept filter,
        backed by evidence from the concept's annotations."""
        claims = Claim.objects.visible_to(self.viewer)
        if self.concept_ids is not None:
            evidence = self.restrict(
                Evidence.objects.filter(claim=OuterRef("pk")), "annotation__", "annotation_id"
            )
            claims = claims.filter(Exists(evidence))
        return claims

    def links(self, kind: str, *, among_claims: list[int] | None = None) -> _Links:
        through = ("annotation__", "annotation_id")
        if kind == EdgeType.AUTHORED:
            contributors = Contributor.objects.filter(
                role=ContributorRole.AUTHOR, source__project_id=self.project.pk
            )
            if self.concept_ids is not None:
                contributors = contributors.filter(
                    source_id__in=self.annotations().values("source_id")
                )
            return _Links(contributors, "person_id", "source_id", None, None)
        if kind == EdgeType.MENTIONS:
            mentions = self.restrict(Mention.objects.all(), *through)
            return _Links(
                mentions, "annotation__source_id", "person_id", "function", "annotation_id"
            )
        if kind == EdgeType.CITES:
            citations = self.restrict(
                Mention.objects.filter(work__isnull=False).exclude(
                    work_id=F("annotation__source_id")
                ),
                *through,
            )
            return _Links(
                citations, "annotation__source_id", "work_id", "function", "annotation_id"
            )
        if kind == EdgeType.EVIDENCE:
            evidence = self.restrict(Evidence.objects.all(), *through)
            return _Links(evidence, "annotation__source_id", "claim_id", "stance", "annotation_id")
        if kind == EdgeType.CODED:
            codings = self.restrict(Coding.objects.all(), *through)
            return _Links(codings, "annotation__source_id", "concept_id", None, "annotation_id")
        claims = self.claims()
        if among_claims is not None:
            # Only the candidate claims are asked about: a few index lookups instead of
            # deciding the visibility of every claim of the project inside the query.
            claims = list(claims.filter(pk__in=among_claims).values_list("pk", flat=True))
        relations = ClaimRelation.objects.filter(source__in=claims, target__in=claims)
        return _Links(relations, "source_id", "target_id", "kind", None)


def concept_subtree(concept: Concept) -> list[int]:
    """The concept and every concept below it (one query for the project's codebook)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent in Concept.objects.for_project(concept.project_id).values_list(
        "pk", "parent_id"
    ):
        children[parent].append(pk)
    found, stack = [], [concept.pk]
    while stack:
        pk = stack.pop()
        if pk in found:
            continue
        found.append(pk)
        stack.extend(children.get(pk, []))
    return sorted(found)


def share_limit(available: dict[str, int], limit: int) -> dict[str, int]:
    """How many nodes of each type fit in `limit`: an equal share each, and what a type cannot
    use goes to the others, so that one kind (a few concepts coded thousands of times) cannot
    crowd every other kind out of the map."""
    quota = dict.fromkeys(available, 0)
    remaining = limit
    wanting = [kind for kind, count in available.items() if count > 0]
    while remaining > 0 and wanting:
        share = max(1, remaining // len(wanting))
        for kind in list(wanting):
            take = min(share, available[kind] - quota[kind], remaining)
            quota[kind] += take
            remaining -= take
            if quota[kind] == available[kind]:
                wanting.remove(kind)
            if remaining == 0:
                break
    return quota


def _rank(scope: _Scope, spec: MapSpec) -> tuple[dict[str, list[int]], dict[str, int]]:
    """The candidates for the map per type (the most connected first, POOL times as many as
    fit) and the number of nodes per type in the whole graph. Degrees are counted in the
    database, one GROUP BY per end of each kind of link."""
    degrees: dict[str, dict[int, int]] = {kind: defaultdict(int) for kind in spec.node_types}
    for kind in spec.shown_edge_types():
        links = scope.links(kind)
        for end, name in zip(ENDS[kind], (links.source_field, links.target_field), strict=True):
            rows = links.queryset.values_list(name).annotate(n=Count("pk")).order_by()
            for pk, n in rows:
                degrees[end][pk] += n
    totals = {kind: len(found) for kind, found in degrees.items()}
    quota = share_limit(totals, spec.limit)
    candidates = {
        kind: sorted(found, key=lambda pk, found=found: (-found[pk], pk))[: quota[kind] * POOL]
        for kind, found in degrees.items()
    }
    return candidates, totals


# The tally of each kind of node: its passages at each level (annotations.tallies).
TALLIES: dict[str, tuple[type[models.Model], str]] = {
    NodeType.SOURCE: (SourceTally, "source_id"),
    NodeType.PERSON: (PersonTally, "person_id"),
    NodeType.CLAIM: (ClaimTally, "claim_id"),
    NodeType.CONCEPT: (ConceptTally, "concept_id"),
}

# Nodes without a tally, reached from the candidate sources: (link, node type, the field
# naming the source, the field naming the node).
UNTALLIED = (
    (EdgeType.CITES, NodeType.SOURCE, "annotation__source_id", "work_id"),
    (EdgeType.AUTHORED, NodeType.PERSON, "source_id", "person_id"),
)


def _rank_from_tallies(
    scope: _Scope, spec: MapSpec, level: str
) -> tuple[dict[str, list[int]], dict[str, int]]:
    """`_rank` for a map that narrows nothing, read from the tallies: a node's degree is the
    number of passages behind it (for a source, its own passages; for a person, concept or
    claim, the passages that mention, code or back it), taken from the top of each tally's
    index, and the totals are the nodes with passages. Every query reads tally rows or the
    candidates' own links, never all the project's annotations.

    What this leaves out, and why it is enough to choose candidates: a source's degree is its
    passages, not the links they make; authorships and claim relations add nothing to a
    degree (their links among the candidates are still drawn); works that are only cited and
    people who only wrote have no tally (the works the candidate sources cite most, and their
    authors, join the candidates instead); claims only related to other claims are left
    out. The totals count only nodes with passages. The links and weights shown are computed
    afresh from the annotations, as on the exact path.
    """
    totals, candidates = {}, {}
    positive = {f"{level}__gt": 0}
    for kind in spec.node_types:
        model, column = TALLIES[kind]
        totals[kind] = model.objects.filter(project_id=scope.project.pk, **positive).count()
    quota = share_limit(totals, spec.limit)
    for kind in spec.node_types:
        model, column = TALLIES[kind]
        candidates[kind] = list(
            model.objects.filter(project_id=scope.project.pk, **positive)
            .order_by(f"-{level}", column)
            .values_list(column, flat=True)[: quota[kind] * POOL]
        )
    # Works only cited and people who only wrote have no tally: those the candidate sources
    # cite most and their authors join the candidates (two queries about those sources only).
    sources = list(candidates[NodeType.SOURCE])
    for kind, node_type, near, far in UNTALLIED if sources else ():
        links = scope.links(kind)
        found = (
            links.queryset.filter(**{f"{near}__in": sources})
            .values_list(far)
            .annotate(n=links.weight())
            .order_by("-n", far)[: quota[node_type]]
        )
        known = set(candidates[node_type])
        candidates[node_type].extend(pk for pk, _ in found if pk not in known)
    return candidates, totals


def _keep_linked(rows: list[tuple[str, int, int, str, int]], limit: int) -> list[tuple]:
    """Of the links among the candidates, those between the `limit` nodes with the most weight
    in links to each other (the limit shared among the kinds as in share_limit)."""
    weights: dict[tuple[str, int], int] = defaultdict(int)
    for kind, source_pk, target_pk, _, weight in rows:
        start, end = ENDS[kind]
        weights[start, source_pk] += weight
        weights[end, target_pk] += weight
    by_type: dict[str, list[int]] = defaultdict(list)
    for kind, pk in weights:
        by_type[kind].append(pk)
    quota = share_limit({kind: len(pks) for kind, pks in by_type.items()}, limit)
    chosen = {
        (kind, pk)
        for kind, pks in by_type.items()
        for pk in sorted(pks, key=lambda pk, kind=kind: (-weights[kind, pk], pk))[: quota[kind]]
    }
    return [
        row
        for row in rows
        if (ENDS[row[0]][0], row[1]) in chosen and (ENDS[row[0]][1], row[2]) in chosen
    ]


def _map_key(scope: _Scope, spec: MapSpec) -> str:
    """Names one map as members who see the same annotations see it."""
    parts = [
        scope.project.pk,
        visibility_key(scope.viewer),
        sorted(spec.node_types),
        sorted(spec.edge_types),
        spec.concept.pk if spec.concept else None,
        spec.limit,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _cached_rank(scope: _Scope, spec: MapSpec) -> tuple[dict[str, list[int]], dict[str, int]]:
    """The computed ranking, served as last computed for the same map and visibility while one
    process computes it again after a change (caching.served_while_refreshed): the first
    request after a write does not wait for the whole-project aggregate, and the links and
    weights it draws among the previous candidates are current."""
    key = f"xref:map-rank:{_map_key(scope, spec)}"
    # Authorships and claim relations change without a new stamp: RANK_TTL seconds at most.
    state = f"{project_stamp(scope.project)}:{int(time.time() // RANK_TTL)}"
    return served_while_refreshed(key, state, lambda: _rank(scope, spec), RANK_KEPT)


def build_graph(membership: Membership, spec: MapSpec) -> Graph:
    """The graph `spec` asks for, as this member may see it, trimmed to `spec.limit` nodes."""
    concept_ids = concept_subtree(spec.concept) if spec.concept else None
    scope = _Scope(membership, spec, concept_ids)
    graph = Graph(spec=spec, map_key=_map_key(scope, spec))
    level = scope.tally_level(spec)
    if scope.is_large(level):
        if level:
            candidates, graph.totals = _rank_from_tallies(scope, spec, level)
            graph.ranking_from_tallies = True
        else:
            candidates, graph.totals = _cached_rank(scope, spec)
            graph.ranking_cached = True
    else:
        candidates, graph.totals = _rank(scope, spec)

    # The links among the candidates, aggregated per (from, to, qualifier).
    rows: list[tuple[str, int, int, str, int]] = []
    for kind in spec.shown_edge_types():
        start, end = ENDS[kind]
        if not candidates[start] or not candidates[end]:
            continue
        links = scope.links(
            kind, among_claims=candidates[end] if kind == EdgeType.RELATION else None
        )
        fields = [links.source_field, links.target_field]
        if links.qualifier_field:
            fields.append(links.qualifier_field)
        aggregated = (
            links.queryset.filter(
                **{
                    f"{links.source_field}__in": candidates[start],
                    f"{links.target_field}__in": candidates[end],
                }
            )
            .values_list(*fields)
            .annotate(weight=links.weight())
            .order_by(*fields)
        )
        for row in aggregated:
            source_pk, target_pk, *qualifier, weight = row
            rows.append((kind, source_pk, target_pk, qualifier[0] if qualifier else "", weight))
    rows = _keep_linked(rows, spec.limit)

    # Only nodes with a link in the map are drawn; their labels come from the project's rows
    # (a link to a row of another project, which the models' checks refuse, would be dropped).
    linked: dict[str, set[int]] = defaultdict(set)
    for kind, source_pk, target_pk, _, _ in rows:
        start, end = ENDS[kind]
        linked[start].add(source_pk)
        linked[end].add(target_pk)
    nodes = _labelled_nodes(membership, linked)
    for kind, source_pk, target_pk, qualifier, weight in rows:
        start, end = ENDS[kind]
        source, target = nodes.get((start, source_pk)), nodes.get((end, target_pk))
        if source is None or target is None:
            continue
        graph.edges.append(Edge(kind, source, target, qualifier, weight))
        for node in (source, target):
            node.weight += weight
            node.links += 1
    graph.nodes = sorted(
        (node for node in nodes.values() if node.links),
        key=lambda node: (TYPE_ORDER[node.type], node.pk),
    )
    graph.edges.sort(
        key=lambda e: (
            EDGE_ORDER[e.type],
            TYPE_ORDER[e.source.type],
            e.source.pk,
            TYPE_ORDER[e.target.type],
            e.target.pk,
            e.qualifier,
        )
    )
    return graph


def _labelled_nodes(
    membership: Membership, linked: dict[str, set[int]]
) -> dict[tuple[str, int], Node]:
    project = membership.project
    slug = project.slug
    nodes: dict[tuple[str, int], Node] = {}
    if linked.get(NodeType.SOURCE):
        sources = (
            Source.objects.for_project(project)
            .filter(pk__in=linked[NodeType.SOURCE])
            .values_list("pk", "title", "title_short", "issued_year", "citation_key")
        )
        for pk, title, short, year, key in sources:
            detail = f"{key}, {year}" if year is not None else key
            url = reverse("xref:source_detail", args=[slug, pk])
            nodes[NodeType.SOURCE, pk] = Node(
                NodeType.SOURCE, pk, short or title, url, detail=f"{title} ({detail})"
            )
    if linked.get(NodeType.PERSON):
        people = (
            Person.objects.for_project(project)
            .filter(pk__in=linked[NodeType.PERSON])
            .values_list("pk", "display_name")
        )
        for pk, name in people:
            url = reverse("xref:person_detail", args=[slug, pk])
            nodes[NodeType.PERSON, pk] = Node(NodeType.PERSON, pk, name, url, detail=name)
    if linked.get(NodeType.CLAIM):
        claims = (
            Claim.objects.for_project(project)
            .filter(pk__in=linked[NodeType.CLAIM])
            .values_list("pk", "statement", "kind")
        )
        for pk, statement, kind in claims:
            url = reverse("xref:claim_detail", args=[slug, pk])
            nodes[NodeType.CLAIM, pk] = Node(
                NodeType.CLAIM, pk, statement, url, detail=f"{statement} ({kind})"
            )
    if linked.get(NodeType.CONCEPT):
        concepts = (
            Concept.objects.for_project(project)
            .filter(pk__in=linked[NodeType.CONCEPT])
            .values_list("pk", "name")
        )
        for pk, name in concepts:
            url = reverse("xref:concept_detail", args=[slug, pk])
            nodes[NodeType.CONCEPT, pk] = Node(NodeType.CONCEPT, pk, name, url, detail=name)
    return nodes


# -- Layout and drawing ------------------------------------------------------------------------


def lay_out(graph: Graph) -> None:
    """Place every node on the canvas and prepare what the SVG template prints.

    The positions depend only on which nodes and links there are, not on their weights or
    labels, and are cached under that shape: the same nodes and links are drawn in the same
    places, and a write that only adds weight to links already drawn (the usual review
    decision) re-uses them. Sizes, line widths and labels follow the weights and names of
    this request (placing the labels takes about 10 ms for 400 nodes).

    A new shape of a map drawn before (a write added a link, or swapped a node in or out)
    starts from that map's last picture (`_place_near`): the nodes that stay do not move, and
    the few new ones go beside their neighbours, where a full spring layout would take a
    quarter to half a second for 400 nodes and move everything. The full layout runs for a
    map never drawn, and once the nodes placed that way make up a fifth of the picture.
    """
    if graph.is_empty:
        return
    shape = graph.shape_hash()
    key, last_key = f"xref:map-layout:{shape}", f"xref:map-last-layout:{graph.map_key}"
    found = cache.get_many([key, last_key])
    last = found.get(last_key)
    # The positions, and how many of them were placed beside their neighbours since the
    # last full layout.
    spots, added = found.get(key) or (None, 0)
    if spots is None:
        placed_near = _place_near(graph, last) if last else None
        spots, added = placed_near or (_place(graph), 0)
        cache.set(key, (spots, added), LAYOUT_TTL)
    if graph.map_key and (last is None or last[0] != shape):
        cache.set(last_key, (shape, spots, added), LAYOUT_TTL)
    placed = _place_labels(graph.nodes, spots)
    for node in graph.nodes:
        node.x, node.y, node.label_anchor, node.label_shown = placed[node.key]
        node.r = _radius(node.weight)
        node.path = _shape(node.type, node.x, node.y, node.r)
        node.short_label = _truncate(node.label)
        gap = node.r + 4
        node.label_x = round(node.x + gap if node.label_anchor == "start" else node.x - gap, 1)
        node.label_y = round(node.y + LABEL_FONT * 0.35, 1)
    _draw_edges(graph.edges)


# Of a picture, at most this share of nodes is placed beside their neighbours before the
# whole graph is laid out again.
NEAR_SHARE = 0.2
# How far apart two nodes placed beside their neighbours must be (canvas units: twice the
# largest node radius, with room for a short label's height).
NEAR_GAP = 2 * 16.0 + 6.0


def _place_near(
    graph: Graph, last: tuple[str, dict[str, tuple[float, float]], int]
) -> tuple[dict[str, tuple[float, float]], int] | None:
    """Positions for `graph` from the last picture of the same map: the nodes it had keep
    their places; each new node (in the graph's order) goes to the free spot nearest the
    middle of its placed neighbours, searched on a spiral. None when the picture would
    change too much for that (see NEAR_SHARE), or a new node has no placed neighbour."""
    _, before, added_before = last
    new = [node.key for node in graph.nodes if node.key not in before]
    if (added_before + len(new)) > NEAR_SHARE * len(graph.nodes):
        return None
    spots = {node.key: before[node.key] for node in graph.nodes if node.key in before}
    neighbours: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        neighbours[edge.source.key].append(edge.target.key)
        neighbours[edge.target.key].append(edge.source.key)
    for key in new:
        near = [spots[other] for other in neighbours[key] if other in spots]
        if not near:
            return None
        cx = sum(x for x, _ in near) / len(near)
        cy = sum(y for _, y in near) / len(near)
        spots[key] = _free_spot(cx, cy, list(spots.values()))
    return spots, added_before + len(new)


def _free_spot(cx: float, cy: float, taken: list[tuple[float, float]]) -> tuple[float, float]:
    """The first point of a spiral around (cx, cy), inside the canvas, at least NEAR_GAP from
    every taken point (the last point tried when none is)."""
    spot = (cx, cy)
    for step in range(1, 400):
        # The golden angle spreads the points of the spiral evenly.
        angle = step * 2.399963
        distance = NEAR_GAP * math.sqrt(step) * 0.6
        x = min(max(cx + distance * math.cos(angle), MARGIN), WIDTH - MARGIN)
        y = min(max(cy + distance * math.sin(angle), MARGIN), HEIGHT - MARGIN)
        spot = (round(x, 1), round(y, 1))
        if all(math.hypot(x - tx, y - ty) >= NEAR_GAP for tx, ty in taken):
            return spot
    return spot


def _place(graph: Graph) -> dict[str, tuple[float, float]]:
    """Canvas positions of the nodes, from the graph's shape only (see lay_out)."""
    # networkx and numpy take a while to import; only the map's layout needs them.
    import networkx as nx

    order = {node.key: index for index, node in enumerate(graph.nodes)}
    # Two nodes pull each other by the number of kinds of link between them, not by the
    # annotations behind the links: one more passage must not move the picture.
    pulls: dict[tuple[str, str], float] = defaultdict(float)
    for edge in graph.edges:
        pair = tuple(sorted((edge.source.key, edge.target.key), key=order.__getitem__))
        pulls[pair] += 1
    whole = nx.Graph()
    whole.add_nodes_from(order)
    whole.add_weighted_edges_from((a, b, pull) for (a, b), pull in pulls.items())

    # Each connected part is laid out on its own and the parts are packed in rows, biggest
    # first: one spring layout of everything flings small parts to the corners and squeezes
    # the main one.
    parts = sorted(
        (sorted(part, key=order.__getitem__) for part in nx.connected_components(whole)),
        key=lambda keys: (-len(keys), order[keys[0]]),
    )
    row_width = math.sqrt(sum(len(keys) for keys in parts) * WIDTH / HEIGHT)
    spots: dict[str, tuple[float, float]] = {}
    x = y = row_height = 0.0
    for keys in parts:
        part = nx.Graph()
        part.add_nodes_from(keys)
        part.add_weighted_edges_from(
            (a, b, w) for a, b, w in whole.subgraph(keys).edges(data="weight")
        )
        # A little more room between nodes than networkx's default (1/sqrt(n)) leaves space
        # for labels.
        positions = nx.spring_layout(
            part,
            k=1.6 / math.sqrt(len(keys)),
            iterations=LAYOUT_ITERATIONS,
            seed=LAYOUT_SEED,
            method="force",
        )
        side = math.sqrt(len(keys))
        if x > 0 and x + side > row_width:
            x, y, row_height = 0.0, y + row_height, 0.0
        for key in keys:
            px, py = (float(value) for value in positions[key])
            # spring_layout fills [-1, 1]; each part keeps a margin inside its cell.
            spots[key] = (x + (0.1 + 0.4 * (px + 1)) * side, y + (0.1 + 0.4 * (py + 1)) * side)
        x += side
        row_height = max(row_height, side)

    xs = [spot[0] for spot in spots.values()]
    ys = [spot[1] for spot in spots.values()]
    low_x, high_x, low_y, high_y = min(xs), max(xs), min(ys), max(ys)

    def scale(value: float, low: float, high: float, size: int) -> float:
        if high - low < 1e-9:
            return size / 2
        return round(MARGIN + (value - low) / (high - low) * (size - 2 * MARGIN), 1)

    return {
        key: (scale(sx, low_x, high_x, WIDTH), scale(sy, low_y, high_y, HEIGHT))
        for key, (sx, sy) in spots.items()
    }


def _place_labels(
    nodes: list[Node], spots: dict[str, tuple[float, float]]
) -> dict[str, tuple[float, float, str, bool]]:
    """Show a label only where it overlaps no other label and no node: the most connected
    nodes choose first, to the right of the node, else to its left. The others show theirs on
    hover and focus."""
    boxes: list[tuple[float, float, float, float]] = []
    node_boxes = []
    for node in nodes:
        x, y = spots[node.key]
        r = _radius(node.weight)
        node_boxes.append((node.key, (x - r, y - r, x + r, y + r)))
    placed: dict[str, tuple[float, float, str, bool]] = {}
    order = sorted(nodes, key=lambda n: (-n.weight, TYPE_ORDER[n.type], n.pk))
    for node in order:
        x, y = spots[node.key]
        r = _radius(node.weight)
        width = len(_truncate(node.label)) * CHAR_WIDTH
        top, bottom = y - LABEL_FONT * 0.75, y + LABEL_FONT * 0.6
        candidates = [
            ("start", (x + r + 3, top, x + r + 4 + width, bottom)),
            ("end", (x - r - 4 - width, top, x - r - 3, bottom)),
        ]
        chosen = None
        for anchor, box in candidates:
            if box[0] < 0 or box[2] > WIDTH:
                continue
            if any(_overlap(box, other) for other in boxes):
                continue
            if any(key != node.key and _overlap(box, other) for key, other in node_boxes):
                continue
            chosen = (anchor, box)
            break
        if chosen:
            boxes.append(chosen[1])
            placed[node.key] = (x, y, chosen[0], True)
        else:
            anchor = "start" if x + r + 4 + width <= WIDTH else "end"
            placed[node.key] = (x, y, anchor, False)
    return placed


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _radius(weight: int) -> float:
    return round(min(16.0, 4.5 + 1.6 * math.sqrt(weight)), 1)


def _truncate(text: str, length: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _shape(kind: str, x: float, y: float, r: float) -> str:
    """An SVG path: squares for sources, circles for people, diamonds for claims, triangles for
    concepts (the same shapes Gephi draws from the GEXF)."""
    if kind == NodeType.SOURCE:
        s = r * 0.9
        return f"M{x - s:.1f} {y - s:.1f}h{2 * s:.1f}v{2 * s:.1f}h{-2 * s:.1f}z"
    if kind == NodeType.PERSON:
        arc = f"a{r:.1f} {r:.1f} 0 1 0"
        return f"M{x - r:.1f} {y:.1f}{arc} {2 * r:.1f} 0{arc} {-2 * r:.1f} 0z"
    if kind == NodeType.CLAIM:
        d = r * 1.2
        return f"M{x:.1f} {y - d:.1f}L{x + d:.1f} {y:.1f}L{x:.1f} {y + d:.1f}L{x - d:.1f} {y:.1f}z"
    h = r * 1.15
    return (
        f"M{x:.1f} {y - h:.1f}L{x + h * 0.95:.1f} {y + h * 0.6:.1f}"
        f"L{x - h * 0.95:.1f} {y + h * 0.6:.1f}z"
    )


def legend_shape(kind: str) -> str:
    """The node shape for a legend swatch of 20 × 20 units."""
    return _shape(kind, 10, 10 if kind != NodeType.CONCEPT else 11.5, 6.5)


def _draw_edges(edges: list[Edge]) -> None:
    """Straight lines, bent apart where several links join the same two nodes."""
    between: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in edges:
        pair = tuple(sorted((edge.source.key, edge.target.key)))
        between[pair].append(edge)
    for group in between.values():
        for index, edge in enumerate(group):
            x1, y1, x2, y2 = edge.source.x, edge.source.y, edge.target.x, edge.target.y
            edge.width = round(min(6.0, 1.0 + math.log2(edge.weight)), 2)
            offset = (index - (len(group) - 1) / 2) * CURVE_SPREAD
            if not offset:
                edge.d = f"M{x1:.1f} {y1:.1f}L{x2:.1f} {y2:.1f}"
                continue
            # Bend on the side given by the pair's own order, whichever way the link points.
            if (edge.source.key, edge.target.key) != tuple(
                sorted((edge.source.key, edge.target.key))
            ):
                offset = -offset
            length = math.hypot(x2 - x1, y2 - y1) or 1.0
            cx = (x1 + x2) / 2 - (y2 - y1) / length * offset * 2
            cy = (y1 + y2) / 2 + (x2 - x1) / length * offset * 2
            edge.d = f"M{x1:.1f} {y1:.1f}Q{cx:.1f} {cy:.1f} {x2:.1f} {y2:.1f}"


# -- GEXF 1.3 and GraphML --------------------------------------------------------------------

GEXF_NS = "http://gexf.net/1.3"
VIZ_NS = "http://gexf.net/1.3/viz"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"

# (name, GEXF type, GraphML type) of the attributes each node and edge carries.
NODE_ATTRIBUTES = [
    ("type", "string", "string"),
    ("url", "string", "string"),
    ("detail", "string", "string"),
    ("weight", "integer", "int"),
    ("links", "integer", "int"),
    ("scope", "string", "string"),
]
EDGE_ATTRIBUTES = [
    ("type", "string", "string"),
    ("stance", "string", "string"),
    ("function", "string", "string"),
    ("kind", "string", "string"),
    ("annotations", "integer", "int"),
    ("scope", "string", "string"),
]


def _xml_text(value: object) -> str:
    return _XML_ILLEGAL.sub("", str(value))


def _node_values(node: Node, scope: str) -> dict[str, object]:
    return {
        "type": node.type,
        "url": node.url,
        "detail": node.detail,
        "weight": node.weight,
        "links": node.links,
        "scope": scope,
    }


def _edge_values(edge: Edge, scope: str) -> dict[str, object]:
    values: dict[str, object] = {"type": edge.type}
    name = QUALIFIER_NAME.get(edge.type)
    if name:
        values[name] = edge.qualifier
    values["annotations"] = edge.weight if edge.counts_annotations else 0
    values["scope"] = scope
    return values


def _scope_label(graph: Graph) -> str:
    return "approved" if graph.spec.scope == Scope.APPROVED else "visible"


def write_gexf(graph: Graph, *, title: str, absolute: str = "") -> bytes:
    return b"".join(gexf_pieces(graph, title=title, absolute=absolute))


def write_graphml(graph: Graph, *, title: str, absolute: str = "") -> bytes:
    return b"".join(graphml_pieces(graph, title=title, absolute=absolute))


def _streamed(root: ET.Element, parts: list[tuple[ET.Element, Iterator[ET.Element]]]):
    """The document `root`, with each part's placeholder element filled by its elements one at
    a time: written as they are made, so a file is never whole in memory."""
    markers = []
    for number, (holder, _) in enumerate(parts):
        holder.text = f"\x00{number}\x00"
        markers.append(holder.text)
    document = ET.tostring(root, encoding="unicode")
    yield b'<?xml version=\'1.0\' encoding=\'utf-8\'?>\n'
    for marker, (_, elements) in zip(markers, parts, strict=True):
        before, document = document.split(marker, 1)
        yield before.encode()
        for element in elements:
            yield ET.tostring(element, encoding="unicode").encode()
    yield document.encode()


def gexf_pieces(graph: Graph, *, title: str, absolute: str = "") -> Iterator[bytes]:
    """GEXF 1.3 (gexf.net/1.3) with attributes and viz positions, colours, sizes and shapes,
    written a node and an edge at a time."""
    # Tags are written with their prefixes and the namespaces declared on the root, so the
    # serialiser needs no process-wide prefix registry.
    g, v = "", "viz:"
    root = ET.Element(
        "gexf",
        {
            "xmlns": GEXF_NS,
            "xmlns:viz": VIZ_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{GEXF_NS} {GEXF_NS}/gexf.xsd",
            "version": "1.3",
        },
    )
    meta = ET.SubElement(root, f"{g}meta", lastmodifieddate=datetime.date.today().isoformat())
    ET.SubElement(meta, f"{g}creator").text = "Citemap"
    ET.SubElement(meta, f"{g}description").text = _xml_text(_description(graph, title))
    element = ET.SubElement(root, f"{g}graph", defaultedgetype="directed", mode="static")
    for kind, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        declared = ET.SubElement(element, f"{g}attributes", {"class": kind, "mode": "static"})
        for name, gexf_type, _ in attributes:
            ET.SubElement(declared, f"{g}attribute", id=name, title=name, type=gexf_type)
    scope = _scope_label(graph)

    def nodes() -> Iterator[ET.Element]:
        for node in graph.nodes:
            item = ET.Element(f"{g}node", id=node.key, label=_xml_text(node.label))
            values = ET.SubElement(item, f"{g}attvalues")
            for name, value in _node_values(node, scope).items():
                if name == "url":
                    value = absolute + str(value)
                ET.SubElement(values, f"{g}attvalue", {"for": name, "value": _xml_text(value)})
            red, green, blue = COLOURS[node.type]
            ET.SubElement(item, f"{v}color", r=str(red), g=str(green), b=str(blue))
            ET.SubElement(
                item, f"{v}position", x=f"{node.x:.1f}", y=f"{HEIGHT - node.y:.1f}", z="0.0"
            )
            ET.SubElement(item, f"{v}size", value=f"{node.r:.1f}")
            ET.SubElement(item, f"{v}shape", value=GEXF_SHAPES[node.type])
            yield item

    def edges() -> Iterator[ET.Element]:
        for number, edge in enumerate(graph.edges, start=1):
            item = ET.Element(
                f"{g}edge",
                id=f"e{number}",
                source=edge.source.key,
                target=edge.target.key,
                weight=str(edge.weight),
                label=edge.description,
            )
            values = ET.SubElement(item, f"{g}attvalues")
            for name, value in _edge_values(edge, scope).items():
                ET.SubElement(values, f"{g}attvalue", {"for": name, "value": _xml_text(value)})
            yield item

    yield from _streamed(
        root,
        [(ET.SubElement(element, f"{g}nodes"), nodes()),
         (ET.SubElement(element, f"{g}edges"), edges())],
    )  # fmt: skip


def graphml_pieces(graph: Graph, *, title: str, absolute: str = "") -> Iterator[bytes]:
    """GraphML with <key> declarations for every attribute, positions as x and y, written a
    node and an edge at a time."""
    g = ""
    root = ET.Element(
        "graphml",
        {
            "xmlns": GRAPHML_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": (
                f"{GRAPHML_NS} http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"
            ),
        },
    )
    node_keys = [("label", "string"), *((n, t) for n, _, t in NODE_ATTRIBUTES)]
    node_keys += [("x", "double"), ("y", "double")]
    edge_keys = [("label", "string"), ("weight", "double")]
    edge_keys += [(n, t) for n, _, t in EDGE_ATTRIBUTES]
    ids = {}
    for kind, keys in (("node", node_keys), ("edge", edge_keys)):
        for name, graphml_type in keys:
            ids[kind, name] = f"{kind[0]}_{name}"
            ET.SubElement(
                root,
                f"{g}key",
                {
                    "id": ids[kind, name],
                    "for": kind,
                    "attr.name": name,
                    "attr.type": graphml_type,
                },
            )
    element = ET.SubElement(root, f"{g}graph", id="citemap", edgedefault="directed")
    ET.SubElement(element, f"{g}desc").text = _xml_text(_description(graph, title))
    scope = _scope_label(graph)

    def data(parent: ET.Element, kind: str, name: str, value: object) -> None:
        ET.SubElement(parent, f"{g}data", key=ids[kind, name]).text = _xml_text(value)

    def items() -> Iterator[ET.Element]:
        for node in graph.nodes:
            item = ET.Element(f"{g}node", id=node.key)
            data(item, "node", "label", node.label)
            for name, value in _node_values(node, scope).items():
                data(item, "node", name, absolute + str(value) if name == "url" else value)
            data(item, "node", "x", f"{node.x:.1f}")
            data(item, "node", "y", f"{node.y:.1f}")
            yield item
        for number, edge in enumerate(graph.edges, start=1):
            item = ET.Element(
                f"{g}edge", id=f"e{number}", source=edge.source.key, target=edge.target.key
            )
            data(item, "edge", "label", edge.description)
            data(item, "edge", "weight", edge.weight)
            for name, value in _edge_values(edge, scope).items():
                data(item, "edge", name, value)
            yield item

    # The nodes and edges follow the description inside <graph>.
    holder = ET.SubElement(element, "placeholder")
    pieces = _streamed(root, [(holder, items())])
    for piece in pieces:
        yield piece.replace(b"<placeholder>", b"").replace(b"</placeholder>", b"")


def _description(graph: Graph, title: str) -> str:
    spec = graph.spec
    parts = [
        f"Network map of {title}",
        "approved annotations only" if spec.scope == Scope.APPROVED else "everything visible",
        f"{len(graph.nodes)} nodes, {len(graph.edges)} links",
    ]
    if spec.concept:
        parts.append(f"concept: {spec.concept.name} and narrower")
    left_out = graph.left_out
    if left_out:
        parts.append("left out: " + ", ".join(f"{n} {label}" for label, n in left_out))
    return "; ".join(parts) + "."

"""The network map: what it draws, for whom, how it trims, filters, refuses bad input and
lays out, and what it costs in queries."""

import math
import re

import pytest
from django.core.cache import cache

from apps.annotations.models import Mention, ReviewAction
from apps.annotations.tallies import Counted, retally
from apps.claims.models import ClaimRelation
from apps.demo.seed import load_seed_review
from apps.library.models import Contributor
from apps.xref import graph as graph_module
from apps.xref.graph import share_limit
from tests import factories

URL = "/p/review/map/"


def passage(source, author, reviewer=None, *, status="approved", mentions=(), **links):
    """An annotation with mentions of (person, work, function), brought to `status`."""
    annotation = factories.make_annotation(source, author, **links)
    before = Counted.of(annotation.pk)
    for person, work, function in mentions:
        Mention.objects.create(annotation=annotation, person=person, work=work, function=function)
    # Counted as the app counts a change of links (the map of a large project reads tallies).
    retally(before, Counted.of(annotation.pk))
    if status != "draft":
        annotation.transition(ReviewAction.SUBMIT, by=author)
    if status == "approved":
        annotation.transition(ReviewAction.APPROVE, by=reviewer)
    return annotation


@pytest.fixture
def world(cast):
    project = cast.project
    article = factories.make_source(project, "Withdrawal from society")
    report = factories.make_source(project, "The bloody split")
    milestones = factories.make_source(project, "Milestones")
    qutb = factories.make_person(project, "Sayyid Qutb")
    faras = factories.make_person(project, "Faras")
    hidden_person = factories.make_person(project, "Only in a draft")
    Contributor.objects.create(source=article, person=faras)
    Contributor.objects.create(source=milestones, person=qutb)
    spread = factories.make_claim(project, "Takfiri groups will spread")
    split = factories.make_claim(project, "ISIS cracked down on its extremists")
    unsupported = factories.make_claim(project, "A claim only a draft backs")
    ClaimRelation.objects.create(source=split, target=spread, kind="contradicts")
    isolation = factories.make_concept(project, "Isolation")
    hijra = factories.make_concept(project, "Hijra", parent=isolation)
    crime = factories.make_concept(project, "Crime-terror continuum")
    supervisor, analyst = cast.supervisor, cast.analyst
    for _ in range(2):
        passage(
            article,
            analyst,
            supervisor,
            claims=[spread],
            stance="asserts",
            concepts=[hijra],
            mentions=[(qutb, milestones, "supporting")],
        )
    passage(report, analyst, supervisor, claims=[spread], stance="contradicts", concepts=[crime])
    passage(report, analyst, supervisor, claims=[split], mentions=[(qutb, None, "contrasting")])
    draft = passage(
        article,
        analyst,
        status="draft",
        claims=[unsupported],
        mentions=[(hidden_person, None, "mentioning")],
    )
    return {
        "article": article,
        "report": report,
        "milestones": milestones,
        "qutb": qutb,
        "faras": faras,
        "hidden_person": hidden_person,
        "spread": spread,
        "split": split,
        "unsupported": unsupported,
        "isolation": isolation,
        "hijra": hijra,
        "crime": crime,
        "draft": draft,
    }


def edges_of(response):
    graph = response.context["graph"]
    return {(e.type, e.source.key, e.target.key, e.qualifier): e.weight for e in graph.edges}


def nodes_of(response):
    return {node.key: node for node in response.context["graph"].nodes}


def key(kind, row):
    return f"{kind}-{row.pk}"


def test_the_map_draws_every_kind_of_link_weighted_by_its_annotations(cast, world, client_for):
    response = client_for(cast.student).get(URL)
    assert response.status_code == 200
    w = world
    assert edges_of(response) == {
        ("authored", key("person", w["faras"]), key("source", w["article"]), ""): 1,
        ("authored", key("person", w["qutb"]), key("source", w["milestones"]), ""): 1,
        ("mentions", key("source", w["article"]), key("person", w["qutb"]), "supporting"): 2,
        ("mentions", key("source", w["report"]), key("person", w["qutb"]), "contrasting"): 1,
        ("cites", key("source", w["article"]), key("source", w["milestones"]), "supporting"): 2,
        ("evidence", key("source", w["article"]), key("claim", w["spread"]), "asserts"): 2,
        ("evidence", key("source", w["report"]), key("claim", w["spread"]), "contradicts"): 1,
        ("evidence", key("source", w["report"]), key("claim", w["split"]), "supports"): 1,
        ("relation", key("claim", w["split"]), key("claim", w["spread"]), "contradicts"): 1,
        ("coded", key("source", w["article"]), key("concept", w["hijra"]), ""): 2,
        ("coded", key("source", w["report"]), key("concept", w["crime"]), ""): 1,
    }
    nodes = nodes_of(response)
    # authored 1 + mentions 2 + cites 2 + evidence 2 + coded 2
    assert nodes[key("source", w["article"])].weight == 9
    assert nodes[key("person", w["qutb"])].weight == 4
    # Nodes without a link (the concept above Hijra) are not drawn.
    assert key("concept", w["isolation"]) not in nodes


def test_students_never_see_a_draft_link_nor_its_weight(cast, world, client_for):
    draft_edge = ("evidence", key("source", world["article"]), key("claim", world["unsupported"]))
    for params in ({}, {"scope": "visible"}):
        response = client_for(cast.student).get(URL, params)
        edges = {edge[:3] for edge in edges_of(response)}
        nodes = nodes_of(response)
        assert draft_edge not in edges
        assert key("claim", world["unsupported"]) not in nodes
        assert key("person", world["hidden_person"]) not in nodes
        assert nodes[key("source", world["article"])].weight == 9
        assert "A claim only a draft backs" not in response.text
        assert "Only in a draft" not in response.text


def test_the_author_sees_the_draft_link_with_everything_and_not_with_approved_only(
    cast, world, client_for
):
    draft_edge = ("evidence", key("source", world["article"]), key("claim", world["unsupported"]))
    client = client_for(cast.analyst)
    everything = client.get(URL, {"scope": "visible"})
    assert draft_edge in {edge[:3] for edge in edges_of(everything)}
    # the draft's claim and mention add 2 to the article
    assert nodes_of(everything)[key("source", world["article"])].weight == 11
    approved = client.get(URL, {"scope": "approved"})
    assert draft_edge not in {edge[:3] for edge in edges_of(approved)}
    assert nodes_of(approved)[key("source", world["article"])].weight == 9
    # Another analyst does not see someone else's draft, whatever the scope.
    other = client_for(cast.analyst2).get(URL, {"scope": "visible"})
    assert draft_edge not in {edge[:3] for edge in edges_of(other)}


def test_withdrawn_annotations_leave_the_map(cast, world, client_for):
    report_passages = world["report"].annotations.all()
    for annotation in report_passages:
        annotation.transition(ReviewAction.WITHDRAW, by=cast.supervisor)
    response = client_for(cast.supervisor).get(URL, {"scope": "visible"})
    report = key("source", world["report"])
    assert not [e for e in response.context["graph"].edges if e.source.key == report]
    assert key("source", world["report"]) not in nodes_of(response)


def test_node_and_link_types_narrow_the_map(cast, world, client_for):
    response = client_for(cast.student).get(URL, {"nodes": ["source", "person"]})
    assert {node.type for node in response.context["graph"].nodes} == {"source", "person"}
    assert {edge[0] for edge in edges_of(response)} == {"authored", "mentions", "cites"}
    response = client_for(cast.student).get(URL, {"edges": ["evidence", "relation"]})
    assert {edge[0] for edge in edges_of(response)} == {"evidence", "relation"}
    assert {node.type for node in response.context["graph"].nodes} == {"source", "claim"}


def test_a_concept_limits_the_map_to_annotations_coded_with_it_or_below_it(cast, world, client_for):
    response = client_for(cast.student).get(URL, {"concept": world["isolation"].pk})
    edges = edges_of(response)
    sources = {e[1] for e in edges if e[0] != "authored"} | {
        e[2] for e in edges if e[0] == "authored"
    }
    # Only the article's passages are coded with Hijra, below Isolation.
    assert sources <= {key("source", world["article"]), key("source", world["milestones"])}
    assert (
        "evidence",
        key("source", world["article"]),
        key("claim", world["spread"]),
        "asserts",
    ) in edges
    assert not [e for e in edges if e[1] == key("source", world["report"])]
    assert "coded with" in response.text and "Isolation" in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"nodes": "theorists"},
        {"edges": "likes"},
        {"limit": "many"},
        {"limit": "0"},
        {"limit": "401"},
        {"scope": "everything"},
        {"concept": "abc"},
        {"concept": "999999999"},
    ],
)
def test_bad_parameters_give_a_form_error_and_the_exports_a_400(cast, world, client_for, params):
    client = client_for(cast.analyst)
    page = client.get(URL, params)
    assert page.status_code == 200
    assert page.context["graph"] is None
    assert 'class="form-errors"' in page.text
    assert '<svg class="map__svg"' not in page.text
    for export in ("map.gexf", "map.graphml"):
        response = client.get(f"/p/review/{export}", params)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/plain")
        assert "cannot be exported" in response.text


def test_a_concept_of_another_project_is_refused(cast, world, client_for):
    elsewhere = factories.make_project()
    foreign = factories.make_concept(elsewhere, "Foreign")
    page = client_for(cast.supervisor).get(URL, {"concept": foreign.pk})
    assert "Choose a concept of this project." in page.text
    assert (
        client_for(cast.supervisor).get("/p/review/map.gexf", {"concept": foreign.pk}).status_code
        == 400
    )


def test_above_the_limit_the_most_connected_nodes_stay_and_the_rest_is_counted(cast, client_for):
    project = cast.project
    concepts = [factories.make_concept(project, f"Theme {n}") for n in range(6)]
    hub = factories.make_source(project, "The hub")
    # The hub is coded with every theme twice; each other source once with one theme.
    for _ in range(2):
        passage(hub, cast.analyst, cast.supervisor, concepts=concepts)
    for number in range(14):
        source = factories.make_source(project, f"Minor {number}")
        passage(source, cast.analyst, cast.supervisor, concepts=[concepts[number % 6]])
    response = client_for(cast.student).get(URL, {"limit": 10})
    graph = response.context["graph"]
    assert len(graph.nodes) <= 10
    assert key("source", hub) in nodes_of(response)
    # The limit is shared: 5 sources and 5 concepts of 15 sources and 6 concepts.
    assert graph.totals == {"source": 15, "person": 0, "claim": 0, "concept": 6}
    assert graph.shown["source"] == 5 and graph.shown["concept"] == 5
    assert "left out: 10 sources, 1 concept" in response.text


def test_the_limit_is_shared_so_one_kind_cannot_crowd_out_the_others():
    assert share_limit({"source": 1000, "person": 3, "claim": 50, "concept": 200}, 150) == {
        "source": 49,
        "person": 3,
        "claim": 49,
        "concept": 49,
    }
    assert share_limit({"source": 4, "person": 0}, 150) == {"source": 4, "person": 0}
    assert share_limit({"source": 10, "claim": 10}, 10) == {"source": 5, "claim": 5}


def test_the_same_data_is_always_drawn_the_same_way(cast, world, client_for):
    def svg() -> str:
        text = client_for(cast.student).get(URL).text
        return text[text.index('<svg class="map__svg"') : text.index("</svg>")]

    first = svg()
    cache.clear()
    assert svg() == first
    positions = re.findall(r'<path class="map-node__shape" d="([^"]+)"', first)
    assert len(set(positions)) == len(positions) > 5


def test_every_node_is_a_link_to_its_page(cast, world, client_for):
    client = client_for(cast.student)
    response = client.get(URL)
    nodes = response.context["graph"].nodes
    assert nodes
    for node in nodes:
        assert f'href="{node.url}"' in response.text
        assert client.get(node.url).status_code == 200, node.url
    assert 'role="group"' in response.text
    assert "<title>Person: Sayyid Qutb</title>" in response.text


def test_the_table_lists_the_same_nodes_and_links(cast, world, client_for):
    response = client_for(cast.student).get(URL)
    table = response.text[response.text.index('<details class="map-table"') :]
    graph = response.context["graph"]
    assert table.count("<tr><td>") == len(graph.nodes) + len(graph.edges)
    assert "Sayyid Qutb" in table and "contradicts" in table
    # Template comments never leak into the page.
    assert "{#" not in response.text and "{% comment" not in response.text


def test_an_empty_project_shows_how_the_map_fills(cast, client_for):
    response = client_for(cast.student).get(URL)
    assert response.status_code == 200
    assert "Nothing to draw yet." in response.text
    assert "Only approved annotations count here" in response.text
    filtered = client_for(cast.student).get(URL, {"nodes": "claim"})
    assert "Show the whole map" in filtered.text


@pytest.mark.parametrize(
    "reader, scope, ranking",
    [
        # Supervisors and students: the ranking comes from the tallies.
        ("supervisor", "visible", "ranking_from_tallies"),
        ("student", "approved", "ranking_from_tallies"),
        # An analyst's own drafts (and blind coding) have no tally: the computed ranking,
        # served as last computed while it is computed again after a write.
        ("analyst", "visible", "ranking_cached"),
        ("analyst", "approved", "ranking_cached"),
    ],
)
def test_a_large_project_ranks_without_recounting_but_never_shows_unapproved_links(
    cast, world, client_for, monkeypatch, reader, scope, ranking
):
    # Every project counts as large.
    monkeypatch.setattr(graph_module, "EXACT_ANNOTATIONS", 0)
    client = client_for(getattr(cast, reader))
    first = client.get(URL, {"scope": scope})
    assert getattr(first.context["graph"], ranking)
    # The analyst's draft: in their own map and the supervisor's, never in approved-only ones.
    drafted = key("claim", world["unsupported"]) in nodes_of(first)
    assert drafted == (scope == "visible")
    # Withdrawn after the ranking was read: its links go at once.
    for annotation in world["report"].annotations.all():
        annotation.transition(ReviewAction.WITHDRAW, by=cast.supervisor)
    again = client.get(URL, {"scope": scope})
    assert key("source", world["report"]) not in nodes_of(again)
    if scope == "approved":
        # Its only evidence is gone (with everything visible, a claim relation still shows it).
        assert key("claim", world["split"]) not in nodes_of(again)
    # A review decision is a change of the data: a newly approved source is ranked at once
    # by the tallies; the computed ranking answers the first request as it was, while it is
    # computed again (in the tests, before that request ends), and ranks it for the next.
    newcomer = factories.make_source(cast.project, "Approved just now")
    passage(newcomer, cast.analyst, cast.supervisor, concepts=[world["crime"]])
    response = client.get(URL, {"scope": scope})
    if ranking == "ranking_cached":
        assert key("source", newcomer) not in nodes_of(response)
        response = client.get(URL, {"scope": scope})
    assert key("source", newcomer) in nodes_of(response)


def test_the_seed_map_joins_both_articles_through_the_spread_claim(db, client_for):
    from apps.accounts.models import User

    project = load_seed_review().project
    student = User.objects.get(username="student")
    response = client_for(student).get(f"/p/{project.slug}/map/")
    labels = {node.label: node for node in response.context["graph"].nodes}
    spread = next(n for n in labels if n.startswith("Once ISIS loses its territorial state"))
    stances = {
        (e.source.label.split(":")[0], e.qualifier)
        for e in response.context["graph"].edges
        if e.type == "evidence" and e.target.label == spread
    }
    assert ("Withdrawal from Society", "asserts") in stances
    assert ("The Bloody Split Within ISIS", "contradicts") in stances
    assert any(
        e.type == "mentions" and e.target.label == "Sayyid Qutb"
        for e in response.context["graph"].edges
    )


def test_query_count_of_the_map_does_not_grow(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4 is the scope large (capped count);
    # 5-16 ranking: per kind of link (authored, mentions, cites, evidence, relation, coded) one
    # GROUP BY for each end; 17-22 the links among the candidates, one per kind, and 23 which
    # candidate claims the student may see; 24-27 labels of sources, people, claims, concepts;
    # 28 the concepts of the filter's choices
    assert_constant_queries(cast.student, lambda: URL, 28)


def test_query_count_of_the_map_with_everything_does_not_grow(cast, assert_constant_queries):
    # as above, for an analyst's own drafts too
    assert_constant_queries(cast.analyst, lambda: URL + "?scope=visible", 28)


def test_query_count_of_the_exports_does_not_grow(cast, assert_constant_queries):
    # as the page, without the concepts of the filter's choices
    assert_constant_queries(cast.student, lambda: "/p/review/map.gexf", 27)
    assert_constant_queries(cast.analyst, lambda: "/p/review/map.graphml?scope=visible", 27)


def test_hostile_names_are_escaped_in_the_drawing_and_the_table(cast, client_for):
    source = factories.make_source(cast.project, '<script>alert("map")</script>')
    concept = factories.make_concept(cast.project, '"><img src=x onerror=alert(1)>')
    passage(source, cast.analyst, cast.supervisor, concepts=[concept])
    response = client_for(cast.student).get(URL)
    assert len(response.context["graph"].nodes) == 2
    assert "<script>alert" not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;script&gt;alert(&quot;map&quot;)&lt;/script&gt;" in response.text


def test_query_count_of_a_large_map_with_its_ranking_remembered_does_not_grow(
    cast, assert_constant_queries, client_for, monkeypatch
):
    monkeypatch.setattr(graph_module, "EXACT_ANNOTATIONS", 0)
    url = URL + "?scope=approved"

    def warm() -> None:
        client_for(cast.analyst).get(url)

    # An analyst (blind coding may hide passages from them: no tally counts what they see):
    # 1 session, 2 user, 3 membership + project, 4 is the scope large (capped count),
    # 5-6 the project's latest review event and edit (the ranking's cache key),
    # 7-12 the links among the remembered candidates, one per kind, and 13 which of them
    # are claims the analyst may see; 14-17 labels; 18 the concepts of the filter's choices
    assert_constant_queries(cast.analyst, lambda: url, 18, before=warm, after=warm)


# 1 session, 2 user, 3 membership + project, 4 is the project large (its tally row),
# 5-8 nodes with passages per kind (tally rows), 9-12 the most annotated per kind (the top of
# each tally's index), 13-14 the works the candidate sources cite most and their authors;
# 15-20 the links among the candidates, one per kind, and 21 which candidate claims the
# member may see; 22-25 labels of sources, people, claims, concepts; 26 the concepts of the
# filter's choices
TALLY_PATH_QUERIES = 26


@pytest.mark.parametrize("reader, scope", [("student", "approved"), ("supervisor", "visible")])
def test_query_count_of_a_large_map_ranked_by_the_tallies_does_not_grow(
    cast, assert_constant_queries, monkeypatch, reader, scope
):
    monkeypatch.setattr(graph_module, "EXACT_ANNOTATIONS", 0)
    url = f"{URL}?scope={scope}"
    assert_constant_queries(getattr(cast, reader), lambda: url, TALLY_PATH_QUERIES)


LINK_TABLES = ("annotations_mention", "annotations_evidence", "annotations_annotation_concepts")


def whole_project_aggregates(queries) -> list[str]:
    """The captured statements that group or count a table of links (mentions, evidence,
    codings) without naming the few rows they are about: a whole-project aggregate."""
    found = []
    for query in queries:
        sql = query["sql"]
        aggregates = "GROUP BY" in sql or "COUNT(" in sql
        links = any(f'"{table}"' in sql for table in LINK_TABLES)
        # The candidates' links are asked about by id: `… IN (1, 2, …)`.
        if aggregates and links and not re.search(r"_id\" IN \(\d", sql):
            found.append(sql)
    return found


@pytest.mark.parametrize("reader, scope", [("student", "approved"), ("supervisor", "visible")])
def test_a_large_map_never_aggregates_all_the_links_warm_or_after_a_write(
    cast, world, client_for, monkeypatch, reader, scope
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(graph_module, "EXACT_ANNOTATIONS", 0)
    client = client_for(getattr(cast, reader))
    client.get(URL, {"scope": scope})  # warm
    with CaptureQueriesContext(connection) as warm:
        client.get(URL, {"scope": scope})
    passage(world["report"], cast.analyst, cast.supervisor, concepts=[world["crime"]])
    with CaptureQueriesContext(connection) as after_write:
        response = client.get(URL, {"scope": scope})
    assert response.context["graph"].ranking_from_tallies
    assert len(warm.captured_queries) == len(after_write.captured_queries)
    assert whole_project_aggregates(warm.captured_queries) == []
    # (The links among the candidates are grouped, by id.)
    assert sum("GROUP BY" in q["sql"] and LINK_TABLES[0] in q["sql"] for q in warm) >= 2
    assert whole_project_aggregates(after_write.captured_queries) == []
    # The computed ranking (small projects) is such an aggregate: the check can fail.
    monkeypatch.setattr(graph_module, "EXACT_ANNOTATIONS", 10_000)
    with CaptureQueriesContext(connection) as exact:
        client.get(URL, {"scope": scope})
    assert whole_project_aggregates(exact.captured_queries)


def drawn(response) -> tuple[dict, dict]:
    """What the member sees: the links with their weights, and each node's weight."""
    return edges_of(response), {k: n.weight for k, n in nodes_of(response).items()}


@pytest.mark.parametrize("reader, scope", [("student", "approved"), ("supervisor", "visible")])
def test_the_tallies_draw_the_map_the_computed_ranking_draws(
    cast, world, client_for, monkeypatch, reader, scope
):
    client = client_for(getattr(cast, reader))
    exact = client.get(URL, {"scope": scope})
    monkeypatch.setattr(graph_module, "EXACT_ANNOTATIONS", 0)
    from_tallies = client.get(URL, {"scope": scope})
    assert from_tallies.context["graph"].ranking_from_tallies
    assert drawn(from_tallies) == drawn(exact)
    # Faras only wrote (drawn through the article's authors), and Milestones is only cited
    # (drawn through the article's citations): neither has passages, so neither is in the
    # totals read from the tallies (the "left out" counts of a large project).
    assert key("person", world["faras"]) in nodes_of(from_tallies)
    assert key("source", world["milestones"]) in nodes_of(from_tallies)
    totals = exact.context["graph"].totals
    assert from_tallies.context["graph"].totals == {
        **totals,
        "source": totals["source"] - 1,
        "person": totals["person"] - 1,
    }


def test_the_tallies_keep_the_nodes_the_computed_ranking_keeps_when_trimming(
    cast, client_for, monkeypatch
):
    # Passages with one link each: a node's passages are its degree, so both rankings agree.
    project = cast.project
    concepts = [factories.make_concept(project, f"Theme {n}") for n in range(6)]
    hub = factories.make_source(project, "The hub")
    for concept in concepts:
        passage(hub, cast.analyst, cast.supervisor, concepts=[concept])
    for number in range(14):
        source = factories.make_source(project, f"Minor {number}")
        for _ in range(number % 3 + 1):
            passage(source, cast.analyst, cast.supervisor, concepts=[concepts[number % 6]])
    # One candidate per place, so the ranking alone decides what is kept.
    monkeypatch.setattr(graph_module, "POOL", 1)
    client = client_for(cast.student)
    exact = client.get(URL, {"limit": 10})
    monkeypatch.setattr(graph_module, "EXACT_ANNOTATIONS", 0)
    from_tallies = client.get(URL, {"limit": 10})
    assert from_tallies.context["graph"].ranking_from_tallies
    assert len(nodes_of(exact)) == 10 and key("source", hub) in nodes_of(exact)
    assert drawn(from_tallies) == drawn(exact)
    assert from_tallies.context["graph"].totals == exact.context["graph"].totals
    assert "left out: 10 sources, 1 concept" in from_tallies.text


def positions(response) -> dict[str, tuple[float, float]]:
    return {k: (n.x, n.y) for k, n in nodes_of(response).items()}


def test_one_more_passage_shows_its_weight_at_once_and_keeps_the_layout(
    cast, world, client_for, monkeypatch
):
    monkeypatch.setattr(graph_module, "EXACT_ANNOTATIONS", 0)
    layouts = []
    place = graph_module._place
    monkeypatch.setattr(graph_module, "_place", lambda graph: layouts.append(1) or place(graph))
    client = client_for(cast.student)
    before = client.get(URL)
    article, spread = key("source", world["article"]), key("claim", world["spread"])
    assert edges_of(before)[("evidence", article, spread, "asserts")] == 2
    # A third approved passage of the article asserting the spread claim: one more unit of
    # weight on links already drawn.
    passage(world["article"], cast.analyst, cast.supervisor, claims=[world["spread"]],
            stance="asserts", concepts=[world["hijra"]])  # fmt: skip
    after = client.get(URL)
    assert edges_of(after)[("evidence", article, spread, "asserts")] == 3
    assert nodes_of(after)[spread].weight == nodes_of(before)[spread].weight + 1
    assert nodes_of(after)[spread].r > nodes_of(before)[spread].r
    # Drawn where it was: the spring layout ran for the first request only.
    assert positions(after) == positions(before)
    assert len(layouts) == 1
    # A new link between nodes drawn already: drawn between them where they are.
    passage(world["report"], cast.analyst, cast.supervisor, concepts=[world["hijra"]])
    again = client.get(URL)
    assert ("coded", key("source", world["report"]), key("concept", world["hijra"]), "") in (
        edges_of(again)
    )
    assert positions(again) == positions(before)
    assert len(layouts) == 1


def test_a_new_node_goes_beside_its_neighbours_and_nothing_else_moves(
    cast, world, client_for, monkeypatch
):
    layouts = []
    place = graph_module._place
    monkeypatch.setattr(graph_module, "_place", lambda graph: layouts.append(1) or place(graph))
    client = client_for(cast.student)
    before = positions(client.get(URL))
    kaplan = factories.make_person(cast.project, "Jeffrey Kaplan")
    passage(world["report"], cast.analyst, cast.supervisor, people=[kaplan])
    after = positions(client.get(URL))
    assert len(layouts) == 1
    newcomer = after.pop(key("person", kaplan))
    assert after == before
    # Near the report, apart from every other node.
    report = before[key("source", world["report"])]
    assert math.dist(newcomer, report) < 150
    assert min(math.dist(newcomer, spot) for spot in before.values()) >= graph_module.NEAR_GAP
    # Many new nodes at once: the whole graph is laid out again.
    for number in range(5):
        theme = factories.make_concept(cast.project, f"Theme {number}")
        passage(world["article"], cast.analyst, cast.supervisor, concepts=[theme])
    client.get(URL)
    assert len(layouts) == 2


def test_the_picture_of_a_shape_does_not_depend_on_the_way_there_once_cached(
    cast, world, client_for
):
    client = client_for(cast.student)
    client.get(URL)
    kaplan = factories.make_person(cast.project, "Jeffrey Kaplan")
    passage(world["report"], cast.analyst, cast.supervisor, people=[kaplan])
    placed_near = positions(client.get(URL))
    # Another member who sees the same nodes and links gets the same picture.
    assert positions(client_for(cast.supervisor).get(URL, {"scope": "approved"})) == placed_near

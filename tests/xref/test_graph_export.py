"""GEXF 1.3 and GraphML exports of the map: Gephi-readable files with the attributes of every
node and link, the same graph the page shows, and nothing a student may not see."""

import io
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from apps.annotations.models import Mention, ReviewAction
from apps.claims.models import ClaimRelation
from apps.library.models import Contributor
from tests import factories

GEXF = "/p/review/map.gexf"
GRAPHML = "/p/review/map.graphml"


@pytest.fixture
def world(cast):
    project = cast.project
    article = factories.make_source(project, "Withdrawal <from> society & “takfir”")
    arabic = factories.make_source(project, "معالم في الطريق", language="ar")
    qutb = factories.make_person(project, "Sayyid Qutb")
    Contributor.objects.create(source=arabic, person=qutb)
    spread = factories.make_claim(project, "Takfiri groups will spread")
    split = factories.make_claim(project, "ISIS cracked down\x0b on its extremists")
    ClaimRelation.objects.create(source=split, target=spread, kind="refines")
    concept = factories.make_concept(project, "Isolation")
    for stance in ("asserts", "qualifies"):
        annotation = factories.make_annotation(
            article, cast.analyst, claims=[spread], stance=stance, concepts=[concept]
        )
        Mention.objects.create(
            annotation=annotation, person=qutb, work=arabic, function="supporting"
        )
        annotation.transition(ReviewAction.SUBMIT, by=cast.analyst)
        annotation.transition(ReviewAction.APPROVE, by=cast.supervisor)
    factories.make_annotation(
        arabic, cast.analyst, status="approved", reviewer=cast.supervisor, claims=[split]
    )
    draft_claim = factories.make_claim(project, "Backed by a draft only")
    factories.make_annotation(article, cast.analyst, claims=[draft_claim])
    return {"article": article, "arabic": arabic, "qutb": qutb, "spread": spread, "split": split}


def body(response) -> bytes:
    """The file, as the streamed response sends it (read once, kept for the next look)."""
    assert response.streaming
    if not hasattr(response, "file_read"):
        response.file_read = b"".join(response.streaming_content)
    return response.file_read


def read_gexf(response) -> nx.Graph:
    return nx.read_gexf(io.BytesIO(body(response)))


def read_graphml(response) -> nx.Graph:
    return nx.read_graphml(io.BytesIO(body(response)))


def test_gexf_is_version_1_3_with_positions_and_attributes_networkx_reads(cast, world, client_for):
    response = client_for(cast.student).get(GEXF)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/gexf+xml")
    assert response["Content-Disposition"] == 'attachment; filename="review-map.gexf"'
    root = ET.fromstring(body(response))
    assert root.tag == "{http://gexf.net/1.3}gexf"
    assert root.get("version") == "1.3"
    viz = "{http://gexf.net/1.3/viz}"
    for node in root.iter("{http://gexf.net/1.3}node"):
        assert node.find(f"{viz}position") is not None
        assert node.find(f"{viz}shape").get("value") in {"square", "disc", "diamond", "triangle"}

    graph = read_gexf(response)
    article = graph.nodes[f"source-{world['article'].pk}"]
    assert article["label"] == "Withdrawal <from> society & “takfir”"
    assert article["type"] == "source"
    assert article["url"] == f"http://testserver/p/review/sources/{world['article'].pk}/"
    assert article["scope"] == "approved"
    # evidence asserts 1 + qualifies 1, Qutb mentioned 2, his work cited 2, coded 2
    assert article["weight"] == 8
    assert article["links"] == 5
    assert "position" in article["viz"]
    assert graph.nodes[f"source-{world['arabic'].pk}"]["label"] == "معالم في الطريق"
    # A character XML cannot carry is dropped, the rest of the statement kept.
    assert (
        graph.nodes[f"claim-{world['split'].pk}"]["label"] == "ISIS cracked down on its extremists"
    )

    edges = {
        (
            u,
            v,
            data["type"],
            data.get("stance") or data.get("function") or data.get("kind") or "",
        ): data
        for u, v, data in graph.edges(data=True)
    }
    evidence = edges[
        f"source-{world['article'].pk}", f"claim-{world['spread'].pk}", "evidence", "asserts"
    ]
    assert evidence["annotations"] == 1 and evidence["weight"] == 1.0
    assert evidence["scope"] == "approved"
    assert (
        f"source-{world['article'].pk}",
        f"claim-{world['spread'].pk}",
        "evidence",
        "qualifies",
    ) in edges
    cites = edges[
        f"source-{world['article'].pk}", f"source-{world['arabic'].pk}", "cites", "supporting"
    ]
    assert cites["annotations"] == 2
    assert (
        f"claim-{world['split'].pk}",
        f"claim-{world['spread'].pk}",
        "relation",
        "refines",
    ) in edges
    assert (f"person-{world['qutb'].pk}", f"source-{world['arabic'].pk}", "authored", "") in edges


def test_graphml_declares_its_keys_and_carries_the_same_graph(cast, world, client_for):
    client = client_for(cast.student)
    response = client.get(GRAPHML)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="review-map.graphml"'
    root = ET.fromstring(body(response))
    keys = {
        (key.get("for"), key.get("attr.name"))
        for key in root.iter("{http://graphml.graphdrawing.org/xmlns}key")
    }
    for name in ("label", "type", "url", "weight", "links", "scope", "x", "y"):
        assert ("node", name) in keys
    for name in ("type", "stance", "function", "kind", "annotations", "weight", "scope"):
        assert ("edge", name) in keys

    graphml = read_graphml(response)
    gexf = read_gexf(client.get(GEXF))
    assert set(graphml.nodes) == set(gexf.nodes)
    assert graphml.number_of_edges() == gexf.number_of_edges()
    page = client.get("/p/review/map/").context["graph"]
    for node in page.nodes:
        data = graphml.nodes[node.key]
        label = node.label.replace("\x0b", "")
        assert (data["type"], data["label"], data["weight"]) == (node.type, label, node.weight)
        assert (data["x"], data["y"]) == (node.x, node.y)
    stances = {d.get("stance") for _, _, d in graphml.edges(data=True) if d["type"] == "evidence"}
    assert stances == {"asserts", "qualifies", "supports"}


def test_exports_follow_the_filters_of_the_page(cast, world, client_for):
    client = client_for(cast.student)
    params = {"nodes": ["source", "claim"], "edges": ["evidence"]}
    page = client.get("/p/review/map/", params).context["graph"]
    for url, read in ((GEXF, read_gexf), (GRAPHML, read_graphml)):
        graph = read(client.get(url, params))
        assert set(graph.nodes) == {node.key for node in page.nodes}
        assert {d["type"] for _, _, d in graph.edges(data=True)} == {"evidence"}


def test_students_exports_carry_nothing_unapproved(cast, world, client_for):
    for url in (GEXF, GRAPHML):
        student = client_for(cast.student).get(url, {"scope": "visible"})
        assert b"Backed by a draft only" not in body(student)
        author = body(client_for(cast.analyst).get(url, {"scope": "visible"}))
        assert "Backed by a draft only" in author.decode()
        assert b'value="visible"' in author or b">visible<" in author


def test_an_empty_project_exports_empty_graphs_that_still_parse(cast, client_for):
    client = client_for(cast.student)
    assert read_gexf(client.get(GEXF)).number_of_nodes() == 0
    assert read_graphml(client.get(GRAPHML)).number_of_nodes() == 0


def test_exports_refuse_bad_parameters_with_a_message(cast, world, client_for):
    response = client_for(cast.student).get(GEXF, {"nodes": "theorists", "limit": "1000"})
    assert response.status_code == 400
    assert "There is no node type “theorists”." in response.text
    assert "At most" in response.text

"""Formats through the writers that exist: annotations as W3C JSON-LD (the export's own items, an
AnnotationPage a JSON-LD processor reads), the matrix as the matrix page's CSV, the map as the
map page's GEXF and GraphML (read back with networkx). Students' files hold approved work only."""

import csv
import io
import json

import networkx as nx
import pytest
from pyld import jsonld

from tests import factories
from tests.webanno.test_w3c import OA, export, offline_loader
from tests.webanno.test_w3c import items as export_items
from tests.webanno.test_w3c import review as review  # noqa: F401 (annotations with every part)
from tests.xref.test_graph_export import world as world  # noqa: F401 (a map with a draft in it)

API = "/api/v1/p/review/"
ROLES = ("supervisor", "analyst", "analyst2", "student")


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- JSON-LD -----------------------------------------------------------------------------------


def test_annotations_as_json_ld_are_the_exports_items(cast, review, client_for, api_for):
    exported = {i["id"]: i for i in export_items(export(client_for(cast.supervisor), cast.project))}
    client = api_for(cast.supervisor)
    page = client.get(f"{API}annotations/", {"format": "jsonld", "limit": 1})
    assert page.status_code == 200
    assert page["Content-Type"].startswith(
        'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
    )
    document = page.json()
    assert document["type"] == "AnnotationPage"
    assert document["partOf"]["total"] == 2 and page["Total-Results"] == "2"
    assert document["next"] == page["Link"].split(">")[0].lstrip("<")
    assert "format=jsonld" in document["next"]
    second = client.get(document["next"]).json()
    assert "next" not in second
    listed = document["items"] + second["items"]
    assert len(listed) == 2
    for item in listed:
        reference = dict(exported[item["id"]])
        del reference["@context"]
        assert item == reference
        one = client.get(f"{API}annotations/{item['id'].rstrip('/').split('/')[-1]}/",
                         {"format": "jsonld"})  # fmt: skip
        assert one.json() == exported[item["id"]]
    # A JSON-LD processor reads it with the Web Annotation context: annotations with targets.
    expanded = jsonld.expand(document, {"documentLoader": offline_loader})
    [page_node] = expanded
    [annotation] = page_node["https://www.w3.org/ns/activitystreams#items"][0]["@list"]
    assert f"{OA}Annotation" in annotation["@type"]
    assert f"{OA}hasTarget" in annotation


def test_accept_asks_for_json_ld_too(cast, review, api_for):
    client = api_for(cast.supervisor)
    listed = client.get(f"{API}annotations/", HTTP_ACCEPT="application/ld+json")
    assert listed["Content-Type"].startswith("application/ld+json")
    assert listed.json()["type"] == "AnnotationPage"
    # ?format= decides when both are said.
    plain = client.get(f"{API}annotations/?format=json", HTTP_ACCEPT="application/ld+json")
    assert plain["Content-Type"].startswith("application/json") and "results" in plain.json()
    assert client.get(f"{API}annotations/", {"format": "turtle"}).status_code == 400


def test_students_json_ld_holds_approved_work_only(cast, review, api_for, token_for):
    for client in (api_for(cast.student), api_for(token=token_for(cast.student))):
        document = client.get(f"{API}annotations/", {"format": "jsonld"}).json()
        assert [item["reviewStatus"] for item in document["items"]] == ["approved"]
        draft = review["annotations"][1]
        assert client.get(f"{API}annotations/{draft.pk}/", {"format": "jsonld"}).status_code == 404


def test_json_ld_pages_take_the_same_queries_with_ten_times_the_data(
    cast, review, api_for, grow, django_assert_num_queries
):
    client = api_for(cast.supervisor)
    source = review["source"]

    def more(n):
        for _ in range(n):
            factories.make_annotation(
                source, cast.analyst, claims=[factories.make_claim(cast.project)]
            )

    more(3)
    with django_assert_num_queries(10) as first:
        assert (
            client.get(f"{API}annotations/", {"format": "jsonld", "limit": 100}).status_code == 200
        )
    more(27)
    with django_assert_num_queries(len(first.captured_queries)):
        assert (
            client.get(f"{API}annotations/", {"format": "jsonld", "limit": 100}).status_code == 200
        )


# --- The matrix --------------------------------------------------------------------------------


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response).decode())))


@pytest.mark.parametrize("role", ROLES)
def test_the_matrix_csv_is_the_pages(cast, world, client_for, api_for, role):
    user = cast.members()[role]
    for query in ({}, {"cols": "claims", "scope": "visible"}, {"cols": "people"}):
        page = client_for(user).get("/p/review/matrix.csv", query)
        answer = api_for(user).get(f"{API}matrix/", query)
        assert answer.status_code == 200, answer.content
        assert answer["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in answer["Content-Disposition"]
        assert rows(answer) == rows(page)


def test_students_matrix_counts_approved_work_only(cast, world, api_for):
    student = rows(
        api_for(cast.student).get(f"{API}matrix/", {"cols": "claims", "scope": "visible"})
    )
    assert "Backed by a draft only" not in student[0]
    analyst = rows(
        api_for(cast.analyst).get(f"{API}matrix/", {"cols": "claims", "scope": "visible"})
    )
    assert "Backed by a draft only" in analyst[0]
    approved = rows(
        api_for(cast.analyst).get(f"{API}matrix/", {"cols": "claims", "scope": "approved"})
    )
    assert student == approved


# --- The map -----------------------------------------------------------------------------------


def graph(response, read) -> nx.Graph:
    assert response.status_code == 200, response.content
    return read(io.BytesIO(body(response)))


def same(a: nx.Graph, b: nx.Graph) -> bool:
    return dict(a.nodes(data=True)) == dict(b.nodes(data=True)) and sorted(
        a.edges(data="type")
    ) == sorted(b.edges(data="type"))


@pytest.mark.parametrize(("format", "read"), [("gexf", nx.read_gexf), ("graphml", nx.read_graphml)])
def test_the_map_files_are_the_pages(cast, world, client_for, api_for, format, read):
    for role in ROLES:
        user = cast.members()[role]
        answer = api_for(user).get(f"{API}map/", {"format": format, "scope": "visible"})
        assert answer["Content-Type"].startswith(f"application/{format}+xml")
        page = client_for(user).get(f"/p/review/map.{format}", {"scope": "visible"})
        assert same(graph(answer, read), graph(page, read))
    student = body(api_for(cast.student).get(f"{API}map/", {"format": format, "scope": "visible"}))
    assert b"Backed by a draft only" not in student
    analyst = body(api_for(cast.analyst).get(f"{API}map/", {"format": format, "scope": "visible"}))
    assert b"Backed by a draft only" in analyst


def test_files_refuse_bad_parameters_as_json(cast, world, api_for):
    client = api_for(cast.analyst)
    for url, query, where in (
        (f"{API}map/", {"nodes": "theorists"}, "query.nodes"),
        (f"{API}map/", {"limit": "100000"}, "query.limit"),
        (f"{API}map/", {"format": "svg"}, "query.format"),
        (f"{API}matrix/", {"year_min": "abc"}, "query.year_min"),
        (f"{API}matrix/", {"year_min": "2000", "year_max": "1990"}, "query.year_max"),
        (f"{API}matrix/", {"cols": "places"}, "query.cols"),
        (f"{API}matrix/", {"format": "xlsx"}, "query.format"),
    ):
        response = client.get(url, query)
        assert response.status_code == 400, (url, query, response.content)
        assert response["Content-Type"].startswith("application/json")
        assert where in [e["where"] for e in response.json()["errors"]], response.json()


def test_files_follow_the_access_policy(cast, world, api_for, token_for):
    for url in (f"{API}matrix/", f"{API}map/", f"{API}map/?format=graphml"):
        for user in cast.members().values():
            assert api_for(token=token_for(user)).get(url).status_code == 200
        assert api_for(cast.outsider).get(url).status_code == 404
        assert api_for(None).get(url).status_code == 401
        elsewhere = cast.outsider.memberships.get().project
        assert (
            api_for(token=token_for(cast.outsider, project=elsewhere)).get(url).status_code == 404
        )
        head = api_for(cast.student).head(url)
        assert head.status_code == 200 and not body(head)
        for method in ("post", "put", "patch", "delete"):
            response = getattr(api_for(cast.supervisor), method)(url)
            assert response.status_code == 405
            assert json.loads(response.content)["detail"]

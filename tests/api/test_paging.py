"""Cursor paging: every row once, in a fixed order with the id as tiebreak, also while rows are
added and removed between pages; bad cursors and limits are refused with a message; a page
costs the same queries with ten times the data."""

import base64
import json

import pytest

from apps.library.models import Source
from tests import factories

SOURCES = "/api/v1/p/review/sources/"


def walk(client, url):
    """Every page from `url`: (rows, pages)."""
    rows, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert response["Total-Results"] == str(body["total"])
        if body["next"]:
            assert response["Link"] == f'<{body["next"]}>; rel="next"'
        else:
            assert "Link" not in response
        rows += body["results"]
        pages += 1
        url = body["next"]
    return rows, pages


def test_pages_follow_one_another_in_title_then_id_order(cast, api_for):
    # Equal titles: only the id tells them apart, so the cursor must carry it.
    for title in ["B", "A", "B", "B", "C", "A", "B"]:
        factories.make_source(cast.project, title=title)
    rows, pages = walk(api_for(cast.student), SOURCES + "?limit=2")
    assert pages == 4
    expected = list(Source.objects.order_by("title", "pk").values_list("title", "pk"))
    assert [(row["title"], row["id"]) for row in rows] == expected


def test_the_next_link_keeps_the_other_parameters(cast, world, api_for):
    factories.make_annotation(world["source"], cast.analyst, status="approved",
                              reviewer=cast.supervisor)  # fmt: skip
    body = api_for(cast.supervisor).get("/api/v1/p/review/annotations/?scope=approved&limit=1")
    next_url = body.json()["next"]
    assert next_url.startswith("http://testserver/api/v1/p/review/annotations/?")
    assert "scope=approved" in next_url and "limit=1" in next_url and "cursor=" in next_url


@pytest.mark.parametrize("path", ["sources", "people", "claims", "concepts", "annotations"])
def test_rows_added_and_removed_while_paging_never_make_one_missed_or_repeated(
    cast, world, api_for, grow, path
):
    grow(3)
    gone = factories.make_source(cast.project, title="0000 read, then deleted")
    client = api_for(cast.supervisor)
    url = f"/api/v1/p/review/{path}/?limit=3"
    before = {row["id"] for row in walk(client, url)[0]}
    seen = []
    body = client.get(url).json()
    seen += [row["id"] for row in body["results"]]
    # Between pages, another client adds rows (some sort before the cursor, some after) and
    # deletes one that was already read.
    grow(3)
    factories.make_source(cast.project, title="AAAA first")
    factories.make_source(cast.project, title="zzzz last")
    gone.delete()
    while body["next"]:
        body = client.get(body["next"]).json()
        seen += [row["id"] for row in body["results"]]
    assert len(seen) == len(set(seen)), "no row twice"
    assert before <= set(seen), "every row that was there all along"


CURSORS = [
    "abc",
    "!!!",
    "=" * 10,
    base64.urlsafe_b64encode(b"not json").decode(),
    base64.urlsafe_b64encode(b'["a", 1, 2]').decode(),
    base64.urlsafe_b64encode(b"[1, 1]").decode(),  # a number where a title belongs
    base64.urlsafe_b64encode(b'["a", "1"]').decode(),
    base64.urlsafe_b64encode(b'["a", 99999999999999999999999]').decode(),
    base64.urlsafe_b64encode(b'["a", -5]').decode(),
    base64.urlsafe_b64encode(b'["a\\u0000", 5]').decode(),
    base64.urlsafe_b64encode(b"[" * 5000).decode(),
    base64.urlsafe_b64encode(b'{"a": 1}').decode(),
    "x" * 3000,
]


@pytest.mark.parametrize("cursor", CURSORS)
def test_bad_cursors_are_refused_with_a_message(cast, api_for, cursor):
    response = api_for(cast.student).get(SOURCES, {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


@pytest.mark.parametrize("pair", [b'["a", 1]', b"[1.5, 1]", b"[true, 1]", b"[1e30, 1]"])
def test_cursors_of_the_wrong_kind_are_refused_for_annotations(cast, api_for, pair):
    cursor = base64.urlsafe_b64encode(pair).decode()
    response = api_for(cast.student).get("/api/v1/p/review/annotations/", {"cursor": cursor})
    assert response.status_code == 400


@pytest.mark.parametrize("limit", ["0", "-1", "101", "10" * 30, "abc", "", "1.5", "1e3"])
def test_bad_limits_are_refused_with_a_message(cast, api_for, limit):
    response = api_for(cast.student).get(SOURCES, {"limit": limit})
    assert response.status_code == 400
    body = response.json()
    assert "limit" in body["detail"]
    assert body["errors"][0]["where"] == "query.limit"


def test_a_cursor_from_another_list_is_refused_or_harmless(cast, world, api_for):
    client = api_for(cast.supervisor)
    factories.make_annotation(world["source"], cast.analyst)
    from_annotations = client.get("/api/v1/p/review/annotations/?limit=1").json()["next"]
    cursor = from_annotations.split("cursor=")[1].split("&")[0]
    assert client.get(SOURCES, {"cursor": cursor}).status_code == 400


# Queries of each list, the same with ten times the data:
#   session, user, membership with project, count, page, then what the rows show.
LISTS = {
    "projects": 4,  # the projects are the memberships' (no membership lookup)
    "sources": 7,  # + contributors with people, identifiers
    "people": 6,  # + name variants
    "claims": 6,  # + relations to visible claims (evidence counted in the page query)
    "concepts": 5,
    # + sent-back versions in the page query; evidence, mentions, concepts (w3c._Links),
    # identifiers and sources described (w3c._Sources)
    "annotations": 10,
}


@pytest.mark.parametrize("path", sorted(LISTS))
def test_list_query_counts_do_not_grow_with_the_data(
    cast, client_for, grow, django_assert_num_queries, path
):
    url = "/api/v1/projects/" if path == "projects" else f"/api/v1/p/review/{path}/?limit=100"
    clients = {user: client_for(user) for user in (cast.supervisor, cast.analyst, cast.student)}
    for size in (3, 27):
        grow(size)
        for user, client in clients.items():
            with django_assert_num_queries(LISTS[path]):
                response = client.get(url)
            assert response.status_code == 200
            if path != "projects" and user != cast.student:
                assert response.json()["results"], "the page shows rows"


def test_a_token_costs_one_query_where_the_session_costs_two(
    cast, api_for, token_for, grow, django_assert_num_queries
):
    client = api_for(token=token_for(cast.analyst))
    client.get(SOURCES)  # records the token's first use
    grow(3)
    # token with its user and project, membership, count, page, contributors, identifiers
    with django_assert_num_queries(6):
        assert client.get(SOURCES).status_code == 200


def test_pages_hold_at_most_the_limit(cast, api_for, grow):
    grow(30)
    body = api_for(cast.supervisor).get("/api/v1/p/review/annotations/?limit=100").json()
    assert len(body["results"]) == 100
    assert body["total"] > 100
    assert len(api_for(cast.supervisor).get(SOURCES).json()["results"]) == 30  # default 50


def test_decoded_cursor_is_opaque_but_compact(cast, api_for):
    for title in ("A", "B"):
        factories.make_source(cast.project, title=title)
    next_url = api_for(cast.student).get(SOURCES + "?limit=1").json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]
    padded = cursor + "=" * (-len(cursor) % 4)
    assert json.loads(base64.urlsafe_b64decode(padded)) == [
        "A", Source.objects.get(title="A").pk,
    ]  # fmt: skip

"""Creating, changing and deleting sources through the API: the pages' form rules, the pages'
access policy, and a version named on every change (428 without one, 412 when stale, one winner
of two concurrent writers)."""

import io
import json
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from apps.library.models import Source
from tests import factories
from tests.accounts.test_last_supervisor_race import waiting_on_locks

SOURCES = "/api/v1/p/review/sources/"


def send(client, method, url, body=None, **headers):
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    return getattr(client, method)(url, data, content_type="application/json", **headers)


def state():
    return list(Source.objects.order_by("pk").values_list("pk", "version", "title", "page"))


@pytest.fixture
def source(cast):
    source = factories.make_source(cast.project, title="Original", page="1-10")
    source.add_identifier("doi", "10.1000/orig")
    return source


def test_an_analyst_adds_a_source_as_the_form_would(cast, api_for):
    response = send(api_for(cast.analyst), "post", SOURCES, {
        "title": "  The Bloody Divorce ", "citation_key": "mironova2017", "type": "report",
        "issued": {"year": 2017, "month": 5}, "url": "example.org/report",
        "identifiers": [{"scheme": "doi", "value": "https://doi.org/10.1000/ABC"}],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    source = Source.objects.get(pk=body["id"])
    assert response["Location"] == f"http://testserver{SOURCES}{source.pk}/"
    assert response["ETag"] == '"1"'
    assert (source.title, source.csl_type, source.issued_year, source.issued_month) == (
        "The Bloody Divorce", "report", 2017, 5,
    )  # fmt: skip
    assert source.url == "https://example.org/report"  # the form's assumed scheme
    assert body["identifiers"] == [{"scheme": "doi", "value": "10.1000/abc"}]
    assert source.updated_by == cast.analyst and source.project == cast.project
    assert body["actions"] == ["view", "edit", "delete"]


def test_who_may_add_sources(cast, api_for, token_for):
    body = {"title": "T", "citation_key": "k"}
    elsewhere = cast.outsider.memberships.get().project
    before = state()
    refused = {
        403: [api_for(cast.student), api_for(token=token_for(cast.analyst, "read")),
              api_for(token=token_for(cast.supervisor, "review"))],
        404: [api_for(cast.outsider),
              api_for(token=token_for(cast.outsider, project=elsewhere))],
        401: [api_for(None), api_for(token="cm_forged")],
    }  # fmt: skip
    for status, clients in refused.items():
        for client in clients:
            response = send(client, "post", SOURCES, body)
            assert response.status_code == status
            assert response.json()["detail"]
    assert state() == before
    for number, client in enumerate(
        [api_for(cast.supervisor), api_for(cast.analyst2),
         api_for(token=token_for(cast.analyst, "write"))]
    ):  # fmt: skip
        assert (
            send(client, "post", SOURCES, {**body, "citation_key": f"k{number}"}).status_code == 201
        )


def test_a_browser_session_writes_with_the_csrf_token_only(cast):
    signed_out = send(Client(enforce_csrf_checks=True), "post", SOURCES, {"title": "T"})
    assert signed_out.status_code == 401
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.analyst)
    body = {"title": "T", "citation_key": "k"}
    refused = send(client, "post", SOURCES, body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not Source.objects.exists()
    client.get("/accounts/profile/")  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    assert send(client, "post", SOURCES, body, HTTP_X_CSRFTOKEN=token).status_code == 201


def test_a_change_keeps_what_it_does_not_name_and_bumps_the_version_once(cast, api_for, source):
    client = api_for(cast.analyst)
    url = f"{SOURCES}{source.pk}/"
    etag = client.get(url)["ETag"]
    assert etag == '"1"'
    response = send(client, "patch", url, {"title": "Renamed"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    source.refresh_from_db()
    assert (source.title, source.page, source.version) == ("Renamed", "1-10", 2)
    assert response.json()["identifiers"] == [{"scheme": "doi", "value": "10.1000/orig"}]
    assert response["ETag"] == '"2"'
    cleared = send(
        client,
        "patch",
        url,
        {"page": None, "identifiers": []},
        HTTP_IF_UNMODIFIED_SINCE_VERSION="2",
    )
    assert cleared.status_code == 200
    assert (cleared.json()["page"], cleared.json()["identifiers"]) == ("", [])


def test_a_change_without_a_version_is_refused_with_428(cast, api_for, source):
    before = state()
    for method in ("patch", "delete"):
        response = send(api_for(cast.analyst), method, f"{SOURCES}{source.pk}/", {"title": "X"})
        assert response.status_code == 428
        assert "If-Unmodified-Since-Version" in response.json()["detail"]
        response = send(api_for(cast.analyst), method, f"{SOURCES}{source.pk}/", {"title": "X"},
                        HTTP_IF_MATCH="*")  # fmt: skip
        assert response.status_code == 428
    assert state() == before


def test_a_stale_change_is_refused_with_412_and_the_current_source(cast, api_for, source):
    client = api_for(cast.analyst)
    url = f"{SOURCES}{source.pk}/"
    assert (
        send(client, "patch", url, {"page": "2"}, HTTP_IF_UNMODIFIED_SINCE_VERSION="1").status_code
        == 200
    )
    before = state()
    for method in ("patch", "delete"):
        response = send(
            client, method, url, {"title": "Mine"}, HTTP_IF_UNMODIFIED_SINCE_VERSION="1"
        )
        assert response.status_code == 412
        body = response.json()
        assert "version 2" in body["detail"]
        assert (body["current"]["version"], body["current"]["page"]) == (2, "2")
        assert response["ETag"] == '"2"'
    assert state() == before


def test_deleting_a_source(cast, world, api_for, source):
    client = api_for(cast.analyst)
    referenced = world["source"]
    response = send(client, "delete", f"{SOURCES}{referenced.pk}/", HTTP_IF_MATCH='"1"')
    assert response.status_code == 409
    assert response.json()["references"] == ["2 annotations (excerpts)"]
    assert Source.objects.filter(pk=referenced.pk).exists()
    assert send(client, "delete", f"{SOURCES}{source.pk}/", HTTP_IF_MATCH='"1"').status_code == 204
    assert not Source.objects.filter(pk=source.pk).exists()
    assert send(client, "delete", f"{SOURCES}{source.pk}/", HTTP_IF_MATCH='"1"').status_code == 404


BAD_BODIES = [
    ("{not json", "not the JSON object"),
    ("[1, 2]", "body"),
    ('"a string"', "body"),
    ({"title": "T", "citation_key": "k", "colour": "red"}, "body.colour"),
    ({"title": 5, "citation_key": "k"}, "body.title"),
    ({"title": None, "citation_key": "k"}, "body.title"),
    ({"title": "T", "citation_key": "has space"}, "body.citation_key"),
    ({"title": "T", "citation_key": "taken"}, "already has the key"),
    ({"title": "T", "citation_key": "k", "type": "spaceship"}, "body.type"),
    ({"title": "T", "citation_key": "k", "issued": {"year": 2020, "day": 3}}, "body.issued"),
    ({"title": "T", "citation_key": "k", "issued": {"year": 2021, "month": 2, "day": 30}}, "day"),
    ({"title": "T", "citation_key": "k", "issued": {"year": 10**30}}, "body.issued.year"),
    ({"title": "T", "citation_key": "k", "url": "javascript:alert(1)"}, "body.url"),
    ({"title": "T", "citation_key": "k", "language": "not a tag"}, "body.language"),
    ({"title": "T", "citation_key": "k", "accessed": "2026-13-45"}, "body.accessed"),
    ({"title": "T\x00", "citation_key": "k"}, "body.title"),
    ({"title": "T", "citation_key": "k", "identifiers": [{"scheme": "doi", "value": "nope"}]},
     "body.identifiers.0"),
    ({"title": "T", "citation_key": "k", "identifiers": [{"scheme": "x", "value": "1"}]},
     "body.identifiers.0"),
    ({"title": "T", "citation_key": "k",
      "identifiers": [{"scheme": "doi", "value": "10.1/a"}] * 101}, "body.identifiers"),
    ({"title": "x" * 100_001, "citation_key": "k"}, "body.title"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "said"), BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_bodies_are_refused_with_a_message_and_change_nothing(
    cast, api_for, source, body, said
):
    factories.make_source(cast.project, citation_key="taken")
    before = state()
    client = api_for(cast.analyst)
    for method, url, headers in (
        ("post", SOURCES, {}),
        ("patch", f"{SOURCES}{source.pk}/", {"HTTP_IF_UNMODIFIED_SINCE_VERSION": "1"}),
    ):
        response = send(client, method, url, body, **headers)
        assert response.status_code == 400, (method, response.content)
        assert said in response.content.decode(), response.content
    assert state() == before


def test_oversized_bodies_are_refused(cast, api_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = send(
        api_for(cast.analyst), "post", SOURCES, {"title": "x" * 2000, "citation_key": "k"}
    )
    assert response.status_code == 413
    assert "larger than the limit of 1,000 bytes" in response.json()["detail"]
    assert not Source.objects.exists()


@pytest.mark.parametrize("header", [
    {"HTTP_IF_UNMODIFIED_SINCE_VERSION": "abc"}, {"HTTP_IF_UNMODIFIED_SINCE_VERSION": "-1"},
    {"HTTP_IF_UNMODIFIED_SINCE_VERSION": "9" * 40}, {"HTTP_IF_MATCH": '"abc"'},
    {"HTTP_IF_MATCH": "x" * 200},
])  # fmt: skip
def test_malformed_versions_are_refused(cast, api_for, source, header):
    before = state()
    response = send(
        api_for(cast.analyst), "patch", f"{SOURCES}{source.pk}/", {"title": "X"}, **header
    )
    assert response.status_code == 400
    assert state() == before


def test_sources_of_another_project_cannot_be_changed(cast, api_for):
    other = factories.make_project(slug="other")
    factories.add_member(other, cast.analyst, "analyst")
    theirs = factories.make_source(other)
    before = state()
    client = api_for(cast.analyst)
    for method in ("patch", "delete"):
        response = send(
            client, method, f"{SOURCES}{theirs.pk}/", {"title": "X"}, HTTP_IF_MATCH='"1"'
        )
        assert response.status_code == 404
    assert state() == before


@pytest.mark.django_db(transaction=True)
def test_of_two_writers_with_the_same_version_one_wins_and_one_gets_412(client_for):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    project = factories.make_project(slug="race")
    user = factories.make_user("racer")
    factories.add_member(project, user, "analyst")
    source = factories.make_source(project, title="Before")
    url = f"/api/v1/p/race/sources/{source.pk}/"
    statuses: list[int] = []

    def write(title: str) -> None:
        client = Client()
        client.force_login(user)
        try:
            response = send(client, "patch", url, {"title": title}, HTTP_IF_MATCH='"1"')
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(t,)) for t in ("First", "Second")]
    # Hold the row until both requests wait for it, so the two checks really overlap.
    with transaction.atomic():
        Source.objects.select_for_update().get(pk=source.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting_on_locks() == 2
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(statuses) == [200, 412]
    source.refresh_from_db()
    assert source.version == 2


def test_bodies_that_are_not_json_are_refused_before_anything_reads_them(cast, api_for, source):
    client = api_for(cast.analyst)
    before = state()
    upload = client.post(SOURCES, {"title": "T", "citation_key": "k", "file": io.BytesIO(b"x")})
    form = client.post(
        SOURCES, "title=T&citation_key=k", content_type="application/x-www-form-urlencoded"
    )
    text = client.patch(f"{SOURCES}{source.pk}/", "title", content_type="text/plain",
                        HTTP_IF_MATCH='"1"')  # fmt: skip
    for response in (upload, form, text):
        assert response.status_code == 415
        assert "application/json" in response.json()["detail"]
    assert state() == before

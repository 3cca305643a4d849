"""Who may create, change and delete people, claims, concepts and annotations through the API:
the pages' policy (curators edit the library, students 403, outsiders 404, signed-out callers
401, tokens within their scope and project), and a version named on every change (428 without,
412 with the object as it is now when stale). A refused write changes nothing."""

import itertools
import json

import pytest

from apps.annotations.models import Annotation, Evidence, Mention
from apps.claims.models import Claim, ClaimRelation, Concept
from apps.people.models import NameVariant, Person
from tests import factories

ROOT = "/api/v1/p/{slug}/{kind}/"
ROLES = ("supervisor", "analyst", "analyst2", "student")
KINDS = ("people", "claims", "concepts", "annotations")
_numbers = itertools.count(1)


def send(client, method, url, body=None, **headers):
    data = None if body is None else json.dumps(body)
    return getattr(client, method)(url, data, content_type="application/json", **headers)


def state():
    """Everything these writes could change."""
    return [
        sorted(model.objects.values_list("pk", "version"))
        for model in (Person, Claim, Concept, Annotation)
    ] + [
        model.objects.count() for model in (NameVariant, ClaimRelation, Evidence, Mention)
    ]  # fmt: skip


def new_body(kind, world):
    number = next(_numbers)
    return {
        "people": {"display_name": f"Writer {number}", "variants": [f"W. {number}"]},
        "claims": {"statement": f"Claim number {number}", "kind": "finding"},
        "concepts": {"name": f"concept {number}", "definition": "A term."},
        "annotations": {
            "source_id": world["source"].pk,
            "quote": f"Words {number}",
            "locator": "p. 3",
            "claims": [{"claim_id": world["claim"].pk, "stance": "supports"}],
        },
    }[kind]


CHANGES = {
    "people": {"description": "Changed"},
    "claims": {"kind": "prediction"},
    "concepts": {"definition": "Changed"},
    "annotations": {"note": "Changed"},
}


def new_object(kind, world, author):
    project = world["source"].project
    if kind == "people":
        return factories.make_person(project)
    if kind == "claims":
        return factories.make_claim(project)
    if kind == "concepts":
        return factories.make_concept(project)
    return factories.make_annotation(world["source"], author)


def url(kind, pk=None, slug="review"):
    base = ROOT.format(slug=slug, kind=kind)
    return base if pk is None else f"{base}{pk}/"


def assert_json(response, status):
    assert response.status_code == status, (response.status_code, response.content[:300])
    if status != 204:
        assert response["Content-Type"].startswith("application/json")
    if status >= 400:
        assert response.json()["detail"]


def allowed(kind, method, role):
    if role == "student":
        return 403
    return {"post": 201, "patch": 200, "delete": 204}[method]


METHODS = [
    (kind, method)
    for kind in KINDS
    for method in ("post", "patch", "delete")
    if (kind, method) != ("annotations", "delete")
]


def attempt(client, kind, method, world, user, *, version="1", pk=None):
    if method == "post":
        return send(client, "post", url(kind), new_body(kind, world))
    if pk is None:
        # Each member changes an object of their own (annotations: only authors edit); a
        # student, who may not edit, is refused before any object is looked at.
        author = user if user.username != "student" else world["approved"].author
        pk = new_object(kind, world, author).pk
    return send(
        client, method, url(kind, pk), CHANGES[kind], HTTP_IF_UNMODIFIED_SINCE_VERSION=version
    )


@pytest.mark.parametrize(("kind", "method"), METHODS)
def test_members_write_as_their_role_allows(cast, world, api_for, token_for, kind, method):
    for role in ROLES:
        user = cast.members()[role]
        expected = allowed(kind, method, role)
        assert_json(attempt(api_for(user), kind, method, world, user), expected)
        token = token_for(user, "write")
        assert_json(attempt(api_for(token=token), kind, method, world, user), expected)
        # A token that may only read or review is refused, whatever the role allows.
        for scope in ("read", "review"):
            before = state()
            client = api_for(token=token_for(user, scope))
            assert_json(attempt(client, kind, method, world, user), 403)
            if method == "post":
                assert state() == before


@pytest.mark.parametrize(("kind", "method"), METHODS)
def test_outsiders_signed_out_callers_and_other_projects(
    cast, world, api_for, token_for, kind, method
):
    target = None if method == "post" else new_object(kind, world, cast.supervisor).pk
    other = factories.make_project(slug="other")
    factories.add_member(other, cast.supervisor, "supervisor")
    before = state()
    assert_json(attempt(api_for(cast.outsider), kind, method, world, cast.outsider, pk=target), 404)
    assert_json(attempt(api_for(None), kind, method, world, cast.supervisor, pk=target), 401)
    token = token_for(cast.supervisor, "write", project=other)
    assert_json(attempt(api_for(token=token), kind, method, world, cast.supervisor, pk=target), 404)
    if method != "post":
        # Ids of no object of this project: not found.
        theirs = new_object(kind, {"source": factories.make_source(other)}, cast.supervisor).pk
        for pk in (theirs, 999999999, 10**18 - 1):
            response = attempt(
                api_for(cast.supervisor), kind, method, world, cast.supervisor, pk=pk
            )
            assert_json(response, 404)
        before = state()  # the other project's object was made above
    assert state() == before


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_methods_are_405(cast, world, api_for, kind):
    client = api_for(cast.supervisor)
    pk = new_object(kind, world, cast.supervisor).pk
    for address, methods in (
        (url(kind), ("put", "patch", "delete")),
        (url(kind, pk), ("put", "post")),
    ):
        for method in methods:
            response = send(client, method, address, {})
            assert_json(response, 405)
    # Annotations are withdrawn, never deleted (transitions/), as on the pages.
    if kind == "annotations":
        response = send(client, "delete", url(kind, pk), HTTP_IF_MATCH='"1"')
        assert_json(response, 405)
        assert Annotation.objects.filter(pk=pk).exists()


@pytest.mark.parametrize(("kind", "method"), [m for m in METHODS if m[1] != "post"])
def test_a_change_without_a_version_is_428_and_a_stale_one_412(cast, world, api_for, kind, method):
    client = api_for(cast.analyst)
    target = new_object(kind, world, cast.analyst)
    address = url(kind, target.pk)
    before = state()
    missing = send(client, method, address, CHANGES[kind])
    assert_json(missing, 428)
    assert "If-Unmodified-Since-Version" in missing.json()["detail"]
    assert_json(send(client, method, address, CHANGES[kind], HTTP_IF_MATCH="*"), 428)
    assert state() == before
    # Someone else's change (a new version) makes version 1 stale.
    with target.editing(by=cast.supervisor, loaded_version=1):
        target.save()
    before = state()
    stale = send(client, method, address, CHANGES[kind], HTTP_IF_MATCH='"1"')
    assert_json(stale, 412)
    assert "version 2" in stale.json()["detail"]
    assert stale.json()["current"]["id"] == target.pk
    assert stale.json()["current"]["version"] == 2
    assert stale["ETag"] == '"2"'
    assert state() == before
    # With the version read, it goes through.
    done = send(client, method, address, CHANGES[kind], HTTP_IF_UNMODIFIED_SINCE_VERSION="2")
    assert done.status_code == (204 if method == "delete" else 200), done.content
    if method == "patch":
        assert done.json()["version"] == 3 and done["ETag"] == '"3"'


@pytest.mark.parametrize("kind", KINDS)
def test_created_objects_carry_their_address_version_and_actions(cast, world, api_for, kind):
    response = send(api_for(cast.analyst), "post", url(kind), new_body(kind, world))
    assert_json(response, 201)
    body = response.json()
    assert response["Location"] == f"http://testserver{url(kind, body['id'])}"
    assert body["version"] == 1 and response["ETag"] == '"1"'
    expected = {
        "annotations": ["view", "edit", "submit", "withdraw"],
    }.get(kind, ["view", "edit", "delete"])
    assert body["actions"] == expected
    assert api_for(cast.analyst).get(url(kind, body["id"])).json() == body

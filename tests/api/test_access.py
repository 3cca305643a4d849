"""The API's access matrix: every endpoint, every method, every role, with the session and with
tokens. Outsiders get 404, signed-out callers 401, wrong methods 405, and every answer is JSON.

`ENDPOINTS` must name every API route; a test walks the URL conf to make sure.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.annotations.models import Annotation
from tests import factories

ALL = {"supervisor": 200, "analyst": 200, "analyst2": 200, "student": 200}

# url name -> (object key in `world` or None, status per member)
ENDPOINTS = {
    "api:get_project": (None, ALL),
    "api:list_sources": (None, ALL),
    "api:get_source": ("source", ALL),
    "api:list_people": (None, ALL),
    "api:get_person": ("person", ALL),
    "api:list_claims": (None, ALL),
    "api:get_claim": ("claim", ALL),
    "api:list_concepts": (None, ALL),
    "api:get_concept": ("concept", ALL),
    "api:list_annotations": (None, ALL),
    "api:get_annotation": ("approved", ALL),
    "api:list_members": (None, {"supervisor": 200, "analyst": 403, "analyst2": 403,
                                "student": 403}),
    "api:list_review_events": (None, {"supervisor": 200, "analyst": 403, "analyst2": 403,
                                      "student": 403}),
    # Students read the history only where the project lets them (tests/api/test_ledger.py).
    "api:annotation_events": ("approved", {**ALL, "analyst2": 403, "student": 403}),
    "api:list_deleted": (None, ALL),
}  # fmt: skip
# Files (CSV, GEXF, GraphML): their access matrix is in tests/api/test_exports.py.
FILES = {"api:matrix_file", "api:map_file"}
# Not of one project: anyone may read them (projects/ lists the caller's own).
PUBLIC = {"api:root": 200, "api:schema": 200, "api:docs": 200}
SIGNED_IN = {"api:list_projects"}
# POST only, one object: who may is tested in test_review.py; here, the other methods and
# callers without a membership.
ACTIONS_ON = {"api:annotation_transition": "approved"}
# POST only, a list of objects: who may is tested in test_sync.py (sources),
# test_library_batches.py and test_w3c_writes.py (Web Annotations), the other methods here.
BATCHES = {
    "api:create_sources", "api:create_people", "api:create_claims", "api:create_concepts",
    "api:create_w3c_annotations",
}  # fmt: skip

# Objects some members may not see: they are not found for them (as in the lists).
RESTRICTED = {
    # analyst's draft: its author and supervisors only
    ("api:get_annotation", "draft"): {
        "supervisor": 200, "analyst": 200, "analyst2": 404, "student": 404,
    },
    # a claim whose only evidence is unapproved: hidden from students
    ("api:get_claim", "unsupported_claim"): {
        "supervisor": 200, "analyst": 200, "analyst2": 200, "student": 404,
    },
}  # fmt: skip

WRONG_METHODS = ("post", "put", "patch", "delete")


# Writes: (url name, method) -> status per member when allowed (a new source is posted; the
# change and the deletion name the version read). Students may not curate: 403.
def curators(status: int) -> dict[str, int]:
    return {"supervisor": status, "analyst": status, "analyst2": status, "student": 403}


WRITES = {
    ("api:list_sources", "post"): curators(201),
    ("api:get_source", "patch"): curators(200),
    ("api:get_source", "delete"): curators(204),
}
# The writes of people, claims, concepts and annotations: their access matrix is in
# tests/api/test_writes_access.py.
OTHER_WRITES = {
    ("api:list_people", "post"), ("api:get_person", "patch"), ("api:get_person", "delete"),
    ("api:list_claims", "post"), ("api:get_claim", "patch"), ("api:get_claim", "delete"),
    ("api:list_concepts", "post"), ("api:get_concept", "patch"), ("api:get_concept", "delete"),
    ("api:list_annotations", "post"), ("api:get_annotation", "patch"),
}  # fmt: skip


def url_for(name, world, key, slug="review"):
    kwargs = {"slug": slug}
    if key:
        kwargs["pk"] = world[key].pk
    return reverse(name, kwargs=kwargs)


def api_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and namespace == "api":
                names.add(f"api:{entry.name}")

    walk(get_resolver().url_patterns, None)
    return names


def test_every_api_route_is_in_the_access_matrix():
    assert api_url_names() == (
        set(ENDPOINTS) | set(PUBLIC) | SIGNED_IN | set(ACTIONS_ON) | BATCHES | FILES
    )


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_batches_take_post_only_and_refuse_callers_without_a_membership(cast, api_for, name):
    url = reverse(name, kwargs={"slug": "review"})
    for method in ("get", "put", "patch", "delete"):
        response = getattr(api_for(cast.supervisor), method)(url)
        assert_json(response, 405)
        assert "POST" in response["Allow"]
    body = [{"title": "T", "citation_key": "k"}]
    for client, status in ((api_for(cast.outsider), 404), (api_for(None), 401),
                           (api_for(cast.student), 403)):  # fmt: skip
        assert_json(client.post(url, body, content_type="application/json"), status)


@pytest.mark.parametrize("name", sorted(ACTIONS_ON))
def test_actions_take_post_only_and_refuse_callers_without_a_membership(cast, world, api_for, name):
    url = url_for(name, world, ACTIONS_ON[name])
    for method in ("get", "put", "patch", "delete"):
        response = getattr(api_for(cast.supervisor), method)(url)
        assert_json(response, 405)
        assert "POST" in response["Allow"]
    body = {"action": "reopen", "version": 1}
    outsider = api_for(cast.outsider).post(url, body, content_type="application/json")
    assert_json(outsider, 404)
    assert_json(api_for(None).post(url, body, content_type="application/json"), 401)


def assert_json(response, status):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    if status >= 400:
        assert response.json()["detail"]


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_members_get_what_their_role_allows(cast, world, api_for, token_for, name):
    key, expected = ENDPOINTS[name]
    url = url_for(name, world, key)
    for role, status in expected.items():
        user = cast.members()[role]
        assert_json(api_for(user).get(url), status)
        assert_json(api_for(token=token_for(user)).get(url), status)


@pytest.mark.parametrize(("name", "key"), sorted(RESTRICTED))
def test_objects_a_member_may_not_see_are_not_found(cast, world, api_for, token_for, name, key):
    url = url_for(name, world, key)
    for role, status in RESTRICTED[name, key].items():
        user = cast.members()[role]
        assert_json(api_for(user).get(url), status)
        assert_json(api_for(token=token_for(user)).get(url), status)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_outsiders_get_404_and_signed_out_callers_401(cast, world, api_for, token_for, name):
    key, _ = ENDPOINTS[name]
    url = url_for(name, world, key)
    assert_json(api_for(cast.outsider).get(url), 404)
    elsewhere = cast.outsider.memberships.get().project
    assert_json(api_for(token=token_for(cast.outsider, project=elsewhere)).get(url), 404)
    response = api_for(None).get(url)
    assert_json(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_a_token_works_for_its_own_project_only(cast, world, api_for, token_for, name):
    key, _ = ENDPOINTS[name]
    other = factories.make_project(slug="other")
    factories.add_member(other, cast.supervisor, "supervisor")
    # The supervisor is a member of both, but this token is for the other project.
    token = token_for(cast.supervisor, project=other)
    assert_json(api_for(token=token).get(url_for(name, world, key)), 404)
    # The session reaches both.
    assert_json(api_for(cast.supervisor).get(url_for(name, world, key)), 200)


@pytest.mark.parametrize("name", sorted(ENDPOINTS) + sorted(SIGNED_IN) + sorted(PUBLIC))
def test_read_only_endpoints_refuse_other_methods(cast, world, api_for, token_for, name):
    key = ENDPOINTS.get(name, (None,))[0]
    url = url_for(name, world, key) if name in ENDPOINTS else reverse(name)
    for client in (api_for(cast.supervisor), api_for(token=token_for(cast.supervisor, "write"))):
        for method in WRONG_METHODS:
            if (name, method) in WRITES or (name, method) in OTHER_WRITES:
                continue
            response = getattr(client, method)(url)
            assert_json(response, 405)
            assert "GET" in response["Allow"]


def write(client, name, method, world, *, slug="review", pk=None):
    """The write `name`/`method` as a script sends it, on a new source of its own."""
    if method == "post":
        number = len(world.setdefault("posted", []))
        world["posted"].append(number)
        body = {"title": "Posted", "citation_key": f"posted{number}"}
        return client.post(
            reverse(name, kwargs={"slug": slug}), body, content_type="application/json"
        )
    if pk is None:
        pk = factories.make_source(world["source"].project).pk
    url = reverse(name, kwargs={"slug": slug, "pk": pk})
    return getattr(client, method)(
        url, {"page": "5"}, content_type="application/json", HTTP_IF_MATCH='"1"'
    )


@pytest.mark.parametrize(("name", "method"), sorted(WRITES))
def test_writes_answer_members_as_their_role_allows(cast, world, api_for, token_for, name, method):
    for role, status in WRITES[name, method].items():
        user = cast.members()[role]
        assert_json_or_empty(write(api_for(user), name, method, world), status)
        token = token_for(user, "write")
        assert_json_or_empty(write(api_for(token=token), name, method, world), status)
        # A token that may only read (or review) is refused whatever the role allows.
        for scope in ("read", "review"):
            refused = write(api_for(token=token_for(user, scope)), name, method, world)
            assert_json(refused, 403)


@pytest.mark.parametrize(("name", "method"), sorted(WRITES))
def test_writes_refuse_outsiders_signed_out_callers_and_other_projects(
    cast, world, api_for, token_for, name, method
):
    from apps.library.models import Source

    before = list(Source.objects.values_list("pk", "version"))
    key = None if method == "post" else world["source"].pk
    assert_json(write(api_for(cast.outsider), name, method, world, pk=key), 404)
    assert_json(write(api_for(None), name, method, world, pk=key), 401)
    other = factories.make_project(slug="other")
    factories.add_member(other, cast.supervisor, "supervisor")
    theirs = None if method == "post" else factories.make_source(other).pk
    assert_json(
        write(api_for(cast.supervisor), name, method, world, pk=theirs), 404 if theirs else 201
    )
    token = token_for(cast.supervisor, "write", project=other)
    assert_json(write(api_for(token=token), name, method, world, pk=key), 404)
    if method != "post":
        for pk in (0, 999999999, 10**18 - 1):
            assert_json(write(api_for(cast.supervisor), name, method, world, pk=pk), 404)
        after = set(Source.objects.values_list("pk", "version"))
        assert set(before) <= after


def assert_json_or_empty(response, status):
    if status == 204:
        assert response.status_code == 204 and not response.content
    else:
        assert_json(response, status)


@pytest.mark.parametrize("name", sorted(n for n, (key, _) in ENDPOINTS.items() if key))
def test_objects_of_another_project_and_unknown_ids_are_404(cast, world, api_for, name):
    key, _ = ENDPOINTS[name]
    other = factories.make_project(slug="other")
    factories.add_member(other, cast.supervisor, "supervisor")
    client = api_for(cast.supervisor)
    # The object exists, but under the other project's slug it is not found.
    assert_json(client.get(url_for(name, world, key, slug="other")), 404)
    here = url_for(name, world, key)
    for pk in ("0", "999999999", "999999999999999999", "1" + "0" * 30, "-1", "abc"):
        assert_json(client.get(here.replace(f"/{world[key].pk}/", f"/{pk}/")), 404)


def test_unknown_slugs_and_addresses_are_404_json(cast, api_for):
    client = api_for(cast.supervisor)
    for url in ("/api/v1/p/nope/sources/", "/api/v1/p/REVIEW/", "/api/v1/p/" + "a" * 300 + "/",
                "/api/v1/nothing/", "/api/v2/"):  # fmt: skip
        assert_json(client.get(url), 404)
    assert_json(client.get("/api/v1/p/review%00/"), 400)
    assert_json(client.get("/api/v1/p/review/sources/?cursor=%00"), 400)


def test_public_addresses_answer_signed_out_callers(db, api_for):
    for name, status in PUBLIC.items():
        assert api_for(None).get(reverse(name)).status_code == status


def test_projects_are_those_the_caller_belongs_to(cast, api_for, token_for):
    other = factories.make_project(slug="other", name="Another review")
    factories.add_member(other, cast.student, "analyst")
    listed = api_for(cast.student).get("/api/v1/projects/").json()["results"]
    assert [(p["slug"], p["role"]) for p in listed] == [("review", "student"), ("other", "analyst")]
    # A token shows its own project only.
    token = token_for(cast.student)
    listed = api_for(token=token).get("/api/v1/projects/").json()["results"]
    assert [p["slug"] for p in listed] == ["review"]
    assert api_for(cast.outsider).get("/api/v1/projects/").json()["total"] == 1
    assert_json(api_for(None).get("/api/v1/projects/"), 401)


# --- What students (and everyone) see ------------------------------------------------------


def ids(client, url):
    return {row["id"] for row in client.get(url + "?limit=100").json()["results"]}


def test_students_see_nothing_unapproved(cast, world, api_for, token_for):
    source = world["source"]
    unapproved = [
        world["draft"],
        factories.make_annotation(source, cast.analyst, status="submitted"),
        factories.make_annotation(
            source, cast.analyst, status="changes_requested", reviewer=cast.supervisor
        ),
        factories.make_annotation(
            source, cast.analyst, status="rejected", reviewer=cast.supervisor
        ),
    ]
    approved = world["approved"]
    for client in (api_for(cast.student), api_for(token=token_for(cast.student))):
        assert ids(client, "/api/v1/p/review/annotations/") == {approved.pk}
        for annotation in unapproved:
            assert_json(client.get(f"/api/v1/p/review/annotations/{annotation.pk}/"), 404)
        assert ids(client, "/api/v1/p/review/claims/") == {world["claim"].pk}
        assert_json(client.get(f"/api/v1/p/review/claims/{world['unsupported_claim'].pk}/"), 404)
    # Supervisors see everything; analysts approved work and their own.
    everything = {approved.pk, *(a.pk for a in unapproved)}
    assert ids(api_for(cast.supervisor), "/api/v1/p/review/annotations/") == everything
    assert ids(api_for(cast.analyst), "/api/v1/p/review/annotations/") == everything
    assert ids(api_for(cast.analyst2), "/api/v1/p/review/annotations/") == {approved.pk}
    # Anyone may ask for approved work only.
    approved_only = "/api/v1/p/review/annotations/?scope=approved&limit=100"
    listed = api_for(cast.supervisor).get(approved_only).json()["results"]
    assert [row["id"] for row in listed] == [approved.pk]


def test_withdrawn_annotations_are_in_nobodys_results(cast, world, api_for):
    approved = world["approved"]
    approved.transition("withdraw", by=cast.supervisor)
    for user in cast.members().values():
        client = api_for(user)
        assert approved.pk not in ids(client, "/api/v1/p/review/annotations/")
        assert_json(client.get(f"/api/v1/p/review/annotations/{approved.pk}/"), 404)


# --- Actions: what the policy lets this caller do -------------------------------------------


def actions(client, url):
    return client.get(url).json()["actions"]


def test_objects_carry_the_actions_the_policy_allows(cast, world, api_for, token_for):
    source = f"/api/v1/p/review/sources/{world['source'].pk}/"
    assert actions(api_for(cast.analyst), source) == ["view", "edit", "delete"]
    assert actions(api_for(cast.student), source) == ["view"]
    # A read token narrows what its user could do.
    assert actions(api_for(token=token_for(cast.analyst)), source) == ["view"]
    assert actions(api_for(token=token_for(cast.analyst, "write")), source) == [
        "view", "edit", "delete",
    ]  # fmt: skip

    draft = f"/api/v1/p/review/annotations/{world['draft'].pk}/"
    assert actions(api_for(cast.analyst), draft) == ["view", "edit", "submit", "withdraw"]
    assert actions(api_for(cast.supervisor), draft) == ["view", "withdraw"]
    submitted = factories.make_annotation(world["source"], cast.analyst, status="submitted")
    url = f"/api/v1/p/review/annotations/{submitted.pk}/"
    assert actions(api_for(cast.supervisor), url) == [
        "view", "approve", "reject", "request_changes", "withdraw",
    ]  # fmt: skip
    assert actions(api_for(token=token_for(cast.supervisor, "review")), url) == [
        "view", "approve", "reject", "request_changes", "withdraw",
    ]  # fmt: skip
    assert actions(api_for(token=token_for(cast.supervisor, "write")), url) == ["view", "withdraw"]
    approved = f"/api/v1/p/review/annotations/{world['approved'].pk}/"
    assert actions(api_for(cast.student), approved) == ["view"]
    assert actions(api_for(cast.analyst), approved) == ["view"]


def test_work_sent_back_may_be_submitted_again_only_once_changed(cast, world, api_for):
    sent_back = factories.make_annotation(
        world["source"], cast.analyst, status="changes_requested", reviewer=cast.supervisor
    )
    url = f"/api/v1/p/review/annotations/{sent_back.pk}/"
    listed = "/api/v1/p/review/annotations/?limit=100"

    def shown():
        one = actions(api_for(cast.analyst), url)
        rows = api_for(cast.analyst).get(listed).json()["results"]
        assert [r["actions"] for r in rows if r["id"] == sent_back.pk] == [one]
        return one

    assert "submit" not in shown()
    factories.revise(Annotation.objects.get(pk=sent_back.pk), cast.analyst, note="Fixed.")
    assert "submit" in shown()


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_head_answers_what_get_would_without_the_body(cast, world, api_for, token_for, name):
    key, expected = ENDPOINTS[name]
    url = url_for(name, world, key)
    reader = "student" if expected["student"] == 200 else "supervisor"
    client = api_for(token=token_for(cast.members()[reader]))
    got, head = client.get(url), client.head(url)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head["Content-Length"] == str(len(got.content))
    for header in ("Content-Type", "Total-Results", "ETag"):
        assert head.get(header) == got.get(header), header
    assert api_for(None).head(url).status_code == 401
    assert api_for(cast.outsider).head(url).status_code == 404


def test_head_on_a_post_only_route_is_405(cast, world, api_for):
    url = url_for("api:annotation_transition", world, "approved")
    response = api_for(cast.supervisor).head(url)
    assert response.status_code == 405

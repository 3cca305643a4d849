"""Incremental sync: the project's library version, taken once by every write in its
transaction and stamped on what it changed; `?since=`, `Last-Modified-Version` and 304; the
feed of deletions; batch creates of sources."""

import json
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from apps.accounts.models import Project, Tombstone
from apps.accounts.sync import bump
from apps.annotations.models import ReviewAction
from apps.claims.models import Claim, Concept
from apps.library.models import Source
from apps.people.models import Person
from tests import factories
from tests.accounts.test_last_supervisor_race import waiting_on_locks

BASE = "/api/v1/p/review/"
SOURCES = BASE + "sources/"
BATCH = SOURCES + "batch/"
DELETED = BASE + "deleted/"
KINDS = ["sources", "people", "claims", "concepts", "annotations"]


def send(client, method, url, body=None, **headers):
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    return getattr(client, method)(url, data, content_type="application/json", **headers)


def version_of(project) -> int:
    return Project.objects.values_list("library_version", flat=True).get(pk=project.pk)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def gone(response, kind: str) -> dict[int, dict]:
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()[kind]}


# --- One version per write ---------------------------------------------------------------------


def test_an_api_create_takes_one_version_and_stamps_the_source(cast, api_for):
    before = version_of(cast.project)
    response = send(api_for(cast.analyst), "post", SOURCES, {
        "title": "T", "citation_key": "k",
        "identifiers": [{"scheme": "doi", "value": "10.1000/a"}, {"scheme": "isbn",
                                                              "value": "9780306406157"}],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    assert version_of(cast.project) == before + 1
    assert Source.objects.get(pk=response.json()["id"]).library_version == before + 1


def test_an_edit_with_contributors_and_identifiers_takes_one_version(cast, api_for):
    source = factories.make_source(cast.project)
    person = factories.make_person(cast.project)
    before = version_of(cast.project)
    with source.editing(by=cast.analyst, loaded_version=source.version):
        source.title = "Changed"
        source.save()
        source.set_contributors([(person, "author")])
        source.set_identifiers([("doi", "10.1000/x")])
        source.add_identifier("isbn", "9780306406157")
    assert version_of(cast.project) == before + 1
    source.refresh_from_db()
    assert source.library_version == before + 1
    # A part alone (a variant of a person) stamps its owner.
    with transaction.atomic():
        person.set_variants(["Another name", "A third"])
    person.refresh_from_db()
    assert person.library_version == version_of(cast.project) == before + 2


def test_a_page_save_with_new_people_and_identifiers_takes_one_version(cast, client_for):
    from tests.library.test_source_form import NEW, author, source_data

    before = version_of(cast.project)
    data = source_data(
        [author("Anna Example", new="on"), author("Bert Other", new="on")],
        [{"scheme": "doi", "value": "10.1000/page"}],
    )
    response = client_for(cast.analyst).post(NEW, data)
    assert response.status_code == 302, response.content[:500]
    source = Source.objects.get(citation_key="mironova2017bloody")
    assert version_of(cast.project) == before + 1
    assert source.library_version == before + 1
    people = Person.objects.filter(contributions__source=source)
    assert set(people.values_list("library_version", flat=True)) == {before + 1}


def test_an_import_takes_one_version_for_all_it_creates(cast):
    from apps.bibliography.importing import import_entries, read_file

    bibtex = b"""
@article{one2020, title={First}, author={Doe, Jane}, year={2020}, doi={10.1000/imp1}}
@book{two2021, title={Second}, author={Roe, Rick and Doe, Jane}, year={2021}}
"""
    _, entries = read_file(bibtex, format="bibtex")
    before = version_of(cast.project)
    result = import_entries(project=cast.project, entries=entries, by=cast.analyst)
    assert result.created == 2
    assert version_of(cast.project) == before + 1
    assert set(Source.objects.values_list("library_version", flat=True)) == {before + 1}
    assert set(Person.objects.values_list("library_version", flat=True)) == {before + 1}


def test_review_decisions_and_link_changes_stamp_the_annotation_and_its_claims(cast, world):
    annotation = world["draft"]
    claim = world["unsupported_claim"]
    before = version_of(cast.project)
    annotation.transition(ReviewAction.SUBMIT, by=cast.analyst)
    annotation.transition(ReviewAction.APPROVE, by=cast.supervisor)
    assert version_of(cast.project) == before + 2
    annotation.refresh_from_db()
    claim.refresh_from_db()
    assert annotation.library_version == claim.library_version == before + 2


def test_versions_are_never_reused_and_a_rolled_back_write_takes_none(cast):
    seen = [bump(cast.project.pk) for _ in range(3)]  # three transactions (autocommit)
    assert seen == sorted(set(seen)) and len(seen) == 3
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.make_source(cast.project)
        raise RuntimeError
    assert version_of(cast.project) == seen[-1]
    with transaction.atomic():
        first = factories.make_source(cast.project)
        second = factories.make_person(cast.project)
    assert first.library_version == second.library_version == seen[-1] + 1


# --- since=, Last-Modified-Version, 304 ---------------------------------------------------------


def test_since_lists_only_what_changed_after_the_version(cast, world, api_for):
    client = api_for(cast.supervisor)
    first = {kind: client.get(f"{BASE}{kind}/") for kind in KINDS}
    version = int(first["sources"]["Last-Modified-Version"])
    assert version == version_of(cast.project)
    for response in first.values():
        assert response["Last-Modified-Version"] == str(version)
    for kind in KINDS:
        assert ids(client.get(f"{BASE}{kind}/", {"since": version})) == set()
    new_source = factories.make_source(cast.project)
    factories.make_person(cast.project)
    world["person"].display_name = "Renamed"
    world["person"].save()
    new_concept = factories.make_concept(cast.project)
    factories.revise(world["draft"], cast.analyst, note="Edited")
    changed = {kind: ids(client.get(f"{BASE}{kind}/", {"since": version})) for kind in KINDS}
    assert changed["sources"] == {new_source.pk}
    assert world["person"].pk in changed["people"] and len(changed["people"]) == 2
    assert changed["concepts"] == {new_concept.pk}
    assert changed["annotations"] == {world["draft"].pk}
    assert changed["claims"] == set()


def test_a_pull_with_the_current_version_answers_304_without_a_body(cast, world, api_for):
    client = api_for(cast.student)
    version = str(version_of(cast.project))
    for url in [f"{BASE}{kind}/" for kind in KINDS] + [
        f"{SOURCES}{world['source'].pk}/", f"{BASE}people/{world['person'].pk}/",
        f"{BASE}claims/{world['claim'].pk}/", f"{BASE}concepts/{world['concept'].pk}/",
        f"{BASE}annotations/{world['approved'].pk}/", f"{DELETED}?since=0",
    ]:  # fmt: skip
        response = client.get(url, HTTP_IF_MODIFIED_SINCE_VERSION=version)
        assert response.status_code == 304, url
        assert response.content == b""
        assert response["Last-Modified-Version"] == version
        fresh = client.get(url, HTTP_IF_MODIFIED_SINCE_VERSION=str(int(version) - 1))
        assert fresh.status_code == 200 and fresh["Last-Modified-Version"] == version
    factories.make_concept(cast.project)
    response = client.get(f"{BASE}concepts/", HTTP_IF_MODIFIED_SINCE_VERSION=version)
    assert response.status_code == 200


def test_paging_with_since_follows_the_versions_and_misses_nothing(cast, api_for):
    client = api_for(cast.supervisor)
    start = version_of(cast.project)
    made = [factories.make_source(cast.project, title=f"S{n}") for n in range(5)]
    page = client.get(SOURCES, {"since": start, "limit": 2}).json()
    seen = [row["id"] for row in page["results"]]
    # A row already paged past changes: it comes again at the end, with its change.
    made[0].title = "Changed"
    made[0].save()
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
    assert seen == [s.pk for s in made] + [made[0].pk]


def test_bibtex_pages_take_since_too(cast, api_for):
    start = version_of(cast.project)
    factories.make_source(cast.project, title="Old")
    version = version_of(cast.project)
    factories.make_source(cast.project, title="New one")
    response = api_for(cast.student).get(SOURCES, {"format": "bibtex", "since": version})
    assert response.status_code == 200
    text = response.content.decode()
    assert "New one" in text and "Old" not in text
    assert response["Last-Modified-Version"] == str(version + 1) != str(start)


@pytest.mark.parametrize(
    "query", [{"since": "-1"}, {"since": "abc"}, {"since": "1.5"}, {"since": "9" * 30}]
)
def test_bad_since_values_are_refused_with_a_message(cast, api_for, query):
    client = api_for(cast.student)
    for url in (SOURCES, f"{BASE}annotations/", DELETED):
        response = client.get(url, query)
        assert response.status_code == 400, url
        assert "since" in response.json()["detail"]


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "", '"3"'])
def test_bad_version_headers_are_refused_with_a_message(cast, api_for, value):
    response = api_for(cast.student).get(SOURCES, HTTP_IF_MODIFIED_SINCE_VERSION=value)
    assert response.status_code == 400
    assert "If-Modified-Since-Version" in response.json()["detail"]
    response = send(
        api_for(cast.analyst), "post", BATCH, [{"title": "T", "citation_key": "k"}],
        HTTP_IF_UNMODIFIED_SINCE_VERSION=value,
    )  # fmt: skip
    assert response.status_code == 400
    assert not Source.objects.filter(citation_key="k").exists()


def test_deleted_without_since_lists_everything_the_project_keeps(cast, api_for):
    source = factories.make_source(cast.project)
    pk = source.pk
    source.delete()
    assert set(gone(api_for(cast.student).get(DELETED), "sources")) == {pk}


# --- The feed of deletions ---------------------------------------------------------------------


def test_deleted_lists_deletions_merges_and_withdrawals_since(cast, world, api_for):
    client = api_for(cast.supervisor)
    start = version_of(cast.project)
    doomed = factories.make_source(cast.project)
    twin = factories.make_source(cast.project)
    kept = factories.make_source(cast.project)
    middle = version_of(cast.project)
    assert send(client, "delete", f"{SOURCES}{doomed.pk}/", HTTP_IF_MATCH='"1"').status_code == 204
    twin.merge_into(kept, by=cast.supervisor)
    world["approved"].transition(ReviewAction.WITHDRAW, by=cast.analyst)
    concept = factories.make_concept(cast.project).pk
    Concept.objects.get(pk=concept).delete()
    feed = client.get(DELETED, {"since": middle})
    sources = gone(feed, "sources")
    assert sources[doomed.pk]["reason"] == "deleted"
    assert sources[twin.pk] == {
        "id": twin.pk, "reason": "merged", "merged_into": kept.pk, "version": middle + 2,
    }  # fmt: skip
    assert gone(feed, "annotations")[world["approved"].pk]["reason"] == "withdrawn"
    assert set(gone(feed, "concepts")) == {concept}
    assert feed.json()["version"] == version_of(cast.project)
    assert gone(client.get(DELETED, {"since": version_of(cast.project)}), "sources") == {}
    assert set(gone(client.get(DELETED, {"since": start}), "sources")) == {doomed.pk, twin.pk}
    # Restored: no longer in the feed.
    world["approved"].transition(ReviewAction.RESTORE, by=cast.analyst)
    assert gone(client.get(DELETED, {"since": middle}), "annotations") == {}


def test_a_refused_delete_leaves_no_tombstone_and_takes_no_version(cast, world, api_for):
    before = version_of(cast.project)
    source = world["source"]  # its annotations keep it
    response = send(
        api_for(cast.analyst), "delete", f"{SOURCES}{source.pk}/",
        HTTP_IF_MATCH=f'"{source.version}"',
    )  # fmt: skip
    assert response.status_code == 409
    assert not Tombstone.objects.exists()
    assert version_of(cast.project) == before


def test_students_hear_only_of_approved_work_going_away(cast, world, api_for):
    start = version_of(cast.project)
    source = world["source"]
    draft = world["draft"]
    approved = world["approved"]
    other = factories.make_annotation(source, cast.analyst2, status="approved",
                                      reviewer=cast.supervisor)  # fmt: skip
    mid = version_of(cast.project)
    draft.transition(ReviewAction.WITHDRAW, by=cast.analyst)  # never approved
    approved.transition(ReviewAction.WITHDRAW, by=cast.analyst)  # approved
    other.transition(ReviewAction.REOPEN, by=cast.supervisor,
                     reason="other", comment="Look again.")  # fmt: skip
    feeds = {
        name: gone(api_for(user).get(DELETED, {"since": mid}), "annotations")
        for name, user in cast.members().items()
    }
    assert set(feeds["student"]) == {approved.pk, other.pk}
    assert feeds["student"][other.pk]["reason"] == "unapproved"
    assert set(feeds["supervisor"]) == {draft.pk, approved.pk}  # `other` is still theirs
    assert set(feeds["analyst"]) == {draft.pk, approved.pk, other.pk}  # own draft, approved
    assert set(feeds["analyst2"]) == {approved.pk}  # their own `other` is still in their lists
    # The scope a supervisor may choose applies here too.
    scoped = api_for(cast.supervisor).get(DELETED, {"since": mid, "scope": "approved"})
    assert set(gone(scoped, "annotations")) == {approved.pk, other.pk}
    # The claim only the withdrawn approved annotation backed is gone for students too.
    claims = gone(api_for(cast.student).get(DELETED, {"since": start}), "claims")
    assert set(claims) == {world["claim"].pk}
    assert claims[world["claim"].pk]["reason"] == "unapproved"
    assert gone(api_for(cast.supervisor).get(DELETED, {"since": start}), "claims") == {}
    # What a student's lists show agrees with the feed.
    listed = ids(api_for(cast.student).get(f"{BASE}annotations/"))
    assert listed.isdisjoint(feeds["student"])


def test_a_deleted_unsupported_claim_is_not_told_to_students(cast, world, api_for):
    mid = version_of(cast.project)
    claim = factories.make_claim(cast.project).pk
    Claim.objects.get(pk=claim).delete()
    assert gone(api_for(cast.student).get(DELETED, {"since": mid}), "claims") == {}
    assert set(gone(api_for(cast.analyst).get(DELETED, {"since": mid}), "claims")) == {claim}


def test_a_client_replaying_since_and_deleted_ends_with_the_server_state(cast, world, api_for):
    """A client pulls everything, another changes things, the first pulls since its version:
    its copy equals what the lists now show, for each role."""
    for user in (cast.supervisor, cast.student):
        client = api_for(user)
        copy: dict[str, dict[int, dict]] = {}
        version = version_of(cast.project)
        for kind in KINDS:
            rows = client.get(f"{BASE}{kind}/", {"limit": 100}).json()["results"]
            copy[kind] = {row["id"]: row for row in rows}
        # Another client's work.
        editor = api_for(cast.supervisor)
        created = send(editor, "post", SOURCES, {"title": "New", "citation_key": f"n{user.pk}"})
        assert created.status_code == 201
        a, b = factories.make_source(cast.project), factories.make_source(cast.project)
        a.merge_into(b, by=cast.supervisor)
        factories.make_annotation(world["source"], cast.analyst2, status="approved",
                                  reviewer=cast.supervisor)  # fmt: skip
        person = Person.objects.get(pk=world["person"].pk)
        person.description = f"Edited for {user}"
        person.save()
        # The second pull.
        deleted = client.get(DELETED, {"since": version}).json()
        for kind in KINDS:
            for row in deleted[kind]:
                copy[kind].pop(row["id"], None)
            page = client.get(f"{BASE}{kind}/", {"since": version, "limit": 2}).json()
            while True:
                copy[kind].update({row["id"]: row for row in page["results"]})
                if not page["next"]:
                    break
                page = client.get(page["next"]).json()
        for kind in KINDS:
            server = client.get(f"{BASE}{kind}/", {"limit": 100}).json()["results"]
            assert copy[kind] == {row["id"]: row for row in server}, kind


# --- Batch creates -----------------------------------------------------------------------------


def test_a_batch_saves_what_it_can_and_says_why_not_for_the_rest(cast, api_for):
    existing = factories.make_source(cast.project)
    existing.add_identifier("doi", "10.1000/known")
    before = version_of(cast.project)
    response = send(api_for(cast.analyst), "post", BATCH, [
        {"title": "One", "citation_key": "one", "identifiers": [{"scheme": "doi",
                                                                  "value": "10.1000/one"}]},
        {"title": "Known", "citation_key": "known",
         "identifiers": [{"scheme": "doi", "value": "https://doi.org/10.1000/KNOWN"}]},
        {"title": "No key"},
        {"title": "Bad", "citation_key": "bad", "issued": {"year": "soon"}},
        {"title": "Dup key", "citation_key": "one"},
        {"title": "Two", "citation_key": "two", "unknown": 1},
        "not an object",
        {"title": "Three", "citation_key": "three"},
        {"title": "Again", "citation_key": "again",
         "identifiers": [{"scheme": "doi", "value": "10.1000/one"}]},
    ])  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["successful"]) == {"0", "7"}
    assert body["successful"]["0"]["title"] == "One"
    assert body["unchanged"] == {"1": existing.pk, "8": body["successful"]["0"]["id"]}
    assert set(body["failed"]) == {"2", "3", "4", "5", "6"}
    for failure in body["failed"].values():
        assert failure["code"] == 400 and failure["message"]
    assert "citation_key" in json.dumps(body["failed"]["4"])
    titles = set(Source.objects.filter(project=cast.project).values_list("title", flat=True))
    assert titles == {existing.title, "One", "Three"}
    # One version for the batch.
    assert body["version"] == version_of(cast.project) == before + 1
    assert response["Last-Modified-Version"] == str(before + 1)


def test_a_batch_of_nothing_new_takes_no_version(cast, api_for):
    before = version_of(cast.project)
    response = send(api_for(cast.analyst), "post", BATCH, [{"title": "No key"}])
    assert response.status_code == 200
    assert response.json()["failed"]["0"]["code"] == 400
    assert version_of(cast.project) == before


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ([{"title": f"T{n}", "citation_key": f"k{n}"} for n in range(51)], 413, "at most 50"),
        ([], 400, "at least one"),
        ({"title": "T", "citation_key": "k"}, 400, "Invalid request"),
        ("[{", 400, "not the JSON"),
        ("null", 400, "Invalid request"),
    ],
)
def test_bad_batches_are_refused_whole_with_a_message(cast, api_for, body, status, words):
    response = send(api_for(cast.analyst), "post", BATCH, body)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert not Source.objects.exists()


def test_a_batch_or_create_on_a_stale_library_version_is_refused(cast, api_for):
    client = api_for(cast.analyst)
    version = version_of(cast.project)
    factories.make_concept(cast.project)
    item = {"title": "T", "citation_key": "k"}
    for url, body in ((BATCH, [item]), (SOURCES, item)):
        response = send(client, "post", url, body, HTTP_IF_UNMODIFIED_SINCE_VERSION=str(version))
        assert response.status_code == 412
        assert response["Last-Modified-Version"] == str(version + 1)
        assert "since=" in response.json()["detail"]
    assert not Source.objects.exists()
    current = str(version + 1)
    response = send(client, "post", BATCH, [item], HTTP_IF_UNMODIFIED_SINCE_VERSION=current)
    assert response.status_code == 200 and response.json()["successful"]
    item["citation_key"] = "k2"
    response = send(client, "post", SOURCES, item, HTTP_IF_UNMODIFIED_SINCE_VERSION=current)
    assert response.status_code == 412  # the batch moved the project on
    response = send(client, "post", SOURCES, item,
                    HTTP_IF_UNMODIFIED_SINCE_VERSION=str(version + 2))  # fmt: skip
    assert response.status_code == 201


# --- Access ------------------------------------------------------------------------------------


def test_who_may_read_the_feed_and_send_batches(cast, api_for, token_for):
    elsewhere = cast.outsider.memberships.get().project
    item = [{"title": "T", "citation_key": "k"}]
    for client, read, write in [
        (api_for(cast.supervisor), 200, 200),
        (api_for(cast.analyst), 200, 200),
        (api_for(token=token_for(cast.analyst, "write")), 200, 200),
        (api_for(token=token_for(cast.analyst, "read")), 200, 403),
        (api_for(cast.student), 200, 403),
        (api_for(cast.outsider), 404, 404),
        (api_for(token=token_for(cast.outsider, project=elsewhere)), 404, 404),
        (api_for(None), 401, 401),
    ]:
        assert client.get(DELETED, {"since": 0}).status_code == read
        response = send(client, "post", BATCH, [{**item[0], "citation_key": f"k{time.time()}"}])
        assert response.status_code == write, response.content
        if write != 200:
            assert response.json()["detail"]
    client = api_for(cast.supervisor)
    assert send(client, "post", DELETED, {}).status_code == 405
    assert client.get(BATCH).status_code == 405
    assert send(client, "put", BATCH, item).status_code == 405


# --- Queries -----------------------------------------------------------------------------------

# As the lists without since= (test_paging.LISTS): session, user, membership with project (and
# the library version), count, page, what the rows show.
SINCE_LISTS = {"sources": 7, "people": 6, "claims": 6, "concepts": 5, "annotations": 10}


@pytest.mark.parametrize("kind", sorted(SINCE_LISTS))
def test_since_lists_take_the_same_queries_with_ten_times_the_changes(
    cast, client_for, grow, django_assert_num_queries, kind
):
    clients = {user: client_for(user) for user in (cast.supervisor, cast.student)}
    for size in (3, 27):
        grow(size)
        for client in clients.values():
            with django_assert_num_queries(SINCE_LISTS[kind]):
                response = client.get(f"{BASE}{kind}/?since=0&limit=100")
            assert response.status_code == 200


def test_the_feed_takes_the_same_queries_with_ten_times_the_tombstones(
    cast, client_for, django_assert_num_queries
):
    client = client_for(cast.student)
    for size in (3, 30):
        for _ in range(size):
            factories.make_source(cast.project).delete()
        # session, user, membership with project, tombstones
        with django_assert_num_queries(4):
            response = client.get(f"{DELETED}?since=0")
        assert len(response.json()["sources"]) in (3, 33)


# --- Concurrency (PostgreSQL) ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_take_different_versions():
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    project = factories.make_project(slug="race")
    user = factories.make_user("racer")
    factories.add_member(project, user, "analyst")
    start = version_of(project)
    statuses: list[int] = []

    def write(key: str) -> None:
        client = Client()
        client.force_login(user)
        try:
            response = send(client, "post", "/api/v1/p/race/sources/",
                            {"title": key, "citation_key": key})  # fmt: skip
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(k,)) for k in ("first", "second", "third")]
    # Hold the project's version until all three wait for it, so their writes overlap.
    with transaction.atomic():
        bump(project.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while waiting_on_locks() < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting_on_locks() == 3
    for thread in threads:
        thread.join(timeout=10)
    assert statuses == [201, 201, 201]
    rows = Source.objects.filter(project=project)
    stamps = sorted(rows.values_list("library_version", flat=True))
    assert stamps == [start + 2, start + 3, start + 4]
    assert version_of(project) == start + 4


@pytest.mark.django_db(transaction=True)
def test_two_writers_with_the_same_object_version_bump_the_library_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    project = factories.make_project(slug="race2")
    user = factories.make_user("racer2")
    factories.add_member(project, user, "analyst")
    source = factories.make_source(project, title="Before")
    start = version_of(project)
    statuses: list[int] = []

    def write(title: str) -> None:
        client = Client()
        client.force_login(user)
        try:
            response = send(client, "patch", f"/api/v1/p/race2/sources/{source.pk}/",
                            {"title": title}, HTTP_IF_MATCH='"1"')  # fmt: skip
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(t,)) for t in ("First", "Second")]
    with transaction.atomic():
        bump(project.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(statuses) == [200, 412]
    # Ours (start + 1), then the winner's; the loser's was rolled back with its transaction.
    assert version_of(project) == start + 2
    source.refresh_from_db()
    assert source.library_version == start + 2


def test_a_delete_the_database_refuses_leaves_no_tombstone_and_the_transaction_usable(cast, world):
    from apps.accounts.editing import delete_if_unreferenced

    person = world["person"]  # mentioned by an annotation: RESTRICT
    person.references = list  # as if the check missed the link made meanwhile
    with transaction.atomic():
        assert delete_if_unreferenced(person)
        assert Person.objects.filter(pk=person.pk).exists()  # the transaction is usable
    assert not Tombstone.objects.exists()
    assert Person.objects.filter(pk=person.pk).exists()


def test_a_generated_corpus_is_one_change_for_sync(cast, api_for, grow):
    before = version_of(cast.project)
    grow(2)
    assert version_of(cast.project) == before + 1
    client = api_for(cast.supervisor)
    for kind in KINDS:
        changed = client.get(f"{BASE}{kind}/", {"since": before, "limit": 100}).json()
        assert changed["total"] == client.get(f"{BASE}{kind}/").json()["total"] > 0, kind


def test_a_claim_backed_again_leaves_the_students_feed(cast, world, api_for):
    start = version_of(cast.project)
    student = api_for(cast.student)
    world["approved"].transition(ReviewAction.WITHDRAW, by=cast.analyst)
    assert set(gone(student.get(DELETED, {"since": start}), "claims")) == {world["claim"].pk}
    world["approved"].transition(ReviewAction.RESTORE, by=cast.analyst)
    feed = student.get(DELETED, {"since": start})
    assert gone(feed, "claims") == {} and gone(feed, "annotations") == {}
    # …and both are in the student's changes since then.
    for kind, key in (("claims", "claim"), ("annotations", "approved")):
        assert world[key].pk in ids(student.get(f"{BASE}{kind}/", {"since": start}))


def test_a_row_without_a_project_is_refused_by_the_database_as_before(cast):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        Source(title="T", citation_key="k").save()

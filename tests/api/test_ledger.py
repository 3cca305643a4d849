"""Members (supervisors only), the review ledger as the annotation page shows it, and sources
with their formatted citations: what each role gets, and queries that stay the same with ten
times the data."""

import pytest

from apps.annotations.models import ReviewEvent
from apps.library.citations import Style, source_citations
from apps.library.models import Contributor
from tests import factories

API = "/api/v1/p/review/"


def events_of(client, annotation):
    response = client.get(f"{API}annotations/{annotation.pk}/events/")
    return response.status_code, response.json()


# --- Members -----------------------------------------------------------------------------------


def test_supervisors_list_the_members_and_their_roles(cast, world, api_for):
    response = api_for(cast.supervisor).get(f"{API}members/")
    assert response.status_code == 200
    listed = [(m["username"], m["role"]) for m in response.json()["results"]]
    assert listed == [
        ("analyst", "analyst"), ("analyst2", "analyst"), ("extra", "student"),
        ("student", "student"), ("supervisor", "supervisor"),
    ]  # fmt: skip
    assert "outsider" not in {m["username"] for m in response.json()["results"]}
    for role in ("analyst", "student"):
        refused = api_for(cast.members()[role]).get(f"{API}members/")
        assert refused.status_code == 403 and refused.json()["detail"]


def test_the_member_list_takes_the_same_queries_with_ten_times_the_members(
    cast, api_for, django_assert_num_queries
):
    client = api_for(cast.supervisor)

    def add(n):
        for _ in range(n):
            factories.add_member(cast.project, factories.make_user(), "student")

    add(3)
    with django_assert_num_queries(5) as counted:
        assert client.get(f"{API}members/?limit=100").status_code == 200
    add(27)
    with django_assert_num_queries(len(counted.captured_queries)):
        assert len(client.get(f"{API}members/?limit=100").json()["results"]) == 34


# --- The review ledger -------------------------------------------------------------------------


def test_the_ledger_is_shown_as_on_the_annotation_page(cast, world, api_for):
    approved = world["approved"]  # submitted by the analyst, approved by the supervisor
    for user in (cast.supervisor, cast.analyst):
        status, body = events_of(api_for(user), approved)
        assert status == 200
        assert all(e["actions"] == ["view"] for e in body["results"])
        assert [(e["action"], e["actor"]) for e in body["results"]] == [
            ("submit", "analyst"), ("approve", "supervisor"),
        ]  # fmt: skip
    # Another analyst and students: not unless the project shows students the history.
    for user in (cast.analyst2, cast.student):
        status, body = events_of(api_for(user), approved)
        assert status == 403 and body["detail"]
    # Drafts they may not see are not found.
    assert events_of(api_for(cast.student), world["draft"])[0] == 404
    assert events_of(api_for(cast.analyst2), world["draft"])[0] == 404


def test_students_read_the_ledger_from_the_approval_on(cast, world, api_for, client_for):
    cast.project.students_see_history = True
    cast.project.save()
    approved = world["approved"]
    approved.transition("reopen", by=cast.supervisor, reason="other", comment="Recheck the page.")
    factories.revise(approved, cast.analyst, note="Page checked.")
    approved.transition("submit", by=cast.analyst)
    approved.transition("approve", by=cast.supervisor)
    status, body = events_of(api_for(cast.student), approved)
    assert status == 200
    # From the last approval on: nothing of the discussion before it.
    assert [e["action"] for e in body["results"]] == ["approve"]
    assert "Recheck" not in str(body)
    page = client_for(cast.student).get(f"/p/review/annotations/{approved.pk}/")
    assert "Recheck the page." not in page.text
    everything = events_of(api_for(cast.supervisor), approved)[1]
    assert [e["action"] for e in everything["results"]] == [
        "submit", "approve", "reopen", "submit", "approve",
    ]  # fmt: skip


def test_reviewers_read_the_projects_whole_ledger(cast, world, api_for):
    response = api_for(cast.supervisor).get(f"{API}review-events/")
    assert response.status_code == 200
    events = response.json()["results"]
    assert [e["id"] for e in events] == sorted(
        ReviewEvent.objects.filter(annotation__project=cast.project).values_list("pk", flat=True)
    )
    other = factories.make_project(slug="other")
    factories.add_member(other, cast.supervisor, "supervisor")
    factories.make_annotation(factories.make_source(other), cast.supervisor, status="submitted")
    assert len(api_for(cast.supervisor).get(f"{API}review-events/").json()["results"]) == len(
        events
    )


def test_ledgers_take_the_same_queries_with_ten_times_the_events(
    cast, world, api_for, django_assert_num_queries
):
    client = api_for(cast.supervisor)
    approved = world["approved"]

    def cycle(n):
        for _ in range(n):
            approved.transition("reopen", by=cast.supervisor, reason="other", comment="Again.")
            factories.revise(approved, cast.analyst)
            approved.transition("submit", by=cast.analyst)
            approved.transition("approve", by=cast.supervisor)

    cycle(1)
    # The session, its user, the membership, (the annotation,) the total and the page.
    counts = {
        f"{API}review-events/?limit=100": 5,
        f"{API}annotations/{approved.pk}/events/?limit=100": 6,
    }
    for url, expected in counts.items():
        with django_assert_num_queries(expected):
            assert client.get(url).status_code == 200
    cycle(10)
    for url, expected in counts.items():
        with django_assert_num_queries(expected):
            assert client.get(url).status_code == 200


# --- Citations ---------------------------------------------------------------------------------


@pytest.fixture
def library(cast):
    qutb = factories.make_person(cast.project, "Sayyid Qutb", family="Qutb", given="Sayyid")
    for title, year in (("Milestones", 1964), ("Social Justice in Islam", 1949)):
        source = factories.make_source(cast.project, title, issued_year=year, publisher="Dar")
        Contributor.objects.create(source=source, person=qutb, role="author")
    return qutb


@pytest.mark.parametrize(("name", "style"), [("apa", Style.APA), ("chicago", Style.CHICAGO),
                                             ("mla", Style.MLA)])  # fmt: skip
def test_sources_carry_the_citation_their_page_shows(cast, library, api_for, name, style):
    client = api_for(cast.student)
    listed = client.get(f"{API}sources/", {"include": "citation", "style": name}).json()["results"]
    assert len(listed) == 2
    from apps.library.models import Source

    for row in listed:
        shown = dict(source_citations(Source.objects.get(pk=row["id"])))
        assert row["citation"] == shown[style]
        assert "Qutb" in row["citation"]
        one = client.get(f"{API}sources/{row['id']}/", {"include": "citation", "style": name})
        assert one.json()["citation"] == row["citation"]
    # Each stands alone: no "———" for the author repeated from the entry before.
    assert all("———" not in row["citation"] and "---" not in row["citation"] for row in listed)
    plain = client.get(f"{API}sources/").json()["results"]
    assert all(row["citation"] is None for row in plain)


def test_bad_citation_parameters_are_400(cast, library, api_for):
    client = api_for(cast.analyst)
    for query, where in (({"include": "citation", "style": "harvard"}, "query.style"),
                         ({"include": "everything"}, "query.include")):  # fmt: skip
        response = client.get(f"{API}sources/", query)
        assert response.status_code == 400
        assert [e["where"] for e in response.json()["errors"]] == [where]


def test_citations_are_read_per_page_not_per_source(cast, api_for, grow, django_assert_num_queries):
    client = api_for(cast.analyst)
    url = f"{API}sources/?include=citation&style=apa&limit=100"
    grow(3)
    with django_assert_num_queries(10) as counted:
        assert client.get(url).status_code == 200
    grow(27)
    with django_assert_num_queries(len(counted.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert all(row["citation"] for row in response.json()["results"])

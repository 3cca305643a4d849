from datetime import timedelta

import pytest

from apps.annotations.models import Annotation, Status
from tests import factories

URL = "/p/review/review/"


@pytest.fixture
def waiting(cast):
    project = cast.project
    first = factories.make_source(project, "Withdrawal from Society", citation_key="faras2016")
    second = factories.make_source(
        project, "The Bloody Split Within ISIS", citation_key="mironova2017"
    )
    isolation = factories.make_concept(project, "Isolation")
    older = factories.make_annotation(
        first, cast.analyst, status="submitted", quote="older one", concepts=[isolation]
    )
    newer = factories.make_annotation(second, cast.analyst2, status="submitted", quote="newer one")
    own = factories.make_annotation(
        second, cast.supervisor, status="submitted", quote="supervisor's own"
    )
    factories.make_annotation(first, cast.analyst, quote="a draft")
    factories.make_annotation(
        first, cast.analyst, status="approved", reviewer=cast.supervisor, quote="done"
    )
    return {"older": older, "newer": newer, "own": own, "isolation": isolation}


def quotes(response):
    return [a.quote for a in response.context["items"]]


def test_submitted_work_oldest_first_in_context(cast, client_for, waiting):
    response = client_for(cast.supervisor).get(URL)
    assert quotes(response) == ["older one", "newer one", "supervisor's own"]
    assert "1 of" not in response.text  # one page only


def test_a_lone_supervisors_own_work_says_it_waits_for_a_second_one(cast, client_for, waiting):
    # Even submitted first, the supervisor's own annotation comes after what they may decide.
    Annotation.objects.filter(pk=waiting["own"].pk).update(
        status_changed_at=waiting["older"].status_changed_at - timedelta(days=1)
    )
    response = client_for(cast.supervisor).get(URL)
    assert quotes(response) == ["older one", "newer one", "supervisor's own"]
    assert "waits for a second supervisor" in response.text
    assert 'href="/p/review/members/">Invite a second supervisor</a>' in response.text

    factories.add_member(cast.project, factories.make_user("second"), "supervisor")
    response = client_for(cast.supervisor).get(URL)
    assert "another supervisor must decide on it" in response.text
    assert "Invite a second supervisor" not in response.text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"analyst": "analyst2"}, ["newer one"]),
        ({"source": "bloody split"}, ["newer one", "supervisor's own"]),
        ({"source": "faras2016"}, ["older one"]),
        ({"concept": "isolation"}, ["older one"]),
    ],
)
def test_filters(cast, client_for, waiting, params, expected):
    if "analyst" in params:
        params = {"analyst": cast.analyst2.pk}
    if "concept" in params:
        params = {"concept": waiting["isolation"].pk}
    assert quotes(client_for(cast.supervisor).get(URL, params)) == expected


@pytest.mark.parametrize("params", [{"analyst": "abc"}, {"analyst": "999999"}, {"concept": "x"}])
def test_bad_filters_show_an_error(cast, client_for, waiting, params):
    response = client_for(cast.supervisor).get(URL, params)
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert quotes(response) == []


def test_a_student_who_is_a_member_elsewhere_is_not_an_analyst_choice(cast, client_for, waiting):
    response = client_for(cast.supervisor).get(URL, {"analyst": cast.student.pk})
    assert "Select a valid choice" in response.text


def test_only_supervisors(cast, client_for, waiting):
    for user in (cast.analyst, cast.analyst2, cast.student):
        assert client_for(user).get(URL).status_code == 403
    assert client_for(cast.outsider).get(URL).status_code == 404


def test_deciding_from_the_queue_comes_back_to_it(cast, client_for, waiting):
    client = client_for(cast.supervisor)
    client.get(URL)
    older = waiting["older"]
    response = client.post(
        f"/p/review/annotations/{older.pk}/request-changes/",
        {"seen_version": older.version, "reason": "wrong_locator", "comment": "¶8", "next": URL},
    )
    assert response.url == URL
    assert Annotation.objects.get(pk=older.pk).status == Status.CHANGES_REQUESTED
    assert "older one" not in client.get(URL).text


def test_bulk_approval_only_of_what_was_shown_in_that_version(cast, client_for, waiting):
    client = client_for(cast.supervisor)
    older, newer, own = waiting["older"], waiting["newer"], waiting["own"]
    pairs = [f"{older.pk}:{older.version}", f"{newer.pk}:{newer.version}"]
    # Not shown yet: nothing is approved.
    client.post("/p/review/review/approve/", {"approve": pairs})
    assert Annotation.objects.filter(status=Status.APPROVED).count() == 1

    client.get(URL)
    response = client.post(
        "/p/review/review/approve/",
        {"approve": [*pairs, f"{own.pk}:{own.version}", f"{older.pk}:99", "junk"]},
        follow=True,
    )
    statuses = dict(Annotation.objects.values_list("quote", "status"))
    assert statuses["older one"] == statuses["newer one"] == Status.APPROVED
    assert statuses["supervisor's own"] == Status.SUBMITTED
    text = response.text
    assert "Approved 2 annotations" in text
    assert "not shown to you in this version" in text


def test_bulk_approval_refuses_a_version_changed_after_it_was_shown(cast, client_for, waiting):
    client = client_for(cast.supervisor)
    newer = waiting["newer"]
    client.get(URL)
    Annotation.objects.filter(pk=newer.pk).update(version=2)
    client.post("/p/review/review/approve/", {"approve": [f"{newer.pk}:1"]})
    assert Annotation.objects.get(pk=newer.pk).status == Status.SUBMITTED


def test_an_empty_queue_says_so(cast, client_for):
    assert "Nothing waits for review" in client_for(cast.supervisor).get(URL).text


def test_query_count_does_not_grow(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4 count, 5 page of annotations with
    # sources and authors, 6 evidence, 7 mentions, 8 concepts, 9 review events with actors,
    # 10 analysts and 11 concepts for the filter's choices, 12-14 session update in a
    # savepoint (what was shown, for bulk approval), 15 whether another supervisor exists
    assert_constant_queries(cast.supervisor, lambda: URL, 15)


def test_withdrawn_page_query_count_does_not_grow(cast, assert_constant_queries):
    from apps.annotations.models import Annotation as A

    def withdraw_some():
        for annotation in A.objects.filter(project=cast.project, withdrawn_at__isnull=True)[:5]:
            annotation.transition("withdraw", by=cast.supervisor)

    # 1 session, 2 user, 3 membership + project, 4 count, 5 page of withdrawn annotations with
    # sources, authors and who withdrew them, 6 evidence, 7 mentions, 8 concepts
    assert_constant_queries(
        cast.supervisor,
        lambda: "/p/review/review/withdrawn/",
        8,
        before=withdraw_some,
        after=withdraw_some,
    )

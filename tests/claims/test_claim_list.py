import pytest

from tests import factories

URL = "/p/review/claims/"


@pytest.fixture
def claims(cast):
    project = cast.project
    source = factories.make_source(project)
    spread = factories.make_claim(
        project, "Isolationist takfiri groups will spread", kind="prediction"
    )
    scattered = factories.make_claim(project, "The dissidents scattered", kind="finding")
    unsupported = factories.make_claim(project, "Only a draft says so", kind="thesis")
    for status in ("approved", "approved", "submitted"):
        factories.make_annotation(
            source, cast.analyst, status=status, reviewer=cast.supervisor, claims=[spread]
        )
    factories.make_annotation(
        source, cast.analyst2, status="approved", reviewer=cast.supervisor, claims=[scattered]
    )
    factories.make_annotation(source, cast.analyst, claims=[unsupported])
    return spread, scattered, unsupported


def rows(response) -> list[tuple[str, int]]:
    return [(c.statement, c.evidence_count) for c in response.context["page"].object_list]


def test_students_see_only_claims_with_approved_evidence(cast, client_for, claims):
    assert rows(client_for(cast.student).get(URL)) == [
        ("Isolationist takfiri groups will spread", 2),
        ("The dissidents scattered", 1),
    ]


def test_evidence_counts_follow_what_each_member_may_see(cast, client_for, claims):
    assert rows(client_for(cast.supervisor).get(URL)) == [
        ("Isolationist takfiri groups will spread", 3),
        ("Only a draft says so", 1),
        ("The dissidents scattered", 1),
    ]
    # analyst2 sees every claim (to link it) but not analyst's unapproved evidence
    assert rows(client_for(cast.analyst2).get(URL)) == [
        ("Isolationist takfiri groups will spread", 2),
        ("Only a draft says so", 0),
        ("The dissidents scattered", 1),
    ]


def test_filter_by_kind_and_words(cast, client_for, claims):
    client = client_for(cast.analyst)
    assert rows(client.get(URL, {"kind": "finding"})) == [("The dissidents scattered", 1)]
    assert [s for s, _ in rows(client.get(URL, {"q": "takfiri SPREAD"}))] == [
        "Isolationist takfiri groups will spread"
    ]


@pytest.mark.parametrize("params", [{"kind": "rumour"}, {"q": "x" * 201}])
def test_bad_filters_show_an_error(cast, client_for, claims, params):
    response = client_for(cast.student).get(URL, params)
    assert response.status_code == 200
    assert 'class="field__error"' in response.text
    assert rows(response) == []


def test_query_count_does_not_grow(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4 count of visible claims,
    # 5 page of claims with their visible evidence counted in a subquery
    assert_constant_queries(cast.student, lambda: URL, 5)
    assert_constant_queries(cast.analyst, lambda: URL + "?kind=finding&q=a", 5)

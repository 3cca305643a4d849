"""Suggestions for typed references: JSON, scoped to the project and to what the member sees."""

import pytest

from tests import factories


@pytest.fixture
def rows(cast):
    project = cast.project
    suri = factories.make_person(project, "Abu Musab al-Suri")
    suri.add_variant("as-Suri")
    factories.make_person(factories.make_project(), "Abu Musab al-Suri (elsewhere)")
    source = factories.make_source(
        project, "The Global Islamic Resistance Call", citation_key="suri2004"
    )
    supported = factories.make_claim(project, "Isolation breeds innovation")
    factories.make_claim(project, "Isolation is a draft idea")
    factories.make_annotation(
        source, cast.analyst, status="approved", reviewer=cast.supervisor, claims=[supported]
    )
    return {"suri": suri, "source": source, "claim": supported}


def results(client, url, q):
    response = client.get(url, {"q": q})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return [row["value"] for row in response.json()["results"]]


def test_people_lookup_ignores_transliteration_and_other_projects(cast, client_for, rows):
    found = results(client_for(cast.analyst), "/p/review/people/lookup/", "as-suri")
    assert found == [f"#{rows['suri'].pk} Abu Musab al-Suri"]


def test_claim_lookup_shows_students_only_supported_claims(cast, client_for, rows):
    assert len(results(client_for(cast.analyst), "/p/review/claims/lookup/", "isolation")) == 2
    assert results(client_for(cast.student), "/p/review/claims/lookup/", "isolation") == [
        f"#{rows['claim'].pk} Isolation breeds innovation"
    ]


def test_source_lookup_by_title_words_or_citation_key(cast, client_for, rows):
    client = client_for(cast.analyst)
    expected = [f"#{rows['source'].pk} The Global Islamic Resistance Call"]
    assert results(client, "/p/review/sources/lookup/", "islamic call") == expected
    assert results(client, "/p/review/sources/lookup/", "SURI2004") == expected


@pytest.mark.parametrize("q", ["", "   ", "x" * 5000, "%", "'; drop table", "ج", "🙂"])
def test_odd_queries_are_answered(cast, client_for, rows, q):
    for url in (
        "/p/review/people/lookup/",
        "/p/review/claims/lookup/",
        "/p/review/sources/lookup/",
    ):
        assert client_for(cast.analyst).get(url, {"q": q}).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/p/review/people/lookup/?q=a",
        "/p/review/claims/lookup/?q=a",
        "/p/review/sources/lookup/?q=a",
    ],
)
def test_query_count_does_not_grow(cast, assert_constant_queries, url):
    # 1 session, 2 user, 3 membership + project, 4 at most ten suggestions
    assert_constant_queries(cast.student, lambda: url, 4)

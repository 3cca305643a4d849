from tests import factories

URL = "/p/review/"


def test_counts_and_recent_approved_passages(cast, client_for):
    source = factories.make_source(cast.project, "Withdrawal from Society")
    claim = factories.make_claim(cast.project)
    factories.make_annotation(
        source,
        cast.analyst,
        status="approved",
        reviewer=cast.supervisor,
        claims=[claim],
        quote="Isolation will ensure a degree of ideological and societal purity",
    )
    factories.make_annotation(source, cast.analyst, status="submitted", quote="Pending words")
    factories.make_claim(cast.project, "No evidence yet")

    student = client_for(cast.student).get(URL)
    assert student.context["counts"] == {
        "sources": 1,
        "people": 0,
        "claims": 1,
        "concepts": 0,
        "annotations": 1,
    }
    assert "ideological and societal purity" in student.text
    assert "Pending words" not in student.text
    supervisor = client_for(cast.supervisor).get(URL)
    assert supervisor.context["counts"]["claims"] == 2
    # The overview lists approved work only, for everyone.
    assert "Pending words" not in supervisor.text


def test_an_empty_project_explains_itself(cast, client_for):
    assert "No passage has been approved yet" in client_for(cast.student).get(URL).text


def test_query_count_does_not_grow(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4-8 counts of sources, people, visible
    # claims, concepts and approved annotations, 9 recent annotations with source and author,
    # 10 their evidence with claims, 11 their mentions with people and works, 12 concepts
    assert_constant_queries(cast.student, lambda: URL, 12)

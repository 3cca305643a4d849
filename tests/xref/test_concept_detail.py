from tests import factories


def test_coded_passages_grouped_by_source(cast, client_for):
    project = cast.project
    isolation = factories.make_concept(project, "Isolation", definition="Withdrawal from society.")
    factories.make_concept(project, "Physical isolation", parent=isolation)
    first = factories.make_source(project, "A first source")
    second = factories.make_source(project, "B second source")
    for source, quote in [(second, "in B"), (first, "in A")]:
        factories.make_annotation(
            source,
            cast.analyst,
            status="approved",
            reviewer=cast.supervisor,
            concepts=[isolation],
            quote=quote,
        )
    factories.make_annotation(first, cast.analyst, concepts=[isolation], quote="draft in A")
    response = client_for(cast.student).get(f"/p/review/concepts/{isolation.pk}/")
    assert [a.quote for a in response.context["page"].object_list] == ["in A", "in B"]
    assert "Physical isolation" in response.text
    assert "Withdrawal from society." in response.text
    analyst = client_for(cast.analyst).get(f"/p/review/concepts/{isolation.pk}/")
    assert "draft in A" in analyst.text


def test_query_count_does_not_grow(cast, assert_constant_queries):
    concept = factories.make_concept(cast.project)
    source = factories.make_source(cast.project)

    def code(count):
        for _ in range(count):
            factories.make_annotation(
                source,
                cast.analyst,
                status="approved",
                reviewer=cast.supervisor,
                concepts=[concept],
            )
            factories.make_concept(cast.project, parent=concept)

    # 1 session, 2 user, 3 membership + project, 4 concept with parent and originator,
    # 5 count of coded passages, 6 page of passages with sources and authors, 7 evidence,
    # 8 mentions, 9 concepts of those passages, 10 narrower concepts
    assert_constant_queries(
        cast.student,
        lambda: f"/p/review/concepts/{concept.pk}/",
        10,
        before=lambda: code(2),
        after=lambda: code(20),
    )

from apps.claims.models import Concept, concept_tree
from tests import factories

URL = "/p/review/concepts/"


def test_the_codebook_is_a_tree_with_counts_of_visible_passages(cast, client_for):
    project = cast.project
    kaplan = factories.make_person(project, "Jeffrey Kaplan")
    isolation = factories.make_concept(project, "Isolation")
    physical = factories.make_concept(project, "Physical isolation", parent=isolation)
    factories.make_concept(project, "Exodus", parent=physical)
    factories.make_concept(project, "Fifth wave", originator=kaplan)
    source = factories.make_source(project)
    factories.make_annotation(
        source, cast.analyst, status="approved", reviewer=cast.supervisor, concepts=[isolation]
    )
    factories.make_annotation(source, cast.analyst, concepts=[isolation, physical])

    def tree(user):
        response = client_for(user).get(URL)
        return [(c.name, depth, c.annotation_count) for c, depth in response.context["tree"]]

    assert tree(cast.student) == [
        ("Fifth wave", 0, 0),
        ("Isolation", 0, 1),
        ("Physical isolation", 1, 0),
        ("Exodus", 2, 0),
    ]
    assert tree(cast.analyst)[1:3] == [("Isolation", 0, 2), ("Physical isolation", 1, 1)]
    assert "Jeffrey Kaplan" in client_for(cast.student).get(URL).text


def test_children_whose_parent_is_missing_become_roots(cast):
    parent = factories.make_concept(cast.project, "Parent")
    child = factories.make_concept(cast.project, "Child", parent=parent)
    assert concept_tree(Concept.objects.filter(pk=child.pk)) == [(child, 0)]


def test_an_empty_codebook_says_so(cast, client_for):
    assert "The codebook is empty" in client_for(cast.student).get(URL).text


def test_query_count_does_not_grow(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4 visible passages per concept,
    # 5 concepts with their originators
    assert_constant_queries(cast.student, lambda: URL, 5)

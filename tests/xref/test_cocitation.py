import pytest

from tests import factories

URL = "/p/review/cocitation/"


@pytest.fixture
def cited(cast):
    project = cast.project
    qutb, shukri, kaplan, naji = (
        factories.make_person(project, name)
        for name in ("Sayyid Qutb", "Shukri Mustafa", "Jeffrey Kaplan", "Abu Bakr Naji")
    )
    first, second, third = (factories.make_source(project, f"Source {n}") for n in "ABC")
    milestones = factories.make_source(project, "Milestones")
    savagery = factories.make_source(project, "Management of Savagery")
    approve = {"status": "approved", "reviewer": cast.supervisor}
    factories.make_annotation(first, cast.analyst, people=[qutb, shukri], **approve)
    factories.make_annotation(second, cast.analyst, people=[qutb], **approve)
    factories.make_annotation(second, cast.analyst, people=[shukri, kaplan], **approve)
    # Only a draft puts Naji beside Qutb.
    factories.make_annotation(third, cast.analyst, people=[qutb, naji])
    factories.make_annotation(
        first, cast.analyst, works=[(qutb, milestones), (naji, savagery)], **approve
    )
    return {"qutb": qutb, "shukri": shukri, "kaplan": kaplan, "naji": naji, "first": first}


def pairs(response):
    return [(str(pair.first), str(pair.second), pair.shared) for pair in response.context["pairs"]]


def test_pairs_of_people_cited_in_the_same_sources_strongest_first(cast, client_for, cited):
    response = client_for(cast.student).get(URL)
    found = pairs(response)
    assert found[0] == ("Sayyid Qutb", "Shukri Mustafa", 2)
    assert ("Shukri Mustafa", "Jeffrey Kaplan", 1) in found or (
        "Jeffrey Kaplan",
        "Shukri Mustafa",
        1,
    ) in found
    # The draft's pairing is not counted for a student...
    assert not any("Naji" in a + b and "Qutb" in a + b and n == 2 for a, b, n in found)
    assert response.context["total"] == len(found)


def test_the_author_sees_pairs_from_their_draft(cast, client_for, cited):
    found = pairs(client_for(cast.analyst).get(URL, {"person": cited["naji"].pk}))
    assert ("Abu Bakr Naji", "Sayyid Qutb", 2) in found


def test_minimum_strength_and_works(cast, client_for, cited):
    assert pairs(client_for(cast.student).get(URL, {"minimum": 2})) == [
        ("Sayyid Qutb", "Shukri Mustafa", 2)
    ]
    works = pairs(client_for(cast.student).get(URL, {"kind": "works"}))
    assert works == [("Milestones", "Management of Savagery", 1)]


def test_a_pair_lists_the_sources_citing_both(cast, client_for, cited):
    response = client_for(cast.student).get(
        URL, {"first": cited["qutb"].pk, "second": cited["shukri"].pk}
    )
    assert [s.title for s in response.context["shared"]] == ["Source A", "Source B"]


@pytest.mark.parametrize(
    "params",
    [{"kind": "journals"}, {"minimum": "0"}, {"minimum": "x"}, {"person": "abc"}, {"first": "1"}],
)
def test_bad_parameters_are_explained(cast, client_for, cited, params):
    response = client_for(cast.student).get(URL, params)
    assert response.status_code == 200
    if "first" not in params:
        assert 'class="form-errors"' in response.text


def test_people_of_other_projects_are_404(cast, client_for, cited):
    foreign = factories.make_person(factories.make_project(), "Foreign")
    assert client_for(cast.student).get(URL, {"person": foreign.pk}).status_code == 404
    pair = {"first": foreign.pk, "second": cited["qutb"].pk}
    assert client_for(cast.student).get(URL, pair).status_code == 404


def test_an_empty_project_explains_itself(cast, client_for):
    assert "are cited in the same source yet" in client_for(cast.student).get(URL).text


def test_query_count_does_not_grow(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4-5 the project's latest review and edit (the
    # cache key); when the pairs are not cached yet: 6 the most cited (candidates), 7 their
    # pairs, ranked; 8 the names of a page of pairs
    assert_constant_queries(cast.student, lambda: URL, 8)

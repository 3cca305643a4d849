import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Membership
from apps.annotations.models import Annotation, ReviewAction
from apps.xref import cocitation
from apps.xref.views import pages
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


@pytest.mark.parametrize("role", ["student", "supervisor"])
def test_query_count_does_not_grow(cast, assert_constant_queries, role):
    # 1 session, 2 user, 3 membership + project, 4 a page of pairs from the tallies, 5 how
    # many (up to a bound), 6 the names of the page's people
    assert_constant_queries(getattr(cast, role), lambda: URL, 6)


def test_query_count_does_not_grow_for_an_analyst(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4-5 the project's latest review and edit (the
    # cache key); when the pairs are not cached yet: 6 the most cited (candidates), 7 their
    # pairs, ranked; 8 the names of a page of pairs
    assert_constant_queries(cast.analyst, lambda: URL, 8)


def membership_of(cast, user) -> Membership:
    return Membership.objects.select_related("project").get(project=cast.project, user=user)


@pytest.mark.parametrize("role", ["student", "supervisor"])
@pytest.mark.parametrize("works", [False, True])
def test_the_tallies_rank_pairs_as_the_computed_path_does(cast, grow, monkeypatch, role, works):
    grow(8)
    membership = membership_of(cast, getattr(cast, role))
    monkeypatch.setattr(cocitation, "CANDIDATES", 10_000)  # every cited takes part
    column = "work_id" if works else "person_id"
    for minimum in (1, 2):
        computed, total = cocitation._ranked_pairs(membership, column, works, minimum)
        assert computed, "the corpus has pairs"
        tallied, tallied_total = cocitation.cocited_pairs(
            membership, works=works, minimum=minimum, limit=10_000
        )
        assert [(p.first.pk, p.second.pk, p.shared) for p in tallied] == computed
        assert tallied_total == total
    around = computed[0][0]
    rows, total = cocitation._pairs_around(
        membership, column, works, around, 1, limit=10_000, offset=0
    )
    tallied, tallied_total = cocitation.cocited_pairs(
        membership, works=works, around=around, limit=10_000
    )
    assert [(p.first.pk, p.second.pk, p.shared) for p in tallied] == [tuple(r) for r in rows]
    assert tallied_total == total


def test_a_write_shows_at_once_without_recounting(cast, client_for, cited):
    client = client_for(cast.student)
    assert ("Sayyid Qutb", "Abu Bakr Naji", 1) in pairs(client.get(URL))
    draft = Annotation.objects.get(source__title="Source C")
    draft.transition(ReviewAction.SUBMIT, by=cast.analyst)
    draft.transition(ReviewAction.APPROVE, by=cast.supervisor)
    cited["naji"].display_name = "Abu Bakr Naji (pseudonym)"
    cited["naji"].save()
    with CaptureQueriesContext(connection) as queries:
        found = pairs(client.get(URL))
    # Source A (the works its passage names) and now source C cite both.
    assert ("Sayyid Qutb", "Abu Bakr Naji (pseudonym)", 2) in found
    # Read from the tallies: no statement touches the passages or their mentions.
    assert not [q for q in queries.captured_queries if "annotations_mention" in q["sql"]]


def test_past_the_counted_pairs_the_page_says_more_than(cast, client_for, cited, monkeypatch):
    monkeypatch.setattr(cocitation, "COUNTED_PAIRS", 2)
    monkeypatch.setattr(pages, "COUNTED_PAIRS", 2)
    response = client_for(cast.supervisor).get(URL)
    assert "More than 2 pairs" in response.text
    assert response.context["total"] == 3

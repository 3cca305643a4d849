import pytest

from tests import factories

URL = "/p/review/annotations/"


@pytest.fixture
def passages(cast):
    project = cast.project
    first = factories.make_source(project, "A first source")
    second = factories.make_source(project, "B second source")
    kaplan = factories.make_person(project, "Jeffrey Kaplan")
    isolation = factories.make_concept(project, "Isolation")
    claim = factories.make_claim(project, "Isolation spreads")
    approve = {"status": "approved", "reviewer": cast.supervisor}
    factories.make_annotation(first, cast.analyst, quote="kaplan in A", people=[kaplan], **approve)
    factories.make_annotation(
        first, cast.analyst, quote="coded in A", concepts=[isolation], **approve
    )
    factories.make_annotation(
        second, cast.analyst, quote="kaplan in B", people=[kaplan], claims=[claim], **approve
    )
    factories.make_annotation(first, cast.analyst, quote="draft kaplan in A", people=[kaplan])
    return {
        "first": first,
        "second": second,
        "kaplan": kaplan,
        "isolation": isolation,
        "claim": claim,
    }


def quotes(response):
    return [a.quote for a in response.context["page"].object_list]


def test_exactly_the_passages_a_link_asks_for(cast, client_for, passages):
    client = client_for(cast.student)
    cell = client.get(URL, {"source": passages["first"].pk, "person": passages["kaplan"].pk})
    assert quotes(cell) == ["kaplan in A"]
    assert "citing" in cell.text and "Jeffrey Kaplan" in cell.text
    assert quotes(
        client.get(URL, {"source": passages["first"].pk, "concept": passages["isolation"].pk})
    ) == ["coded in A"]
    assert quotes(client.get(URL, {"claim": passages["claim"].pk})) == ["kaplan in B"]
    # Across sources, the newest first.
    assert quotes(client.get(URL, {"q": "kaplan"})) == ["kaplan in B", "kaplan in A"]


def test_the_filter_labels_only_what_it_shows(cast, client_for, passages):
    # The chosen source, person and claim travel as hidden fields, named above the results:
    # no label points at them (screen readers announced "[invalid name]", and a bare
    # "Source" stood in the filter).
    params = {"source": passages["first"].pk, "person": passages["kaplan"].pk}
    page = client_for(cast.analyst).get(URL, {**params, "claim": passages["claim"].pk}).text
    for name in ("source", "person", "claim"):
        assert f'for="id_{name}"' not in page
        assert f'type="hidden" name="{name}"' in page
    assert 'for="id_q"' in page and 'for="id_concept"' in page


def test_members_see_what_they_may(cast, client_for, passages):
    person = {"person": passages["kaplan"].pk}
    assert "draft kaplan in A" not in quotes(client_for(cast.student).get(URL, person))
    assert "draft kaplan in A" in quotes(client_for(cast.analyst).get(URL, person))
    assert quotes(client_for(cast.analyst).get(URL, {"status": "draft"})) == ["draft kaplan in A"]
    # Students have no status filter: everything they see is approved.
    assert "status" not in client_for(cast.student).get(URL).context["filter"].form.fields


@pytest.mark.parametrize(
    "params",
    [
        {"source": "abc"},
        {"source": "999999"},
        {"person": "-1"},
        {"claim": "x"},
        {"status": "lost"},
        {"q": "x" * 201},
    ],
)
def test_bad_parameters_are_a_form_error(cast, client_for, passages, params):
    response = client_for(cast.analyst).get(URL, params)
    assert response.status_code == 200
    assert quotes(response) == []
    assert "Correct the filter" in response.text


def test_objects_of_another_project_are_not_valid_choices(cast, client_for, passages):
    foreign = factories.make_source(factories.make_project())
    response = client_for(cast.analyst).get(URL, {"source": foreign.pk})
    assert quotes(response) == []


def test_query_count_does_not_grow(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4 concepts for the filter, 5 count,
    # 6 page of passages with sources and authors, 7 evidence, 8 mentions, 9 concepts
    assert_constant_queries(cast.student, lambda: URL, 9)


def test_the_unfiltered_total_comes_from_the_tally_not_a_count_of_the_project(
    cast, client_for, passages
):
    """The number above the list is read from the project's tally for supervisors and
    students (one small row), and counted live for analysts, who see their own drafts too.
    Each total is what the member sees."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    expected = {cast.student: 3, cast.supervisor: 4, cast.analyst: 4}
    for member, total in expected.items():
        with CaptureQueriesContext(connection) as captured:
            response = client_for(member).get(URL)
        assert response.context["page"].paginator.count == total
        assert f"{total} passages" in response.text
        counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
        if member is cast.analyst:
            assert len(counts) == 1
        else:
            assert counts == [], counts
    # A filter counts what it narrows to.
    response = client_for(cast.student).get(URL, {"person": passages["kaplan"].pk})
    assert response.context["page"].paginator.count == 2

import pytest

from apps.claims.models import Concept
from tests import factories

URL = "/p/review/sources/"


@pytest.fixture
def library(cast):
    project = cast.project
    mironova = factories.make_person(project, "Vera Mironova", family="Mironova", given="Vera")
    suri = factories.make_person(project, "Abu Musab al-Suri", literal="Abu Musab al-Suri")
    suri.add_variant("as-Suri")
    isolation = factories.make_concept(project, "Isolation")
    split = factories.make_source(
        project,
        "The Bloody Split Within ISIS",
        csl_type="article-magazine",
        issued_year=2017,
        container_title="Foreign Affairs",
    )
    split.add_contributor(mironova)
    withdrawal = factories.make_source(
        project, "Withdrawal from Society", csl_type="webpage", issued_year=2016
    )
    milestones = factories.make_source(project, "Milestones", csl_type="book", issued_year=1964)
    factories.make_annotation(
        withdrawal,
        cast.analyst,
        status="approved",
        reviewer=cast.supervisor,
        people=[suri],
        concepts=[isolation],
    )
    # Only a draft codes Milestones with isolation and cites al-Suri: students must not see it.
    factories.make_annotation(milestones, cast.analyst, people=[suri], concepts=[isolation])
    return {"isolation": isolation}


def titles(response) -> list[str]:
    return [s.title for s in response.context["page"].object_list]


def test_lists_the_bibliography_with_authors(cast, client_for, library):
    response = client_for(cast.student).get(URL)
    assert titles(response) == [
        "Milestones",
        "The Bloody Split Within ISIS",
        "Withdrawal from Society",
    ]
    assert "Vera Mironova" in response.text
    assert "Foreign Affairs" in response.text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "book"}, ["Milestones"]),
        ({"year_min": "2016"}, ["The Bloody Split Within ISIS", "Withdrawal from Society"]),
        ({"year_max": "2016"}, ["Milestones", "Withdrawal from Society"]),
        ({"year_min": "2016", "year_max": "2016"}, ["Withdrawal from Society"]),
        ({"q": "split isis"}, ["The Bloody Split Within ISIS"]),
        ({"q": "SOCIETY"}, ["Withdrawal from Society"]),
        ({"person": "Mironova"}, ["The Bloody Split Within ISIS"]),
        # al-Suri is cited (approved) in "Withdrawal"; any spelling finds it.
        ({"person": "Sūrī"}, ["Withdrawal from Society"]),
    ],
)
def test_filters(cast, client_for, library, params, expected):
    assert titles(client_for(cast.student).get(URL, params)) == expected


def test_concept_and_person_filters_follow_what_the_member_may_see(cast, client_for, library):
    concept = {"concept": library["isolation"].pk}
    assert titles(client_for(cast.student).get(URL, concept)) == ["Withdrawal from Society"]
    assert titles(client_for(cast.student).get(URL, {"person": "as-Suri"})) == [
        "Withdrawal from Society"
    ]
    # The draft's author and supervisors see the draft's codes too.
    both = ["Milestones", "Withdrawal from Society"]
    assert titles(client_for(cast.analyst).get(URL, concept)) == both
    assert titles(client_for(cast.supervisor).get(URL, {"person": "as-Suri"})) == both
    assert titles(client_for(cast.analyst2).get(URL, concept)) == ["Withdrawal from Society"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year_min": "abc"}, "Enter a whole number"),
        ({"year_min": "2020", "year_max": "1990"}, "The end year is before the start year"),
        ({"year_max": "99999"}, "less than or equal to 9999"),
        ({"year_min": "2016.5"}, "Enter a whole number"),
        ({"person": "'"}, "Type at least one letter of a name"),
        ({"person": "al- "}, "Type at least one letter of a name"),
        ({"q": "a " * 150}, "at most 200 characters"),
        ({"type": "tweet"}, "Select a valid choice"),
        ({"concept": "abc"}, "Select a valid choice"),
        ({"concept": "999999"}, "Select a valid choice"),
    ],
)
def test_filters_that_do_not_parse_show_an_error_and_no_results(
    cast, client_for, library, params, message
):
    response = client_for(cast.student).get(URL, params)
    assert response.status_code == 200
    assert message in response.text
    assert titles(response) == []
    assert "Correct the filter" in response.text


def test_a_concept_of_another_project_is_not_a_valid_choice(cast, client_for, library):
    foreign = Concept.objects.create(project=factories.make_project(), name="Isolation")
    response = client_for(cast.student).get(URL, {"concept": foreign.pk})
    assert "Select a valid choice" in response.text


def test_pagination_keeps_the_filter(cast, client_for):
    for number in range(55):
        factories.make_source(cast.project, f"Book {number:02d}", csl_type="book")
    response = client_for(cast.student).get(URL, {"type": "book"})
    assert len(titles(response)) == 50
    assert "?type=book&amp;page=2" in response.text
    assert len(titles(client_for(cast.student).get(URL, {"type": "book", "page": "2"}))) == 5
    assert client_for(cast.student).get(URL, {"page": "junk"}).status_code == 200


def test_query_count_does_not_grow(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4 count, 5 page of sources,
    # 6 their contributors with people, 7 concepts for the filter's choices
    assert_constant_queries(cast.student, lambda: URL, 7)


def test_filtered_query_count_does_not_grow(cast, assert_constant_queries):
    # as above, plus the people matching the name (fetched first); the other filters are part
    # of the count and the page query
    url = URL + "?q=a&year_min=1900&year_max=2030&person=a"
    assert_constant_queries(cast.analyst, lambda: url, 8)


def test_many_words_are_answered_not_crashed(cast, client_for, library):
    # Every word is a condition; a pasted paragraph must not break the database.
    words = " ".join(["isis"] * 60)[:199]
    for params in ({"q": words}, {"person": words}):
        assert client_for(cast.student).get(URL, params).status_code == 200


def test_the_list_sorts_by_first_author_year_or_addition(cast, client_for, library):
    project = cast.project
    # Editors count when a source has no author; sources without anyone come last.
    qutb = factories.make_person(project, "Sayyid Qutb", family="Qutb", given="Sayyid")
    milestones = project.sources.get(title="Milestones")
    milestones.add_contributor(qutb, role="editor")
    abbas = factories.make_person(project, "Hassan Abbas", family="Abbas", given="Hassan")
    translator = factories.make_person(project, "Aaron Aaronson", family="Aaronson", given="A")
    withdrawal = project.sources.get(title="Withdrawal from Society")
    withdrawal.add_contributor(translator, role="translator")
    withdrawal.add_contributor(abbas, role="author")
    client = client_for(cast.student)
    expected = {
        "": ["Milestones", "The Bloody Split Within ISIS", "Withdrawal from Society"],
        "author": ["Withdrawal from Society", "The Bloody Split Within ISIS", "Milestones"],
        "year": ["The Bloody Split Within ISIS", "Withdrawal from Society", "Milestones"],
        "year-asc": ["Milestones", "Withdrawal from Society", "The Bloody Split Within ISIS"],
        "added": ["Milestones", "Withdrawal from Society", "The Bloody Split Within ISIS"],
    }
    for sort, order in expected.items():
        response = client.get(URL, {"sort": sort})
        assert titles(response) == order, sort
    # The order combines with a filter, and the choice is shown as made.
    response = client.get(URL, {"sort": "year", "year_min": "2016"})
    assert titles(response) == ["The Bloody Split Within ISIS", "Withdrawal from Society"]
    assert '<option value="year" selected>Year, newest first</option>' in response.text


def test_an_unknown_sort_is_an_error_not_a_crash(cast, client_for, library):
    response = client_for(cast.student).get(URL, {"sort": "title; drop table"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert titles(response) == []


def test_sorted_query_count_does_not_grow(cast, assert_constant_queries):
    # the same queries as unsorted: the first author is part of the page query
    assert_constant_queries(cast.analyst, lambda: URL + "?sort=author", 7)


def test_the_project_navigation_reaches_every_section_the_member_may_use(cast, client_for):
    nav = {
        "analyst": ["Passages", "Co-citation", "Import", "Export"],
        "student": ["Passages", "Co-citation", "Export"],
    }
    for role, links in nav.items():
        page = client_for(getattr(cast, role)).get(URL).text
        bar = page[
            page.index('class="project-nav"') : page.index("</nav>", page.index("project-nav"))
        ]
        for link in links:
            assert f">{link}</a>" in bar, (role, link)
        assert (">Import</a>" in bar) == (role == "analyst")
    passages = client_for(cast.student).get("/p/review/annotations/").text
    assert 'aria-current="page">Passages</a>' in passages

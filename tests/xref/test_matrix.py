import csv
import io
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.accounts.models import User
from apps.annotations.models import Annotation, Mention, ReviewAction
from apps.claims.models import Concept
from apps.demo.seed import load_seed_review
from apps.xref.views.matrix import CSV_ROW_LIMIT
from tests import factories

URL = "/p/review/matrix/"
CSV_URL = "/p/review/matrix.csv"


@pytest.fixture
def review(cast):
    """Two articles coded with concepts, citing people, bearing on a claim; a cited work with
    no passages of its own; and one draft that only its author and supervisors may count."""
    project = cast.project
    approve = {"status": "approved", "reviewer": cast.supervisor}
    isolation = factories.make_concept(project, "Isolation")
    physical = factories.make_concept(project, "Physical isolation", parent=isolation)
    takfir = factories.make_concept(project, "Takfir")
    kaplan = factories.make_person(project, "Jeffrey Kaplan", family="Kaplan", given="Jeffrey")
    qutb = factories.make_person(project, "Sayyid Qutb", literal="Sayyid Qutb")
    spread = factories.make_claim(project, "Isolationist groups will spread")
    withdrawal = factories.make_source(
        project, "Withdrawal from Society", csl_type="webpage", issued_year=2016
    )
    split = factories.make_source(
        project, "The Bloody Split", csl_type="article-magazine", issued_year=2017
    )
    factories.make_source(project, "Milestones", csl_type="book", issued_year=1964)
    first = factories.make_annotation(
        withdrawal,
        cast.analyst,
        quote="kaplan, isolation and takfir",
        concepts=[isolation, takfir],
        people=[kaplan],
        claims=[spread],
        **approve,
    )
    second = factories.make_annotation(
        withdrawal,
        cast.analyst,
        quote="kaplan and qutb, physically",
        concepts=[physical],
        people=[kaplan, qutb],
        **approve,
    )
    third = factories.make_annotation(
        split,
        cast.analyst2,
        quote="takfir in the split",
        concepts=[takfir],
        claims=[spread],
        **approve,
    )
    draft = factories.make_annotation(
        split, cast.analyst, quote="a draft on isolation", concepts=[isolation], people=[qutb]
    )
    return {
        "isolation": isolation,
        "physical": physical,
        "takfir": takfir,
        "kaplan": kaplan,
        "qutb": qutb,
        "spread": spread,
        "withdrawal": withdrawal,
        "split": split,
        "approved": [first, second, third],
        "draft": draft,
    }


def grid(response) -> dict[tuple[str, str], int]:
    """(source title, column label) -> count, for every cell of the page."""
    labels = {c.pk: c.label for c in response.context["matrix"].columns}
    return {
        (row.source.title, labels[cell.column]): cell.count
        for row in response.context["rows"]
        for cell in row.cells
    }


def row_titles(response) -> list[str]:
    return [row.source.title for row in response.context["rows"]]


def column_labels(response) -> list[str]:
    return [column.label for column in response.context["matrix"].columns]


class Links(HTMLParser):
    """The links of the matrix's body cells: (href, text) pairs, and the number of gaps."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.gaps = 0
        self._in_body = self._in_cell = False
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tbody":
            self._in_body = True
        elif tag == "td" and self._in_body:
            self._in_cell, self._cell_empty = True, True
        elif tag == "a" and self._in_cell:
            self._href, self._text, self._cell_empty = attrs["href"], "", False

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, self._text))
            self._href = None
        elif tag == "td" and self._in_cell:
            self.gaps += self._cell_empty
            self._in_cell = False

    def handle_data(self, data):
        if self._href is not None:
            self._text += data


def cell_links(response) -> list[tuple[str, int]]:
    """(href, count) of every linked cell, the passages totals of each row included."""
    parser = Links()
    parser.feed(response.text)
    return [(href, int(text.split()[0])) for href, text in parser.links]


def passages_listed(client, href) -> set[int]:
    response = client.get(href)
    assert response.status_code == 200
    assert response.context["page"].paginator.num_pages == 1
    return {a.pk for a in response.context["page"].object_list}


def test_cells_count_the_approved_passages_that_link_a_source_and_a_concept(
    cast, client_for, review
):
    response = client_for(cast.student).get(URL)
    assert response.status_code == 200
    assert row_titles(response) == ["Withdrawal from Society", "The Bloody Split"]
    assert grid(response) == {
        ("Withdrawal from Society", "Isolation"): 1,
        ("Withdrawal from Society", "Takfir"): 1,
        ("Withdrawal from Society", "Physical isolation"): 1,
        ("The Bloody Split", "Isolation"): 0,
        ("The Bloody Split", "Takfir"): 1,
        ("The Bloody Split", "Physical isolation"): 0,
    }
    # Row totals are the source's passages; column totals count over all rows.
    assert [row.total for row in response.context["rows"]] == [2, 1]
    assert {c.label: c.total for c in response.context["matrix"].columns} == {
        "Takfir": 2,
        "Isolation": 1,
        "Physical isolation": 1,
    }
    assert response.context["matrix"].total == 3
    # A cited work without passages of its own is not a row.
    assert "Milestones" not in response.text


def test_rows_name_the_first_author_and_the_year(cast, client_for, review):
    review["withdrawal"].add_contributor(factories.make_person(cast.project, "Ahmed Faras"))
    review["withdrawal"].add_contributor(factories.make_person(cast.project, "Second Author"))
    response = client_for(cast.student).get(URL)
    assert "2016 · Ahmed Faras et al." in response.text
    assert "2017</span>" in response.text


def test_people_and_claims_are_columns_too(cast, client_for, review):
    people = client_for(cast.student).get(URL, {"cols": "people"})
    assert grid(people) == {
        ("Withdrawal from Society", "Jeffrey Kaplan"): 2,
        ("Withdrawal from Society", "Sayyid Qutb"): 1,
        ("The Bloody Split", "Jeffrey Kaplan"): 0,
        ("The Bloody Split", "Sayyid Qutb"): 0,
    }
    claims = client_for(cast.student).get(URL, {"cols": "claims", "rows": "sources"})
    assert grid(claims) == {
        ("Withdrawal from Society", "Isolationist groups will spread"): 1,
        ("The Bloody Split", "Isolationist groups will spread"): 1,
    }


def test_a_student_never_sees_a_count_that_only_a_draft_makes(cast, client_for, review):
    # Only the analyst's draft links "The Bloody Split" with Isolation and with Qutb.
    cell = ("The Bloody Split", "Isolation")
    assert grid(client_for(cast.student).get(URL))[cell] == 0
    assert grid(client_for(cast.student).get(URL, {"scope": "visible"}))[cell] == 0
    assert grid(client_for(cast.analyst).get(URL, {"scope": "visible"}))[cell] == 1
    assert grid(client_for(cast.analyst).get(URL, {"scope": "approved"}))[cell] == 0
    assert grid(client_for(cast.analyst2).get(URL, {"scope": "visible"}))[cell] == 0
    assert grid(client_for(cast.supervisor).get(URL, {"scope": "visible"}))[cell] == 1
    student = client_for(cast.student).get(URL, {"cols": "people"})
    assert grid(student)[("The Bloody Split", "Sayyid Qutb")] == 0
    assert {c.label: c.total for c in student.context["matrix"].columns}["Sayyid Qutb"] == 1
    assert [row.total for row in student.context["rows"]] == [2, 1]
    export = client_for(cast.student).get(CSV_URL).getvalue().decode()
    by_title = {row[1]: row for row in csv.reader(io.StringIO(export))}
    # Takfir, Isolation, Physical isolation
    assert by_title["The Bloody Split"][3:] == ["2017", "1", "1", "0", "0"]


def test_the_count_follows_approval_and_withdrawal_at_once(cast, client_for, review):
    student = client_for(cast.student)
    cell = ("The Bloody Split", "Isolation")
    assert grid(student.get(URL))[cell] == 0
    draft = review["draft"]
    draft.transition(ReviewAction.SUBMIT, by=cast.analyst)
    draft.transition(ReviewAction.APPROVE, by=cast.supervisor)
    assert grid(student.get(URL))[cell] == 1
    draft.transition(ReviewAction.WITHDRAW, by=cast.supervisor)
    assert grid(student.get(URL))[cell] == 0


def test_an_authors_edit_of_a_draft_shows_in_their_counts_at_once(cast, client_for, review):
    analyst = client_for(cast.analyst)
    assert grid(analyst.get(URL))[("The Bloody Split", "Takfir")] == 1
    draft = review["draft"]
    draft.note = "Now also on takfir."
    draft.save()
    draft.set_links(evidence=[], mentions=[], concepts=[review["takfir"]], by=cast.analyst)
    page = analyst.get(URL)
    assert grid(page)[("The Bloody Split", "Takfir")] == 2
    assert grid(page)[("The Bloody Split", "Isolation")] == 0


def test_every_cell_links_to_exactly_the_passages_it_counts(cast, client_for, review):
    for user, params in [
        (cast.student, {}),
        (cast.student, {"cols": "people"}),
        (cast.student, {"cols": "claims"}),
        (cast.analyst, {"scope": "visible"}),
        (cast.analyst, {"scope": "approved", "cols": "people"}),
        (cast.supervisor, {"scope": "visible", "cols": "people"}),
    ]:
        client = client_for(user)
        links = cell_links(client.get(URL, params))
        assert links, params
        for href, count in links:
            assert href.startswith("/p/review/annotations/?")
            assert "source" in parse_qs(urlsplit(href).query)
            assert len(passages_listed(client, href)) == count, (params, href)


def test_cell_links_say_which_scope_they_count(cast, client_for, review):
    draft_cell = [
        href
        for href, _ in cell_links(client_for(cast.analyst).get(URL, {"scope": "visible"}))
        if parse_qs(urlsplit(href).query).get("source") == [str(review["split"].pk)]
        and parse_qs(urlsplit(href).query).get("concept") == [str(review["isolation"].pk)]
    ]
    assert len(draft_cell) == 1
    assert "scope=visible" in draft_cell[0]
    # A student's links carry no scope: students only ever see approved work.
    assert all("scope=" not in href for href, _ in cell_links(client_for(cast.student).get(URL)))


def test_gaps_are_empty_cells_and_the_table_has_headers_and_a_caption(cast, client_for, review):
    response = client_for(cast.student).get(URL)
    parser = Links()
    parser.feed(response.text)
    assert parser.gaps == 2  # The Bloody Split: Isolation, Physical isolation
    html = response.text
    assert "<caption" in html and "Approved passages per source and concept" in html
    assert html.count('<th scope="col"') == 2 + 3  # source, passages, three concepts
    assert html.count('<th scope="row"') == 2 + 1  # two sources and the totals row
    assert f'id="r{review["withdrawal"].pk}"' in html
    assert f'aria-describedby="r{review["withdrawal"].pk} c{review["takfir"].pk}"' in html


@pytest.mark.parametrize(
    ("params", "rows"),
    [
        ({"type": "webpage"}, ["Withdrawal from Society"]),
        ({"year_min": "2017"}, ["The Bloody Split"]),
        ({"year_max": "2016"}, ["Withdrawal from Society"]),
        ({"year_min": "2016", "year_max": "2017"}, ["Withdrawal from Society", "The Bloody Split"]),
        ({"type": "book"}, []),
        ({"sort": "total"}, ["The Bloody Split", "Withdrawal from Society"]),
        ({"sort": "title"}, ["The Bloody Split", "Withdrawal from Society"]),
        ({"sort": "year"}, ["Withdrawal from Society", "The Bloody Split"]),
        ({"sort": "-year"}, ["The Bloody Split", "Withdrawal from Society"]),
    ],
)
def test_rows_are_filtered_and_sorted(cast, client_for, review, params, rows):
    assert row_titles(client_for(cast.student).get(URL, params)) == rows


def test_a_concept_keeps_the_sources_coded_with_it_or_below_it_and_its_columns(
    cast, client_for, review
):
    student = client_for(cast.student)
    # Isolation and Physical isolation: only "Withdrawal" is coded with them (for a student).
    isolation = student.get(URL, {"concept": review["isolation"].pk})
    assert row_titles(isolation) == ["Withdrawal from Society"]
    assert sorted(column_labels(isolation)) == ["Isolation", "Physical isolation"]
    # The analyst's draft codes "The Bloody Split" with Isolation: they see it.
    analyst = client_for(cast.analyst).get(URL, {"concept": review["isolation"].pk})
    assert row_titles(analyst) == ["Withdrawal from Society", "The Bloody Split"]
    # With people as columns the rows are narrowed the same way, and people stay columns.
    people = student.get(URL, {"concept": review["physical"].pk, "cols": "people"})
    assert row_titles(people) == ["Withdrawal from Society"]
    assert sorted(column_labels(people)) == ["Jeffrey Kaplan", "Sayyid Qutb"]


def test_columns_sort_by_total_or_name(cast, client_for, review):
    student = client_for(cast.student)
    assert column_labels(student.get(URL)) == ["Takfir", "Isolation", "Physical isolation"]
    assert column_labels(student.get(URL, {"col_sort": "name"})) == [
        "Isolation",
        "Physical isolation",
        "Takfir",
    ]
    assert column_labels(student.get(URL, {"col_sort": "total"}))[-1] == "Takfir"
    people = student.get(URL, {"cols": "people", "col_sort": "name"})
    assert column_labels(people) == ["Jeffrey Kaplan", "Sayyid Qutb"]  # by family name


def test_only_the_most_used_columns_are_shown_and_the_page_says_how_many_are_left_out(
    cast, client_for
):
    source = factories.make_source(cast.project, "A source citing many")
    people = [factories.make_person(cast.project, f"Person {n:02d}") for n in range(12)]
    for number, person in enumerate(people):
        # Person 00 is cited once, Person 11 twelve times.
        for _ in range(number + 1):
            factories.make_annotation(
                source, cast.analyst, people=[person], status="approved", reviewer=cast.supervisor
            )
    response = client_for(cast.student).get(URL, {"cols": "people", "limit": "10"})
    assert column_labels(response) == [f"Person {n:02d}" for n in range(11, 1, -1)]
    assert response.context["matrix"].left_out == 2
    assert "The 2 less used people cited are left out" in response.text


def test_rows_are_paginated(cast, client_for):
    for number in range(55):
        source = factories.make_source(cast.project, f"Source {number:02d}")
        factories.make_annotation(source, cast.analyst, status="approved", reviewer=cast.supervisor)
    client = client_for(cast.student)
    first = client.get(URL, {"sort": "title"})
    assert len(first.context["rows"]) == 50
    assert "rows 1–50 of 55" in first.text
    assert "?sort=title&amp;page=2" in first.text
    second = client.get(URL, {"sort": "title", "page": "2"})
    assert row_titles(second) == [f"Source {n}" for n in range(50, 55)]
    assert len(client.get(URL, {"per_page": "100"}).context["rows"]) == 55


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cols": "theorists"}, "Select a valid choice"),
        ({"rows": "claims"}, "Select a valid choice"),
        ({"scope": "everything"}, "Select a valid choice"),
        ({"year_min": "abc"}, "Enter a whole number"),
        ({"year_min": "2020", "year_max": "1990"}, "The end year is before the start year"),
        ({"year_max": "99999"}, "less than or equal to 9999"),
        ({"type": "tweet"}, "Select a valid choice"),
        ({"concept": "abc"}, "Select a valid choice"),
        ({"concept": "999999"}, "Select a valid choice"),
        ({"sort": "random"}, "Select a valid choice"),
        ({"col_sort": "-name"}, "Select a valid choice"),
        ({"limit": "5"}, "greater than or equal to 10"),
        ({"limit": "500"}, "less than or equal to 200"),
        ({"limit": "many"}, "Enter a whole number"),
        ({"per_page": "7"}, "Select a valid choice"),
        ({"page": "0"}, "greater than or equal to 1"),
        ({"page": "two"}, "Enter a whole number"),
        ({"page": "2"}, "There is only 1 page of rows"),
        ({"page": "99999999999999999999"}, "There is only 1 page of rows"),
    ],
)
def test_bad_parameters_are_a_form_error_and_a_400_for_the_csv(
    cast, client_for, review, params, message
):
    client = client_for(cast.analyst)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert message in response.text
    assert "Correct the filter" in response.text
    assert response.context["matrix"] is None
    if "page" not in params:
        export = client.get(CSV_URL, params)
        assert export.status_code == 400
        assert message in export.content.decode()


def test_a_concept_of_another_project_is_not_a_valid_choice(cast, client_for, review):
    foreign = Concept.objects.create(project=factories.make_project(), name="Isolation")
    response = client_for(cast.student).get(URL, {"concept": foreign.pk})
    assert "Select a valid choice" in response.text
    assert client_for(cast.student).get(CSV_URL, {"concept": foreign.pk}).status_code == 400


def test_an_empty_project_explains_how_the_matrix_fills(cast, client_for):
    response = client_for(cast.student).get(URL)
    assert response.status_code == 200
    assert "No approved passages yet" in response.text
    assert "Browse the sources" in response.text
    assert "<table" not in response.text
    analyst = client_for(cast.analyst).get(URL, {"cols": "claims"})
    assert "No passages yet" in analyst.text and "Open a source" in analyst.text
    assert client_for(cast.student).get(CSV_URL).status_code == 200


def test_filters_that_keep_nothing_say_so(cast, client_for, review):
    response = client_for(cast.student).get(URL, {"type": "book"})
    assert "No source with passages approved matches these filters" in response.text


def test_the_csv_holds_every_row_of_the_filter_with_labels_and_totals(cast, client_for, review):
    review["withdrawal"].add_contributor(factories.make_person(cast.project, "Ahmed Faras"))
    review["withdrawal"].add_contributor(factories.make_person(cast.project, "-Second Author"))
    factories.make_concept(cast.project, '=HYPERLINK("http://evil.example")')
    for number in range(55):
        source = factories.make_source(cast.project, f"Extra {number:02d}", issued_year=2020)
        factories.make_annotation(source, cast.analyst, status="approved", reviewer=cast.supervisor)
    factories.make_annotation(
        factories.make_source(cast.project, "@SUM(A1:A9)", citation_key="-key"),
        cast.analyst,
        status="approved",
        reviewer=cast.supervisor,
    )
    response = client_for(cast.student).get(CSV_URL, {"per_page": "50", "page": "1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="review-matrix-concepts.csv"'
    rows = list(csv.reader(io.StringIO(response.getvalue().decode())))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["Citation key", "Title", "Authors", "Year", "Passages"]
    assert header[5:8] == ["Takfir", "Isolation", "Physical isolation"]
    assert '\'=HYPERLINK("http://evil.example")' in header
    assert len(body) == 2 + 55 + 1  # every row, not only the page
    by_title = {row[1]: row for row in body}
    withdrawal = by_title["Withdrawal from Society"]
    assert withdrawal[0] == review["withdrawal"].citation_key
    assert withdrawal[2:8] == ["Ahmed Faras; -Second Author", "2016", "2", "1", "1", "1"]
    assert by_title["'@SUM(A1:A9)"][0] == "'-key"


def test_the_csv_stops_at_its_row_limit_and_says_so(cast, client_for, review, monkeypatch):
    monkeypatch.setattr("apps.xref.views.matrix.CSV_ROW_LIMIT", 1)
    rows = list(csv.reader(io.StringIO(client_for(cast.student).get(CSV_URL).getvalue().decode())))
    assert len(rows) == 1 + 1 + 1
    assert rows[-1][1] == "1 more rows left out: an export holds 1 rows at most."
    assert CSV_ROW_LIMIT == 20_000


def test_the_matrix_cell_first_article_kaplan_links_to_exactly_the_passages_citing_kaplan(
    db, client_for
):
    project = load_seed_review().project
    client = client_for(User.objects.get(username="student"))
    response = client.get(f"/p/{project.slug}/matrix/", {"cols": "people", "limit": "200"})
    kaplan = next(c for c in response.context["matrix"].columns if c.label == "Jeffrey Kaplan")
    first = next(
        row for row in response.context["rows"] if row.source.citation_key == "faras2016withdrawal"
    )
    count = next(cell.count for cell in first.cells if cell.column == kaplan.pk)
    href = next(
        href
        for href, _ in cell_links(response)
        if parse_qs(urlsplit(href).query)
        == {"source": [str(first.source.pk)], "person": [str(kaplan.pk)]}
    )
    expected = set(
        Mention.objects.filter(
            person_id=kaplan.pk,
            annotation__source=first.source,
            annotation__status="approved",
            annotation__withdrawn_at__isnull=True,
        ).values_list("annotation_id", flat=True)
    )
    assert expected and count == len(expected)
    assert passages_listed(client, href) == expected


def test_query_count_does_not_grow(cast, assert_constant_queries):
    # Approved work, nothing narrowed (a student): read from the tallies.
    # 1 session, 2 user, 3 membership + project, 4 the codebook (form choices, concept columns),
    # 5 the concepts' tallies (the columns), 6 the project's tally (passages in all rows),
    # 7 how many sources have passages, 8 this page of them, 9 the page's sources, 10 their
    # authors, 11 the cells
    assert_constant_queries(cast.student, lambda: URL, 11)


def test_query_count_does_not_grow_for_an_analysts_own_work(cast, assert_constant_queries):
    # Counted, since an analyst's own unapproved passages are among the rows:
    # 1-4 as above, 5 passages per source (the rows), 6 the state of the data (cache key of the
    # columns), 7 passages per concept (the columns), 8 the page's sources, 9 their authors,
    # 10 the cells
    assert_constant_queries(cast.analyst, lambda: f"{URL}?scope=visible", 10)


@pytest.mark.parametrize("axis", ["people", "claims"])
def test_query_count_does_not_grow_with_people_or_claims_as_columns(
    cast, assert_constant_queries, axis
):
    # From the tallies: 1-4 as above, 5 the N largest tallies of the axis, 6 how many have
    # passages, 7 the project's tally, 8 how many sources have passages, 9 this page of them,
    # 10 the chosen people's names (or the claims' statements), 11 the page's sources, 12 their
    # authors, 13 the cells
    assert_constant_queries(cast.student, lambda: f"{URL}?cols={axis}", 13)
    # Counted (an analyst's own work): the concepts' count, with 8 the names before the sources
    assert_constant_queries(cast.analyst, lambda: f"{URL}?cols={axis}&scope=visible", 11)


def test_query_count_does_not_grow_when_sorted_by_title_or_filtered(cast, assert_constant_queries):
    # as for concepts, with the project's sources in title order after the rows; the filters
    # are part of the counts
    url = f"{URL}?sort=title&type=article-journal&year_min=1900&year_max=2030"
    assert_constant_queries(cast.student, lambda: url, 11)


def test_the_column_totals_are_counted_once_while_the_data_stays_the_same(
    cast, client_for, grow, django_assert_num_queries
):
    grow(3)
    client = client_for(cast.student)
    url = f"{URL}?year_min=1900"  # filtered: counted, not read from the tallies
    client.get(url)
    # The seventh query, passages per concept over every row, is kept until the data changes.
    with django_assert_num_queries(9):
        client.get(f"{url}&page=1&col_sort=name")


def test_the_csv_query_count_grows_only_by_chunks_of_rows(cast, client_for, grow):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    grow(27)
    client = client_for(cast.student)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CSV_URL)
        b"".join(response.streaming_content)
    # 1 session, 2 user, 3 membership + project, 4 the codebook, 5 the concepts' tallies, 6 the
    # project's tally, 7 how many rows; then per chunk of 2,000 rows: 8 the rows, 9 their
    # sources, 10 authors, 11 cells
    assert len(queries) == 11


def test_annotations_of_withdrawn_passages_are_not_counted(cast, client_for, review):
    first = review["approved"][0]
    first.transition(ReviewAction.WITHDRAW, by=cast.supervisor)
    assert Annotation.objects.get(pk=first.pk).is_withdrawn
    response = client_for(cast.supervisor).get(URL, {"scope": "visible"})
    assert grid(response)[("Withdrawal from Society", "Isolation")] == 0

"""The results page: its query budget, facets, pages, snippets and links, and bad input."""

import pytest
from django.urls import reverse

from apps.annotations.models import Status
from apps.search.models import Kind
from apps.search.query import MAX_QUERY_LENGTH
from apps.search.results import OVERVIEW_HITS, PAGE_SIZE, SOURCE_PAGE_SIZE
from tests import factories
from tests.search.conftest import counts, facet, found


def url(project, **params) -> str:
    path = reverse("search:search", args=[project.slug])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


@pytest.mark.parametrize("role", ["student", "analyst"])
def test_results_are_grouped_by_kind_in_a_fixed_number_of_queries(
    cast, assert_constant_queries, role
):
    def one_of_each_kind():
        # The generated corpus draws its words from a small vocabulary: make sure every kind
        # has a hit, so that every query below is made.
        source = factories.make_source(cast.project, title="Violence in the camps")
        factories.make_annotation(
            source, cast.analyst, quote="Violence.", status=Status.APPROVED,
            reviewer=cast.supervisor, claims=[factories.make_claim(cast.project, "Violence")],
            concepts=[factories.make_concept(cast.project, "Violence")],
            people=[factories.make_person(cast.project, "Violence Studies Group")],
        )  # fmt: skip

    # 1. session  2. user  3. membership and project
    # 4. candidates of every kind with their counts, facet counts and the hits to show
    # 5. snippets of the hits
    # 6. passages shown, with their sources  7. their places on their sources' pages
    # 8. claims shown, with their evidence counts
    # 9. sources shown  10. their contributors
    # 11. people shown  12. their name variants
    # 13. concepts shown
    # 14-16. names of the concepts, people and analysts in the facets
    user = cast.members()[role]
    assert_constant_queries(
        user, lambda: url(cast.project, q="violence"), 16, before=one_of_each_kind
    )


def test_one_kind_page_by_page_in_the_same_budget(cast, assert_constant_queries):
    # 1. session  2. user  3. membership and project
    # 4. candidates, counts, facets and this page's hits  5. snippets
    # 6. passages shown  7. their places on their sources' pages
    # 8-10. names of the concepts, people and analysts in the facets
    assert_constant_queries(
        cast.supervisor, lambda: url(cast.project, q="violence", kind="passage", page=2), 10
    )


def test_a_kind_is_listed_page_by_page(cast, grow, search):
    grow(3)
    response = search(cast.supervisor, cast.project, q="violence", kind="passage")
    section = response.context["section"]
    assert len(section.hits) == PAGE_SIZE and section.count > PAGE_SIZE
    second = search(cast.supervisor, cast.project, q="violence", kind="passage", page=2)
    assert not {h.object_id for h in section.hits} & {
        h.object_id for h in second.context["section"].hits
    }
    assert response.context["section"].kind == Kind.PASSAGE
    assert {h.kind for h in response.context["results"].hits} == {Kind.PASSAGE}
    overview = search(cast.supervisor, cast.project, q="violence")
    assert all(len(s.hits) <= OVERVIEW_HITS for s in overview.context["results"].sections.values())
    assert Kind.SOURCE in overview.context["results"].sections


def test_facets_count_their_values_and_narrow_the_results(cast, search):
    project = cast.project
    book = factories.make_source(project, title="Camps", csl_type="book", issued_year=1999)
    report = factories.make_source(project, title="Report", csl_type="report", issued_year=2011)
    concept = factories.make_concept(project, "Sanctuary")
    qutb = factories.make_person(project, "Sayyid Qutb")
    made = [
        factories.make_annotation(
            source,
            cast.analyst,
            quote=f"Safe haven number {n}.",
            status=Status.APPROVED,
            reviewer=cast.supervisor,
            concepts=[concept] if n % 2 else [],
            people=[qutb] if n < 2 else [],
        )  # fmt: skip
        for n, source in enumerate([book, book, report, report, report])
    ]
    response = search(cast.student, project, q="haven")
    assert facet(response, "type") == {"book": 2, "report": 3}
    assert facet(response, "decade") == {"1990": 2, "2010": 3}
    assert facet(response, "concept") == {str(concept.pk): 2}
    assert facet(response, "person") == {str(qutb.pk): 2}
    page = response.content.decode()
    assert "Book chapter" not in page and "Book <" not in page  # labels, not raw values
    assert "Sanctuary" in page and "Sayyid Qutb" in page

    narrowed = search(cast.student, project, q="haven", type="report", concept=concept.pk)
    assert found(narrowed, Kind.PASSAGE) == [made[3]]
    citing = search(cast.student, project, q="haven", person=qutb.pk)
    assert set(found(citing, Kind.PASSAGE)) == set(made[:2])
    years = search(cast.student, project, q="haven", year_min=2000, year_max=2020)
    assert counts(years) == {Kind.PASSAGE: 3}
    mine = search(cast.supervisor, project, q="haven", analyst=cast.analyst.pk, status="approved")
    assert counts(mine) == {Kind.PASSAGE: 5}
    # Every facet value links to its narrowing, keeping the search.
    links = {o.label: o.url for f in response.context["facets"] for o in f.options}
    assert links["Report"] == "?q=haven&type=report"
    assert links["1990s"] == "?q=haven&year_min=1990&year_max=1999"


def test_facet_values_that_do_not_parse_show_their_error_and_no_results(cast, search):
    elsewhere = factories.make_concept(factories.make_project(), "Not here")
    for params in [
        {"concept": elsewhere.pk},
        {"concept": "x"},
        {"year_min": "soon"},
        {"year_min": 2020, "year_max": 1990},
        {"type": "poem"},
        {"kind": "everything"},
        {"page": "0"},
        {"page": 10**12},
    ]:
        response = search(cast.student, cast.project, q="haven", **params)
        assert "results" not in response.context, params
        assert "No results" in response.content.decode(), params
    # Students choose no status: the parameter means nothing to them.
    response = search(cast.student, cast.project, q="haven", status="draft")
    assert "status" not in response.context["filter"].filters


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "the of and",
        "*** ::: ^^^",
        '"unbalanced quote',
        '"',
        "-only -excluded",
        "NEAR(chain takfir) OR chain*",
        "title:x AND body:y",
        "chain' OR '1'='1'; --",
        "x" * 5000,
        "word " * 400,
        "<script>alert(1)</script>",
        "ʿabd ʾal-ḥaqq ＂wide quotes＂",
        "السوري",
        "%_\\",
    ],
)
def test_bad_input_gets_a_helpful_answer_never_an_error(cast, search, typed):
    factories.make_source(cast.project, title="Ultra-extremists and chain takfir")
    for user in (cast.student, cast.supervisor):
        response = search(user, cast.project, q=typed)
        assert response.status_code == 200
    query = response.context["query"]
    assert query or query.notices
    assert len(query.text) <= MAX_QUERY_LENGTH


def test_long_queries_are_cut_and_the_page_says_so(cast, search):
    response = search(cast.student, cast.project, q="withdrawal " * 50)
    assert "only its beginning was searched for" in response.content.decode()


def test_a_nul_character_is_refused_before_any_search(cast, client_for):
    response = client_for(cast.student).get(url(cast.project), {"q": "a\x00b"})
    assert response.status_code == 400


def test_snippets_escape_everything_but_their_marks(cast, search):
    source = factories.make_source(cast.project, title="<img src=x onerror=alert(1)> Camps")
    factories.make_annotation(
        source,
        cast.analyst,
        quote='Camps <script>alert("q")</script> & "refuge" \ue001</mark><b>',
        note="<a href=javascript:alert(1)>camps</a>",
        status=Status.APPROVED,
        reviewer=cast.supervisor,
    )
    page = search(cast.student, cast.project, q="camps").content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;q&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; <mark>Camps</mark>" in page
    assert "<mark>Camps</mark> &lt;script&gt;" in page
    assert "<a href=javascript" not in page
    assert page.count("<mark>") == page.count("</mark>")


def test_a_note_snippet_shows_the_text_its_markdown_reads_as(cast, search):
    source = factories.make_source(cast.project)
    factories.make_annotation(
        source,
        cast.analyst,
        quote="Withdrawal from society.",
        note="Defines **chain takfir**, after [al-Hazimi](https://example.org/h) & *others*.",
        status=Status.APPROVED,
        reviewer=cast.supervisor,
    )
    page = search(cast.student, cast.project, q="takfir").content.decode()
    note = page.split('class="hit__note"')[1].split("</p>")[0]
    # Each backend cuts its own snippet (PostgreSQL may end it inside the emphasis).
    assert "Defines chain <mark>takfir</mark>, after al-Hazimi &amp; " in note
    assert "*" not in note and "](https://example.org" not in note


def test_a_passage_links_to_its_place_on_its_sources_page(cast, search, client_for):
    source = factories.make_source(cast.project)
    passages = [
        factories.make_annotation(
            source,
            cast.analyst,
            quote=f"Passage {n} of many.",
            start=n * 10,
            end=n * 10 + 5,
            status=Status.APPROVED,
            reviewer=cast.supervisor,
        )  # fmt: skip
        for n in range(SOURCE_PAGE_SIZE + 3)
    ]
    last = passages[-1]
    # A draft placed before them all: students do not see it, so it moves nothing for them.
    factories.make_annotation(source, cast.analyst, quote="Unseen passage.", start=2, end=3)
    hit = (
        search(cast.student, cast.project, q=f'"Passage {len(passages) - 1} of"')
        .context["results"]
        .sections[Kind.PASSAGE]
        .hits[0]
    )
    assert hit.item == last
    assert hit.url == f"/p/{cast.project.slug}/sources/{source.pk}/?page=2#annotation-{last.pk}"
    source_page = client_for(cast.student).get(hit.url.split("#")[0]).content.decode()
    assert f'id="annotation-{last.pk}"' in source_page
    first = search(cast.student, cast.project, q='"Passage 0 of"').context["results"]
    assert (
        first.sections[Kind.PASSAGE]
        .hits[0]
        .url.endswith(f"/sources/{source.pk}/#annotation-{passages[0].pk}")
    )


def test_every_project_page_has_the_search_box(cast, client_for):
    source = factories.make_source(cast.project)
    for path in [
        f"/p/{cast.project.slug}/",
        f"/p/{cast.project.slug}/sources/",
        f"/p/{cast.project.slug}/sources/{source.pk}/",
        f"/p/{cast.project.slug}/members/",
    ]:
        page = client_for(cast.student).get(path).content.decode()
        assert f'action="{url(cast.project)}"' in page, path
        assert (
            '<label for="project-search-q" class="visually-hidden">Search this project</label>'
            in page
        )
    results = client_for(cast.student).get(url(cast.project, q="haven")).content.decode()
    assert 'value="haven"' in results


def test_the_page_explains_the_syntax_before_anything_is_typed(cast, search):
    response = search(cast.student, cast.project)
    page = response.content.decode()
    assert "How to search" in page and '<details class="search-syntax" open>' in page
    assert "results" not in response.context and "search-notices" not in page
    # An empty search, though, is answered.
    assert "Type a word" in search(cast.student, cast.project, q="").content.decode()


def test_a_kind_without_results_says_so_and_keeps_the_other_kinds(cast, search):
    factories.make_source(cast.project, title="Desert sanctuaries")
    response = search(cast.student, cast.project, q="desert", kind="claim")
    page = response.content.decode()
    assert "No claims" in page and "the others above have some" in page
    assert [option.label for option in response.context["kinds"]] == ["All results", "Sources"]


def test_the_year_form_keeps_the_search_and_the_other_facets(cast, search):
    factories.make_source(cast.project, title="Desert sanctuaries", csl_type="book")
    page = search(cast.student, cast.project, q="desert", type="book", page=1).content.decode()
    assert '<input type="hidden" name="q" value="desert">' in page
    assert '<input type="hidden" name="type" value="book">' in page
    assert 'name="page"' not in page

"""Finding the duplicates of a bibliography and merging them into the source kept."""

import pytest

from apps.annotations.anchoring import Haystack, replace_text
from apps.annotations.models import AnchorState, Annotation, Mention
from apps.claims.models import Claim
from apps.library.models import Source
from tests import factories

PAGE = "/p/review/sources/duplicates/"
MERGE = "/p/review/sources/duplicates/merge/"


@pytest.fixture
def twins(cast):
    """The same article recorded twice, each with passages, and a third record by ISBN."""
    project = cast.project
    kept = factories.make_source(
        project, "Bloody Moments", citation_key="kept", issued_year=2017, full_text="Some text."
    )
    gone = factories.make_source(
        project,
        "bloody moments!",
        citation_key="gone",
        issued_year=2017,
        volume="40",
        extra={"bibtex": {"fields": {"keywords": "takfir"}}},
        full_text="Some text.",
    )
    author = factories.make_person(project, "Vera Mironova", family="Mironova")
    kept.add_contributor(author)
    gone.add_contributor(factories.make_person(project, "Véra Mironova", family="Mironová"))
    gone.add_contributor(factories.make_person(project, "Ed Itor", family="Itor"), role="editor")
    gone.add_identifier("doi", "10.1000/bloody")
    claim = factories.make_claim(project)
    approved = factories.make_annotation(
        gone, cast.analyst, status="approved", reviewer=cast.supervisor, claims=[claim]
    )
    citing_source = factories.make_source(project, "Citing", citation_key="citing")
    citing = factories.make_annotation(citing_source, cast.analyst)
    Mention.objects.create(annotation=citing, person=author, work=gone)
    Mention.objects.create(annotation=citing, person=author, work=kept)
    other = factories.make_person(project, "Someone Else")
    Mention.objects.create(annotation=citing, person=other, work=gone)
    book1 = factories.make_source(project, "A book", citation_key="book1", csl_type="book")
    book1.add_identifier("isbn", "0-306-40615-2")
    book2 = factories.make_source(
        project, "The same book, other title", citation_key="book2", csl_type="book"
    )
    book2.add_identifier("isbn", "9780306406157")
    return {"kept": kept, "gone": gone, "approved": approved, "claim": claim, "citing": citing}


def test_the_duplicates_page_groups_sources_by_work_and_identifier(cast, client_for, twins):
    page = client_for(cast.analyst).get(PAGE)
    assert page.status_code == 200
    assert "2 groups of duplicates" in page.text
    assert page.text.index("Bloody Moments") < page.text.index("bloody moments!")
    assert "The same book, other title" in page.text
    assert client_for(cast.student).get(PAGE).status_code == 403


def test_merging_moves_passages_citations_contributors_identifiers_and_details(
    cast, client_for, twins
):
    kept, gone = twins["kept"], twins["gone"]
    before = Claim.objects.get(pk=twins["claim"].pk).approved_evidence
    response = client_for(cast.analyst).post(
        MERGE, {"keep": kept.pk, "sources": [kept.pk, gone.pk]}
    )
    assert response.status_code == 302
    assert not Source.objects.filter(pk=gone.pk).exists()
    kept.refresh_from_db()
    assert twins["approved"] in Annotation.objects.filter(source=kept)
    assert kept.volume == "40" and kept.title == "Bloody Moments"
    assert kept.extra == {"bibtex": {"fields": {"keywords": "takfir"}}}
    assert list(kept.identifiers.values_list("value", flat=True)) == ["10.1000/bloody"]
    assert sorted(kept.contributors.values_list("role", "person__display_name", "position")) == [
        ("author", "Vera Mironova", 1),
        ("author", "Véra Mironova", 2),
        ("editor", "Ed Itor", 1),
    ]
    # The passage citing both records keeps one mention of the work per person.
    assert sorted(
        Mention.objects.filter(annotation=twins["citing"]).values_list(
            "person__display_name", "work"
        )
    ) == [("Someone Else", kept.pk), ("Vera Mironova", kept.pk)]
    assert Claim.objects.get(pk=twins["claim"].pk).approved_evidence == before
    assert kept.version == 2


def test_a_merge_is_refused_without_a_source_to_keep_and_across_projects(cast, client_for, twins):
    client = client_for(cast.analyst)
    elsewhere = factories.make_source(factories.make_project(), "Elsewhere", citation_key="x")
    for data in (
        {"keep": twins["kept"].pk, "sources": [twins["gone"].pk]},
        {"keep": twins["kept"].pk, "sources": [twins["kept"].pk]},
        {"keep": twins["kept"].pk, "sources": [twins["kept"].pk, elsewhere.pk]},
        {"keep": "x", "sources": ["y"]},
    ):
        assert client.post(MERGE, data).status_code == 302
    assert Source.objects.filter(pk__in=[twins["gone"].pk, elsewhere.pk]).count() == 2
    assert (
        client_for(cast.student)
        .post(MERGE, {"keep": twins["kept"].pk, "sources": [twins["kept"].pk, twins["gone"].pk]})
        .status_code
        == 403
    )
    assert Source.objects.filter(pk=twins["gone"].pk).exists()


def test_passages_merged_onto_another_text_are_anchored_in_it(cast):
    kept = factories.make_source(cast.project, "A")
    replace_text(kept, "Intro. The quoted words. End.", by=cast.analyst, origin="pasted")
    gone = factories.make_source(cast.project, "A")
    replace_text(gone, "The quoted word.", by=cast.analyst, origin="pasted")
    replace_text(gone, "The quoted words.", by=cast.analyst, origin="pasted")
    passage = factories.make_annotation(gone, cast.analyst, quote="quoted words")
    passage.apply_anchor_at(Haystack(gone.full_text), 4, 16, gone.text_version)
    passage.save()
    assert (passage.anchor_state, passage.anchored_version) == (AnchorState.EXACT, 2)
    gone.merge_into(kept)
    passage.refresh_from_db()
    assert passage.source == kept
    assert kept.full_text[passage.start : passage.end] == "quoted words"
    assert passage.anchor_state == AnchorState.MOVED and passage.anchored_version == 1


def test_a_source_without_text_takes_the_others_text_with_its_versions(cast):
    kept = factories.make_source(cast.project, "A")
    gone = factories.make_source(cast.project, "A")
    replace_text(gone, "First words.", by=cast.analyst, origin="pasted")
    replace_text(gone, "Corrected words here.", by=cast.analyst, origin="pasted")
    passage = factories.make_annotation(gone, cast.analyst, quote="words here")
    passage.anchor_in(gone.full_text, gone.text_version)
    passage.save()
    gone.merge_into(kept)
    kept.refresh_from_db()
    passage.refresh_from_db()
    assert kept.full_text == "Corrected words here." and kept.text_version == 2
    assert list(kept.texts.order_by("version").values_list("version", "text")) == [
        (1, "First words."),
        (2, "Corrected words here."),
    ]
    assert (passage.source, passage.anchored_version) == (kept, 2)
    assert kept.full_text[passage.start : passage.end] == "words here"


def test_duplicates_page_queries_do_not_grow_with_the_bibliography(
    cast, assert_constant_queries, twins
):
    # 1 session, 2 user, 3 membership with project, 4 sources' titles and years,
    # 5 first authors, 6 DOIs and ISBNs, 7 the page's sources with counts, 8 contributors,
    # 9 identifiers
    assert_constant_queries(cast.analyst, lambda: PAGE, 9)


@pytest.mark.parametrize(
    "data",
    [
        {"keep": "99999999999999999999", "sources": ["99999999999999999999", "1"]},
        {"keep": "1", "sources": ["-99999999999999999999"]},
        {"keep": "1e5", "sources": ["1.5", "abc"]},
    ],
)
def test_ids_beyond_the_databases_range_are_refused_with_a_message(cast, client_for, data):
    source = factories.make_source(cast.project)
    data = {
        key: [v.replace("1", str(source.pk)) if v == "1" else v for v in value]
        if isinstance(value, list)
        else value
        for key, value in data.items()
    }
    response = client_for(cast.supervisor).post(
        "/p/review/sources/duplicates/merge/", data, follow=True
    )
    assert response.status_code == 200
    assert "Nothing merged" in response.text
    assert Source.objects.filter(pk=source.pk).exists()

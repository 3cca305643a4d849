"""Searching the seed review, and what each member may find."""

import pytest

from apps.accounts.models import User
from apps.annotations.models import Annotation, ReviewAction, Status
from apps.claims.models import Claim, Concept
from apps.library.models import Source
from apps.people.models import Person
from apps.search.models import Kind
from tests import factories
from tests.search.conftest import counts, facet, found


def member(username: str) -> User:
    return User.objects.get(username=username)


def test_chain_takfir_finds_the_passage_of_the_second_article_that_defines_it(seed, search):
    response = search(member("student"), seed, q="chain takfir")
    passages = found(response, Kind.PASSAGE)
    # The approved one: the seed's double-coded round has coded ¶4 again (withdrawn since, and
    # merged into a passage waiting for review).
    defining = Annotation.objects.get(
        project=seed, source__citation_key="mironova2017bloody", locator="¶4", status="approved"
    )
    assert defining in passages
    assert all(p.source.citation_key == "mironova2017bloody" for p in passages)
    # The other kinds that speak of it are found too.
    assert Concept.objects.get(project=seed, name="Chain takfir") in found(response, Kind.CONCEPT)
    assert any("chain takfir" in c.statement for c in found(response, Kind.CLAIM))
    assert Source.objects.get(citation_key="mironova2017bloody") in found(response, Kind.SOURCE)


@pytest.mark.parametrize("typed", ["Suri", "as-Suri", "al-Suri", "Sūrī", "SURI"])
def test_any_spelling_of_suri_finds_him_and_the_passages_citing_him(seed, search, typed):
    suri = Person.objects.get(project=seed, display_name="Abu Musab al-Suri")
    response = search(member("student"), seed, q=typed)
    assert found(response, Kind.PERSON) == [suri]
    citing = set(
        Annotation.objects.filter(mentions__person=suri, status=Status.APPROVED).distinct()
    )
    assert citing and citing <= set(found(response, Kind.PASSAGE))
    page = response.content.decode()
    assert "<mark>Abu Musab al-Suri</mark>" in page
    assert "al-<mark>Suri</mark>" in page


def test_a_phrase_matches_the_words_side_by_side_only(seed, search):
    student = member("student")
    words = set(found(search(student, seed, q="takfir ISIS"), Kind.PASSAGE))
    phrase = set(found(search(student, seed, q='"ISIS takfir"'), Kind.PASSAGE))
    reversed_phrase = set(found(search(student, seed, q='"takfir ISIS"'), Kind.PASSAGE))
    assert not phrase and not reversed_phrase  # both words occur, never side by side
    assert words
    adjacent = set(found(search(student, seed, q='"chain takfir"'), Kind.PASSAGE))
    assert adjacent and all("chain takfir" in f"{a.quote} {a.note}".lower() for a in adjacent)


def test_an_excluded_word_leaves_out_what_contains_it(seed, search):
    student = member("student")
    takfir = set(found(search(student, seed, q="takfir ", kind="passage"), Kind.PASSAGE))
    without = set(found(search(student, seed, q="takfir -chain", kind="passage"), Kind.PASSAGE))
    assert without and without < takfir
    assert all("chain" not in f"{a.quote} {a.note}".lower() for a in without)
    assert all("chain" in f"{a.quote} {a.note}".lower() for a in takfir - without)


def test_case_and_accents_do_not_matter(seed, search):
    student = member("student")
    plain = counts(search(student, seed, q="isolationist takfiri"))
    assert plain
    assert counts(search(student, seed, q="ISOLATIONIST TAKFĪRI")) == plain
    assert counts(search(student, seed, q="isolatiönist tâkfiri")) == plain


def test_the_last_word_finds_the_words_it_begins(seed, search):
    student = member("student")
    typed = found(search(student, seed, q="excommunica"), Kind.PASSAGE)
    assert typed and all("excommunica" in f"{a.quote} {a.note}".lower() for a in typed)
    assert not found(search(student, seed, q="excommunica "), Kind.PASSAGE)


def test_students_never_find_unapproved_passages_in_the_seed(seed, search):
    student = member("student")
    unapproved = Annotation.objects.filter(project=seed, withdrawn_at__isnull=True).exclude(
        status=Status.APPROVED
    )
    # The fixture's five, and the two complete agreements of its double-coded round, merged
    # and waiting for review.
    assert unapproved.count() == 7
    for annotation in unapproved:
        words = " ".join(annotation.quote.split()[:6])
        shown = found(search(student, seed, q=f'"{words}"'), Kind.PASSAGE)
        assert annotation not in shown
        assert annotation in found(search(member("supervisor"), seed, q=f'"{words}"'), Kind.PASSAGE)


@pytest.fixture
def hidden_work(cast):
    """Approved and unapproved passages sharing a rare word, coded with the same concept."""
    project = cast.project
    source = factories.make_source(project, csl_type="book", issued_year=2015)
    other = factories.make_source(project, csl_type="report", issued_year=2003)
    concept = factories.make_concept(project, name="Hijra")
    person = factories.make_person(project, "Shukri Mustafa")
    approved = factories.make_annotation(
        source,
        cast.analyst,
        quote="Emigration as hijra, said the zanzibarite.",
        status=Status.APPROVED,
        reviewer=cast.supervisor,
        concepts=[concept],
        people=[person],
    )
    drafts = [
        factories.make_annotation(
            other,
            author,
            quote=f"Hijra again, {status} zanzibarite.",
            status=status,
            reviewer=cast.supervisor,
            concepts=[concept],
            people=[person],
            claims=[factories.make_claim(project, "Zanzibarite claim without approval")],
        )  # fmt: skip
        for author, status in [
            (cast.analyst, Status.DRAFT),
            (cast.analyst2, Status.SUBMITTED),
            (cast.analyst2, Status.REJECTED),
        ]
    ]
    return {"approved": approved, "drafts": drafts, "concept": concept, "person": person}


def test_students_see_no_unapproved_results_or_counts(cast, hidden_work, search):
    response = search(cast.student, cast.project, q="zanzibarite")
    assert found(response, Kind.PASSAGE) == [hidden_work["approved"]]
    assert counts(response) == {Kind.PASSAGE: 1}  # nor the claim backed by drafts only
    concept, person = hidden_work["concept"], hidden_work["person"]
    assert facet(response, "concept") == {str(concept.pk): 1}
    assert facet(response, "person") == {str(person.pk): 1}
    assert facet(response, "type") == {"book": 1}
    assert facet(response, "decade") == {"2010": 1}
    assert facet(response, "analyst") == {str(cast.analyst.pk): 1}
    assert "status" not in response.context["results"].facets
    assert "status" not in response.context["filter"].filters
    page = response.content.decode()
    assert "again" not in page and "Review status" not in page


def test_supervisors_see_everything_but_withdrawn_work(cast, hidden_work, search):
    response = search(cast.supervisor, cast.project, q="zanzibarite")
    assert counts(response) == {Kind.PASSAGE: 4, Kind.CLAIM: 3}
    assert facet(response, "status") == {
        "approved": 1, "draft": 1, "submitted": 1, "rejected": 1,
    }  # fmt: skip
    assert facet(response, "concept") == {str(hidden_work["concept"].pk): 4}


def test_analysts_see_approved_work_and_their_own(cast, hidden_work, search):
    mine = {hidden_work["approved"], hidden_work["drafts"][0]}
    assert set(found(search(cast.analyst, cast.project, q="zanzibarite"), Kind.PASSAGE)) == mine
    theirs = {hidden_work["approved"], *hidden_work["drafts"][1:]}
    assert set(found(search(cast.analyst2, cast.project, q="zanzibarite"), Kind.PASSAGE)) == theirs
    # The claims have no approved evidence: analysts see them as the claim list does.
    assert counts(search(cast.analyst, cast.project, q="zanzibarite claim"))[Kind.CLAIM] == 3


def test_the_approved_only_scope_hides_ones_own_drafts(cast, hidden_work, search):
    response = search(cast.analyst, cast.project, q="zanzibarite", scope="approved")
    assert counts(response) == {Kind.PASSAGE: 1}
    assert "status" not in response.context["filter"].filters


def test_outsiders_find_nothing_of_another_project(cast, hidden_work, search):
    elsewhere = factories.make_project(slug="elsewhere-too")
    factories.add_member(elsewhere, cast.supervisor, "supervisor")
    assert counts(search(cast.supervisor, elsewhere, q="zanzibarite")) == {}


def test_a_claim_appears_to_students_once_approved_evidence_backs_it(cast, search):
    claim = factories.make_claim(cast.project, "Quietism grows in the camps")
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, claims=[claim])
    assert counts(search(cast.student, cast.project, q="quietism")) == {}
    annotation.transition(ReviewAction.SUBMIT, by=cast.analyst)
    annotation.transition(ReviewAction.APPROVE, by=cast.supervisor)
    assert found(search(cast.student, cast.project, q="quietism"), Kind.CLAIM) == [claim]


def test_claims_backed_by_drafts_only_stay_hidden_from_students(cast, hidden_work, search):
    assert Claim.objects.filter(statement__contains="Zanzibarite").count() == 3
    assert counts(search(cast.student, cast.project, q="zanzibarite claim")) == {}

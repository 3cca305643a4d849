"""The index follows every write: edits, imports, merges, withdrawals, deletes; and rebuilds."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from apps.annotations.models import Annotation, ReviewAction, Status
from apps.claims.models import Claim
from apps.library.models import Source
from apps.people.models import NameVariant, Person
from apps.search.maintenance import install
from apps.search.models import Document, Kind
from tests import factories
from tests.search.conftest import counts, facet, found


@pytest.fixture
def passage(cast):
    source = factories.make_source(cast.project, csl_type="book", issued_year=1995)
    return factories.make_annotation(
        source,
        cast.analyst,
        quote="Withdrawal to the desert of the mountains.",
        note="About *hijra* and the caves.",
        status=Status.APPROVED,
        reviewer=cast.supervisor,
    )


def test_every_kind_of_row_is_indexed_as_it_is_saved(cast, passage):
    factories.make_claim(cast.project, "Isolation breeds violence")
    factories.make_concept(cast.project, "Fifth wave", definition="Kaplan's new tribalism")
    factories.make_person(cast.project, "Jeffrey Kaplan")
    assert dict(Document.objects.values_list("kind", "lead")) == {
        "passage": "Withdrawal to the desert of the mountains.",
        "source": passage.source.title,
        "claim": "Isolation breeds violence",
        "concept": "Fifth wave",
        "person": "jefrey kaplan",  # its search key: doubled letters single
    }
    document = Document.objects.get(kind=Kind.PASSAGE)
    assert (document.source_id, document.csl_type, document.year) == (
        passage.source_id, "book", 1995,
    )  # fmt: skip
    assert (document.status, document.author_id, document.body) == (
        "approved", cast.analyst.pk, "About *hijra* and the caves.",
    )  # fmt: skip


def test_an_edit_replaces_the_old_words(cast, passage, search):
    annotation = Annotation.objects.get(pk=passage.pk)
    annotation.transition(ReviewAction.REOPEN, by=cast.supervisor, reason="other", comment="x")
    factories.revise(annotation, cast.analyst, quote="Endurance while weak.", note="")
    assert not counts(search(cast.supervisor, cast.project, q="desert"))
    assert found(search(cast.supervisor, cast.project, q="endurance"), Kind.PASSAGE) == [passage]
    assert not counts(search(cast.supervisor, cast.project, q="caves"))


def test_queryset_updates_are_followed(cast, search):
    claim = factories.make_claim(cast.project, "Isolation breeds violence")
    Claim.objects.filter(pk=claim.pk).update(statement="Isolation breeds crime")
    assert not counts(search(cast.supervisor, cast.project, q="violence"))
    assert found(search(cast.supervisor, cast.project, q="crime"), Kind.CLAIM) == [claim]


def test_imports_with_bulk_create_are_indexed(cast, search):
    sources = Source.objects.bulk_create(
        Source(
            project=cast.project,
            citation_key=f"imp{n}",
            title=f"Imported smuggling {n}",
            csl_type="report",
            issued_year=2001 + n,
        )
        for n in range(3)
    )
    Annotation.objects.bulk_create(
        Annotation(
            project=cast.project,
            source=source,
            author=cast.analyst,
            quote="Smuggling routes.",
            locator="p. 1",
            status=Status.APPROVED,
        )
        for source in sources
    )
    response = search(cast.student, cast.project, q="smuggling")
    assert counts(response) == {Kind.PASSAGE: 3, Kind.SOURCE: 3}
    assert facet(response, "type") == {"report": 6}
    assert facet(response, "decade") == {"2000": 6}


def test_merging_sources_moves_their_passages_in_the_index(cast, passage, search):
    kept = factories.make_source(cast.project, csl_type="report", issued_year=2016)
    # What a merge does to the passages of the source it removes.
    Annotation.objects.filter(source=passage.source).update(source=kept)
    passage.source.delete()
    response = search(cast.student, cast.project, q="desert")
    assert counts(response) == {Kind.PASSAGE: 1}
    assert facet(response, "type") == {"report": 1}
    assert facet(response, "decade") == {"2010": 1}
    hit = response.context["results"].sections[Kind.PASSAGE].hits[0]
    assert hit.url.startswith(f"/p/{cast.project.slug}/sources/{kept.pk}/")


def test_a_sources_type_and_year_follow_it_to_its_passages(cast, passage, search):
    Source.objects.filter(pk=passage.source_id).update(csl_type="thesis", issued_year=1971)
    response = search(cast.student, cast.project, q="desert", kind="passage")
    assert facet(response, "type") == {"thesis": 1}
    assert facet(response, "decade") == {"1970": 1}
    assert counts(search(cast.student, cast.project, q="desert", type="book")) == {}


def test_merging_people_moves_their_names(cast, search):
    kept = factories.make_person(cast.project, "Abu Musab al-Suri")
    twin = factories.make_person(cast.project, "Mustafa Setmariam Nasar")
    twin.add_variant("Umar Abd al-Hakim")
    NameVariant.objects.filter(person=twin).update(person=kept)
    twin.delete()
    assert found(search(cast.student, cast.project, q="Hakim"), Kind.PERSON) == [kept]
    assert not counts(search(cast.student, cast.project, q="Setmariam"))


def test_names_and_variants_follow_edits(cast, search):
    person = factories.make_person(cast.project, "Abu Bakr Naji")
    person.set_variants(["Muhammad Khalil al-Hakaymah"])
    assert found(search(cast.student, cast.project, q="Hakaymah"), Kind.PERSON) == [person]
    person.display_name = "Abu Bakr Naaji"
    person.save()
    assert found(search(cast.student, cast.project, q="Naji"), Kind.PERSON) == [person]
    person.set_variants([])
    assert not counts(search(cast.student, cast.project, q="Hakaymah"))


def test_a_withdrawn_annotation_disappears_for_everyone(cast, passage, search):
    passage.transition(ReviewAction.WITHDRAW, by=cast.supervisor)
    for user in (cast.supervisor, cast.analyst, cast.student):
        assert not counts(search(user, cast.project, q="desert")), user
    passage.transition(ReviewAction.RESTORE, by=cast.supervisor)
    assert counts(search(cast.student, cast.project, q="desert")) == {Kind.PASSAGE: 1}


def test_approval_and_reopening_change_what_students_find(cast, passage, search):
    passage.transition(ReviewAction.REOPEN, by=cast.supervisor, reason="other", comment="x")
    assert not counts(search(cast.student, cast.project, q="desert"))
    assert counts(search(cast.analyst, cast.project, q="desert")) == {Kind.PASSAGE: 1}


def test_deleted_rows_leave_the_index(cast, search):
    source = factories.make_source(cast.project, title="Fragmentation of the movement")
    person = factories.make_person(cast.project, "Hilmi Hashimi")
    concept = factories.make_concept(cast.project, "Fragmentation")
    source.delete()
    person.delete()
    concept.delete()
    assert not counts(search(cast.student, cast.project, q="fragmentation"))
    assert not counts(search(cast.student, cast.project, q="Hashimi"))
    assert not Document.objects.exists()


def test_the_rebuild_command_restores_a_lost_index(cast, passage, search):
    Document.objects.all().delete()
    assert not counts(search(cast.student, cast.project, q="desert"))
    out = StringIO()
    call_command("rebuild_search_index", stdout=out)
    assert "1 passages" in out.getvalue() and "1 sources" in out.getvalue()
    response = search(cast.student, cast.project, q="desert")
    assert counts(response) == {Kind.PASSAGE: 1}
    assert facet(response, "type") == {"book": 1}


def test_installing_again_changes_nothing_when_all_is_in_place(cast, passage):
    assert install() is False
    assert Document.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite rebuilds tables to alter them")
def test_a_migration_that_rebuilds_an_indexed_table_still_runs(transactional_db, django_user_model):
    """Django alters a SQLite table by building a new one and renaming it; triggers that named
    another table would make SQLite refuse the rename."""
    project = factories.make_project()
    author = factories.make_user("author")
    source = factories.make_source(project, title="Before the migration")
    factories.make_annotation(source, author, quote="Caves and mountains.")
    for model in (Source, Annotation, Person, NameVariant, Claim):
        with connection.schema_editor() as editor:
            editor._remake_table(model)
    # The remade tables lost their triggers; after the migration they are back, and what
    # changed meanwhile is indexed again.
    Source.objects.filter(pk=source.pk).update(title="During the migration")
    assert install() is True
    assert Document.objects.get(kind=Kind.SOURCE).lead == "During the migration"
    factories.make_source(project, title="After the migration")
    assert Document.objects.filter(kind=Kind.SOURCE, lead="After the migration").exists()

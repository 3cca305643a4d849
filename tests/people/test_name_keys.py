"""The strict key people are matched by never joins names that differ by a letter; the
search key finds Latin letters without a decomposition (ł, ø, đ, ß, æ, œ, ı) from their
ASCII spellings."""

import pytest
from django.urls import reverse

from apps.people.models import NameVariant, Person
from apps.people.names import match_key, normalise_name
from apps.search.models import Kind
from tests import factories
from tests.search.conftest import found


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Hall", "Hal"),
        ("Mann", "Man"),
        ("Anna Bell", "Ana Bel"),
        ("Sayyid Qutb", "Sayid Qutb"),
        ("Abu Musab al-Suri", "Abu Musab as-Suri"),
        ("Abu Musab al-Suri", "Abu Musab Suri"),
        ("John Smith", "John Smith Jr."),
        ("J. Smith", "John Smith"),
        ("Strauss", "Straus"),
    ],
)
def test_names_that_differ_by_a_letter_never_share_a_match_key(one, other):
    assert match_key(one) != match_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Müller", "Muller"),
        ("Łopuszański", "Lopuszanski"),
        ("Sørensen", "Sorensen"),
        ("Đoković", "Dokovic"),
        ("Straße", "Strasse"),
        ("Æsop", "Aesop"),
        ("Œuvre", "Oeuvre"),
        ("Işık", "Isik"),
        ("O’Neill", "O'Neill"),
        ("Abu Mus'ab", "Abu Musab"),
        ("  VAN   GENNEP, Arnold ", "van Gennep Arnold"),
    ],
)
def test_case_marks_strokes_apostrophes_and_spacing_are_not_letters(one, other):
    assert match_key(one) == match_key(other)


@pytest.mark.parametrize(
    ("name", "typed"),
    [
        ("Jan Łopuszański", "Lopuszanski"),
        ("Åse Sørensen", "Sorensen"),
        ("Johann Strauß", "Strauss"),
        ("Ægidius", "Aegidius"),
        ("Œdipe Martin", "Oedipe"),
        ("Ayşe Işık", "Isik"),
        ("Þóra Guðmundsdóttir", "Thora"),
    ],
)
def test_search_finds_letters_without_a_decomposition_from_ascii(cast, name, typed):
    person = factories.make_person(cast.project, name)
    factories.make_person(cast.project, "Someone Else")
    assert list(Person.objects.for_project(cast.project).matching(typed)) == [person]


def test_djokovic_is_found_as_dokovic_and_by_a_variant_as_djokovic(cast):
    # đ folds to d (its letter); "dj" is another spelling, recorded as a variant.
    person = factories.make_person(cast.project, "Novak Đoković")
    assert list(Person.objects.for_project(cast.project).matching("Dokovic")) == [person]
    person.add_variant("Novak Djokovic")
    assert list(Person.objects.for_project(cast.project).matching("Djokovic")) == [person]


def test_the_search_page_finds_people_from_ascii_spellings(cast, client_for):
    person = factories.make_person(cast.project, "Jan Łopuszański", family="Łopuszański")
    page = client_for(cast.student).get(
        reverse("search:search", args=[cast.project.slug]), {"q": "lopuszanski"}
    )
    assert found(page, Kind.PERSON) == [person]


def test_search_keys_still_ignore_transliteration_noise():
    assert normalise_name("Sayyid Quṭb") == normalise_name("Sayid Qutb")
    assert normalise_name("al-Suri") == normalise_name("as-Sūrī") == "suri"


def test_saving_sets_every_key(cast):
    person = factories.make_person(
        cast.project,
        "Arnold van Gennep",
        family="Gennep",
        given="Arnold",
        non_dropping_particle="van",
    )
    assert (person.search_key, person.match_key, person.sort_key) == (
        "arnold van genep",  # lenient: doubled letters single
        "arnold van gennep",
        "gennep arnold van",
    )
    variant = person.add_variant("Arnold Van Gennep")
    assert NameVariant.objects.get(pk=variant.pk).match_key == "arnold van gennep"


def test_people_sort_by_family_name_then_given_names_particles_aside(cast):
    for display, family, given, particle in [
        ("Zoe Adams", "Adams", "Zoe", ""),
        ("Arnold van Gennep", "Gennep", "Arnold", "van"),
        ("Anna Adams", "Adams", "Anna", ""),
        ("Vincent Hall", "Hall", "Vincent", ""),
        ("Vincent Hal", "Hal", "Vincent", ""),
    ]:
        factories.make_person(
            cast.project, display, family=family, given=given, non_dropping_particle=particle
        )
    factories.make_person(cast.project, "Human Rights Watch", literal="Human Rights Watch")
    order = list(Person.objects.for_project(cast.project).values_list("display_name", flat=True))
    assert order == [
        "Anna Adams",
        "Zoe Adams",
        "Arnold van Gennep",
        "Vincent Hal",
        "Vincent Hall",
        "Human Rights Watch",
    ]


def test_the_data_migration_derives_every_key_again(cast):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("apps.people.migrations.0003_name_match_key")
    person = factories.make_person(cast.project, "John Hall", family="Hall", given="John")
    variant = person.add_variant("Jan Łopuszański")
    # As the rows were before: keys that folded doubled letters and left ł alone.
    Person.objects.filter(pk=person.pk).update(search_key="john hal", match_key="", sort_key="hal")
    NameVariant.objects.filter(pk=variant.pk).update(search_key="jan łopuszanski", match_key="")
    migration.derive_keys(apps, None)
    person.refresh_from_db()
    variant.refresh_from_db()
    assert (person.search_key, person.match_key, person.sort_key) == (
        "john hal",
        "john hall",
        "hall john",
    )
    assert (variant.search_key, variant.match_key) == ("jan lopuszanski", "jan lopuszanski")

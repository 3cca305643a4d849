"""CSL name parts (family, given, particles, suffix, literal) from every format, kept through
every export, and people matched on import only when their names are the same but for case,
marks and punctuation."""

import json

import pytest

from apps.bibliography import bibtex
from apps.bibliography.importing import write_sources
from apps.bibliography.records import inverted_name, name_parts
from apps.library.models import Source
from apps.people.models import Person
from tests import factories
from tests.bibliography.helpers import import_file

NAMES_BIB = rb"""
@book{gennep1909,
  author = {van Gennep, Arnold and Smith, Jr., John and Beethoven, Ludwig van
            and de la Fontaine, Jean and {World Health Organization} and M{\"u}ller, J{\"o}rg
            and King, III, Martin Luther},
  title = {Les rites de passage},
  year = 1909,
}
"""
EXPECTED = [
    {"family": "Gennep", "given": "Arnold", "non-dropping-particle": "van"},
    {"family": "Smith", "given": "John", "suffix": "Jr."},
    {"family": "Beethoven", "given": "Ludwig", "dropping-particle": "van"},
    {"family": "Fontaine", "given": "Jean", "non-dropping-particle": "de la"},
    {"literal": "World Health Organization"},
    {"family": "Müller", "given": "Jörg"},
    {"family": "King", "given": "Martin Luther", "suffix": "III"},
]


def authors(project, key="gennep1909") -> list[dict]:
    source = Source.objects.get(project=project, citation_key=key)
    return [
        c.person.csl_name()
        for c in source.contributors.filter(role="author")
        .order_by("position")
        .select_related("person")
    ]


def test_bibtex_names_keep_their_particles_and_suffixes(cast):
    import_file(cast.project, NAMES_BIB, "names.bib")
    assert authors(cast.project) == EXPECTED
    gennep = Person.objects.get(project=cast.project, family="Gennep")
    assert (gennep.display_name, gennep.non_dropping_particle, gennep.given) == (
        "Arnold van Gennep",
        "van",
        "Arnold",
    )
    assert Person.objects.get(project=cast.project, family="Smith").display_name == (
        "John Smith Jr."
    )


@pytest.mark.parametrize(
    ("fmt", "extension"), [("bibtex", "bib"), ("ris", "ris"), ("csljson", "json")]
)
def test_name_parts_survive_export_and_import_in_every_format(cast, fmt, extension):
    import_file(cast.project, NAMES_BIB, "names.bib")
    exported = write_sources(Source.objects.for_project(cast.project), fmt)
    copy = factories.make_project(slug="copy")
    import_file(copy, exported.encode(), f"again.{extension}")
    assert authors(copy) == EXPECTED
    assert write_sources(Source.objects.for_project(copy), fmt) == exported


def test_exports_write_the_parts_where_each_format_puts_them(cast):
    import_file(cast.project, NAMES_BIB, "names.bib")
    sources = Source.objects.for_project(cast.project)
    written = write_sources(sources, "bibtex")
    assert "van {Gennep}, Arnold" in written or "van Gennep, Arnold" in written
    assert "Smith, Jr., John" in written
    assert "Beethoven, Ludwig van" in written
    ris = write_sources(sources, "ris")
    assert "AU  - van Gennep, Arnold\n" in ris
    assert "AU  - Smith, John, Jr.\n" in ris
    assert "AU  - Beethoven, Ludwig van\n" in ris
    (item,) = json.loads(write_sources(sources, "csljson"))
    assert item["author"][:3] == EXPECTED[:3]


def test_the_bibtex_we_write_reads_back_in_bibtexparser_with_the_same_parts(cast):
    import_file(cast.project, NAMES_BIB, "names.bib")
    written = write_sources(Source.objects.for_project(cast.project), "bibtex")
    (entry,) = bibtex.read(written)
    assert [name for _, name in entry.names] == EXPECTED


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (
            "van Gennep, Arnold",
            {"family": "Gennep", "given": "Arnold", "non-dropping-particle": "van"},
        ),
        ("Smith, John, Jr.", {"family": "Smith", "given": "John", "suffix": "Jr."}),
        ("Smith, Jr., John", {"family": "Smith", "given": "John", "suffix": "Jr."}),
        (
            "Beethoven, Ludwig van",
            {"family": "Beethoven", "given": "Ludwig", "dropping-particle": "van"},
        ),
        ("al-Suri, Abu Musab", {"family": "al-Suri", "given": "Abu Musab"}),
        ("hooks, bell", {"family": "hooks", "given": "bell"}),
        ("International Crisis Group", {"literal": "International Crisis Group"}),
        ("Kaplan,", {"family": "Kaplan"}),
    ],
)
def test_inverted_names_as_ris_and_web_of_science_write_them(text, name):
    assert inverted_name(text) == name


def test_a_name_without_a_family_name_is_a_literal():
    assert name_parts("", "Plato") == {"literal": "Plato"}
    assert name_parts("", "") is None


def test_names_that_differ_by_a_letter_are_different_people(cast):
    data = b"""
    @article{a, author = {Hall, John and Mann, Anna}, title = {One}, year = 2001}
    @article{b, author = {Hal, John and Man, Anna}, title = {Two}, year = 2001}
    @article{c, author = {Hall, John and Mann, Anna}, title = {Three}, year = 2001}
    """
    import_file(cast.project, data, "a.bib")
    names = sorted(Person.objects.for_project(cast.project).values_list("display_name", flat=True))
    assert names == ["Anna Man", "Anna Mann", "John Hal", "John Hall"]
    first = authors(cast.project, "a")
    third = authors(cast.project, "c")
    assert first == third  # the same names again are the same people


def test_an_existing_person_is_reused_despite_marks_case_and_order(cast):
    person = factories.make_person(
        cast.project, "Jan Łopuszański", family="Łopuszański", given="Jan"
    )
    data = b"@article{a, author = {LOPUSZANSKI, Jan}, title = {One}, year = 2001}"
    import_file(cast.project, data, "a.bib")
    source = Source.objects.get(project=cast.project, citation_key="a")
    assert source.contributors.get().person == person
    assert Person.objects.for_project(cast.project).count() == 1


def test_an_existing_person_spelled_with_another_letter_is_not_reused(cast):
    suri = factories.make_person(cast.project, "Abu Musab al-Suri", family="al-Suri")
    import_file(cast.project, b"@article{a, author = {as-Suri, Abu Musab}, title = {T}}", "a.bib")
    source = Source.objects.get(project=cast.project, citation_key="a")
    assert source.contributors.get().person != suri
    # Once the spelling is recorded as a variant, it is the same person.
    suri.add_variant("Abu Musab ash-Suri")
    import_file(cast.project, b"@article{b, author = {ash-Suri, Abu Musab}, title = {U}}", "b.bib")
    assert (
        Source.objects.get(project=cast.project, citation_key="b").contributors.get().person == suri
    )


def test_citations_show_particles_and_suffixes_as_the_styles_require(cast):
    from apps.library.citations import Style, format_citation

    import_file(cast.project, NAMES_BIB, "names.bib")
    source = Source.objects.get(project=cast.project, citation_key="gennep1909")
    apa = format_citation(source, Style.APA)
    assert apa.startswith("van Gennep, A., Smith, J., Jr., Beethoven, L. van,")
    chicago = format_citation(source, Style.CHICAGO)
    assert chicago.startswith("Gennep, Arnold van, John Smith Jr.")

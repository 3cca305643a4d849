"""Reading what real exports contain, and export followed by import giving back the same
sources, for BibTeX, RIS and CSL-JSON."""

import datetime
import json

import pytest

from apps.bibliography import bibtex, csljson, ris
from apps.bibliography.importing import write_sources
from apps.library.models import Source
from apps.people.models import Person
from tests import factories
from tests.bibliography.helpers import differences, import_file, picture, sample


def by_key(project) -> dict[str, Source]:
    return {s.citation_key: s for s in Source.objects.for_project(project)}


def names(source, role="author") -> list[str]:
    return [
        c.person.display_name
        for c in source.contributors.filter(role=role).order_by("position").select_related("person")
    ]


def test_bibtex_reads_accents_macros_crossref_braces_and_corporate_authors(cast):
    result = import_file(cast.project, sample("varied.bib"), "varied.bib")
    assert result.created == 11 and result.rejected == 0
    sources = by_key(cast.project)
    article = sources["mironova2017bloody"]
    assert article.title == "Bloody Moments: The Isolationist Takfiri Dissidents of ISIS"
    assert article.container_title == "Studies in Conflict & Terrorism"  # @string macro
    assert (article.issued_year, article.issued_month) == (2017, 3)  # month macro
    assert article.page == "201-215"
    assert article.language == "en"
    assert names(article) == ["Vera Mironova", "Ekaterina Sergatskova", "Hāshim al-Ḥāshimī"]
    # The DOI was only in the URL.
    assert list(article.identifiers.values_list("scheme", "value")) == [
        ("doi", "10.1080/1057610x.2016.1192393")
    ]
    assert article.extra["bibtex"]["fields"]["file"] == r":C\:/papers/mironova.pdf:PDF"

    book = sources["icg2016exploiting"]
    assert names(book) == ["International Crisis Group"]
    corporate = Person.objects.get(project=cast.project, display_name="International Crisis Group")
    assert corporate.literal == "International Crisis Group" and not corporate.family
    assert names(book, "editor") == ["John Smith", "Jan van der Berg"]
    assert names(book, "translator") == ["Jörg Müller", "Renée Café"]
    assert book.publisher == "Routledge Classics"  # macro # string
    assert book.identifiers.get().value == "9780306406157"  # ISBN-10 stored as ISBN-13
    assert book.extra["bibtex"]["fields"]["note"] == r"Translated from the French; 50\% revised"

    chapter = sources["kaplan2008fifth"]
    assert chapter.csl_type == "chapter"
    assert chapter.title == "The “Fifth Wave”: The New Tribalism?"
    # crossref: the book's title, editor, publisher, place and year.
    assert chapter.container_title == "Terrorism in Waves"
    assert (chapter.publisher, chapter.publisher_place, chapter.issued_year) == (
        "Routledge",
        "London",
        2008,
    )
    assert names(chapter, "editor") == ["David C. Rapoport"]

    web = sources["hassan2016web"]
    assert web.csl_type == "webpage"
    assert web.accessed == datetime.date(2020, 1, 5)
    assert (web.issued_year, web.issued_month, web.issued_day) == (2016, 6, 13)

    thesis = sources["ingram2018thesis"]
    assert (thesis.csl_type, thesis.genre, thesis.publisher) == (
        "thesis",
        "PhD thesis",
        "Australian National University",
    )
    report = sources["zelin2014report"]
    assert (report.genre, report.issue) == ("Research Note", "20")
    assert sources["kepel2015film"].csl_type == "motion_picture"
    assert sources["kepel2015film"].url == "https://example.org/film?id=1&lang=fr"
    misc = sources["qutb1964milestones"]
    assert misc.identifiers.get().value == "2101.00001"
    assert misc.abstract == "A manifesto; see Milestones for the English text."
    assert sources["citeproc2024"].csl_type == "software"


def test_bibtex_reuses_people_known_by_a_variant_of_their_name(cast):
    suri = factories.make_person(cast.project, "Abu Musab al-Suri", family="al-Suri")
    suri.add_variant("Mustafa Setmariam Nasar")
    data = b"@book{a, author = {Nasar, Mustafa Setmariam}, title = {The Call}, year = 2004}"
    import_file(cast.project, data, "call.bib")
    source = Source.objects.get(project=cast.project, citation_key="a")
    assert source.contributors.get().person == suri
    assert Person.objects.for_project(cast.project).count() == 1


@pytest.mark.parametrize(
    ("name", "module"),
    [("varied.bib", bibtex), ("varied.ris", ris), ("varied.json", csljson)],
)
def test_export_then_import_gives_back_the_same_sources(cast, name, module):
    import_file(cast.project, sample(name), name)
    first = picture(cast.project)
    assert len(first) >= 5
    fmt = {"varied.bib": "bibtex", "varied.ris": "ris", "varied.json": "csljson"}[name]
    exported = write_sources(Source.objects.for_project(cast.project), fmt)
    copy = factories.make_project(slug="copy")
    result = import_file(copy, exported.encode(), f"again.{name.split('.')[1]}")
    assert result.created == len(first) and result.rejected == 0
    assert differences(first, picture(copy)) == []
    # And once more: the second export is the first one.
    assert write_sources(Source.objects.for_project(copy), fmt) == exported


def test_sources_made_in_the_app_survive_every_format(cast):
    source = factories.make_source(
        cast.project,
        "Al-Qaeda's “Management of Savagery” & its 100% readers_{x}",
        citation_key="naji2004",
        csl_type="report",
        container_title="Policy Papers",
        publisher="Institute for {Strategic} Studies",
        issued_year=2004,
        issued_month=12,
        issued_day=1,
        page="3-9",
        url="https://example.org/a?b=1&c=%20",
        accessed=datetime.date(2021, 2, 3),
        genre="Working paper",
    )
    naji = factories.make_person(cast.project, "Abu Bakr Naji", literal="Abu Bakr Naji")
    source.add_contributor(naji)
    source.add_contributor(
        factories.make_person(cast.project, "Jörg Müller", family="Müller", given="Jörg"),
        role="translator",
    )
    source.add_identifier("doi", "10.1000/xyz123")
    source.add_identifier("isbn", "978-0-306-40615-7")
    first = picture(cast.project)
    for fmt, extension in [("bibtex", "bib"), ("ris", "ris"), ("csljson", "json")]:
        copy = factories.make_project()
        text = write_sources(Source.objects.for_project(cast.project), fmt)
        import_file(copy, text.encode(), f"x.{extension}")
        assert differences(first, picture(copy)) == [], fmt


def test_ris_reads_wrapped_lines_editors_translators_and_unknown_types(cast):
    import_file(cast.project, sample("varied.ris"), "varied.ris")
    sources = {s.title[:20]: s for s in Source.objects.for_project(cast.project)}
    book = sources["Exploiting Disorder:"]
    assert book.abstract == "A long abstract that an exporter wrapped onto a second line."
    assert names(book, "translator") == ["Jörg Müller"]
    assert names(book, "editor") == ["John Smith", "Jan van der Berg"]
    assert sources["The War between ISIS"].genre == "Research Note"
    unknown = sources["A type RIS knows and"]
    assert unknown.csl_type == "document"
    assert unknown.extra["ris"]["type_of_reference"] == "ICOMM"
    article = sources["Bloody Moments: The "]
    assert sorted(article.identifiers.values_list("scheme", flat=True)) == ["doi", "issn"]


def test_csl_json_keeps_unknown_variables_and_types(cast):
    import_file(cast.project, sample("varied.json"), "varied.json")
    source = Source.objects.get(project=cast.project, citation_key="openalex-only")
    assert source.csl_type == "document"
    assert source.identifiers.get().value == "W2741809807"
    exported = json.loads(write_sources(Source.objects.for_project(cast.project), "csljson"))
    item = next(i for i in exported if i["id"] == "openalex-only")
    assert item["type"] == "patent-application"
    assert item["custom"] == {
        "rating": 5,
        "identifiers": [{"scheme": "openalex", "value": "W2741809807"}],
    }
    book = next(i for i in exported if i["id"] == "icg2016exploiting")
    assert book["note"] == "Translated from the French"
    assert book["editor"][1] == {
        "family": "Berg",
        "given": "Jan",
        "non-dropping-particle": "van der",
    }

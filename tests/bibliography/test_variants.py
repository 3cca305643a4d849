"""Files as other tools write them (samples/variants/, one hand-written file per variant):
RIS from Ovid, PsycINFO, Embase, EndNote and Zotero; Web of Science plain text; CSL-JSON as
DOI content negotiation returns it; Crossref REST responses; Zotero Web API items; a macro
file beside the bibliography that uses it. Each test checks what is kept."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.bibliography.files import detect, read_files
from apps.bibliography.importing import import_entries
from apps.bibliography.records import FileError
from apps.jobs.models import ImportJob
from apps.library.models import Source
from tests.bibliography.helpers import SAMPLES

VARIANTS = SAMPLES / "variants"


def variant(name: str) -> bytes:
    return (VARIANTS / name).read_bytes()


def load(project, *names: str):
    reading = read_files([(name, variant(name)) for name in names])
    result = import_entries(project=project, entries=reading.entries, by=None)
    return reading, result


def by_title(project) -> dict[str, Source]:
    return {s.title: s for s in Source.objects.for_project(project)}


def people(source, role="author") -> list[dict]:
    return [
        c.person.csl_name()
        for c in source.contributors.filter(role=role).order_by("position").select_related("person")
    ]


def ids(source) -> set[tuple[str, str]]:
    return set(source.identifiers.values_list("scheme", "value"))


def test_ovid_numbers_its_records_starts_with_a_bom_and_ends_them_without_a_space(cast):
    reading, result = load(cast.project, "ovid.ris")
    assert (reading.format, reading.files[0].encoding) == ("ris", "UTF-8 with a byte order mark")
    assert result.created == 2 and result.rejected == 0
    assert [entry.line for entry in reading.entries] == [3, 22]
    sources = by_title(cast.project)
    first = sources["The fifth wave: tribalism and terror"]
    assert (first.container_title, first.volume, first.issue, first.page) == (
        "Terrorism and Political Violence",
        "20",
        "2",
        "225-242",
    )
    assert ids(first) == {("doi", "10.1080/09546550801907599"), ("issn", "0954-6553")}
    assert people(first)[1] == {
        "family": "Gennep",
        "given": "Arnold",
        "non-dropping-particle": "van",
    }
    assert first.extra["ris"]["name_of_database"] == "Ovid MEDLINE(R) ALL"
    second = sources["Second Ovid record continued on the next line"]
    assert people(second) == [{"family": "Smith", "given": "John", "suffix": "Jr."}]


def test_psycinfo_numbers_records_in_angle_brackets_and_puts_the_abstract_in_n2(cast):
    reading, result = load(cast.project, "psycinfo.ris")
    assert result.created == 2
    article = by_title(cast.project)["Radicalization pathways among young adults"]
    assert article.citation_key == "2016-12345-001"
    assert article.abstract == "An abstract wrapped by PsycINFO."
    assert (article.issued_year, article.page) == (2016, "600-615")
    assert people(article) == [
        {"family": "Łopuszański", "given": "Jan"},
        {"family": "Sørensen", "given": "Åse"},
    ]
    book = by_title(cast.project)["A PsycINFO book"]
    assert (book.csl_type, book.publisher_place) == ("book", "Washington, DC")
    assert ids(book) == {("isbn", "9780306406157")}


def test_embase_blank_lines_between_tags(cast):
    _, result = load(cast.project, "embase.ris")
    assert result.created == 2 and result.rejected == 0
    article = by_title(cast.project)["Embase leaves blank lines between tags"]
    assert (article.container_title, article.issued_year, article.page) == (
        "The Lancet",
        2020,
        "1-9",
    )
    assert people(article)[1] == {
        "family": "Cruz",
        "given": "Maria",
        "non-dropping-particle": "de la",
    }
    assert article.extra["ris"]["unknown_tag"] == {"U2": ["L2004567890"]}
    chapter = by_title(cast.project)["A chapter from Embase"]
    assert (chapter.csl_type, chapter.container_title) == ("chapter", "A Book of Chapters")
    assert people(chapter, "editor") == [{"family": "Rapoport", "given": "David C."}]


def test_endnote_crlf_bom_er_without_space_and_urls_with_semicolons(cast):
    reading, result = load(cast.project, "endnote.ris")
    assert reading.files[0].encoding == "UTF-8 with a byte order mark"
    assert result.created == 2
    article = by_title(cast.project)["The causes of terrorism"]
    assert ids(article) == {("doi", "10.2307/421717")}
    report = by_title(cast.project)["Exploiting Disorder"]
    assert report.url == "https://example.org/report?a=1;b=2"
    assert people(report) == [{"literal": "International Crisis Group"}]


def test_zotero_ris_with_a_suffix_after_the_given_name(cast):
    _, result = load(cast.project, "zotero.ris")
    source = Source.objects.get(project=cast.project)
    assert (source.issued_year, source.issued_month, source.issued_day) == (2017, 3, 1)
    assert people(source)[1] == {"family": "King", "given": "Martin Luther", "suffix": "Jr."}


def test_web_of_science_plain_text_keeps_the_cited_references(cast):
    reading, result = load(cast.project, "savedrecs.txt")
    assert reading.format == "wos" and result.created == 2 and result.rejected == 0
    assert [entry.line for entry in reading.entries] == [3, 40]
    article = by_title(cast.project)["Bloody Moments: The Isolationist Takfiri Dissidents of ISIS"]
    assert article.csl_type == "article-journal"
    assert (article.issued_year, article.issued_month, article.issued_day) == (2017, 3, 15)
    assert (article.volume, article.issue, article.page, article.language) == (
        "40",
        "3",
        "201-215",
        "en",
    )
    assert article.abstract == "The abstract starts here and continues on a second line."
    # Full names (AF), with the particle as a particle.
    assert people(article) == [
        {"family": "Mironova", "given": "Vera"},
        {"family": "Sergatskova", "given": "Ekaterina"},
        {"family": "Gennep", "given": "Arnold", "non-dropping-particle": "van"},
    ]
    assert ids(article) == {
        ("doi", "10.1080/1057610x.2016.1192393"),
        ("issn", "1057-610X"),
        ("issn", "1521-0731"),
        ("pmid", "28000001"),
    }
    wos = article.extra["wos"]
    assert wos["CR"] == [
        "Kaplan J, 2008, TERROR POLIT VIOLENC, V20, P225, DOI 10.1080/09546550801907599",
        "Crenshaw M., 1981, COMP POLIT, V13, P379",
        "Hegghammer T, 2010, INT SECURITY, V35, P53",
    ]
    assert wos["UT"] == "WOS:000393847600002" and wos["TC"] == "12"
    assert wos["AU"] == ["Mironova, V", "Sergatskova, E", "van Gennep, A"]
    paper = by_title(cast.project)["Terror in France: The Rise of Jihad in the West"]
    assert (paper.csl_type, paper.collection_title, paper.language) == (
        "paper-conference",
        "Princeton Studies in Muslim Politics",
        "fr",
    )
    assert people(paper, "editor") == [{"family": "Rapoport", "given": "DC"}]
    assert ids(paper) == {("isbn", "9780306406157")}


def test_csl_json_from_doi_content_negotiation_one_object_without_id(cast):
    reading, result = load(cast.project, "doi-content-negotiation.json")
    assert reading.format == "csljson" and result.created == 1
    source = Source.objects.get(project=cast.project)
    assert source.csl_type == "article-journal"  # Crossref's "journal-article"
    assert source.citation_key == "mironova2017bloody"  # made, as the item had no id
    assert source.container_title == "Studies in Conflict & Terrorism"  # "&amp;" decoded
    # JATS markup gone, its "Abstract" heading too, paragraphs kept.
    assert (
        source.abstract
        == "Dissidents who called ISIS too lenient & were jailed.\n\nA second paragraph."
    )
    assert people(source) == [
        {"family": "Mironova", "given": "Vera"},
        {"family": "Gennep", "given": "Arnold", "non-dropping-particle": "van"},
        {"family": "Smith", "given": "John", "suffix": "Jr."},
    ]
    assert (source.issued_year, source.issued_month, source.issued_day) == (2017, 3, 4)


def test_csl_json_array_without_ids_and_with_crossref_types(cast):
    _, result = load(cast.project, "csl-array-without-ids.json")
    assert result.created == 4
    types = {s.title: s.csl_type for s in Source.objects.for_project(cast.project)}
    assert types == {
        "A chapter typed as Crossref types it": "chapter",
        "A conference paper": "paper-conference",
        "A preprint": "article",
        "A dissertation": "thesis",
    }
    chapter = by_title(cast.project)["A chapter typed as Crossref types it"]
    assert people(chapter) == [
        {"family": "Beethoven", "given": "Ludwig", "dropping-particle": "van"}
    ]
    assert "type" not in (chapter.extra.get("csl") or {})


def test_crossref_rest_one_work(cast):
    reading, result = load(cast.project, "crossref-work.json")
    assert reading.format == "crossref" and result.created == 1
    source = Source.objects.get(project=cast.project)
    assert source.title == "The Fourth Wave: Terror in an Age of Networks"
    assert (source.container_title, source.volume, source.page) == (
        "International Organization",
        "56",
        "1-30",
    )
    assert (source.issued_year, source.issued_month) == (2002, 2)  # published-print
    assert source.abstract == "Networks <matter> now."
    assert ids(source) == {
        ("doi", "10.1017/s0020818300004174"),
        ("issn", "0020-8183"),
        ("issn", "1531-5088"),
    }
    assert people(source) == [
        {"family": "Sørensen", "given": "Åse"},
        {"literal": "RAND Corporation"},
    ]
    assert source.extra["crossref"]["subject"] == ["Political Science and International Relations"]
    assert source.extra["crossref"]["reference"][0]["unstructured"] == "Crenshaw 1981"


def test_crossref_rest_list_of_works(cast):
    _, result = load(cast.project, "crossref-list.json")
    assert result.created == 2
    chapter = by_title(cast.project)["A chapter"]
    assert (chapter.csl_type, chapter.container_title, chapter.publisher) == (
        "chapter",
        "A Book",
        "Routledge",
    )
    assert people(chapter, "editor") == [{"family": "Rapoport", "given": "David C."}]
    paper = by_title(cast.project)["A paper"]
    # "issued" is empty: the online publication date is used.
    assert (paper.csl_type, paper.issued_year, paper.issued_month, paper.issued_day) == (
        "paper-conference",
        2021,
        6,
        3,
    )


def test_zotero_web_api_items(cast):
    reading, result = load(cast.project, "zotero-api.json")
    assert reading.format == "zotero"
    assert result.created == 2  # the note is not a work
    article = Source.objects.get(project=cast.project, citation_key="crenshaw1981causes")
    assert (article.csl_type, article.container_title, article.page) == (
        "article-journal",
        "Comparative Politics",
        "379-399",
    )
    assert (article.issued_year, article.issued_month, str(article.accessed)) == (
        1981,
        7,
        "2020-01-05",
    )
    assert article.abstract == "Why terrorism happens."
    assert ids(article) == {("doi", "10.2307/421717"), ("issn", "0010-4159")}
    assert people(article) == [
        {"family": "Crenshaw", "given": "Martha"},
        {"family": "Gennep", "given": "Arnold", "non-dropping-particle": "van"},
    ]
    assert people(article, "editor") == [{"literal": "Council on Foreign Relations"}]
    assert article.extra["zotero"] == {
        "key": "ABCD2345",
        "tags": ["terrorism", "causes"],
        "libraryCatalog": "JSTOR",
        "extra": "Original date: 1980",
    }
    chapter = by_title(cast.project)["A book section"]
    assert (chapter.csl_type, chapter.container_title, chapter.collection_title) == (
        "chapter",
        "Collected Chapters",
        "Studies",
    )
    assert people(chapter) == [
        {"family": "Beethoven", "given": "Ludwig", "dropping-particle": "van"}
    ]
    assert people(chapter, "collection-editor") == [
        {"family": "Berg", "given": "Jan", "non-dropping-particle": "van der"}
    ]


def test_a_macro_file_beside_the_bibliography_that_uses_it(cast):
    # The macro file comes second in the upload: it is read first all the same.
    reading, result = load(cast.project, "uses-macros.bib", "macros.bib")
    assert result.created == 2 and result.rejected == 0
    assert [(entry.file, entry.line) for entry in reading.entries] == [
        ("uses-macros.bib", 1),
        ("uses-macros.bib", 8),
    ]
    assert [(f.name, f.entries) for f in reading.files] == [
        ("macros.bib", 0),
        ("uses-macros.bib", 2),
    ]
    containers = {
        s.citation_key: s.container_title for s in Source.objects.for_project(cast.project)
    }
    assert containers == {
        "mironova2017": "Studies in Conflict & Terrorism",
        "kaplan2008": "Terrorism and Political Violence",
    }


def test_the_upload_page_takes_several_files_and_names_their_encodings(cast, client_for):
    client = client_for(cast.analyst)
    latin = "@article{cafe, title = {Caf\u00e9 society}, journal = sct, year = 2001}".encode(
        "cp1252"
    )
    response = client.post(
        "/p/review/import/",
        {
            "file": [
                SimpleUploadedFile("refs.bib", latin),
                SimpleUploadedFile("macros.bib", variant("macros.bib")),
            ]
        },
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.filename == "refs.bib, macros.bib"
    preview = client.get(response.url).text
    assert "BibTeX / BibLaTeX" in preview
    assert "refs.bib</span>: <strong>Windows-1252 (Latin-1)</strong>" in preview
    assert "macros.bib</span>: <strong>UTF-8</strong>" in preview
    assert "Café society" in preview
    client.post(response.url + "confirm/")
    source = Source.objects.get(project=cast.project)
    assert source.container_title == "Studies in Conflict & Terrorism"


def test_files_of_different_formats_in_one_upload_are_refused(cast):
    with pytest.raises(FileError, match="different formats"):
        read_files([("a.ris", variant("zotero.ris")), ("b.bib", variant("uses-macros.bib"))])
    with pytest.raises(FileError, match="only @string macros"):
        read_files([("macros.bib", variant("macros.bib"))])


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("ovid.ris", "ris"),
        ("psycinfo.ris", "ris"),
        ("embase.ris", "ris"),
        ("endnote.ris", "ris"),
        ("savedrecs.txt", "wos"),
        ("doi-content-negotiation.json", "csljson"),
        ("crossref-work.json", "crossref"),
        ("crossref-list.json", "crossref"),
        ("zotero-api.json", "zotero"),
        ("uses-macros.bib", "bibtex"),
    ],
)
def test_the_format_is_told_by_the_content_whatever_the_name(name, kind):
    text = variant(name).decode("utf-8-sig")
    assert detect(text, "misleading.bib") == kind
    assert detect(text, "") == kind

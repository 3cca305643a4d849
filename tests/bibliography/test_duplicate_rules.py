"""Duplicates by work identity, within one file and against the project: the same DOI, PMID or
arXiv id, the same ISBN of two whole books, or the same title, year and first author. A
journal's ISSN and a book's ISBN carried by its chapters never make two works one."""

import pytest

from apps.bibliography import bibtex
from apps.bibliography.importing import duplicate_groups, preview_import
from apps.library.models import Source
from tests import factories
from tests.bibliography.helpers import import_file

ARTICLES_OF_ONE_JOURNAL = b"""
@article{one, author = {Byman, Daniel}, title = {Beyond Counterterrorism},
  journal = {Foreign Affairs}, issn = {0015-7120}, year = 2015, volume = 94}
@article{two, author = {Byman, Daniel}, title = {Fighting Salafi-Jihadist Insurgencies},
  journal = {Foreign Affairs}, issn = {0015-7120}, year = 2015, volume = 94}
"""
CHAPTERS_OF_ONE_BOOK = b"""
@incollection{ch1, author = {Kaplan, Jeffrey}, title = {The Fifth Wave},
  booktitle = {Terrorism in Waves}, isbn = {978-0-306-40615-7}, year = 2008}
@incollection{ch2, author = {Rapoport, David}, title = {The Four Waves},
  booktitle = {Terrorism in Waves}, isbn = {978-0-306-40615-7}, year = 2008}
@book{book, editor = {Rapoport, David}, title = {Terrorism in Waves},
  isbn = {978-0-306-40615-7}, year = 2008}
"""


def statuses(project, data: bytes) -> list[tuple[str, str]]:
    rows = preview_import(project=project, entries=bibtex.read(data.decode()))
    return [(row["status"], row.get("reason", "")) for row in rows]


def test_two_articles_of_one_journal_are_not_duplicates(cast):
    assert statuses(cast.project, ARTICLES_OF_ONE_JOURNAL) == [("new", ""), ("new", "")]
    import_file(cast.project, ARTICLES_OF_ONE_JOURNAL, "a.bib")
    assert Source.objects.for_project(cast.project).count() == 2
    assert duplicate_groups(cast.project) == []
    # Against the project: a third article of the journal is new too.
    third = b"@article{three, title = {A Third}, issn = {0015-7120}, year = 2016}"
    assert statuses(cast.project, third) == [("new", "")]


def test_two_chapters_of_one_book_are_not_duplicates_nor_of_the_book(cast):
    assert statuses(cast.project, CHAPTERS_OF_ONE_BOOK) == [("new", ""), ("new", ""), ("new", "")]
    import_file(cast.project, CHAPTERS_OF_ONE_BOOK, "c.bib")
    assert Source.objects.for_project(cast.project).count() == 3
    assert duplicate_groups(cast.project) == []
    assert statuses(cast.project, CHAPTERS_OF_ONE_BOOK.replace(b"The F", b"Another F"))[:2] == [
        ("new", ""),
        ("new", ""),
    ]


def test_the_same_isbn_makes_two_whole_books_one(cast):
    data = b"""
@book{b1, title = {Terrorism in Waves}, isbn = {0-306-40615-2}, year = 2008}
@book{b2, title = {Terrorism in Waves (reprint)}, isbn = {978-0-306-40615-7}, year = 2009}
"""
    assert statuses(cast.project, data) == [
        ("new", ""),
        ("duplicate", "same ISBN (both whole books) 9780306406157"),
    ]
    import_file(cast.project, data[: data.index(b"@book{b2")], "b.bib")
    assert statuses(cast.project, data)[1] == (
        "duplicate",
        "same ISBN (both whole books) 9780306406157",
    )


@pytest.mark.parametrize(
    ("field", "rule"),
    [
        ("doi = {https://doi.org/10.1000/ABC}", "same DOI 10.1000/abc"),
        ("pmid = {12345678}", "same PMID 12345678"),
        ("eprint = {2101.00001}, eprinttype = {arxiv}", "same arXiv id 2101.00001"),
    ],
)
def test_the_same_doi_pmid_or_arxiv_id_is_the_same_work_whatever_the_titles(cast, field, rule):
    data = (
        f"@article{{x1, title = {{One title}}, year = 2001, {field}}}\n"
        f"@misc{{x2, title = {{Another title}}, year = 2002, {field}}}\n"
    ).encode()
    assert statuses(cast.project, data) == [("new", ""), ("duplicate", rule)]
    import_file(cast.project, data.split(b"\n")[0], "x.bib")
    assert statuses(cast.project, data) == [("duplicate", rule), ("duplicate", rule)]


def test_the_same_doi_on_the_duplicates_page_and_not_the_same_issn(cast, client_for):
    first = factories.make_source(cast.project, "One", citation_key="s1")
    second = factories.make_source(cast.project, "Two", citation_key="s2")
    third = factories.make_source(cast.project, "Three", citation_key="s3")
    for source in (first, second, third):
        source.add_identifier("issn", "0015-7120")
    first.add_identifier("doi", "10.1000/same")
    third.add_identifier("doi", "10.1000/same")
    assert duplicate_groups(cast.project) == [sorted([first.pk, third.pk])]
    page = client_for(cast.analyst).get("/p/review/sources/duplicates/").text
    assert "1 group of duplicates" in page


def test_the_same_title_year_and_first_author_is_the_same_work(cast):
    data = b"""
@article{w1, author = {P{\\'e}rez, H{\\'e}l{\\`e}ne}, title = {Les Enfants du Djihad}, year = 2015}
@book{w2, author = {Perez, Helene}, title = {{LES} enfants du djihad!}, year = 2015}
@book{w3, author = {Perez, Helene}, title = {Les enfants du djihad}, year = 2016}
@book{w4, author = {Durand, Paul}, title = {Les enfants du djihad}, year = 2015}
"""
    assert statuses(cast.project, data) == [
        ("new", ""),
        ("duplicate", "same title, year and first author"),
        ("new", ""),
        ("new", ""),
    ]


def test_untitled_entries_are_never_duplicates_by_title(cast):
    data = b"""
@article{u1, author = {Byman, Daniel}, journal = {Survival}, year = 2015}
@article{u2, author = {Byman, Daniel}, journal = {Foreign Affairs}, year = 2015}
"""
    assert statuses(cast.project, data) == [("new", ""), ("new", "")]
    import_file(cast.project, data, "u.bib")
    assert duplicate_groups(cast.project) == []


def test_the_preview_names_the_rule_that_matched(cast, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    import_file(cast.project, ARTICLES_OF_ONE_JOURNAL, "a.bib")
    data = ARTICLES_OF_ONE_JOURNAL.replace(b"{one,", b"{one2,").replace(b"{two,", b"{two2,")
    data += b"@misc{d, title = {Elsewhere}, doi = {10.1000/x}}\n"
    data += b"@misc{e, title = {E}, doi = {10.1000/X}}\n"
    client = client_for(cast.analyst)
    response = client.post("/p/review/import/", {"file": SimpleUploadedFile("d.bib", data)})
    page = client.get(response.url).text
    assert "1 new" in page and "3 duplicates" in page
    assert page.count("same title, year and first author") == 2
    assert "entry 3 of this file (only one is imported)" in page
    assert "same DOI 10.1000/x" in page


def test_arxiv_versions_and_prefixed_pmids_are_the_same_work(cast):
    data = b"""
@misc{v1, title = {First}, eprint = {2101.00001v1}, eprinttype = {arxiv}}
@misc{v2, title = {Second}, eprint = {arXiv:2101.00001v2}, eprinttype = {arxiv}}
@misc{p1, title = {Third}, pmid = {00012345}}
@misc{p2, title = {Fourth}, pmid = {PMID: 12345}}
"""
    assert statuses(cast.project, data) == [
        ("new", ""),
        ("duplicate", "same arXiv id arXiv:2101.00001v2"),
        ("new", ""),
        ("duplicate", "same PMID PMID: 12345"),
    ]

"""Every BibTeX export is read back by other tools' parsers (pybtex, strict; bibtexparser)
without an error, and by ours without a warning; RIS and CSL-JSON exports give the same
records back."""

import datetime

import bibtexparser
import pybtex.errors
import pytest
from bibtexparser import model
from pybtex.database import parse_string as pybtex_parse

from apps.bibliography import bibtex
from apps.bibliography.importing import read_file, write_sources
from apps.library.models import Source
from tests import factories
from tests.bibliography.helpers import SAMPLES, differences, import_file, picture, sample

REPAIRS = SAMPLES / "repairs"


@pytest.fixture
def varied(cast):
    """A bibliography with what makes BibTeX hard: every sample, repaired entries, and sources
    made in the app with special characters, odd months, identifiers and kept fields."""
    project = cast.project
    for name in ("varied.bib", "varied.ris", "varied.json"):
        import_file(factories.make_project(), sample(name), name)  # each reads on its own
    import_file(project, sample("varied.bib"), "varied.bib")
    for path in sorted(REPAIRS.glob("*.bib")):
        import_file(project, path.read_bytes(), path.name)
    import_file(
        project,
        b"@article{months, title = {Two months}, year = 2001, month = {November, December},"
        b" note = {50% of {it}}, keywords = {a, b}}\n"
        b"@book{brace, title = {A title with a lone \\} brace}, year = 2002}\n",
        "odd.bib",
    )
    source = factories.make_source(
        project,
        "Al-Qaeda's “Management of Savagery” & its 100% readers_{x} ~ ^ $ # \\ end",
        citation_key="naji2004",
        csl_type="report",
        container_title="Policy Papers",
        publisher="Institute for {Strategic} Studies",
        issued_year=2004,
        issued_month=12,
        issued_day=1,
        page="3-9",
        url="https://example.org/a?b=1&c=%20;d=2",
        accessed=datetime.date(2021, 2, 3),
        genre="Working paper",
        abstract="One line with a } and a {.",
    )
    source.add_contributor(
        factories.make_person(project, "Idarat Institute", literal="Idarat Institute")
    )
    source.add_contributor(
        factories.make_person(project, "Smith and Sons", literal="Smith and Sons")
    )
    source.add_identifier("doi", "10.1000/xyz_123")
    source.add_identifier("pmid", "12345678")
    source.add_identifier("arxiv", "2101.00002")
    return project


def exported(project) -> str:
    return write_sources(Source.objects.for_project(project), "bibtex")


def test_every_bibtex_export_reads_in_pybtex_strictly(varied):
    text = exported(varied)
    pybtex.errors.set_strict_mode(True)
    try:
        data = pybtex_parse(text, "bibtex")
    finally:
        pybtex.errors.set_strict_mode(False)
    count = Source.objects.for_project(varied).count()
    assert len(data.entries) == count > 20
    # A month we could not read is kept, and written as text, not as "month = November, …".
    assert "  month = {November, December},\n" in text
    assert data.entries["months"].fields["month"] == "November, December"
    assert data.entries["Hegghammer2010"].fields["funding_details"] == "Norges Forskningsråd, NFR"
    assert data.entries["naji2004"].fields["month"] == "December"  # pybtex expands the macro


def test_every_bibtex_export_reads_in_bibtexparser_without_failed_blocks(varied):
    text = exported(varied)
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    assert len(library.entries) == Source.objects.for_project(varied).count()
    assert not [block for block in library.blocks if isinstance(block, model.ParsingFailedBlock)]


def test_every_bibtex_export_reads_in_ours_without_a_warning_and_gives_the_same_sources(varied):
    text = exported(varied)
    entries = bibtex.read(text)
    assert [(e.key, e.error) for e in entries if e.error] == []
    assert [(e.key, e.warning_rows()) for e in entries if e.warnings] == []
    copy = factories.make_project(slug="copy")
    import_file(copy, text.encode(), "again.bib")
    assert differences(picture(varied), picture(copy)) == []
    assert exported(copy) == text


@pytest.mark.parametrize(("fmt", "extension"), [("ris", "ris"), ("csljson", "json")])
def test_ris_and_csl_json_exports_give_the_same_records_back(varied, fmt, extension):
    text = write_sources(Source.objects.for_project(varied), fmt)
    _, entries = read_file(text.encode(), filename=f"x.{extension}")
    assert [e.where for e in entries if e.error or e.warnings] == []
    copy = factories.make_project(slug="copy")
    import_file(copy, text.encode(), f"again.{extension}")
    # What only BibTeX holds (its kept fields) is not in the other formats.
    assert differences(records(varied), records(copy)) == []
    assert write_sources(Source.objects.for_project(copy), fmt) == text


def records(project) -> list[dict]:
    rows = picture(project)
    for row in rows:
        row["extra"] = {k: v for k, v in row["extra"].items() if k != "bibtex"}
    return rows


def test_ris_export_keeps_urls_with_semicolons(varied):
    text = write_sources(Source.objects.for_project(varied).filter(citation_key="naji2004"), "ris")
    assert "UR  - https://example.org/a?b=1&c=%20;d=2\n" in text
    copy = factories.make_project(slug="copy")
    import_file(copy, text.encode(), "again.ris")
    assert Source.objects.get(project=copy).url == "https://example.org/a?b=1&c=%20;d=2"

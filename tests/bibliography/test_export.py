"""The export page and its files: the whole bibliography, the source list's filter, the
sources behind one claim, formatted bibliographies."""

import json

from django.core.management import call_command

from apps.library.models import Source
from tests import factories
from tests.bibliography.helpers import import_file, sample

EXPORT = "/p/review/export/"
FILE = "/p/review/export/file/"


def test_students_download_the_whole_bibliography_as_bibtex_ris_and_csl_json(cast, client_for):
    import_file(cast.project, sample("varied.bib"), "varied.bib")
    client = client_for(cast.student)
    page = client.get(EXPORT)
    assert "11 sources: the whole bibliography" in page.text
    bib = client.get(FILE, {"format": "bibtex"})
    assert bib["Content-Type"].startswith("application/x-bibtex")
    assert 'filename="review.bib"' in bib["Content-Disposition"]
    assert bib.getvalue().decode().count("\n@") + 1 == 11
    ris = client.get(FILE, {"format": "ris"}).getvalue().decode()
    assert ris.count("ER  - ") == 11
    items = json.loads(client.get(FILE, {"format": "csljson"}).getvalue())
    assert len(items) == 11 and {"id", "type", "title"} <= set(items[0])


def test_the_source_lists_filter_selects_what_is_exported(cast, client_for):
    import_file(cast.project, sample("varied.bib"), "varied.bib")
    client = client_for(cast.analyst)
    page = client.get(EXPORT, {"type": "book", "year_min": 2000})
    assert "2 sources matching the filter" in page.text
    listing = client.get("/p/review/sources/", {"type": "book", "year_min": 2000})
    assert "/p/review/export/?type=book&amp;year_min=2000" in listing.text
    items = json.loads(
        client.get(FILE, {"format": "csljson", "type": "book", "year_min": 2000}).getvalue()
    )
    assert sorted(item["id"] for item in items) == ["icg2016exploiting", "rapoport2008waves"]
    bad = client.get(FILE, {"format": "csljson", "year_min": "soon"})
    assert bad.status_code == 400


def test_the_sources_behind_one_claim_as_students_see_them(cast, client_for):
    project = cast.project
    claim = factories.make_claim(project, "Isolation follows defeat")
    backing = factories.make_source(project, "Approved evidence", citation_key="yes")
    draft_only = factories.make_source(project, "Draft evidence", citation_key="draft")
    factories.make_source(project, "Unrelated", citation_key="no")
    factories.make_annotation(
        backing, cast.analyst, status="approved", reviewer=cast.supervisor, claims=[claim]
    )
    factories.make_annotation(draft_only, cast.analyst, claims=[claim])
    claim_page = client_for(cast.student).get(f"/p/review/claims/{claim.pk}/")
    assert f"/p/review/export/?claim={claim.pk}" in claim_page.text

    def keys(user) -> list[str]:
        response = client_for(user).get(FILE, {"format": "csljson", "claim": claim.pk})
        return sorted(item["id"] for item in json.loads(response.getvalue()))

    assert keys(cast.student) == ["yes"]
    assert keys(cast.analyst) == ["draft", "yes"]
    assert client_for(cast.student).get(FILE, {"claim": "999999"}).status_code == 404
    assert client_for(cast.student).get(FILE, {"claim": "x"}).status_code == 404


def test_formatted_bibliographies_in_html_and_plain_text(cast, client_for):
    source = factories.make_source(
        cast.project, "Milestones", csl_type="book", publisher="Kazi & Sons", issued_year=1964
    )
    source.add_contributor(
        factories.make_person(cast.project, "Sayyid Qutb", family="Qutb", given="Sayyid")
    )
    client = client_for(cast.student)
    text = client.get(FILE, {"format": "text", "style": "modern-language-association"})
    assert text["Content-Type"].startswith("text/plain")
    assert text.getvalue().decode() == "Qutb, Sayyid. Milestones. Kazi & Sons, 1964.\n"
    html = client.get(FILE, {"format": "html", "style": "apa"}).getvalue().decode()
    assert "<li>Qutb, S. (1964). <i>Milestones</i>. Kazi &#38; Sons.</li>" in html
    assert client.get(FILE, {"format": "html", "style": "nope"}).status_code == 400


def test_export_page_queries_do_not_grow_with_the_bibliography(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership with project, 4 count of the selection,
    # 5 concepts of the filter form, 6 first sources, 7 their contributors with people
    assert_constant_queries(cast.student, lambda: EXPORT, 7)


def test_export_bibliography_command_writes_every_format(cast, capsys, tmp_path):
    import_file(cast.project, sample("varied.ris"), "varied.ris")
    call_command("export_bibliography", "--project", "review", "--format", "ris")
    assert capsys.readouterr().out.count("ER  - ") == 8
    target = tmp_path / "out.bib"
    call_command("export_bibliography", "--project", "review", "-o", str(target))
    copy = factories.make_project(slug="copy")
    call_command("import_bibliography", str(target), "--project", "copy")
    assert Source.objects.for_project(copy).count() == 8


# --- Streamed, within a memory budget ----------------------------------------------------------


def test_a_bibliography_streams_the_reference_files_in_memory_that_does_not_grow(
    cast, grow, monkeypatch
):
    """Each format, written an entry at a time from batches of 20 sources, is exactly the
    file the reference writers make of the whole list at once (rispy's RIS writer, Python's
    JSON encoder, BibTeX entries joined by blank lines), holding much less than reading them
    all at once does."""
    import hashlib

    import rispy

    from apps.bibliography import bibtex, csljson, importing, ris

    grow(300)
    sources = Source.objects.for_project(cast.project)
    everything = list(importing.export_queryset(sources))
    references = {
        "bibtex": "\n".join(bibtex._entry(source) for source in everything),
        "ris": rispy.dumps(
            [ris._record(source) for source in everything],
            implementation=ris._Writer,
            skip_unknown_tags=False,
        ),
        "csljson": json.dumps(
            [csljson.csl_from_source(source) for source in everything], indent=2, ensure_ascii=False
        ),
    }
    del everything
    for format, reference in references.items():
        monkeypatch.setattr(importing, "EXPORT_BATCH", 10**6)
        "".join(importing.source_pieces(sources, format))  # what any first call loads
        _, _, whole_peak = factories.streamed(importing.source_pieces(sources, format))
        monkeypatch.setattr(importing, "EXPORT_BATCH", 20)
        digest, size, peak = factories.streamed(importing.source_pieces(sources, format))
        expected = reference.encode()
        assert (digest, size) == (hashlib.sha256(expected).hexdigest(), len(expected))
        # Reading everything at once holds twice what batches of 20 do here; bench/exports.py
        # shows the peak staying flat from 2,000 to 20,000 sources.
        assert peak < whole_peak / 1.5, (format, whole_peak, peak)


def test_the_download_is_streamed_and_busy_places_answer_503(cast, client_for, monkeypatch):
    """A download is written as it is read; when every place for this project's bibliography
    files is taken (many requests at once), the next request is told to come back, and a
    client that goes away gives its place back."""
    from apps.bibliography import views

    import_file(cast.project, sample("varied.bib"), "varied.bib")
    monkeypatch.setattr(views, "EXPORT_PLACES", 1)
    client = client_for(cast.student)
    first = client.get(FILE, {"format": "ris"})
    assert first.streaming and first.status_code == 200
    busy = client.get(FILE, {"format": "bibtex"})
    assert busy.status_code == 503 and busy["Retry-After"] == "60"
    assert "try again in a minute" in busy.getvalue().decode()
    factories.close_response(first)  # the client went away before reading anything
    again = client.get(FILE, {"format": "bibtex"})
    assert again.status_code == 200
    assert again.getvalue().decode().count("\n@") + 1 == 11

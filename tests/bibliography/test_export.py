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
    assert bib.content.decode().count("\n@") + 1 == 11
    ris = client.get(FILE, {"format": "ris"}).content.decode()
    assert ris.count("ER  - ") == 11
    items = json.loads(client.get(FILE, {"format": "csljson"}).content)
    assert len(items) == 11 and {"id", "type", "title"} <= set(items[0])


def test_the_source_lists_filter_selects_what_is_exported(cast, client_for):
    import_file(cast.project, sample("varied.bib"), "varied.bib")
    client = client_for(cast.analyst)
    page = client.get(EXPORT, {"type": "book", "year_min": 2000})
    assert "2 sources matching the filter" in page.text
    listing = client.get("/p/review/sources/", {"type": "book", "year_min": 2000})
    assert "/p/review/export/?type=book&amp;year_min=2000" in listing.text
    items = json.loads(
        client.get(FILE, {"format": "csljson", "type": "book", "year_min": 2000}).content
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
        return sorted(item["id"] for item in json.loads(response.content))

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
    assert text.content.decode() == "Qutb, Sayyid. Milestones. Kazi & Sons, 1964.\n"
    html = client.get(FILE, {"format": "html", "style": "apa"}).content.decode()
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

"""The import pages: upload → preview → confirm, all or nothing, duplicates, bad input."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.bibliography import views
from apps.jobs.models import ImportJob
from apps.library.models import Source
from apps.people.models import Person
from tests import factories
from tests.bibliography.helpers import sample

UPLOAD = "/p/review/import/"


def upload(client, data: bytes, name: str = "refs.bib", **extra):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data), **extra})


# Fifty family names (digits would not do: name matching reads "11" as "1").
FAMILIES = [consonant + vowel for consonant in "bcdfghjklm" for vowel in "aeiou"]


def entries(count: int, *, broken: int | None = None) -> bytes:
    parts = []
    for n in range(1, count + 1):
        if n == broken:
            parts.append(
                f"@article{{broken{n},\n  title = {{Unbalanced {{braces}},\n  year = 2001\n}}\n"
            )
        else:
            parts.append(
                f"@article{{entry{n},\n  author = {{Author{FAMILIES[n % 50]}, Given}},\n"
                f"  title = {{Entry number {n}}},\n  journal = {{J}},\n  year = {{2001}},\n}}\n"
            )
    return "\n".join(parts).encode()


def state(project) -> tuple[int, int]:
    return Source.objects.for_project(project).count(), Person.objects.for_project(project).count()


def test_upload_shows_a_preview_and_writes_nothing_until_confirmed(cast, client_for):
    client = client_for(cast.analyst)
    response = upload(client, sample("varied.bib"), "varied.bib")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response.url == f"/p/review/import/{job.token}/"
    preview = client.get(response.url)
    assert preview.status_code == 200
    assert "11 new" in preview.text and "Bloody Moments" in preview.text
    assert state(cast.project) == (0, 0)
    confirmed = client.post(reverse("bibliography:import_confirm", args=["review", job.token]))
    assert confirmed.status_code == 302 and confirmed.url == "/p/review/sources/"
    assert state(cast.project)[0] == 11
    assert "11 sources imported" in client.get(confirmed.url).text
    # Confirming again imports nothing twice.
    again = client.post(reverse("bibliography:import_confirm", args=["review", job.token]))
    assert again.status_code == 302
    assert state(cast.project)[0] == 11


def test_a_broken_500th_entry_imports_nothing_unless_it_is_skipped(cast, client_for):
    client = client_for(cast.analyst)
    data = entries(1000, broken=500)
    line = data.decode()[: data.decode().index("@article{broken500")].count("\n") + 1
    response = upload(client, data)
    preview = client.get(response.url)
    assert "1 rejected" in preview.text
    assert f"Entry 500 (line {line:,})" in preview.text
    assert "not balanced" in preview.text
    confirm = response.url + "confirm/"
    refused = client.post(confirm)
    assert refused.status_code == 400
    assert f"entry 500 (line {line:,}) cannot be read" in refused.text
    assert state(cast.project) == (0, 0)
    done = client.post(confirm, {"skip_rejected": "on"})
    assert done.status_code == 302
    assert state(cast.project) == (999, 50)


def test_a_failure_while_writing_rolls_the_whole_import_back(cast, monkeypatch):
    from apps.bibliography import importing as bibliography

    _, read = bibliography.read_file(entries(1200), filename="x.bib")
    real = bibliography._create_sources
    calls = []

    def fail_on_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise bibliography.IntegrityError("simulated")
        return real(*args, **kwargs)

    monkeypatch.setattr(bibliography, "_create_sources", fail_on_the_third_batch)
    with pytest.raises(bibliography.ImportRefused, match="Nothing was imported"):
        bibliography.import_entries(project=cast.project, entries=read, by=None)
    assert state(cast.project) == (0, 0)


def test_large_files_stream_their_progress(cast, client_for, monkeypatch):
    monkeypatch.setattr(views, "STREAM_ABOVE", 10)
    client = client_for(cast.analyst)
    response = upload(client, entries(1200))
    streamed = client.post(response.url + "confirm/")
    assert streamed.status_code == 200 and streamed.streaming
    page = b"".join(streamed.streaming_content).decode()
    steps = re.findall(r'<progress value="(\d+)" max="1200">', page)
    assert steps[0] == "0" and steps[-1] == "1200" and len(steps) >= 4
    assert "1,200 sources imported" in page
    assert 'href="/p/review/sources/"' in page
    assert state(cast.project)[0] == 1200
    assert ImportJob.objects.get().is_finished


def duplicate_rows(cast):
    project = cast.project
    doi = factories.make_source(project, "Known by DOI", citation_key="old1")
    doi.add_identifier("doi", "10.1000/abc")
    isbn = factories.make_source(project, "Known by ISBN", citation_key="old2", csl_type="book")
    isbn.add_identifier("isbn", "0-306-40615-2")
    work = factories.make_source(
        project, "Les Enfants du Djihad", citation_key="old3", issued_year=2015, volume=""
    )
    work.add_contributor(factories.make_person(project, "Hélène Pérez", family="Pérez"))
    return doi, isbn, work


BIB_DUPLICATES = b"""
@article{a, title = {Another title}, doi = {https://doi.org/10.1000/ABC}, year = 2020}
@book{b, title = {A book}, isbn = {978-0-306-40615-7}}
@article{c, author = {Perez, Helene}, title = {{LES} enfants du djihad!}, year = 2015, volume = {7}}
@article{d, author = {Perez, Helene}, title = {Les enfants du djihad}, year = 2016}
"""


def test_duplicates_are_found_by_doi_isbn_and_normalised_title_year_and_author(cast, client_for):
    doi, isbn, work = duplicate_rows(cast)
    client = client_for(cast.analyst)
    response = upload(client, BIB_DUPLICATES)
    preview = client.get(response.url).text
    assert "1 new" in preview and "3 duplicates" in preview
    assert "same DOI 10.1000/abc" in preview
    assert "same ISBN (both whole books) 9780306406157" in preview
    assert "same title, year and first author" in preview
    # Skip the first two, merge the third: it fills in the volume the source lacked.
    job = ImportJob.objects.get()
    client.post(response.url + "confirm/", {"merge-3": "on"})
    assert Source.objects.for_project(cast.project).count() == 4
    work.refresh_from_db()
    assert work.volume == "7" and work.version == 2
    assert Source.objects.get(project=cast.project, citation_key="d").issued_year == 2016
    assert ImportJob.objects.get(pk=job.pk).is_finished


@pytest.mark.parametrize(
    ("data", "name", "problem"),
    [
        (b"", "empty.bib", "file is empty"),
        (b"   \n\n", "blank.bib", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 10, "picture.bib", "binary file"),
        ("@book{a, title = {Caf\u00e9}}".encode("latin-1"), "latin1.bib", "not UTF-8"),
        (b"@article{x, title = {Open {brace}, year = 2001\n", "open.bib", "not closed"),
        (b"TY  - JOUR\nTI  - Cut off\nAU  - Someone\n", "cut.ris", "no end"),
        (b'{"title": "not an array"}', "item.json", "CSL-JSON is an array"),
        (b"[1, 2", "broken.json", "not valid JSON"),
        (b"just some words", "notes.txt", "Cannot tell the file"),
        (b"hello", "words.bib", "No BibTeX entries"),
        (b"hello\n", "words.ris", "not RIS"),
    ],
)
def test_bad_files_get_a_message_naming_the_problem_and_change_nothing(
    cast, client_for, data, name, problem
):
    client = client_for(cast.analyst)
    response = upload(client, data, name)
    if response.status_code == 302:
        # Files with some unreadable entries are read: the preview rejects the entries.
        page = client.get(response.url)
        assert problem in page.text
        assert client.post(response.url + "confirm/").status_code == 400
    else:
        assert response.status_code == 400
        assert problem in response.text
    assert state(cast.project) == (0, 0)


def test_files_over_the_size_limit_are_refused(cast, client_for, settings):
    client = client_for(cast.analyst)
    big = b"%" + b" " * (10 * 1024 * 1024 + 10)
    response = upload(client, big)
    assert response.status_code == 400
    assert "the limit is 10 MB" in response.text
    assert not ImportJob.objects.exists()


def test_students_export_but_may_not_import(cast, client_for):
    student = client_for(cast.student)
    assert student.get(UPLOAD).status_code == 403
    assert upload(student, sample("varied.bib")).status_code == 403
    assert student.get("/p/review/export/").status_code == 200
    assert state(cast.project) == (0, 0)
    assert upload(client_for(cast.analyst), sample("varied.bib")).status_code == 302


def test_another_members_upload_is_not_found(cast, client_for):
    response = upload(client_for(cast.analyst), sample("varied.bib"))
    assert client_for(cast.analyst2).get(response.url).status_code == 404
    assert client_for(cast.analyst2).post(response.url + "confirm/").status_code == 404
    assert state(cast.project) == (0, 0)


def test_import_bibliography_command_reports_rejected_lines_and_imports_nothing(cast, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    path = tmp_path / "refs.bib"
    path.write_bytes(entries(20, broken=7))
    err = StringIO()
    with pytest.raises(CommandError, match=r"entry 7 \(line \d+\) cannot be read"):
        call_command("import_bibliography", str(path), "--project", "review", stderr=err)
    assert "Rejected entry 7" in err.getvalue()
    assert state(cast.project) == (0, 0)
    out = StringIO()
    call_command(
        "import_bibliography",
        str(path),
        "--project",
        "review",
        "--skip-rejected",
        stdout=out,
        stderr=StringIO(),
    )
    assert "19 sources imported" in out.getvalue()
    latin = tmp_path / "latin.bib"
    latin.write_bytes("@book{a, title = {Caf\u00e9}}".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_bibliography", str(latin), "--project", "review")

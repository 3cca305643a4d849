"""Formatted bibliographies: `export_bibliography --style` and the export page's files, with
people's name parts shown and sorted as each style requires."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.bibliography import formatted
from apps.jobs.models import Job, JobState
from apps.jobs.running import job_url
from tests import factories

FILE = "/p/review/export/file/"


@pytest.fixture
def library(cast):
    project = cast.project
    gennep = factories.make_person(
        project, "Arnold van Gennep", family="Gennep", given="Arnold", non_dropping_particle="van"
    )
    humboldt = factories.make_person(
        project, "Alexander von Humboldt", family="Humboldt", given="Alexander",
        dropping_particle="von",
    )  # fmt: skip
    king = factories.make_person(
        project, "Martin Luther King Jr.", family="King", given="Martin Luther", suffix="Jr."
    )
    hale = factories.make_person(project, "Dorothy Hale", family="Hale", given="Dorothy")
    rites = factories.make_source(
        project, "The rites of passage", csl_type="book", citation_key="gennep1960",
        publisher="University of Chicago Press", publisher_place="Chicago", issued_year=1960,
    )  # fmt: skip
    rites.add_contributor(gennep)
    kosmos = factories.make_source(
        project, "Kosmos", csl_type="book", citation_key="humboldt1845", publisher="Cotta",
        publisher_place="Stuttgart", issued_year=1845,
    )  # fmt: skip
    kosmos.add_contributor(humboldt)
    love = factories.make_source(
        project, "Strength to love", csl_type="book", citation_key="king1963",
        publisher="Harper & Row", publisher_place="New York", issued_year=1963,
    )  # fmt: skip
    love.add_contributor(king)
    letters = factories.make_source(
        project, "Letters from the front", csl_type="book", citation_key="hale",
        publisher="Privately printed",
    )  # fmt: skip
    letters.add_contributor(hale)
    return project


APA = [
    "Hale, D. (n.d.). Letters from the front. Privately printed.",
    "Humboldt, A. von. (1845). Kosmos. Cotta.",
    "King, M. L., Jr. (1963). Strength to love. Harper & Row.",
    # APA keeps "van" before the family name and sorts under V.
    "van Gennep, A. (1960). The rites of passage. University of Chicago Press.",
]
CHICAGO = [
    # Chicago moves "van" after the given name and sorts under G.
    "Gennep, Arnold van. 1960. The Rites of Passage. Chicago: University of Chicago Press.",
    "Hale, Dorothy. n.d. Letters from the Front. Privately printed.",
    "Humboldt, Alexander von. 1845. Kosmos. Stuttgart: Cotta.",
    "King, Martin Luther, Jr. 1963. Strength to Love. New York: Harper & Row.",
]


def test_the_command_writes_a_formatted_bibliography_in_the_styles_order(library, capsys):
    call_command("export_bibliography", "--project", "review", "--style", "apa")
    assert capsys.readouterr().out == "\n\n".join(APA) + "\n"
    call_command("export_bibliography", "--project", "review", "--style", "chicago")
    assert capsys.readouterr().out == "\n\n".join(CHICAGO) + "\n"
    call_command("export_bibliography", "--project", "review", "--style", "mla")
    # MLA, like APA, keeps "van" in front.
    assert capsys.readouterr().out.endswith(
        "\n\nvan Gennep, Arnold. The Rites of Passage. University of Chicago Press, 1960.\n"
    )


def test_the_command_writes_an_html_page_with_the_styles_italics(library, tmp_path):
    target = tmp_path / "apa.html"
    call_command(
        "export_bibliography", "--project", "review", "--style", "apa", "--html", "-o", target
    )
    page = target.read_text("utf-8")
    assert page.startswith("<!doctype html>")
    assert "<li>King, M. L., Jr. (1963). <i>Strength to love</i>. Harper &#38; Row.</li>" in page
    assert page.index("Hale, D.") < page.index("van Gennep, A.")


def test_the_command_refuses_html_without_a_style_and_unknown_styles(library):
    with pytest.raises(CommandError, match="--style"):
        call_command("export_bibliography", "--project", "review", "--html")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("export_bibliography", "--project", "review", "--style", "harvard")


def test_the_export_page_formats_with_the_same_engine(library, cast, client_for):
    client = client_for(cast.student)
    text = client.get(FILE, {"format": "text", "style": "apa"}).content.decode()
    assert text == "\n\n".join(APA) + "\n"


def test_a_large_selection_is_formatted_by_a_job_whose_file_is_the_bibliography(
    library, cast, client_for, monkeypatch
):
    monkeypatch.setattr(formatted, "FORMAT_IN_REQUEST", 3)
    client = client_for(cast.student)
    response = client.get(FILE, {"format": "text", "style": "chicago-author-date-17th-edition"})
    job = Job.objects.get(kind="bibliography.formatted")
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert job.user == cast.student and job.state == JobState.SUCCEEDED
    page = client.get(job_url(job)).content.decode()
    assert "4 sources formatted in Chicago (author-date, 17th edition)." in page
    download = client.get(reverse("jobs:job_download", args=["review", job.token]))
    assert b"".join(download.streaming_content).decode() == "\n\n".join(CHICAGO) + "\n"
    assert 'filename="review-chicago-author-date-17th-edition.txt"' in (
        download["Content-Disposition"]
    )


def test_a_job_formats_the_selection_the_page_had(library, cast, client_for, monkeypatch):
    monkeypatch.setattr(formatted, "FORMAT_IN_REQUEST", 1)
    client = client_for(cast.student)
    client.get(FILE, {"format": "html", "style": "apa", "year_min": 1900})
    job = Job.objects.get(kind="bibliography.formatted")
    download = client.get(reverse("jobs:job_download", args=["review", job.token]))
    page = b"".join(download.streaming_content).decode()
    assert "King, M. L., Jr." in page and "van Gennep, A." in page
    assert "Humboldt" not in page and "Hale" not in page


def test_a_selection_beyond_any_bibliography_is_refused_with_advice(
    library, cast, client_for, monkeypatch
):
    monkeypatch.setattr(formatted, "MAX_FORMATTED", 3)
    client = client_for(cast.student)
    response = client.get(FILE, {"format": "html", "style": "apa"}, follow=True)
    assert "takes at most 3 sources; this selection has 4" in response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/p/review/export/")
    assert not Job.objects.exists()

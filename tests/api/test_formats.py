"""`?format=` on the sources list: the same page as a file for a reference manager, written by
the export's writers and read back by another project's parser."""

import json

import pybtex.database
import pytest

from tests import factories

URL = "/api/v1/p/review/sources/"


@pytest.fixture
def library(cast):
    for key, title in [("b2017", "Bloody Split"), ("a2016", "Withdrawal"), ("c1964", "Milestones")]:
        factories.make_source(cast.project, title, citation_key=key, issued_year=2000)


def test_bibtex_pages_read_back_and_link_the_next(cast, api_for, token_for, library):
    client = api_for(token=token_for(cast.student))
    first = client.get(URL, {"format": "bibtex", "limit": 2})
    assert first.status_code == 200
    assert first["Content-Type"].startswith("application/x-bibtex")
    assert first["Total-Results"] == "3"
    parsed = pybtex.database.parse_string(first.content.decode(), "bibtex")
    assert sorted(parsed.entries) == ["b2017", "c1964"]  # by title: Bloody…, Milestones
    next_url = first["Link"].split(">")[0].lstrip("<")
    assert "format=bibtex" in next_url
    second = client.get(next_url)
    assert list(pybtex.database.parse_string(second.content.decode(), "bibtex").entries) == [
        "a2016"
    ]
    assert "Link" not in second


def test_ris_and_csl_json(cast, api_for, library):
    client = api_for(cast.analyst)
    ris = client.get(URL, {"format": "ris"})
    assert ris.status_code == 200 and ris.content.decode().count("ER  -") == 3
    items = json.loads(client.get(URL, {"format": "csljson"}).content)
    assert sorted(item["title"] for item in items) == ["Bloody Split", "Milestones", "Withdrawal"]


def test_an_unknown_format_is_a_json_400(cast, api_for, library):
    response = api_for(cast.analyst).get(URL, {"format": "docx"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["where"].endswith("format")

"""Hostile JSON bibliographies: refused while they are parsed, in bounded memory, with a message
and nothing written; real ones, braces in their strings included, still read."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.bibliography import csljson
from apps.bibliography.files import read_files
from apps.bibliography.records import MAX_JSON_OBJECTS, FileError
from apps.jobs.models import ImportJob
from apps.library.models import Source
from tests.bibliography.test_bibtex_bad_input import UPLOAD, measured

# 3 million empty objects in 9 MB: read whole, about 200 MB of Python objects.
EMPTY_OBJECTS = "[" + ",".join(["{}"] * 3_000_000) + "]"


def test_millions_of_empty_objects_are_refused_while_parsing():
    outcome, seconds, peak = measured(lambda: csljson.read(EMPTY_OBJECTS))
    assert isinstance(outcome, FileError)
    assert f"more than {MAX_JSON_OBJECTS:,} objects" in str(outcome)
    assert "Split it" in str(outcome)
    assert seconds < 5 and peak < 150, (seconds, peak)


def test_braces_inside_strings_do_not_count_as_objects():
    items = [
        {"id": f"i{n}", "type": "book", "title": "{" * 2_000 + f" Title {n}"} for n in range(600)
    ]
    text = json.dumps(items)
    assert text.count("{") > MAX_JSON_OBJECTS  # the counted path
    entries = csljson.read(text)
    assert len(entries) == 600 and not any(entry.error for entry in entries)


def test_the_upload_page_refuses_them_and_writes_nothing(cast, client_for):
    response = client_for(cast.analyst).post(
        UPLOAD, {"file": SimpleUploadedFile("items.json", EMPTY_OBJECTS.encode())}
    )
    assert response.status_code == 400
    assert "more than 1,000,000 objects" in response.text
    assert not ImportJob.objects.exists()
    assert not Source.objects.exists()


def test_detection_and_reading_share_the_limit():
    outcome, _, _ = measured(lambda: read_files([("a.json", EMPTY_OBJECTS.encode())]))
    assert isinstance(outcome, FileError) and "objects" in str(outcome)

"""Hostile or broken BibTeX: refused quickly with a message that says why, in bounded memory,
with nothing written and never a 500."""

import time
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.bibliography import bibtex
from apps.bibliography.records import FileError
from apps.jobs.models import ImportJob
from apps.library.models import Source

UPLOAD = "/p/review/import/"


def doubling_macros(levels: int = 40) -> str:
    """@string definitions that double: the last would be 10 × 2^40 characters."""
    lines = ['@string{m0 = "0123456789"}']
    lines += [f"@string{{m{n} = m{n - 1} # m{n - 1}}}" for n in range(1, levels + 1)]
    lines.append(f"@article{{bomb, title = m{levels}, year = 2001}}")
    return "\n".join(lines) + "\n"


def measured(call):
    """(result or raised error, seconds, peak MB of Python memory) of `call()`."""
    tracemalloc.start()
    started = time.process_time()
    try:
        outcome = call()
    except FileError as error:
        outcome = error
    seconds = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1] / 1_048_576
    tracemalloc.stop()
    return outcome, seconds, peak


def test_macros_that_double_are_refused_before_they_fill_the_memory():
    outcome, seconds, peak = measured(lambda: bibtex.read(doubling_macros()))
    assert isinstance(outcome, FileError)
    assert "expands, through @string macros, to more than 1,000,000 characters" in str(outcome)
    assert "line 18" in str(outcome)  # m17 is the first longer than a million characters
    assert seconds < 2 and peak < 60


def test_macros_that_add_up_over_the_whole_file_are_refused():
    lines = ['@string{big = "' + "x" * 900_000 + '"}']
    lines += [f"@misc{{k{n}, title = big}}" for n in range(30)]
    outcome, seconds, peak = measured(lambda: bibtex.read("\n".join(lines)))
    assert isinstance(outcome, FileError)
    assert "expand to more than 20,000,000 characters in all" in str(outcome)
    assert seconds < 5 and peak < 200


def test_deeply_nested_braces_reject_the_entry_quickly():
    deep = "{" * 100_000 + "x" + "}" * 100_000
    text = f"@article{{deep, title = {deep}, year = 2001}}\n@article{{fine, title = {{Fine}}}}\n"
    outcome, seconds, peak = measured(lambda: bibtex.read(text))
    deep_entry, fine = outcome
    assert (
        deep_entry.error == "its title nests braces more than 64 deep, which no bibliography needs"
    )
    assert not fine.error and fine.title == "Fine"
    assert seconds < 5 and peak < 100
    # Unclosed, the entry runs to the end of the file: it is reported, not a crash.
    (unclosed,) = bibtex.read("@article{deep, title = " + "{" * 100_000 + "x\n")
    assert "not closed" in unclosed.error


@pytest.mark.parametrize(
    "text",
    [
        "@a{b,}\n" * 1_000_000,  # a million tiny entries, one a line
        "@a{b,}" * 1_000_000,  # the same on one line
        "@string{s = {x}}\n" * 100_001,  # only macros
    ],
    ids=["lines", "one-line", "macros"],
)
def test_millions_of_tiny_entries_are_refused_before_parsing(text):
    outcome, seconds, peak = measured(lambda: bibtex.read(text))
    assert isinstance(outcome, FileError)
    assert "more than 50,000" in str(outcome) and "Split it" in str(outcome)
    assert seconds < 2 and peak < 20


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (doubling_macros().encode(), "expands, through @string macros"),
        (b"@a{b,}\n" * 1_000_000, "more than 50,000 entries"),
    ],
    ids=["macros", "tiny-entries"],
)
def test_the_upload_page_refuses_them_with_the_message_and_writes_nothing(
    cast, client_for, data, message
):
    started = time.monotonic()
    response = client_for(cast.analyst).post(
        UPLOAD, {"file": SimpleUploadedFile("hostile.bib", data)}
    )
    assert response.status_code == 400
    assert message in response.text
    assert time.monotonic() - started < 10
    assert not ImportJob.objects.exists()
    assert not Source.objects.exists()


def test_deep_braces_through_the_page_are_a_rejected_entry_and_nothing_is_written(cast, client_for):
    client = client_for(cast.analyst)
    deep = "{" * 50_000 + "x" + "}" * 50_000
    data = f"@article{{deep, title = {deep}}}\n".encode()
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("deep.bib", data)})
    assert response.status_code == 302
    page = client.get(response.url)
    assert page.status_code == 200 and "nests braces more than 64 deep" in page.text
    assert client.post(response.url + "confirm/").status_code == 400
    assert not Source.objects.exists()

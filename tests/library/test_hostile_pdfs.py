"""PDFs made to hurt: streams that unpack to hundreds of megabytes, broken structure, deep
nesting. Each is refused with a message naming the file, quickly, and nothing is saved."""

import time
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.library.extract import ExtractionError, extract
from tests import factories


def pdf(*streams: bytes, pages: int = 1, filters: str = "/FlateDecode") -> bytes:
    """A minimal PDF whose page(s) draw `streams` (already encoded with `filters`)."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + n} 0 R" for n in range(pages))
    first_stream = 3 + pages
    contents = " ".join(f"{first_stream + n} 0 R" for n in range(len(streams)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    for _ in range(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [{contents}] "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
            ">> >> >> >>".encode()
        )
    for stream in streams:
        objects.append(
            f"<< /Length {len(stream)} /Filter {filters} >>\nstream\n".encode()
            + stream
            + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def deflated(chunk: bytes, times: int) -> bytes:
    """`chunk` repeated `times`, deflated without ever holding the whole in memory."""
    packer = zlib.compressobj(9)
    parts = [packer.compress(chunk) for _ in range(times)]
    return b"".join(parts) + packer.flush()


def text_ops(words: str) -> bytes:
    return f"BT /F1 12 Tf 72 720 Td ({words}) Tj ET".encode()


def test_a_small_real_text_is_read():
    extracted = extract("fine.pdf", pdf(deflated(text_ops("Isolationist takfiri groups"), 1)))
    assert "Isolationist takfiri groups" in extracted.text


@pytest.mark.parametrize(
    "name, chunk, times",
    [
        # 400 MB of spaces in one content stream (about 400 kB deflated).
        ("spaces.pdf", b" " * 1_000_000, 400),
        # 200 MB of text-showing operators: every byte is work for the text extractor.
        ("words.pdf", text_ops("x" * 80) * 10_000, 240),
    ],
)
def test_a_decompression_bomb_is_refused_quickly(name, chunk, times):
    data = pdf(deflated(chunk, times))
    assert len(data) < 2_000_000
    started = time.monotonic()
    with pytest.raises(ExtractionError) as refused:
        extract(name, data)
    assert time.monotonic() - started < 20
    assert name in str(refused.value)


def test_many_bombs_together_stay_within_the_budget():
    # Pages drawing forty streams of 10 MB each: no single stream is over the limit.
    stream = deflated(b" " * 1_000_000, 10)
    data = pdf(*([stream] * 40), pages=3)
    started = time.monotonic()
    with pytest.raises(ExtractionError):
        extract("many.pdf", data)
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + b"[" * 100_000,
        b"%PDF-1.7\n1 0 obj\n" + b"<<" * 50_000 + b"\nendobj\n",
        b"%PDF-1.7\n\x00\xff garbage",
        pdf(b"not deflate data at all"),
        pdf(deflated(b"BT " + b"[" * 200_000 + b" ET", 1)),
        pdf(b"\x80" * 100, filters="/LZWDecode"),
        pdf(deflated(text_ops("x"), 1), filters="[/FlateDecode /Unknown]"),
    ],
)
def test_a_broken_pdf_of_any_kind_is_a_message(data):
    with pytest.raises(ExtractionError) as refused:
        extract("broken.pdf", data)
    assert "broken.pdf" in str(refused.value)


def test_uploading_a_bomb_shows_the_message_and_keeps_the_text(cast, client_for):
    source = factories.make_source(cast.project)
    data = pdf(deflated(b" " * 1_000_000, 300))

    upload = SimpleUploadedFile("bomb.pdf", data, content_type="application/pdf")
    response = client_for(cast.analyst).post(
        f"/p/review/sources/{source.pk}/text/", {"file": upload, "comment": "bomb"}
    )
    assert response.status_code == 400  # the form again, with its error
    assert "bomb.pdf” unpacks to more than" in response.text
    source.refresh_from_db()
    assert not source.texts.exists()

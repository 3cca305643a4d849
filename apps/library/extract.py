"""The plain text of an uploaded file: .txt, .html or .pdf, checked against what it claims to be.

HTML keeps only its words (scripts, styles and every tag go; blocks become paragraphs), so
nothing of the markup reaches the reading view. A PDF keeps its page boundaries: where each page
starts in the text and the label the PDF gives it (its printed number when the file says so).
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePath

from django.template.defaultfilters import filesizeformat

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 2_000_000
TEXT_EXTENSIONS = {".txt", ".text"}
HTML_EXTENSIONS = {".html", ".htm", ".xhtml"}
PDF_EXTENSIONS = {".pdf"}
ACCEPTED = ".txt, .html or .pdf"
# Magic numbers of files often renamed by mistake: what they really are, for the message.
SIGNATURES = {
    b"%PDF-": "a PDF file",
    b"PK\x03\x04": "a ZIP archive (a .docx, .odt or .epub is one)",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office file",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}


class ExtractionError(ValueError):
    """The file cannot become a source's text; the message says why, for the uploader."""


@dataclass
class Extracted:
    text: str
    origin: str  # a TextOrigin value
    pages: list[list] = field(default_factory=list)


def check_length(text: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise ExtractionError(
            f"The text has {len(text):,} characters; a source's text may have at most "
            f"{MAX_TEXT_CHARS:,}."
        )
    return text


def extract(name: str, data: bytes) -> Extracted:
    """The text of the file `name` whose bytes are `data`, or ExtractionError."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ExtractionError(
            f"“{name}” is {filesizeformat(len(data))}; files may be at most "
            f"{filesizeformat(MAX_UPLOAD_BYTES)}."
        )
    if not data.strip():
        raise ExtractionError(f"“{name}” is empty.")
    extension = PurePath(name).suffix.lower()
    if extension in PDF_EXTENSIONS:
        if not data.startswith(b"%PDF-"):
            raise ExtractionError(
                f"“{name}” is not a PDF file: {_what(data)}. Upload the PDF itself, or the "
                "text as .txt."
            )
        extracted = _pdf(name, data)
    elif extension in TEXT_EXTENSIONS | HTML_EXTENSIONS:
        text = _decode(name, data)
        if extension in HTML_EXTENSIONS:
            if not re.search(r"<\s*[a-zA-Z!/]", text):
                raise ExtractionError(f"“{name}” does not look like HTML: it has no tags.")
            extracted = Extracted(html_to_text(text), "html")
        else:
            extracted = Extracted(text, "txt")
    else:
        raise ExtractionError(f"“{name}” is not a {ACCEPTED} file.")
    if not extracted.text.strip():
        raise ExtractionError(
            f"No text could be read from “{name}”. A scanned PDF needs text recognition (OCR) "
            "first."
        )
    check_length(extracted.text)
    return extracted


def _what(data: bytes) -> str:
    for signature, kind in SIGNATURES.items():
        if data.startswith(signature):
            return f"it is {kind}"
    if b"\x00" in data[:8192]:
        return "it holds binary data"
    return "it does not begin with %PDF-"


def _decode(name: str, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    kind = _what(data)
    if kind != "it does not begin with %PDF-":
        raise ExtractionError(f"“{name}” is not a text file: {kind}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExtractionError(
            f"“{name}” is not UTF-8 text (byte {error.start + 1} cannot be read). Save it as "
            "UTF-8 and upload it again."
        ) from None


# A PDF's streams are compressed, and a few hundred kilobytes can unpack to gigabytes: every
# stream is bounded as it is unpacked, all of a file's page contents together too, and so is
# the time spent. A real text of 2 million characters needs a small part of each.
PDF_STREAM_MAX_BYTES = 16 * 1024 * 1024
PDF_CONTENT_MAX_BYTES = 64 * 1024 * 1024
PDF_MAX_PAGES = 10_000
PDF_MAX_SECONDS = 20.0
PDF_LIMITS = {
    "maximum_declared_stream_length": PDF_STREAM_MAX_BYTES,
    "array_based_stream_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "jbig2_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "lzw_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "run_length_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "zlib_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "brotli_maximum_output_length": PDF_STREAM_MAX_BYTES,
    "image_maximum_buffer_size": PDF_STREAM_MAX_BYTES,
    "stream_decoding_work_maximum_length": 2 * PDF_STREAM_MAX_BYTES,
    "xform_maximum_invocations_per_extraction": 500,
    "page_tree_maximum_entries": PDF_MAX_PAGES,
    # Never start an external decoder for a stream (images hold no text anyway).
    "jbig2dec_binary": None,
}


def _pdf(name: str, data: bytes) -> Extracted:
    """The text of a PDF, page by page. Any failure of the parser — a broken file, a stream
    over the limits, nesting too deep for the stack — is an ExtractionError naming the file:
    an uploaded PDF is untrusted input, and no defect of it may end the request with a 500."""
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    too_big = (
        f"“{name}” unpacks to more than {filesizeformat(PDF_CONTENT_MAX_BYTES)} of page "
        "content; it cannot be a source's text. Save it again as a plain PDF, or upload the "
        "text as .txt."
    )
    started = time.monotonic()
    try:
        with apply_configuration(**PDF_LIMITS):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise ExtractionError(f"“{name}” is protected by a password.")
            if len(reader.pages) > PDF_MAX_PAGES:
                raise ExtractionError(
                    f"“{name}” has more than {PDF_MAX_PAGES:,} pages; split it first."
                )
            labels = list(reader.page_labels)
            parts: list[str] = []
            pages: list[list] = []
            offset = unpacked = 0
            for number, page in enumerate(reader.pages):
                contents = page.get_contents()
                # Unpacked once here (pypdf keeps it for extract_text) and counted.
                unpacked += len(contents.get_data()) if contents is not None else 0
                if unpacked > PDF_CONTENT_MAX_BYTES:
                    raise ExtractionError(too_big)
                content = (page.extract_text() or "").strip("\n")
                label = labels[number] if number < len(labels) else ""
                pages.append([offset, label or str(number + 1)])
                parts.append(content)
                offset += len(content) + 2
                if offset > MAX_TEXT_CHARS:
                    raise ExtractionError(
                        f"“{name}” holds more than {MAX_TEXT_CHARS:,} characters of text; a "
                        "source's text may have at most that many."
                    )
                if time.monotonic() - started > PDF_MAX_SECONDS:
                    raise ExtractionError(
                        f"“{name}” takes too long to read (more than {PDF_MAX_SECONDS:.0f} "
                        "seconds). Save it again as a plain PDF, or upload the text as .txt."
                    )
    except ExtractionError:
        raise
    except LimitReachedError:
        raise ExtractionError(too_big) from None
    except RecursionError:
        raise ExtractionError(f"“{name}” could not be read as a PDF (nested too deeply).") from None
    except MemoryError:
        raise ExtractionError(too_big) from None
    except Exception as error:  # noqa: BLE001 (any parser failure is the file's, see above)
        detail = str(error)[:200] or type(error).__name__
        raise ExtractionError(f"“{name}” could not be read as a PDF ({detail}).") from None
    return Extracted("\n\n".join(parts), "pdf", pages)


# Elements whose content is never text a reader should see.
SKIPPED = {"script", "style", "template", "noscript", "iframe", "object", "svg", "math", "head"}
BLOCKS = {
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "tr", "ul", "body", "title",
}  # fmt: skip


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.current: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "body":
            # A head left open ends where the body begins.
            self.skipping = [open_tag for open_tag in self.skipping if open_tag != "head"]
        if tag in SKIPPED:
            self.skipping.append(tag)
        elif tag == "br":
            self.current.append("\n")
        elif tag in BLOCKS:
            self.flush()

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag == "br":
            self.current.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()
        elif tag in BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(re.sub(r"\s+", " ", data))

    def flush(self) -> None:
        lines = "".join(self.current).split("\n")
        paragraph = "\n".join(" ".join(line.split()) for line in lines).strip()
        if paragraph:
            self.paragraphs.append(paragraph)
        self.current = []


def html_to_text(markup: str) -> str:
    """The words of an HTML document, a blank line between blocks; no markup survives."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    collector.flush()
    return "\n\n".join(collector.paragraphs)

"""Notes are Markdown written by users; what is stored for display must never run script."""

import re
from html.parser import HTMLParser

import pytest

from apps.library.richtext import render_markdown, sanitize
from tests import factories

HOSTILE_NOTES = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="https://ok.example" onclick="alert(1)">link</a>',
    "[click](javascript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<b>unclosed <i>tags <script>alert(1)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<object data=x></object><embed src=x>",
    '<form action="https://evil.example"><input name=x></form>',
    '"><img src=x onerror=alert(1)>',
    "<style>body{display:none}</style>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
]

SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h3", "h4", "h5", "h6",
    "hr", "i", "kbd", "li", "ol", "p", "pre", "q", "s", "strong", "sub", "sup", "ul",
}  # fmt: skip


class Inspector(HTMLParser):
    """Collects every problem a browser could act on: unknown tags, attributes, URL schemes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag not in SAFE_TAGS:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name not in {"href", "title", "rel", "cite"}:
                self.problems.append(f"attribute {name}")
            if name in {"href", "cite"} and not re.match(r"(https?:|mailto:)", value or ""):
                self.problems.append(f"url {value}")


def problems(html: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


@pytest.mark.parametrize("note", HOSTILE_NOTES)
def test_no_hostile_markup_survives_rendering(note):
    assert problems(render_markdown(note)) == []


@pytest.mark.parametrize("note", HOSTILE_NOTES)
def test_sanitize_alone_removes_it_too(note):
    assert problems(sanitize(note)) == []


def test_markdown_formatting_and_links_survive_with_a_safe_rel():
    html = render_markdown(
        "*Qutb* on **jahiliyyah**, see https://example.org/x and [Kaplan](https://example.org/k)"
    )
    assert "<em>Qutb</em>" in html and "<strong>jahiliyyah</strong>" in html
    assert html.count('rel="nofollow noopener"') == 2
    assert 'href="https://example.org/k"' in html


def test_the_inspector_catches_what_it_should():
    assert sorted(problems('<a href="javascript:x" onclick="y">')) == [
        "attribute onclick",
        "url javascript:x",
    ]
    assert problems("<script>") == ["tag script"]


def test_entities_stay_text():
    assert render_markdown("&lt;script&gt;") == "<p>&lt;script&gt;</p>"


def test_the_sanitised_copy_is_stored_beside_the_raw_note(cast, client_for):
    source = factories.make_source(cast.project)
    raw = "<img src=x onerror=alert(1)>Looks *fine*"
    annotation = factories.make_annotation(
        source, cast.analyst, status="approved", reviewer=cast.supervisor, note=raw
    )
    annotation.refresh_from_db()
    assert annotation.note == raw
    assert annotation.note_html == "<p>Looks <em>fine</em></p>"
    page = client_for(cast.student).get(f"/p/review/sources/{source.pk}/").text
    assert "Looks <em>fine</em>" in page
    assert "onerror" not in page

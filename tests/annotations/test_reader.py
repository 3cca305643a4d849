"""Source texts (paste, .txt, .html, .pdf), the reading view, placing quotes from the form,
and attaching orphaned passages again."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from fpdf import FPDF

from apps.annotations.anchoring import replace_text
from apps.annotations.highlights import Highlight, blocks, render_text
from apps.annotations.models import AnchorState, Annotation, Status
from apps.library.extract import MAX_UPLOAD_BYTES
from apps.library.models import SourceText
from tests import factories

TEXT = (
    "Withdrawal from society is old. Chain takfir spread among the groups.\n\n"
    "The second paragraph repeats: chain takfir. It ends here."
)


@pytest.fixture
def source(cast):
    source = factories.make_source(cast.project, "Withdrawal from Society")
    replace_text(source, TEXT, by=cast.supervisor, origin="pasted")
    return source


def paragraphs_of(body: str) -> list[str]:
    """The reading view's paragraphs as plain text, after checking that every segment's
    offset (data-s) is where its characters are in the stored text."""
    return [
        re.sub(r"<[^>]+>", "", paragraph).replace("&#x27;", "'")
        for paragraph in re.findall(r'<p class="reader__p"[^>]*>(.*?)</p>', body, re.S)
    ]


def segments_at_their_offsets(body: str, text: str) -> bool:
    segments = re.findall(r'data-s="(\d+)"[^>]*>([^<]*)<', body)
    return bool(segments) and all(
        text[int(at) : int(at) + len(chunk.replace("&#x27;", "'"))] == chunk.replace("&#x27;", "'")
        for at, chunk in segments
    )


def url(source, page="read"):
    return f"/p/{source.project.slug}/sources/{source.pk}/{page}/"


def make_pdf(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for number, words in enumerate(pages):
        pdf.add_page()
        if number == 1:
            # From the second page on the file numbers its pages from 15 (a journal article).
            pdf.set_page_label(label_style="D", label_start=15)
        pdf.multi_cell(0, 8, words)
    return bytes(pdf.output())


# Access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["supervisor", "analyst", "analyst2", "student"])
def test_every_member_may_read(cast, client_for, source, who):
    response = client_for(getattr(cast, who)).get(url(source))
    assert response.status_code == 200
    assert 'id="reader-text"' in response.content.decode()


def test_outsider_gets_404_and_post_gets_405(cast, client_for, source):
    assert client_for(cast.outsider).get(url(source)).status_code == 404
    assert client_for(cast.analyst).post(url(source)).status_code == 405
    assert client_for(cast.analyst).post(url(source, "orphans")).status_code == 405
    assert client_for(cast.analyst).post(url(source, "locate")).status_code == 405


@pytest.mark.parametrize("who,status", [("supervisor", 200), ("analyst", 200), ("student", 403)])
def test_who_may_change_the_text(cast, client_for, source, who, status):
    assert client_for(getattr(cast, who)).get(url(source, "text")).status_code == status


def test_outsider_cannot_change_the_text(cast, client_for, source):
    response = client_for(cast.outsider).post(url(source, "text"), {"text": "Gone."})
    assert response.status_code == 404
    source.refresh_from_db()
    assert source.full_text == TEXT


# The reading view ----------------------------------------------------------------------------


def test_highlights_overlap_and_keep_offsets(cast, client_for, source):
    concept = factories.make_concept(cast.project, "Chain takfir")
    outer = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
        quote="Chain takfir spread among the groups.", concepts=[concept],
    )  # fmt: skip
    inner = factories.make_annotation(
        source, cast.analyst2, status=Status.APPROVED, reviewer=cast.supervisor,
        quote="takfir spread",
    )  # fmt: skip
    draft = factories.make_annotation(source, cast.analyst, quote="It ends here.")
    for annotation in (outer, inner, draft):
        annotation.anchor_in(TEXT, 1)
        annotation.save()
    page = client_for(cast.student).get(url(source)).content.decode()
    body = re.search(r'<article class="reader__text[^>]*>(.*?)</article>', page, re.S).group(1)
    # Every character of the text is in the page once, in order (markup aside), one element
    # per paragraph, numbered; the blank line between them is not drawn.
    assert paragraphs_of(body) == TEXT.split("\n\n")
    assert segments_at_their_offsets(body, TEXT)
    assert re.findall(r'<p class="reader__p" id="para-(\d)" data-n="(\d)"', body) == [
        ("1", "1"),
        ("2", "2"),
    ]
    overlap = re.search(r'<mark data-s="(\d+)" data-a="([\d ]+)"[^>]*data-depth="2"', body)
    assert overlap and int(overlap.group(1)) == TEXT.index("takfir spread")
    assert set(overlap.group(2).split()) == {str(outer.pk), str(inner.pk)}
    # The student sees approved passages only; the author sees their draft too.
    assert f'data-a="{draft.pk}"' not in body
    assert f'data-a="{draft.pk}"' in client_for(cast.analyst).get(url(source)).content.decode()
    assert "Chain takfir" in page  # the concept legend


def test_long_text_is_laid_out_in_blocks_at_paragraph_breaks(cast, client_for):
    paragraphs = [f"Paragraph {n}. " + "Words of the long text. " * 30 for n in range(40)]
    text = "\n\n".join(paragraphs)
    source = factories.make_source(cast.project, "A long text")
    replace_text(source, text, by=cast.analyst, origin="pasted")
    # A passage across the first block boundary: from the end of paragraph 2 into paragraph 3.
    across = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
        quote="Words of the long text.\n\nParagraph 3. Words",
    )  # fmt: skip
    across.anchor_in(text, 1)
    across.save()
    page = client_for(cast.student).get(url(source)).content.decode()
    body = re.search(r'<article class="reader__text[^>]*>(.*?)</article>', page, re.S).group(1)
    blocks = re.findall(r'<div class="reader__block"[^>]*>(.*?)</div>', body, re.S)
    assert "\n\n".join(paragraphs_of(body)) == text
    assert segments_at_their_offsets(body, text)
    starts = [int(re.search(r'data-s="(\d+)"', block).group(1)) for block in blocks]
    # Blocks of at least 2,000 characters, each starting a paragraph.
    assert len(blocks) == len(text) // 2_000
    assert all(text[start - 2 : start] == "\n\n" for start in starts[1:])
    assert all(b - a >= 2_000 for a, b in zip(starts, starts[1:], strict=False))
    # The passage is split at the block boundary; both parts are the same passage.
    assert across.start < starts[1] < across.end
    marks = re.findall(rf'<mark data-s="(\d+)" data-a="{across.pk}"', body)
    assert [int(m) for m in marks] == [across.start, starts[1]]


def test_a_block_page_and_passage_starting_together_nest_in_that_order():
    text = "\n\n".join(f"Paragraph {n}. " + "Some words. " * 40 for n in range(8))
    boundary = sorted(blocks(text))[1]
    html = render_text(
        text, [Highlight(7, boundary, boundary + 9, "approved", -1)], [[0, "1"], [boundary, "2"]]
    )
    assert re.search(
        r'</p></div><div class="reader__block" data-lines="\d+">'
        r'<p class="reader__p" id="para-\d+" data-n="\d+" dir="auto">'
        r'<span class="page-mark" data-page="2" aria-hidden="true"></span>'
        rf'<mark data-s="{boundary}" data-a="7"',
        html,
    )
    assert html.count("<div") == html.count("</div>") == len(blocks(text))
    assert html.count("<p ") == html.count("</p>") == 8
    assert render_text("", [], []).count("<div") == render_text("", [], []).count("</div>") == 1


def test_rtl_source_reads_right_to_left(cast, client_for):
    arabic = factories.make_source(cast.project, "مقال", language="ar")
    replace_text(
        arabic, "النص العربي هنا. And an English sentence.", by=cast.analyst, origin="pasted"
    )
    detected = factories.make_source(cast.project, "بلا لغة")
    replace_text(
        detected, "نص عربي طويل بما يكفي ليكون الغالب. OK.", by=cast.analyst, origin="pasted"
    )
    english = factories.make_source(cast.project, "English", language="en")
    replace_text(english, "Plain English with one word: تكفير.", by=cast.analyst, origin="pasted")
    client = client_for(cast.student)
    assert 'dir="rtl"' in client.get(url(arabic)).content.decode()
    assert 'dir="rtl"' in client.get(url(detected)).content.decode()
    assert 'id="reader-text" dir="ltr"' in client.get(url(english)).content.decode()


def test_reading_view_query_count_does_not_grow(
    cast, client_for, source, django_assert_num_queries
):
    client = client_for(cast.supervisor)
    concept = factories.make_concept(cast.project, "Takfir")
    claim = factories.make_claim(cast.project, "A claim")
    person = factories.make_person(cast.project, "Sayyid Qutb")

    def add(n):
        for _ in range(n):
            a = factories.make_annotation(
                source, cast.analyst, quote="chain takfir", concepts=[concept], claims=[claim],
                people=[person],
            )  # fmt: skip
            a.anchor_in(TEXT, 1)
            a.save()

    add(2)
    # Session, user, membership, the source with its text, the text's page starts, the
    # passages (their place, status and quote), their concepts (for colour), the source's
    # double-coding units (apps.agreement's section; none here). Notes, claims and people are
    # not read: they come with a passage's card when it is opened.
    with django_assert_num_queries(8):
        assert client.get(url(source)).status_code == 200
    add(20)
    with django_assert_num_queries(8):
        response = client.get(url(source))
    assert response.content.decode().count('class="reader__jump"') == 22


def test_list_entries_and_highlights_link_to_each_other(cast, client_for, source):
    first = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
        quote="Chain takfir spread",
    )  # fmt: skip
    same_start = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
        quote="Chain takfir",
    )  # fmt: skip
    for annotation in (first, same_start):
        annotation.anchor_in(TEXT, 1)
        annotation.save()
    page = client_for(cast.student).get(url(source)).content.decode()
    # Each list entry links to its passage's first character in the text, so the list scrolls
    # the text even without the script; two passages starting together both have a target.
    for annotation in (first, same_start):
        assert f'href="#at-{annotation.pk}"' in page
        assert page.count(f'id="at-{annotation.pk}"') == 1
    target = re.search(r'<mark data-s="(\d+)"[^>]* id="at-(\d+)" tabindex="0"', page)
    assert int(target.group(1)) == TEXT.index("Chain takfir")
    assert f'data-passages-url="{url(source, "read/passages")}"' in page
    # The list shows the opening of each quote.
    assert '<p class="reader__quote" dir="auto">“Chain takfir spread”</p>' in page


# A passage's card, fetched when a highlight or a list entry is opened --------------------------


def cards_url(source, *annotations) -> str:
    return url(source, "read/passages") + "?ids=" + "+".join(str(a.pk) for a in annotations)


@pytest.fixture
def linked(cast, source):
    """An approved passage with a note, a claim, a person and a concept, and an analyst's draft."""
    approved = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
        quote="Chain takfir spread among the groups.", note="Why it *matters*.",
        claims=[factories.make_claim(cast.project, "Takfir spreads between groups")],
        people=[factories.make_person(cast.project, "Ahmad al-Hazimi")],
        concepts=[factories.make_concept(cast.project, "Chain takfir")],
    )  # fmt: skip
    draft = factories.make_annotation(source, cast.analyst, quote="It ends here.")
    # Saved at the start of an earlier version of the text: found elsewhere now, "moved".
    approved.start = 0
    for annotation in (approved, draft):
        annotation.anchor_in(TEXT, 1)
        annotation.save()
    return approved, draft


@pytest.mark.parametrize("who", ["supervisor", "analyst", "analyst2", "student"])
def test_every_member_may_open_an_approved_passage(cast, client_for, source, linked, who):
    approved, _ = linked
    response = client_for(getattr(cast, who)).get(cards_url(source, approved))
    assert response.status_code == 200
    card = response.content.decode()
    assert "Why it <em>matters</em>." in card
    assert "Takfir spreads between groups" in card
    assert "Ahmad al-Hazimi" in card and "Chain takfir" in card
    assert f"/p/review/annotations/{approved.pk}/" in card
    assert 'class="anchor anchor--moved"' in card  # where the quote sits in the current text


def test_cards_show_only_what_the_member_may_see(cast, client_for, source, linked):
    approved, draft = linked
    student = client_for(cast.student).get(cards_url(source, approved, draft)).content.decode()
    assert "Chain takfir spread" in student and "It ends here." not in student
    assert client_for(cast.student).get(cards_url(source, draft)).status_code == 404
    assert client_for(cast.analyst2).get(cards_url(source, draft)).status_code == 404
    author = client_for(cast.analyst).get(cards_url(source, approved, draft)).content.decode()
    assert "It ends here." in author and "Draft" in author


def test_cards_of_another_source_or_project_are_not_found(cast, client_for, source, linked):
    approved, _ = linked
    other = factories.make_source(cast.project, "Another source")
    assert client_for(cast.supervisor).get(cards_url(other, approved)).status_code == 404
    assert client_for(cast.outsider).get(cards_url(source, approved)).status_code == 404


def test_cards_refuse_other_methods(cast, client_for, source, linked):
    approved, _ = linked
    assert client_for(cast.analyst).post(cards_url(source, approved)).status_code == 405


@pytest.mark.parametrize(
    "ids,message",
    [
        ("", "Name the passages to show"),
        ("12;DROP", "named by their numbers"),
        ("-3", "named by their numbers"),
        ("1e9", "named by their numbers"),
        ("9" * 13, "named by their numbers"),
        (" ".join(str(n) for n in range(1, 52)), "at most 50 passages"),
    ],
)
def test_bad_passage_numbers_are_refused_with_a_message(
    cast, client_for, source, linked, ids, message
):
    response = client_for(cast.supervisor).get(url(source, "read/passages"), {"ids": ids})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_cards_query_count_does_not_grow(
    cast, client_for, source, linked, django_assert_num_queries
):
    approved, draft = linked
    client = client_for(cast.supervisor)
    # Session, user, membership, the source (without its text), the passages with their
    # source and author, their evidence with claims, mentions with people and works, concepts.
    with django_assert_num_queries(8):
        assert client.get(cards_url(source, approved)).status_code == 200
    more = [
        factories.make_annotation(
            source,
            cast.analyst2,
            quote="chain takfir",
            note=f"Note {n}.",
            claims=[factories.make_claim(cast.project, f"Claim {n}")],
            people=[factories.make_person(cast.project, f"Person {n}")],
        )  # fmt: skip
        for n in range(6)
    ]
    with django_assert_num_queries(8):
        response = client.get(cards_url(source, approved, draft, *more))
    assert response.content.decode().count('class="reader__card"') == 8


def test_a_source_without_text_invites_adding_it(cast, client_for):
    empty = factories.make_source(cast.project, "No text")
    page = client_for(cast.analyst).get(url(empty)).content.decode()
    assert "has no text yet" in page and url(empty, "text") in page


# Texts: paste, files, bad input --------------------------------------------------------------


def post_text(client, source, **data):
    return client.post(url(source, "text"), data)


def test_pasted_correction_is_a_new_version_and_reports_the_anchors(cast, client_for, source):
    a = factories.make_annotation(source, cast.analyst, quote="It ends here.")
    a.anchor_in(TEXT, 1)
    a.save()
    response = post_text(
        client_for(cast.analyst), source, text="Preface.\r\n" + TEXT, comment="Added the preface"
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.text_version == 2 and source.full_text == "Preface.\n" + TEXT
    version = SourceText.objects.get(source=source, version=2)
    assert (version.origin, version.comment, version.created_by) == (
        "pasted",
        "Added the preface",
        cast.analyst,
    )
    a.refresh_from_db()
    assert a.anchor_state == AnchorState.MOVED


def test_pdf_keeps_pages_and_their_labels(cast, client_for, source):
    data = make_pdf(["First page words.", "Second page words.", "Third page: chain takfir."])
    response = client_for(cast.analyst).post(
        url(source, "text"), {"file": SimpleUploadedFile("article.pdf", data, "application/pdf")}
    )
    assert response.status_code == 302
    version = SourceText.objects.get(source=source, version=2)
    assert version.origin == "pdf" and version.filename == "article.pdf"
    labels = [label for _, label in version.pages]
    assert labels == ["1", "15", "16"]
    third = version.pages[2][0]
    assert version.text[third:].startswith("Third page")
    # A selection on the third page is prefilled with its page label and locator.
    start = version.text.index("chain takfir")
    form = client_for(cast.analyst).get(
        f"/p/review/sources/{source.pk}/annotations/new/?start={start}&end={start + 12}"
    )
    assert form.context["form"].initial["page_label"] == "16"
    assert form.context["form"].initial["locator"] == "p. 16"


def test_hostile_html_is_reduced_to_its_words(cast, client_for, source):
    hostile = (
        b"<html><head><title>T</title><script>alert('x')</script></head><body>"
        b'<h1>Heading</h1><p onclick="alert(1)">Safe <b>words</b>.</p>'
        b"<img src=x onerror=alert(1)><iframe src=javascript:alert(1)>inside</iframe>"
        b"<style>p{color:red}</style><p>More &amp; more.</p></body></html>"
    )
    response = client_for(cast.analyst).post(
        url(source, "text"), {"file": SimpleUploadedFile("page.html", hostile, "text/html")}
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.full_text == "Heading\n\nSafe words.\n\nMore & more."
    page = client_for(cast.analyst).get(url(source)).content.decode()
    assert "alert" not in page and "onerror" not in page


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("article.pdf", b"Just some text, not a PDF at all.", "is not a PDF file"),
        ("article.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary", "is not a text file: it is a PDF"),
        ("notes.txt", b"\x00\x01\x02\x03binary\x00", "is not a text file"),
        ("page.html", b"no tags at all", "does not look like HTML"),
        ("latin.txt", "Caf\xe9 society".encode("latin-1"), "is not UTF-8"),
        ("archive.docx", b"PK\x03\x04....", "is not a .txt, .html or .pdf file"),
        ("empty.txt", b"   ", "is empty"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "could not be read as a PDF"),
    ],
)
def test_bad_files_are_refused_with_a_message(cast, client_for, source, name, data, message):
    response = client_for(cast.analyst).post(
        url(source, "text"), {"file": SimpleUploadedFile(name, data)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    source.refresh_from_db()
    assert source.text_version == 1 and source.full_text == TEXT


def test_file_over_the_limit_is_refused(cast, client_for, source):
    big = SimpleUploadedFile("big.txt", b"a" * (MAX_UPLOAD_BYTES + 1))
    response = client_for(cast.analyst).post(url(source, "text"), {"file": big})
    assert response.status_code == 400
    assert "files may be at most 10.0" in response.content.decode()
    assert SourceText.objects.filter(source=source).count() == 1


def test_text_over_two_million_characters_is_refused(cast, client_for, source):
    response = post_text(client_for(cast.analyst), source, text="a" * 2_000_001)
    assert response.status_code == 400
    assert "at most 2,000,000" in response.content.decode()


def test_empty_submission_is_refused(cast, client_for, source):
    response = post_text(client_for(cast.analyst), source, text="  ")
    assert response.status_code == 400
    assert "Paste the text or choose a file." in response.content.decode()


# Placing quotes from the annotation form ------------------------------------------------------


def annotation_post(client, source, **fields):
    data = {
        "quote": "", "locator": "¶1", "page_label": "", "note": "",
        "evidence-TOTAL_FORMS": "0", "evidence-INITIAL_FORMS": "0",
        "mentions-TOTAL_FORMS": "0", "mentions-INITIAL_FORMS": "0",
        **fields,
    }  # fmt: skip
    return client.post(f"/p/review/sources/{source.pk}/annotations/new/", data)


def test_selection_offsets_are_checked_and_saved(cast, client_for, source):
    start = TEXT.index("Chain takfir")
    response = annotation_post(
        client_for(cast.analyst), source, quote="Chain takfir\r\nspread".replace("\r\n", " "),
        start=start, end=start + len("Chain takfir spread"),
    )  # fmt: skip
    assert response.status_code == 302
    saved = Annotation.objects.get()
    assert (saved.start, saved.anchor_state, saved.anchored_version) == (start, "exact", 1)
    assert saved.prefix == TEXT[:start][-32:]


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"quote": "Chain takfir", "start": "5000", "end": "5012"}, "beyond this source"),
        ({"quote": "Chain takfir", "start": "0", "end": "12"}, "does not match the text at"),
        ({"quote": "Chain takfir", "start": "3"}, "Give both the start and the end"),
        ({"quote": "Gardening with tomatoes and basil", "start": "", "end": ""}, "was not found"),
        ({"quote": "chain takfir", "start": "-4", "end": "3"}, "cannot be negative"),
    ],
)
def test_bad_offsets_and_quotes_are_refused(cast, client_for, source, fields, message):
    response = annotation_post(client_for(cast.analyst), source, **fields)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Annotation.objects.exists()


def test_a_repeated_quote_asks_which_one(cast, client_for, source):
    client = client_for(cast.analyst)
    response = annotation_post(client, source, quote="chain takfir")
    # Exact matches are case-sensitive: "Chain takfir" (capital C) is another string.
    assert response.status_code == 302
    assert Annotation.objects.get().start == TEXT.index("chain takfir")
    Annotation.objects.all().delete()
    replace_text(source, TEXT + " Again chain takfir.", by=cast.analyst, origin="pasted")
    response = annotation_post(client, source, quote="chain takfir")
    assert response.status_code == 200
    assert "occurs 2 times" in response.content.decode()
    choices = response.context["form"].occurrences
    # Each is told by where a reader finds it and its words around, never by offsets.
    assert [o.where for o in choices] == ["¶2", "¶2"]
    assert "characters" not in response.content.decode().split("occurrences-choice")[1]
    second = choices[1]
    response = annotation_post(client, source, quote="chain takfir", occurrence=second.value)
    assert response.status_code == 302
    assert Annotation.objects.get().start == second.start


def test_a_near_quote_offers_the_texts_words(cast, client_for, source):
    client = client_for(cast.analyst)
    response = annotation_post(client, source, quote="chain-takfir spread among groups")
    assert response.status_code == 200
    assert "does not match the text exactly" in response.content.decode()
    best = response.context["form"].occurrences[0]
    response = annotation_post(
        client, source, quote="chain-takfir spread among groups", occurrence=best.value
    )
    assert response.status_code == 302
    saved = Annotation.objects.get()
    assert saved.quote == TEXT[saved.start : saved.end]
    assert saved.quote.startswith("Chain takfir spread")


def test_locate_answers_json(cast, client_for, source):
    client = client_for(cast.analyst)
    found = client.get(url(source, "locate"), {"quote": "chain takfir"}).json()
    assert found["total"] == 1 and found["matches"][0]["how"] == "exact"
    assert client.get(url(source, "locate"), {"quote": ""}).json()["matches"] == []
    assert client.get(url(source, "locate"), {"quote": "x" * 5001}).status_code == 400
    assert client_for(cast.student).get(url(source, "locate"), {"quote": "a"}).status_code == 403


# Orphans -------------------------------------------------------------------------------------


def test_orphans_are_listed_and_attached_again_by_hand(cast, client_for, source):
    orphan = factories.make_annotation(
        source,
        cast.analyst,
        status=Status.APPROVED,
        reviewer=cast.supervisor,
        quote="It ends here.",
    )
    orphan.anchor_in(TEXT, 1)
    orphan.save()
    replace_text(
        source, TEXT.replace("It ends here.", "It stops now."), by=cast.analyst, origin="pasted"
    )
    orphan.refresh_from_db()
    assert orphan.anchor_state == AnchorState.ORPHANED
    listing = client_for(cast.student).get(url(source, "orphans"))
    assert "It ends here." in listing.content.decode()
    assert "Attach again" not in listing.content.decode()
    # The author may not move approved work; a supervisor may.
    reattach = f"/p/review/annotations/{orphan.pk}/reattach/"
    assert client_for(cast.analyst).post(reattach, {"quote": "It stops now."}).status_code == 403
    assert client_for(cast.student).get(reattach).status_code == 403
    response = client_for(cast.supervisor).post(reattach, {"quote": "It stops now."})
    assert response.status_code == 302
    orphan.refresh_from_db()
    assert orphan.anchor_state == AnchorState.EXACT
    assert orphan.quote == "It stops now." and orphan.status == Status.APPROVED
    assert orphan.revisions.count() == 2


def test_reattach_refuses_a_quote_not_in_the_text(cast, client_for, source):
    orphan = factories.make_annotation(source, cast.analyst, quote="Nowhere to be seen at all.")
    response = client_for(cast.analyst).post(
        f"/p/review/annotations/{orphan.pk}/reattach/",
        {"quote": "Still nowhere to be seen at all."},
    )
    assert response.status_code == 400
    assert "was not found" in response.content.decode()


def test_orphans_page_query_count_does_not_grow(
    cast, client_for, source, django_assert_num_queries
):
    client = client_for(cast.supervisor)
    concept = factories.make_concept(cast.project, "Takfir")

    def orphan(n):
        for _ in range(n):
            a = factories.make_annotation(
                source, cast.analyst, quote="Words no text holds.", concepts=[concept]
            )
            Annotation.objects.filter(pk=a.pk).update(anchor_state=AnchorState.ORPHANED)

    orphan(2)
    with django_assert_num_queries(8) as first:
        assert client.get(url(source, "orphans")).status_code == 200
    orphan(15)
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.get(url(source, "orphans"))
    assert response.content.decode().count("Attach again") == 17


@pytest.mark.parametrize(
    "text",
    [
        "One.\n\nTwo starts here.\n\n\n\nFour, after an empty one.\nStill four.",
        "Lines without blank lines\nare each a paragraph\nof their own.",
        "  Indented.\n\n  \n\tTabbed after a blank line of spaces.",
    ],
)
def test_the_numbers_in_the_margin_are_the_locators_paragraphs(text):
    from apps.annotations.anchoring import paragraph_number

    html = str(render_text(text, [], []))
    shown = re.findall(r'<p class="reader__p" id="para-(\d+)" data-n="\1"[^>]*>(.*?)</p>', html)
    assert shown
    for number, body in shown:
        for at, chunk in re.findall(r'data-s="(\d+)">([^<]*)<', body):
            for i in range(len(chunk)):
                # Every character shown under a number has that number as its locator,
                # the paragraph's first character included.
                assert paragraph_number(text, int(at) + i) == int(number), (number, at, i)


def test_a_passage_on_the_blank_lines_between_paragraphs_keeps_a_target():
    text = "One.\n\nTwo."
    html = str(render_text(text, [Highlight(5, 4, 6, "approved", -1)], []))
    assert '<span id="at-5"></span>' in html
    assert html.count("<p ") == html.count("</p>") == 2
    # One ending there is drawn up to its paragraph's end.
    html = str(render_text(text, [Highlight(6, 0, 5, "approved", -1)], []))
    assert re.search(r'<mark data-s="0" data-a="6"[^>]*>One\.</mark></p>', html)


def _many_passages(cast, count):
    text = "\n\n".join(
        f"Paragraph {n} has its own words, number {n} of many." for n in range(count)
    )
    source = factories.make_source(cast.project, "Many passages")
    replace_text(source, text, by=cast.analyst, origin="pasted")
    for n in range(count):
        annotation = factories.make_annotation(
            source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
            quote=f"its own words, number {n} of many",
        )  # fmt: skip
        annotation.anchor_in(text, 1)
        annotation.save()
    return source


def test_a_long_side_list_comes_as_compact_data_after_its_first_entries(cast, client_for):
    from apps.annotations.reader import LIST_PAGE

    source = _many_passages(cast, LIST_PAGE + 20)
    page = client_for(cast.student).get(url(source)).content.decode()
    assert page.count('class="reader__jump"') == LIST_PAGE
    data = json.loads(re.search(r'id="reader-list-data"[^>]*>(.*?)</script>', page, re.S)[1])
    assert len(data["rows"]) == LIST_PAGE + 20
    first = Annotation.objects.filter(source=source).order_by("start").first()
    # [id, start, end, locator, status, anchor state, score], without its usual end: this
    # passage is approved and its place is not in doubt.
    assert first.anchor_state not in ("fuzzy", "ambiguous", "orphaned")
    assert data["rows"][0] == [first.pk, first.start, first.end, first.locator]
    assert "Show all 120 passages in the list" in page
    # Without the script, every entry comes from the server when asked for.
    everything = client_for(cast.student).get(url(source), {"list": "all"}).content.decode()
    assert everything.count('class="reader__jump"') == LIST_PAGE + 20


def test_a_short_side_list_is_drawn_whole(cast, client_for, source):
    page = client_for(cast.student).get(url(source)).content.decode()
    assert "reader-list-data" not in page and "Show all" not in page


def test_jargon_is_left_out_of_what_researchers_read(cast, client_for, source):
    annotation = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
        quote="Chain takfir spread among the groups.",
    )  # fmt: skip
    annotation.anchor_in(TEXT, 1)
    annotation.save()
    Annotation.objects.filter(pk=annotation.pk).update(anchor_state="exact")
    client = client_for(cast.analyst)
    cards = client.get(url(source, "read/passages") + f"?ids={annotation.pk}").text
    assert "anchor--exact" not in cards and ">Exact<" not in cards
    page = client.get(url(source)).text
    assert 'rel="icon"' in page


@pytest.mark.parametrize(
    ("text", "selected", "expected"),
    [
        ("Chain takfir spread among the groups.", "hain takf", "Chain takfir"),
        ("Chain takfir spread among the groups.", "Chain takfir", "Chain takfir"),
        ("Chain takfir spread among the groups.", "groups.", "groups."),
        ("the Mu'tazila held it", "u'taz", "Mu'tazila"),
        ("قال أبو مصعب السوري ذلك", "صعب السو", "مصعب السوري"),
        ("قَالَ الشَّيْخُ", "الشَّي", "الشَّيْخُ"),  # harakat are part of the word
        ("in 2016 and 2017", "01", "2016"),
        ("x" * 100, "x" * 10, "x" * 90),  # 40 letters at most on each side
    ],
)
def test_a_selection_inside_words_is_widened_to_whole_words(text, selected, expected):
    from apps.annotations.anchoring import word_snapped

    at = text.index(selected) if selected != "x" * 10 else 45
    start, end = word_snapped(text, at, at + len(selected))
    assert text[start:end] == expected


def test_the_form_offers_whole_words_and_a_way_to_keep_the_exact_characters(
    cast, client_for, source
):
    client = client_for(cast.analyst)
    start = TEXT.index("hain takf")
    new = f"/p/review/sources/{source.pk}/annotations/new/"
    page = client.get(new, {"start": start, "end": start + 9})
    assert page.context["form"].initial["quote"] == "Chain takfir"
    assert page.context["form"].initial["start"] == start - 1
    html = page.content.decode()
    assert "began or ended inside a word" in html
    assert '<q dir="auto">hain takf</q>' in html
    exact = page.context["form"].initial["snapped_from"]["url"]
    assert exact == f"{new}?start={start}&end={start + 9}&exact=1"
    kept = client.get(exact)
    assert kept.context["form"].initial["quote"] == "hain takf"
    assert "inside a word" not in kept.content.decode()
    # A selection on word boundaries says nothing.
    whole = client.get(new, {"start": start - 1, "end": start + 11})
    assert whole.context["form"].initial["quote"] == "Chain takfir"
    assert "inside a word" not in whole.content.decode()


@pytest.mark.parametrize(
    "opening",
    [
        "",
        "Short.",
        "x" * 90,
        "x" * 91,
        "é" * 91,  # one code point each
        "e\u0301" * 60,  # decomposed: normalised, and the accents do not count
        "ال" * 46,
        "x" * 89 + "\u0301" + "yz",
    ],
)
def test_the_lists_quote_openings_are_cut_as_truncatechars_cuts_them(opening):
    from django.template.defaultfilters import truncatechars

    from apps.annotations.reader import shortened

    assert shortened(opening) == truncatechars(opening, 90)


def test_highlights_take_the_colour_of_their_first_concept_by_name(cast, client_for, source):
    names = ["Takfir", "Hijra", "Chain takfir", "Isolation"]
    concepts = {name: factories.make_concept(cast.project, name) for name in names}
    passages = {}
    for quote, linked in [
        ("Withdrawal from society", ["Takfir", "Isolation"]),
        ("Chain takfir spread", ["Chain takfir", "Takfir"]),
        ("It ends here.", []),
    ]:
        annotation = factories.make_annotation(
            source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
            quote=quote, concepts=[concepts[name] for name in linked],
        )  # fmt: skip
        annotation.anchor_in(TEXT, 1)
        annotation.save()
        passages[quote] = annotation
    # "Hijra" is linked to no passage of this source: not in its legend.
    page = client_for(cast.student).get(url(source)).content.decode()
    legend = re.findall(r'<li><mark data-k="(\d+)">([^<]+)</mark></li>', page)
    assert legend == [("0", "Chain takfir"), ("1", "Isolation"), ("2", "Takfir")]
    colour = {
        quote: re.search(rf'<mark [^>]*data-k="(-?\d+)"[^>]* id="at-{a.pk}"', page)[1]
        for quote, a in passages.items()
    }
    assert colour == {
        "Withdrawal from society": "1",
        "Chain takfir spread": "0",
        "It ends here.": "-1",
    }


def test_the_text_is_in_its_place_once_whatever_the_title_and_text_say(cast, client_for):
    from apps.annotations.reader import TEXT_HERE

    source = factories.make_source(cast.project, f"A title with {TEXT_HERE} in it")
    text = f"The text quotes {TEXT_HERE} once.\n\nAnd ends."
    replace_text(source, text, by=cast.analyst, origin="pasted")
    page = client_for(cast.student).get(url(source)).content.decode()
    assert TEXT_HERE not in page  # escaped where it is shown, replaced where it was put
    body = re.search(r'<article class="reader__text[^>]*>(.*?)</article>', page, re.S).group(1)
    assert [p.replace("&lt;", "<").replace("&gt;", ">") for p in paragraphs_of(body)] == [
        f"The text quotes {TEXT_HERE} once.",
        "And ends.",
    ]
    assert page.count('<p class="reader__p"') == 2


def test_the_reading_view_is_sent_compressed_to_clients_that_accept_it(cast, client_for, source):
    import gzip

    client = client_for(cast.student)
    plain = client.get(url(source, "read"))
    packed = client.get(url(source, "read"), HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    page = gzip.decompress(packed.content).decode()
    # The same page; only the CSRF token, masked afresh in every response, differs.
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", page) == token.sub("", plain.content.decode())
    assert len(packed.content) < len(plain.content)

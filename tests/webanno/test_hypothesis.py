"""Hypothesis annotations in: as its API returns them (one, a list, a search response) and in its
W3C form, matched to a source by the page's address (however it was reached) or by DOI, and
placed by their quoted words. The shapes are those of Hypothesis' API documentation
(https://h.readthedocs.io/en/latest/api-reference/) and of its W3C export, written here."""

import copy
import json
from io import StringIO

import pytest
from django.core.management import call_command

from apps.annotations.anchoring import replace_text
from apps.annotations.models import AnchorState, Annotation, Status
from apps.claims.models import Concept
from apps.webanno.items import page_key
from tests import factories
from tests.webanno.test_w3c import TEXT, import_url, upload

QUOTE = "isolationist takfiri groups will spread among its former members"
PAGE = "https://www.futureuae.com/en-US/Mainpage/Item/1054/withdrawal-from-society"


def hypothesis_annotation(**changes) -> dict:
    """One annotation as GET /api/annotations/{id} returns it."""
    start = TEXT.index(QUOTE)
    item = {
        "id": "Ai3dc6FxEeq4ggP6g3vBHQ",
        "created": "2026-03-02T10:00:00.000000+00:00",
        "updated": "2026-03-02T10:05:00.000000+00:00",
        "user": "acct:lina@hypothes.is",
        "uri": PAGE + "?utm_source=newsletter&utm_medium=email",
        "text": "The **core** prediction; compare *Qutb*.",
        "tags": ["Isolation", "prediction"],
        "group": "__world__",
        "permissions": {"read": ["group:__world__"]},
        "target": [
            {
                "source": PAGE + "?utm_source=newsletter&utm_medium=email",
                "selector": [
                    {
                        "type": "RangeSelector",
                        "startContainer": "/div[1]/p[2]",
                        "startOffset": 10,
                        "endContainer": "/div[1]/p[2]",
                        "endOffset": 75,
                    },
                    # Offsets in the page's text, not ours: never used.
                    {"type": "TextPositionSelector", "start": start + 4000, "end": start + 4064},
                    {
                        "type": "TextQuoteSelector",
                        "exact": QUOTE,
                        "prefix": "will not end militancy: ",
                        "suffix": ", as Qutb's idea",
                    },
                ],
            }
        ],
        "document": {"title": ["Withdrawal from Society"]},
        "links": {"html": "https://hypothes.is/a/Ai3dc6FxEeq4ggP6g3vBHQ"},
        "flagged": False,
        "hidden": False,
        "references": [],
        "user_info": {"display_name": "Lina"},
    }
    item.update(changes)
    return item


def reply(**changes) -> dict:
    item = hypothesis_annotation(
        id="reply1", text="I agree.", references=["Ai3dc6FxEeq4ggP6g3vBHQ"]
    )
    item["target"] = [{"source": PAGE}]
    item.update(changes)
    return item


def page_note() -> dict:
    item = hypothesis_annotation(id="note1", text="A note on the whole page.", tags=[])
    item["target"] = [{"source": PAGE}]
    return item


@pytest.fixture
def article(cast):
    source = factories.make_source(
        cast.project,
        "Withdrawal from Society",
        full_text=TEXT,
        language="en",
        url="http://futureuae.com/en-US/Mainpage/Item/1054/withdrawal-from-society/",
    )
    factories.make_concept(cast.project, "Isolation")
    return source


def imported(cast, client_for, document, client=None) -> tuple:
    client = client or client_for(cast.analyst)
    response = upload(client, cast.project, json.dumps(document).encode(), "h.json")
    return response, list(Annotation.objects.filter(project=cast.project).order_by("pk"))


@pytest.mark.parametrize("shape", ["one", "list", "search response"])
def test_hypothesis_api_annotations_land_on_their_words(cast, client_for, article, shape):
    one = hypothesis_annotation()
    document = {
        "one": one,
        "list": [one],
        "search response": {"total": 3, "rows": [one, reply(), page_note()]},
    }[shape]
    client = client_for(cast.analyst)
    response, created = imported(cast, client_for, document, client)
    assert response.status_code == 302, response.content.decode()[:2000]
    (annotation,) = created
    assert annotation.source == article
    assert annotation.quote == QUOTE
    assert (annotation.start, annotation.end) == (TEXT.index(QUOTE), TEXT.index(QUOTE) + len(QUOTE))
    assert annotation.anchor_state == AnchorState.EXACT
    assert annotation.status == Status.DRAFT and annotation.author == cast.analyst
    assert annotation.note == "The **core** prediction; compare *Qutb*."  # Markdown kept
    assert annotation.locator == "¶1"
    # Tags: an existing concept by its name, a new one for the other.
    assert sorted(c.name for c in annotation.concepts.all()) == ["Isolation", "prediction"]
    assert Concept.objects.filter(project=cast.project, name="Isolation").count() == 1
    if shape == "search response":
        page = client.get(response.url).content.decode()
        assert "Skipped 2" in page
        assert "is a reply to another annotation" in page
        assert "is a page note" in page


@pytest.mark.parametrize(
    ("page_url", "source_url"),
    [
        (PAGE + "?utm_source=x&fbclid=abc#annotations:123", PAGE),
        ("http://futureuae.com/en-US/Mainpage/Item/1054/withdrawal-from-society/", PAGE),
        (PAGE + "?b=2&a=1", PAGE + "?a=1&b=2"),
    ],
)
def test_addresses_that_reach_the_same_page_match(page_url, source_url):
    assert page_key(page_url) == page_key(source_url)


@pytest.mark.parametrize(
    ("page_url", "source_url"),
    [
        (PAGE + "?id=2", PAGE + "?id=1"),  # a parameter that names another page
        ("https://futureuae.com/en-US/Mainpage/Item/1055/", PAGE),
        ("https://other.example/en-US/Mainpage/Item/1054/withdrawal-from-society", PAGE),
    ],
)
def test_addresses_of_other_pages_do_not(page_url, source_url):
    assert page_key(page_url) != page_key(source_url)


def test_a_pdf_annotation_is_matched_by_its_doi_and_keeps_its_page(cast, client_for):
    source = factories.make_source(cast.project, "The Bloody Split", full_text=TEXT)
    source.add_identifier("doi", "10.1234/split")
    item = hypothesis_annotation(uri="urn:x-pdf:6a0bd5b3b0f4a4b6b1e6f0a1c2d3e4f5")
    item["target"][0]["source"] = "urn:x-pdf:6a0bd5b3b0f4a4b6b1e6f0a1c2d3e4f5"
    item["target"][0]["selector"].append({"type": "PageSelector", "index": 13, "label": "14"})
    item["document"] = {
        "title": ["The Bloody Split"],
        "highwire": {"doi": ["10.1234/SPLIT"]},
        "link": [
            {"href": "urn:x-pdf:6a0bd5b3b0f4a4b6b1e6f0a1c2d3e4f5"},
            {"href": "doi:10.1234/split"},
        ],
    }
    response, (annotation,) = imported(cast, client_for, item)
    assert response.status_code == 302
    assert annotation.source == source
    assert (annotation.page_label, annotation.locator) == ("14", "p. 14")


def test_hypothesis_w3c_form_is_matched_by_the_page_address(cast, client_for, article):
    """As Hypothesis exports W3C annotations: the target's source is the page's own address,
    which only a source's URL can match."""
    w3c = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "id": "https://hypothes.is/a/Ai3dc6FxEeq4ggP6g3vBHQ",
        "created": "2026-03-02T10:00:00.000000+00:00",
        "creator": "acct:lina@hypothes.is",
        "body": [
            {"type": "TextualBody", "value": "The core prediction.", "format": "text/markdown"},
            {"type": "TextualBody", "purpose": "tagging", "value": "Isolation"},
        ],
        "target": [
            {
                "source": PAGE + "/?utm_campaign=spring",
                "selector": [
                    {"type": "TextQuoteSelector", "exact": QUOTE, "prefix": "militancy: "},
                ],
            }
        ],
    }
    response, (annotation,) = imported(cast, client_for, w3c)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert annotation.source == article and annotation.anchor_state == AnchorState.EXACT
    assert [c.name for c in annotation.concepts.all()] == ["Isolation"]


def test_a_highlight_whose_words_were_corrected_here_lands_fuzzy_with_a_score(
    cast, client_for, article
):
    corrected = TEXT.replace("former members", "former fighters")
    replace_text(article, corrected, by=cast.analyst, origin="pasted")
    response, (annotation,) = imported(cast, client_for, hypothesis_annotation())
    assert response.status_code == 302
    assert annotation.anchor_state == AnchorState.FUZZY
    assert 0.7 < annotation.anchor_score < 1
    assert corrected[annotation.start : annotation.end].startswith("isolationist takfiri")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"total": 1, "rows": [page_note()]}, "holds no annotation of a passage"),
        ({"total": 0, "rows": []}, "holds no annotations"),
        (
            hypothesis_annotation(
                uri="urn:x-pdf:abc",
                target=[
                    {
                        "source": "urn:x-pdf:abc",
                        "selector": [{"type": "TextQuoteSelector", "exact": QUOTE}],
                    }
                ],
            ),
            "names no web page or DOI",
        ),  # fmt: skip
        (hypothesis_annotation(tags="Isolation"), "its tags are not a list"),
        (hypothesis_annotation(text=["not", "text"]), "the note is not a string"),
        (
            hypothesis_annotation(
                uri="https://unknown.example/page",
                target=[
                    {
                        "source": "https://unknown.example/page",
                        "selector": [{"type": "TextQuoteSelector", "exact": QUOTE}],
                    }
                ],
            ),
            "is not in this project",
        ),  # fmt: skip
    ],
    ids=["page notes only", "empty", "no address", "tags", "note", "unknown page"],
)
def test_bad_hypothesis_files_are_refused_and_change_nothing(
    cast, client_for, article, document, message
):
    response, created = imported(cast, client_for, document)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert created == []


def test_the_command_takes_hypothesis_files_too(cast, article, tmp_path):
    path = tmp_path / "hypothesis.json"
    path.write_text(json.dumps({"total": 2, "rows": [hypothesis_annotation(), reply()]}))
    out = StringIO()
    call_command(
        "import_annotations", str(path), project=cast.project.slug, user="analyst", stdout=out
    )
    assert "Imported 1 annotations" in out.getvalue()
    assert "Skipped 1" in out.getvalue() and "reply" in out.getvalue()
    assert Annotation.objects.get().source == article


def test_students_cannot_import_and_outsiders_do_not_see_the_page(cast, client_for, article):
    document = json.dumps(copy.deepcopy(hypothesis_annotation())).encode()
    assert upload(client_for(cast.student), cast.project, document).status_code == 403
    assert upload(client_for(cast.outsider), cast.project, document).status_code == 404
    assert client_for(cast.outsider).get(import_url(cast.project)).status_code == 404
    assert not Annotation.objects.exists()


def test_an_imported_annotation_says_where_it_came_from(cast, client_for, article):
    client = client_for(cast.analyst)
    response, (annotation,) = imported(cast, client_for, hypothesis_annotation(), client)
    assert annotation.origin == {
        "tool": "Hypothesis",
        "id": "Ai3dc6FxEeq4ggP6g3vBHQ",
        "url": "https://hypothes.is/a/Ai3dc6FxEeq4ggP6g3vBHQ",
        "file": "h.json",
    }
    page = client.get(f"/p/{cast.project.slug}/annotations/{annotation.pk}/").content.decode()
    assert "Imported from Hypothesis, file “h.json”, where it is" in page
    assert '<a href="https://hypothes.is/a/Ai3dc6FxEeq4ggP6g3vBHQ" rel="nofollow' in page


def test_a_hostile_origin_address_is_not_a_link(cast, client_for, article):
    item = hypothesis_annotation(links={"html": "javascript:alert(1)"})
    response, (annotation,) = imported(cast, client_for, item)
    assert "url" not in annotation.origin
    page = client_for(cast.analyst).get(f"/p/{cast.project.slug}/annotations/{annotation.pk}/")
    assert "javascript:" not in page.content.decode()


def test_an_import_looks_each_source_up_and_reads_its_text_once(cast, client_for, article):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = [hypothesis_annotation(id=f"a{n}") for n in range(10)]
    with CaptureQueriesContext(connection) as captured:
        response, created = imported(cast, client_for, {"total": 10, "rows": rows})
    assert response.status_code == 302 and len(created) == 10
    sql = [query["sql"] for query in captured.captured_queries]
    by_address = [q for q in sql if "LIKE" in q and '"url"' in q]
    # The file is imported twice: tried for the preview (rolled back), then for good. Each
    # time the page's address is matched once,
    assert len(by_address) == 2, by_address
    # and placing each passage reads the text (save_content), the locator once for all ten.
    assert sum('"full_text"' in q and "SELECT" in q for q in sql) == 2 * (10 + 1)


def test_the_preview_maps_tags_to_concepts_and_proposes_the_others(cast, client_for, article):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(cast.analyst)
    data = json.dumps({"total": 2, "rows": [hypothesis_annotation(), reply()]}).encode()
    started = client.post(import_url(cast.project), {"file": SimpleUploadedFile("h.json", data)})
    assert started.status_code == 302
    assert Annotation.objects.count() == 0 and not Concept.objects.filter(name="prediction")
    page = client.get(started.url).content.decode()
    assert "1 annotation becomes your drafts" in page
    assert '<dt>Tags linked to concepts</dt><dd dir="auto">Isolation</dd>' in page
    assert '<dt>Tags without a concept</dt><dd dir="auto">prediction</dd>' in page
    assert "Create a concept for each tag" in page and "<strong>1</strong> exact" in page
    assert "Skipped 1" in page  # the reply
    # Unticked: the new tag is left out, the known one still linked.
    done = client.post(started.url, {})
    assert done.status_code == 302
    (annotation,) = Annotation.objects.all()
    assert [c.name for c in annotation.concepts.all()] == ["Isolation"]
    assert not Concept.objects.filter(name="prediction").exists()
    # Confirmed once only.
    assert client.post(started.url, {"new_concepts": "on"}).status_code == 200
    assert Annotation.objects.count() == 1
    assert client_for(cast.analyst2).get(started.url).status_code == 404


def test_the_preview_page_reads_the_upload_only(
    cast, client_for, article, django_assert_num_queries
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(cast.analyst)
    rows = [hypothesis_annotation(id=f"a{n}") for n in range(20)]
    data = json.dumps({"total": 20, "rows": rows}).encode()
    started = client.post(import_url(cast.project), {"file": SimpleUploadedFile("h.json", data)})
    # session and user, membership, the upload: however many annotations the file holds
    with django_assert_num_queries(4):
        assert client.get(started.url).status_code == 200

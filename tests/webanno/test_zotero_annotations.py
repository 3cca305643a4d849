"""Highlights from Zotero's PDF reader in, as Zotero's Web API returns its items (the shape of
https://www.zotero.org/support/dev/web_api/v3/basics, written here): matched to a source through
their attachment's work (DOI, URL, citation key, or the Zotero key a Zotero import kept) and
placed by their highlighted words, with the page label as locator."""

import json

import pytest

from apps.annotations.models import AnchorState, Annotation
from tests import factories
from tests.webanno.test_w3c import TEXT, upload

QUOTE = "isolationist takfiri groups will spread among its former members"
WORK, PDF = "ABCD2345", "PDFK6789"


def zotero_item(key: str, **data) -> dict:
    return {
        "key": key,
        "version": 120,
        "library": {"type": "user", "id": 475425, "name": "lina"},
        "links": {"alternate": {"href": f"https://www.zotero.org/lina/items/{key}"}},
        "meta": {},
        "data": {"key": key, "version": 120, **data},
    }


def work(**changes) -> dict:
    data = {
        "itemType": "journalArticle",
        "title": "Withdrawal from Society",
        "creators": [{"creatorType": "author", "name": "Future for Advanced Research"}],
        "DOI": "10.1234/withdrawal",
        "url": "",
        "extra": "Citation Key: faras2016",
    }
    return zotero_item(WORK, **{**data, **changes})


def attachment() -> dict:
    return zotero_item(
        PDF, itemType="attachment", parentItem=WORK, linkMode="imported_file",
        title="Full Text PDF", contentType="application/pdf", filename="faras2016.pdf",
    )  # fmt: skip


def highlight(key="ANNO2345", text=QUOTE, **changes) -> dict:
    data = {
        "itemType": "annotation",
        "parentItem": PDF,
        "annotationType": "highlight",
        "annotationText": text,
        "annotationComment": "The core prediction.",
        "annotationColor": "#ffd400",
        "annotationPageLabel": "14",
        "annotationSortIndex": "00013|001234|00411",
        "annotationPosition": json.dumps({"pageIndex": 13, "rects": [[100, 200, 300, 215]]}),
        "tags": [{"tag": "Isolation"}, {"tag": "prediction", "type": 1}],
        "relations": {},
        "dateAdded": "2026-03-02T10:00:00Z",
        "dateModified": "2026-03-02T10:00:00Z",
    }
    return zotero_item(key, **{**data, **changes})


@pytest.fixture
def article(cast):
    source = factories.make_source(
        cast.project, "Withdrawal from Society", full_text=TEXT, citation_key="other2016"
    )
    source.add_identifier("doi", "10.1234/withdrawal")
    return source


def imported(cast, client_for, document, client=None):
    client = client or client_for(cast.analyst)
    response = upload(client, cast.project, json.dumps(document).encode(), "zotero.json")
    return response, list(Annotation.objects.filter(project=cast.project).order_by("pk"))


def test_a_highlight_lands_on_its_words_through_its_attachments_work(cast, client_for, article):
    client = client_for(cast.analyst)
    note = highlight("NOTE2345", text="", annotationType="note", annotationComment="A note.")
    image = highlight("IMAG2345", text="", annotationType="image")
    document = [work(), attachment(), highlight(), note, image]
    response, created = imported(cast, client_for, document, client)
    assert response.status_code == 302, response.content.decode()[:2000]
    (annotation,) = created
    assert annotation.source == article
    start = TEXT.index(QUOTE)
    assert (annotation.start, annotation.end) == (start, start + len(QUOTE))
    assert annotation.anchor_state == AnchorState.EXACT
    assert (annotation.page_label, annotation.locator) == ("14", "p. 14")
    assert annotation.note == "The core prediction."
    assert sorted(c.name for c in annotation.concepts.all()) == ["Isolation", "prediction"]
    assert annotation.origin == {"tool": "Zotero", "id": "ANNO2345", "file": "zotero.json"}
    page = client.get(response.url).content.decode()
    assert "Skipped 2" in page and "Zotero note" in page and "Zotero image" in page


def test_the_citation_key_or_the_zotero_key_finds_the_source_without_a_doi(cast, client_for):
    by_key = factories.make_source(cast.project, "By key", full_text=TEXT, citation_key="faras2016")
    response, (annotation,) = imported(
        cast, client_for, [work(DOI="", extra="Citation Key: faras2016"), attachment(), highlight()]
    )
    assert response.status_code == 302 and annotation.source == by_key
    Annotation.objects.all().delete()
    # A bibliography imported from Zotero keeps each work's key: the attachment is enough.
    by_key.citation_key = "renamed"
    by_key.extra = {"zotero": {"key": WORK}}
    by_key.save()
    response, (annotation,) = imported(cast, client_for, [attachment(), highlight()])
    assert response.status_code == 302 and annotation.source == by_key


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([work(), attachment(), highlight(text="", annotationType="ink")], "no Zotero highlight"),
        ([highlight(parentItem="nokey")], "names no attachment or work"),
        ([highlight(tags="Isolation")], "its tags are not a list"),
        ([highlight(annotationText=["x"])], "the highlighted text is not a string"),
        ([attachment(), highlight(parentItem="ZZZZ2222")], "is not in this project"),
    ],
    ids=["ink only", "no parent", "tags", "text", "unknown work"],
)
def test_bad_zotero_files_are_refused_and_change_nothing(
    cast, client_for, article, document, message
):
    response, created = imported(cast, client_for, document)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert created == []


def test_a_zotero_bibliography_without_annotations_is_not_taken_for_one(cast, client_for, article):
    response, created = imported(cast, client_for, [work(), attachment()])
    assert response.status_code == 400
    assert "is neither a W3C Web Annotation" in response.content.decode()
    assert created == []


def bbt_annotation(key="BBTA2345", text=QUOTE) -> dict:
    """An annotation as Better BibTeX's JSON-RPC item.attachments lists it (the Web API's
    fields, without the "data" wrapper)."""
    return {**highlight(key, text=text)["data"], "parentItem": PDF}


def test_better_bibtex_json_rpc_attachments_go_to_the_chosen_source(cast, client_for, article):
    answer = {
        "jsonrpc": "2.0",
        "result": [
            {
                "open": f"zotero://open-pdf/library/items/{PDF}",
                "path": "/home/lina/Zotero/storage/PDFK6789/faras2016.pdf",
                "annotations": [bbt_annotation()],
            }
        ],
        "id": 1,
    }
    client = client_for(cast.analyst)
    data = json.dumps(answer).encode()
    refused = upload(client, cast.project, data, "bbt.json")
    assert refused.status_code == 400  # the answer names no work: nothing to match it by
    assert "is not in this project" in refused.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.webanno.test_w3c import import_url

    started = client.post(
        import_url(cast.project),
        {"file": SimpleUploadedFile("bbt.json", data), "source": f"#{article.pk}"},
    )
    assert started.status_code == 302
    assert client.post(started.url, {"new_concepts": "on"}).status_code == 302
    (annotation,) = Annotation.objects.all()
    assert annotation.source == article and annotation.anchor_state == AnchorState.EXACT
    assert annotation.locator == "p. 14" and annotation.note == "The core prediction."
    assert annotation.origin["tool"] == "Zotero" and annotation.origin["id"] == "BBTA2345"


def test_a_better_bibtex_json_export_finds_the_source_by_its_citation_key(
    cast, client_for, article
):
    article.citation_key = "faras2016"
    article.save()
    export = {
        "config": {"id": "36a3b0b5-bad0-4a04-b79b-441c7cef77db", "label": "BetterBibTeX JSON"},
        "items": [
            {
                "itemType": "journalArticle",
                "itemKey": WORK,
                "citationKey": "faras2016",
                "title": "Withdrawal from Society",
                "attachments": [
                    {"itemKey": PDF, "path": "faras2016.pdf", "annotations": [bbt_annotation()]},
                    {"itemKey": "SNAP2345", "path": "snapshot.html"},
                ],
            }
        ],
    }
    response = upload(client_for(cast.analyst), cast.project, json.dumps(export).encode())
    assert response.status_code == 302, response.content.decode()[:2000]
    (annotation,) = Annotation.objects.all()
    assert annotation.source == article and annotation.quote == QUOTE

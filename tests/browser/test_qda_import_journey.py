"""An analyst brings coded documents from a qualitative analysis tool: uploads a REFI-QDA
project, reads the preview (where each selection lands), imports it and finds the passages as
drafts that say where they came from; at a phone's width the preview still fits."""

from playwright.sync_api import expect

from apps.annotations.models import Annotation
from tests.qda.test_refi_import import FIELD, G, selection, vendor_project, zipped


def archive() -> bytes:
    selections = selection(G["sel1"], "refused their prayers") + selection(
        G["sel2"], "called the others apostates", name="called the others…"
    )
    return zipped(
        {
            "Fieldwork.qde": vendor_project(origin="ATLAS.ti 23", selections=selections),
            "Sources/doc.txt": FIELD,
        }
    )


def test_analyst_imports_a_qda_project_as_drafts(page, live_server, seed_review, sign_in):
    slug = seed_review.slug
    before = Annotation.objects.filter(project=seed_review).count()
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{slug}/import/")
    page.get_by_role("link", name="a project or codebook from a qualitative analysis tool").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Import from a qualitative analysis tool"
    )
    page.get_by_label("REFI-QDA file").set_input_files(
        files=[{"name": "fieldwork.qdpx", "mimeType": "application/zip", "buffer": archive()}]
    )
    page.get_by_role("button", name="Read the file").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("What the project holds")
    expect(page.locator(".eyebrow")).to_contain_text("made by ATLAS.ti 23")
    expect(page.locator(".lead")).to_contain_text("2 selections in 1 text source")
    expect(page.get_by_role("region", name="New sources")).to_contain_text("Field report")
    table = page.get_by_role("region", name="Selections")
    expect(table).to_contain_text("refused their prayers")
    expect(table).to_contain_text("called the others apostates")
    assert Annotation.objects.filter(project=seed_review).count() == before

    page.set_viewport_size({"width": 390, "height": 844})
    scroll, width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert scroll == width, f"the preview is {scroll} px wide on a phone"
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Import as drafts").click()
    expect(page.locator(".messages")).to_contain_text("Imported 2 passages as drafts")
    passage = page.locator(".passage", has_text="called the others apostates")
    passage.locator(".passage__locator").click()
    expect(page.locator(".annotation-origin")).to_contain_text(
        "Imported from REFI-QDA (ATLAS.ti 23), file “fieldwork.qdpx”"
    )
    assert Annotation.objects.filter(project=seed_review).count() == before + 2

"""A supervisor backs a project up and restores it under a new address; a large project's file
is prepared in the background and downloaded from its job's page."""

import json

from playwright.sync_api import expect

from apps.accounts.models import Project
from apps.annotations.models import Annotation


def test_a_supervisor_backs_up_the_project_and_restores_it_elsewhere(
    page, live_server, seed_review, sign_in, tmp_path
):
    sign_in(page, "supervisor")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/export/project/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Back up the project")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the project file (JSON)").click()
    saved = tmp_path / "project.json"
    download.value.save_as(saved)
    assert json.loads(saved.read_text())["version"] == 6  # the current format

    page.locator("input[type=file]").set_input_files(str(saved))
    page.get_by_label("Address of the new project").fill("restored")
    page.get_by_role("button", name="Read the project file").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("as a new project")
    annotations = Annotation.objects.filter(project=seed_review).count()
    expect(page.locator("dl.meta")).to_contain_text(f"Annotations{annotations}")
    page.set_viewport_size({"width": 390, "height": 800})
    page.screenshot(path=str(tmp_path / "preview-phone.png"), full_page=True)
    page.get_by_role("button", name="Import the project").click()
    page.wait_for_url(f"{live_server.url}/p/restored/")
    assert Annotation.objects.filter(project__slug="restored").count() == annotations


def test_a_large_projects_file_is_prepared_then_downloaded(
    page, live_server, seed_review, sign_in, tmp_path, monkeypatch
):
    from apps.backup import views

    monkeypatch.setattr(views, "DIRECT_LIMIT", 0)
    sign_in(page, "supervisor")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/export/project/")
    page.screenshot(path=str(tmp_path / "backup-desktop.png"), full_page=True)
    page.get_by_role("button", name="Prepare the project file (JSON)").click()
    link = page.get_by_role("link", name=f"Download {seed_review.slug}-project.json")
    expect(link).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The project file is ready")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "project.json"
    download.value.save_as(saved)
    data = json.loads(saved.read_text())
    assert data["project"]["slug"] == seed_review.slug
    assert len(data["annotations"]) == Annotation.objects.filter(project=seed_review).count()
    assert Project.objects.count() == 1

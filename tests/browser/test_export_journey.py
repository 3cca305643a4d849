"""A student exports the bibliography: a file for a reference manager needs no citation style;
a formatted bibliography asks for one, and the file is in it."""

from playwright.sync_api import expect


def test_the_citation_style_belongs_to_the_formatted_bibliography(
    page, live_server, seed_review, sign_in, tmp_path
):
    sign_in(page, "student")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Export").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Export")
    form = page.locator("form.export-form")
    style = form.get_by_label("Citation style")
    # A file for a reference manager by default: no style to choose.
    expect(form.get_by_label("Format")).to_have_value("bibtex")
    expect(style).to_be_hidden()
    with page.expect_download() as bibtex:
        form.get_by_role("button", name="Download").click()
    assert bibtex.value.suggested_filename.endswith(".bib")
    assert "style=" not in bibtex.value.url

    form.get_by_label("Format").select_option("text")
    expect(style).to_be_visible()
    style.select_option(label="Chicago (author-date, 17th edition)")
    with page.expect_download() as text:
        form.get_by_role("button", name="Download").click()
    saved = tmp_path / "bibliography.txt"
    text.value.save_as(saved)
    content = saved.read_text()
    # Chicago author-date: the year follows the author, before the title.
    assert "Mironova, Vera, Ekaterina Sergatskova, and Karam Alhamad. 2017." in content

    form.get_by_label("Format").select_option("ris")
    expect(style).to_be_hidden()


def test_a_student_downloads_the_project_for_a_qda_tool(
    page, live_server, seed_review, sign_in, tmp_path
):
    import zipfile

    sign_in(page, "student")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/export/")
    with page.expect_download() as codebook:
        page.get_by_role("link", name="Download the codebook (.qdc)").click()
    assert codebook.value.suggested_filename == f"{seed_review.slug}-codebook.qdc"
    page.get_by_role("button", name="Prepare the project (.qdpx)").click()
    expect(page.get_by_text("The REFI-QDA project is ready")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("REFI-QDA project")
    with page.expect_download() as archive:
        page.locator("a[download]").first.click()
    saved = tmp_path / "project.qdpx"
    archive.value.save_as(saved)
    project = zipfile.ZipFile(saved).read("project.qde").decode()
    assert 'name="Isolation"' in project  # a concept of the seed review's codebook
    assert 'origin="Citemap"' in project

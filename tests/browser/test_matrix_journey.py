"""A student opens the concept matrix, switches its columns to people and follows a cell to
the passages it counts."""

import re

from playwright.sync_api import expect

from apps.annotations.models import Annotation
from apps.library.models import Source
from apps.people.models import Person


def test_student_follows_a_matrix_cell_to_its_passages(page, live_server, seed_review, sign_in):
    article = Source.objects.get(project=seed_review, citation_key="faras2016withdrawal")
    kaplan = Person.objects.get(project=seed_review, display_name="Jeffrey Kaplan")
    citing = Annotation.objects.filter(
        source=article, mentions__person=kaplan, status="approved", withdrawn_at__isnull=True
    )
    assert citing.exists()

    sign_in(page, "student")
    page.get_by_role("link", name="Takfiri isolationism after ISIS").click()
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Matrix").click()
    matrix = page.get_by_role("table", name=re.compile("Approved passages per source and concept"))
    expect(matrix).to_be_visible()
    # Gaps are empty cells that screen readers hear as "no passages".
    expect(matrix.get_by_role("cell", name="no passages").first).to_be_attached()

    page.get_by_role("navigation", name="Columns of the matrix").get_by_role(
        "link", name="People cited"
    ).click()
    matrix = page.get_by_role("table", name=re.compile("Approved passages per source and person"))
    expect(matrix.get_by_role("columnheader", name="Jeffrey Kaplan")).to_be_visible()

    # The cell (first article, Kaplan), reached with the keyboard.
    cell = matrix.locator(f'a[aria-describedby="r{article.pk} c{kaplan.pk}"]')
    passages = f"{citing.count()} passage{'s' if citing.count() > 1 else ''}"
    expect(cell).to_have_accessible_name(passages)
    expect(cell).to_have_accessible_description(re.compile(r"^Withdrawal from Society.*Kaplan$"))
    cell.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/annotations/\?source={article.pk}&person={kaplan.pk}$"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Passages")
    chosen = page.get_by_role("list", name="Showing passages")
    expect(chosen).to_contain_text("Withdrawal from Society")
    expect(chosen).to_contain_text("citing Jeffrey Kaplan")
    expect(page.get_by_role("heading", name=re.compile(r"^\d+ passages?$"))).to_have_text(passages)
    for annotation in citing:
        expect(page.get_by_text(annotation.quote[:60])).to_be_visible()
    # Nothing the student may not see, and nothing beyond the cell.
    others = Annotation.objects.filter(source=article).exclude(pk__in=citing)
    for annotation in others:
        expect(page.locator(f"#annotation-{annotation.pk}")).to_have_count(0)


FITS = "e => e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1"


def test_column_headings_show_whole_labels_and_most_of_a_claim(
    page, live_server, seed_review, sign_in
):
    sign_in(page, "student")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/matrix/")
    heading = page.locator("th.matrix__col a", has_text="Internal dissent and ultra-extremism")
    expect(heading).to_have_text("Internal dissent and ultra-extremism")
    assert heading.evaluate(FITS), "the concept's name is cut"
    page.goto(f"{live_server.url}/p/{seed_review.slug}/matrix/?cols=claims")
    first = page.locator("th.matrix__col a").first
    shown = first.evaluate("e => e.getBoundingClientRect().width")
    # Three lines of a rotated claim, not one: about 50 characters or more are in view.
    assert shown > 40, shown
    assert first.get_attribute("title").startswith(first.inner_text()[:40])

"""A student searches from the box in the project bar and follows a result to its passage."""

import re

from playwright.sync_api import expect

from apps.annotations.models import Annotation
from apps.demo.seed import CODING_START


def test_student_searches_from_the_header_and_opens_the_passage(
    page, live_server, seed_review, sign_in
):
    # The fixture's passage (the seed's double-coded round has passages at ¶4 too).
    defining = Annotation.objects.get(
        project=seed_review,
        source__citation_key="mironova2017bloody",
        locator="¶4",
        created_at__lt=CODING_START,
    )
    sign_in(page, "student")
    page.get_by_role("link", name="Takfiri isolationism after ISIS").click()
    page.wait_for_url(f"{live_server.url}/p/{seed_review.slug}/")

    # "/" reaches the search box from anywhere on the page, without the mouse.
    page.keyboard.press("/")
    box = page.get_by_label("Search this project")
    expect(box).to_be_focused()
    box.fill("chain takfir")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"Results for\W+chain takfir")
    )
    passages = page.get_by_role("region", name=re.compile("^Passages"))
    expect(passages.locator("mark").first).to_be_visible()
    result = passages.get_by_role("link", name=re.compile(r"^¶4 in The Bloody Split")).and_(
        page.locator(f'[href$="#annotation-{defining.pk}"]')
    )
    expect(result).to_be_visible()

    result.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/sources/{defining.source_id}/#annotation-{defining.pk}$"))
    target = page.locator(":target")
    expect(target).to_contain_text("The story of ISIS’ radical breakaways began")
    expect(target).to_be_in_viewport()


def test_a_facet_narrows_the_results_and_the_kind_pages_list_them(
    page, live_server, seed_review, sign_in
):
    sign_in(page, "student")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/search/?q=takfir")
    facets = page.get_by_role("complementary")
    facets.get_by_role("link", name=re.compile("^Chain takfir")).click()
    expect(page.get_by_role("list", name="Narrowed to")).to_contain_text("coded Chain takfir")
    page.get_by_role("navigation", name="Kinds of results").get_by_role(
        "link", name=re.compile("^Passages")
    ).click()
    expect(page.get_by_role("heading", name=re.compile(r"^\d+ passages?$"))).to_be_visible()
    for hit in page.locator(".hit--passage").all():
        expect(hit).to_contain_text("The Bloody Split")

"""A student opens the network map, narrows it to people and sources, and walks from a node to
its page with the keyboard alone."""

import re

from playwright.sync_api import expect


def test_student_filters_the_map_and_follows_a_node_with_the_keyboard(
    page, live_server, seed_review, sign_in
):
    sign_in(page, "student")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Map").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Map")
    nodes = page.locator("[data-node]")
    expect(page.locator("[data-node^='claim-']").first).to_be_attached()

    # Only people and sources.
    filters = page.get_by_role("form", name="Filter the map")
    filters.get_by_label("Claims").uncheck()
    filters.get_by_label("Concepts").uncheck()
    filters.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/map/\?.*nodes=source"))
    expect(page.locator("[data-node^='claim-']")).to_have_count(0)
    expect(page.locator("[data-node^='concept-']")).to_have_count(0)
    expect(page.locator("[data-node^='person-']").first).to_be_attached()
    assert nodes.count() > 10
    # The legend explains only what is drawn.
    legend = page.locator(".map__legend")
    expect(legend.get_by_text("People", exact=True)).to_be_visible()
    expect(legend.get_by_text("Claims", exact=True)).to_have_count(0)

    # The map's script is there: zoom in with the keyboard, then Tab onto the first node.
    viewport = page.locator("[data-map-viewport]")
    viewport.focus()
    before = page.locator("[data-map-svg]").get_attribute("viewBox")
    page.keyboard.press("+")
    expect(page.locator("[data-map-svg]")).not_to_have_attribute("viewBox", before)
    page.keyboard.press("Tab")
    focused = page.locator("[data-node]:focus")
    expect(focused).to_have_count(1)
    # Focus shows the node's neighbourhood.
    expect(page.locator("[data-map-svg]")).to_have_class(re.compile("is-highlighting"))
    name = focused.get_attribute("aria-label")
    href = focused.get_attribute("href")
    # The name starts with the label drawn on the map (axe: label-content-name-mismatch).
    kind, label = re.match(r".+ \((\w+): (.+), \d+ links?\)$", name).groups()
    assert kind in {"Source", "Person"}

    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}{href}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(label)

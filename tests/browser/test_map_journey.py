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


# Two fingers on the map, moved by `steps` of `spread` pixels apart (negative: together).
PINCH = """([spread, steps]) => {
  const viewport = document.querySelector("[data-map-viewport]");
  const box = viewport.getBoundingClientRect();
  const cx = box.left + box.width / 2, cy = box.top + box.height / 2;
  const send = (type, id, x) => viewport.dispatchEvent(new PointerEvent(type, {
    pointerId: id, pointerType: "touch", isPrimary: id === 1, clientX: x, clientY: cy,
    button: 0, bubbles: true, cancelable: true,
  }));
  send("pointerdown", 1, cx - 40);
  send("pointerdown", 2, cx + 40);
  for (let n = 1; n <= steps; n++) {
    send("pointermove", 1, cx - 40 - n * spread / 2);
    send("pointermove", 2, cx + 40 + n * spread / 2);
  }
  send("pointerup", 1, cx);
  send("pointerup", 2, cx);
}"""


def view_width(page) -> float:
    return float(page.locator("[data-map-svg]").get_attribute("viewBox").split()[2])


def test_on_a_phone_the_map_reads_and_pinches(browser, live_server, seed_review, sign_in):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    sign_in(page, "student")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/map/")
    # Filters folded, the touch gestures explained.
    expect(page.get_by_role("form", name="Filter the map")).to_be_hidden()
    expect(page.locator("#map-hint")).to_have_text(re.compile("Pinch to zoom"))
    # Labels are drawn at a size one can read (the whole canvas would make them ~4 px).
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('.map-label:not(.map-label--on-demand)')]"
        ".map(l => l.getBoundingClientRect().height))"
    )
    assert height >= 9, height
    assert page.evaluate("[document.documentElement.scrollWidth, innerWidth]") == [390, 390]

    start = view_width(page)
    page.evaluate(PINCH, [30, 5])  # fingers apart: closer in
    closer = view_width(page)
    assert closer < start * 0.7, (start, closer)
    page.evaluate(PINCH, [-14, 5])  # together: further out
    assert view_width(page) > closer
    page.get_by_role("button", name="Reset view").click()
    assert view_width(page) >= 1200
    page.screenshot(path="test-results/phone-map.png")
    context.close()

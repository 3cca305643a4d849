"""The reading view of the seed's double-coded article lists its units; a unit's place
brings its paragraph into view, and the page keeps to the Content-Security-Policy."""

from playwright.sync_api import expect

from apps.agreement.models import Unit
from apps.annotations.anchoring import replace_text
from apps.library.models import Source

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_a_supervisor_finds_the_units_in_the_reading_view(page, live_server, seed_review, sign_in):
    unit = Unit.objects.filter(assignment__project=seed_review).order_by("start").first()
    source = Source.objects.get(pk=unit.source_id)
    page.add_init_script(LISTEN)
    sign_in(page, "supervisor")
    url = f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/read/"
    # The seed's article has no text: its units are listed all the same.
    page.goto(url)
    units = page.locator(".reader__list--units li")
    expect(units.first).to_be_visible()
    assert units.count() == Unit.objects.filter(source=source).count()
    # With a text, a unit's place brings its paragraph into view.
    paragraphs = [f"Paragraph {n}. " + "Words of the text. " * 20 for n in range(60)]
    supervisor = seed_review.memberships.get(user__username="supervisor").user
    replace_text(source, "\n\n".join(paragraphs), by=supervisor, origin="pasted")
    page.goto(url)
    units.first.locator("a[data-at]").click()
    expect(page.locator(".reader__p.is-flashing")).to_have_count(1)
    expect(page.locator(".reader__p.is-flashing")).to_be_in_viewport()
    assert page.evaluate("window.__violations") == []
    units.first.get_by_role("link", name=f"Unit {unit.number}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Unit {unit.number}:")).to_be_visible()

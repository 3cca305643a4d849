"""Chromium enforces the Content-Security-Policy on the main pages and reports no violation:
every script, style and image the pages use is allowed by it."""

from django.urls import reverse
from playwright.sync_api import expect

from apps.annotations.anchoring import replace_text
from apps.annotations.models import Annotation

# Runs before any page script; collects what the browser refused.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


def _visit(page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__violations")


def test_main_pages_load_without_a_policy_violation(page, live_server, seed_review, sign_in):
    annotation = Annotation.objects.filter(project=seed_review, status="approved").first()
    source = annotation.source
    supervisor = seed_review.memberships.get(user__username="supervisor").user
    # A long text (several blocks) in which the approved passage is found again.
    paragraphs = [f"Paragraph {n}. " + "Words of the text. " * 30 for n in range(12)]
    paragraphs.insert(6, annotation.quote)
    text = "\n\n".join(paragraphs)
    replace_text(source, text, by=supervisor, origin="pasted")
    slug = seed_review.slug
    concept = seed_review.concepts.first()
    names = {
        "xref:project_home": [],
        "xref:source_list": [],
        "xref:source_detail": [source.pk],
        "annotations:source_read": [source.pk],
        "people:person_list": [],
        "claims:claim_list": [],
        "xref:claim_detail": [annotation.evidence.first().claim_id],
        "claims:concept_list": [],
        "xref:concept_detail": [concept.pk],
        "xref:matrix": [],
        "xref:map": [],
        "search:search": [],
        "review:queue": [],
        "annotations:annotation_detail": [annotation.pk],
        "annotations:annotation_create": [source.pk],
        "library:source_create": [],
        "claims:claim_create": [],
        "claims:concept_create": [],
        "bibliography:import": [],
        "bibliography:export": [],
        "accounts:member_list": [],
        "accounts:project_edit": [],
    }
    page.add_init_script(LISTEN)
    assert _visit(page, f"{live_server.url}/accounts/login/") == []
    sign_in(page, "supervisor")
    assert page.evaluate("window.__violations") == []
    for name, args in names.items():
        url = live_server.url + reverse(name, args=[slug, *args])
        assert _visit(page, url) == [], name
    # The reading view's passages open on demand, fetched by its script.
    page.goto(live_server.url + reverse("annotations:source_read", args=[slug, source.pk]))
    page.locator("#reader-text mark").first.click()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == []
    # The policy is really enforced: an inline script injected now is refused and reported.
    page.evaluate(
        """() => { const s = document.createElement("script");
        s.textContent = "window.__ran = true"; document.body.append(s); }"""
    )
    expect(page.locator("body")).to_be_visible()
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in page.evaluate("window.__violations"))

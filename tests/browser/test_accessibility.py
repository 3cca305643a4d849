"""axe-core (npm, a test-only devDependency) finds nothing critical or serious on any page type,
for each role, at desktop and phone widths."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser.test_phone_layouts import DESKTOP, PHONE, page_types

pytestmark = pytest.mark.browser

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"

# Violations of these impacts fail; "moderate" and "minor" ones are left to judgement.
RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "critical" || v.impact === "serious")
    .map((v) => ({ rule: v.id, impact: v.impact,
                   where: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
}"""


def findings(page) -> list[dict]:
    # Evaluated through the DevTools protocol, so the page's Content-Security-Policy (which
    # refuses inline scripts) does not stop the checker, and the page itself is unchanged.
    page.evaluate(AXE.read_text())
    return page.evaluate(RUN)


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test-tools` (npm ci with devDependencies).")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("role", ["supervisor", "analyst", "student"])
def test_no_serious_accessibility_finding_on_any_page(
    page, live_server, seed_review, sign_in, axe_source, role, size
):
    pages = page_types(seed_review)
    page.set_viewport_size(size)
    page.set_default_timeout(60_000)  # the first source page builds the citation engines
    page.goto(f"{live_server.url}/accounts/login/")
    problems = {"sign-in": findings(page)}
    sign_in(page, role)
    for name, url in pages.items():
        page.goto(live_server.url + url)  # a refusal (403) is a page too, and is checked
        problems[name] = findings(page)
    reported = {name: found for name, found in problems.items() if found}
    assert not reported, json.dumps(reported, indent=1)

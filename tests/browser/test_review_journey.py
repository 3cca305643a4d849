"""An analyst excerpts a passage with a new claim, a supervisor sends it back, the analyst fixes
it, the supervisor approves it with the keyboard, and only then does a student see it."""

import re

import pytest
from playwright.sync_api import expect

from apps.claims.models import Claim

QUOTE = "Occasionally, the ultra-extremists shift their loyalty to new religious leaders."
CLAIM = "Takfiri dissidents keep changing the religious leaders they follow"


@pytest.fixture
def as_user(new_context, live_server, sign_in):
    def open_as(username):
        page = new_context().new_page()
        sign_in(page, username)
        return page

    return open_as


def test_annotation_from_draft_to_approved(live_server, seed_review, as_user):
    base = f"{live_server.url}/p/{seed_review.slug}"
    source = seed_review.sources.get(citation_key="mironova2017bloody")

    # The analyst adds the passage, links a claim that does not exist yet, and submits.
    analyst = as_user("analyst")
    analyst.goto(f"{base}/sources/{source.pk}/")
    analyst.get_by_role("link", name="Add a passage").click()
    analyst.get_by_label("Quote").fill(QUOTE)
    analyst.get_by_label("Locator").fill("¶21")
    analyst.locator("#id_evidence-0-claim").fill(CLAIM)
    analyst.locator("#id_evidence-0-new_claim").check()
    analyst.locator("#id_evidence-0-claim_kind").select_option("finding")
    analyst.locator("#id_evidence-0-stance").select_option("asserts")
    analyst.get_by_role("button", name="Save and submit for review").click()
    expect(analyst.get_by_text("saved and submitted for review")).to_be_visible()
    claim = Claim.objects.get(statement=CLAIM)

    # Not approved yet: the student cannot see the new claim or the passage.
    student = as_user("student")
    response = student.goto(f"{base}/claims/{claim.pk}/")
    assert response.status == 403
    student.goto(f"{base}/sources/{source.pk}/")
    expect(student.get_by_text(QUOTE)).to_have_count(0)

    # The supervisor sends it back from the queue with a reason.
    supervisor = as_user("supervisor")
    supervisor.goto(f"{base}/review/")
    item = supervisor.locator("[data-queue-item]", has_text=QUOTE)
    item.get_by_label("Reason").select_option("wrong_locator")
    item.get_by_label("Comment for the author").fill("This sentence opens ¶22, not ¶21.")
    item.get_by_role("button", name="Request changes").click()
    expect(supervisor.get_by_text("Request changes: done")).to_be_visible()

    # The analyst sees why on the project home, fixes the locator and resubmits.
    analyst.goto(f"{base}/")
    own = analyst.get_by_role("region", name="Your work in progress")
    expect(own).to_contain_text("This sentence opens ¶22, not ¶21.")
    own.get_by_role("link", name="¶21").click()
    analyst.get_by_role("link", name="Edit").click()
    analyst.get_by_label("Locator").fill("¶22")
    analyst.get_by_role("button", name="Save and submit for review").click()
    expect(analyst.get_by_text("saved and submitted for review")).to_be_visible()

    # The supervisor approves it from the queue with the keyboard alone.
    supervisor.goto(f"{base}/review/")
    expect(supervisor.locator("[data-queue-item]", has_text=QUOTE)).to_contain_text("version 2")
    focused_on_ours = (
        "q => document.activeElement.matches('[data-queue-item]')"
        " && document.activeElement.innerText.includes(q)"
    )
    for _ in range(10):
        supervisor.keyboard.press("j")
        if supervisor.evaluate(focused_on_ours, QUOTE):
            break
    supervisor.keyboard.press("a")
    expect(supervisor.get_by_text(re.compile("Approve: done for ¶22"))).to_be_visible()

    # Now the student finds it on the claim page.
    student.goto(f"{base}/claims/{claim.pk}/")
    expect(student.get_by_role("heading", level=1)).to_have_text(CLAIM)
    expect(student.get_by_text(QUOTE)).to_be_visible()
    expect(student.get_by_role("link", name="¶22")).to_be_visible()

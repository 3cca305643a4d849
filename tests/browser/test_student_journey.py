"""A student walks from a claim to the passages behind it and never meets unapproved work."""

import re

from playwright.sync_api import expect

from apps.annotations.models import Annotation

SPREAD = "Once ISIS loses its territorial state, isolationist takfiri groups will multiply"


def test_student_follows_a_claim_to_its_source_passage(page, live_server, seed_review, sign_in):
    submitted = Annotation.objects.get(
        project=seed_review, source__citation_key="faras2016withdrawal", locator="¶4"
    )
    assert submitted.status == "submitted"

    sign_in(page, "student")
    page.get_by_role("link", name="Takfiri isolationism after ISIS").click()
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Claims").click()
    page.get_by_role("link", name=re.compile(SPREAD)).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(SPREAD)
    evidence = page.get_by_role("region", name=re.compile("Evidence"))
    for stance in ("Asserts", "Qualifies", "Contradicts"):
        expect(evidence.get_by_role("heading", name=re.compile(stance))).to_be_visible()

    # Follow the ¶6 passage to its place on the source page, with the keyboard.
    locator = page.get_by_role("link", name="¶6", exact=True)
    locator.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/sources/\d+/#annotation-\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Withdrawal from Society")
    target = page.locator(":target")
    expect(target).to_contain_text("retrogression of ISIS’ experience")
    expect(target).to_be_in_viewport()

    # The submitted passage of this source is not shown to a student.
    expect(page.locator(f"#annotation-{submitted.pk}")).to_have_count(0)
    expect(page.get_by_text("represented a more radical shift")).to_have_count(0)


def test_a_supervisor_does_see_the_submitted_passage(page, live_server, seed_review, sign_in):
    submitted = Annotation.objects.get(
        project=seed_review, source__citation_key="faras2016withdrawal", locator="¶4"
    )
    sign_in(page, "supervisor")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{submitted.source_id}/")
    passage = page.locator(f"#annotation-{submitted.pk}")
    expect(passage).to_contain_text("represented a more radical shift")
    expect(passage.get_by_text("Submitted")).to_be_visible()

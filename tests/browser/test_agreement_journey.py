"""A supervisor assigns a source to both analysts, they code it blind, the supervisor compares
and resolves a conflict, and each analyst finds on their home how their coding was resolved."""

import re

import pytest
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.agreement import coding

QUOTE = "Isolationist takfiri groups withdraw from society."
# Matches no claim of the seed, so no suggestion covers the "new" box.
CLAIM = "Dissident cells keep to the desert"


@pytest.fixture
def as_user(new_context, live_server, sign_in):
    def open_as(username):
        page = new_context().new_page()
        sign_in(page, username)
        return page

    return open_as


def code(page, base, source, stance, *, new_claim):
    page.goto(f"{base}/sources/{source.pk}/")
    page.get_by_role("link", name="Add a passage").click()
    page.get_by_label("Quote").fill(QUOTE)
    page.get_by_label("Locator").fill("¶3")
    claim = page.locator("#id_evidence-0-claim")
    if new_claim:
        claim.fill(CLAIM)
        page.locator("#id_evidence-0-new_claim").check()
        page.locator("#id_evidence-0-claim_kind").select_option("thesis")
    else:  # the other coder made it meanwhile (without seeing how they used it)
        # Typing before lookup.js has made the field a combobox asks nothing.
        expect(claim).to_have_attribute("role", "combobox")
        claim.press_sequentially("desert")
        listbox = page.locator("#" + claim.get_attribute("aria-controls"))
        listbox.get_by_role("option", name=re.compile(CLAIM)).click()
    page.locator("#id_evidence-0-stance").select_option(stance)
    page.get_by_role("button", name="Save draft").click()


def test_blind_double_coding_from_assignment_to_feedback(live_server, seed_review, as_user):
    base = f"{live_server.url}/p/{seed_review.slug}"
    source = seed_review.sources.get(citation_key="faras2016withdrawal")
    analysts = [User.objects.get(username=name).pk for name in ("analyst", "analyst2")]

    supervisor = as_user("supervisor")
    supervisor.goto(f"{base}/agreement/")
    supervisor.get_by_role("link", name="New assignment").click()
    supervisor.get_by_label("Title").fill("Faras, blind")
    supervisor.get_by_label("Sources").select_option(str(source.pk))
    supervisor.get_by_label("Coders").select_option([str(pk) for pk in analysts])
    supervisor.get_by_role("button", name="Assign").click()
    expect(supervisor.get_by_text("Assigned “Faras, blind”.")).to_be_visible()
    assignment_url = supervisor.url

    # Each analyst codes the same words, with another stance, and marks the work done.
    for name, stance in (("analyst", "asserts"), ("analyst2", "supports")):
        page = as_user(name)
        code(page, base, source, stance, new_claim=name == "analyst")
        page.goto(f"{base}/")
        page.get_by_role("link", name="Faras, blind").click()
        expect(page.locator("[data-my-count]")).to_have_text("1")
        page.get_by_role("button", name="Mark my work done").click()
        expect(page.get_by_text("Your work is done and locked: 1 passage.")).to_be_visible()

    # The supervisor saw counts only; now compares and resolves the conflict.
    supervisor.goto(assignment_url)
    expect(supervisor.get_by_text(QUOTE)).to_have_count(0)
    supervisor.get_by_role("button", name="Compare").click()
    expect(supervisor.get_by_text("Compared: 0 complete agreements")).to_be_visible()
    supervisor.get_by_role("link", name="Unit 1").click()
    version = supervisor.locator("article", has_text="analyst's version")
    version.get_by_label("Reason").select_option("unsupported_link")
    version.get_by_label("Comment").fill("The article asserts it in its own voice.")
    version.get_by_role("button", name="Choose analyst's version").click()
    expect(supervisor.get_by_text("Unit 1 resolved.")).to_be_visible()

    # Each analyst sees the resolution, with the reason, on their project home.
    for name, verdict in (("analyst", "Your version was chosen"), ("analyst2", "One coder")):
        page = as_user(name)
        page.goto(f"{base}/")
        feedback = page.get_by_role("region", name="Your double-coding assignments")
        expect(feedback).to_contain_text(verdict)
        expect(feedback).to_contain_text("The article asserts it in its own voice.")


def test_a_round_left_with_one_coder_is_closed_without_measuring(live_server, seed_review, as_user):
    base = f"{live_server.url}/p/{seed_review.slug}"
    source = seed_review.sources.get(citation_key="faras2016withdrawal")
    supervisor_user, analyst, analyst2 = (
        User.objects.get(username=n) for n in ("supervisor", "analyst", "analyst2")
    )
    assignment = coding.assign(
        project=seed_review, title="Faras, alone", ranges=[coding.Range(source)],
        coders=[analyst, analyst2], variables=["spans"], due_date=None, tolerance=10,
        by=supervisor_user,
    )  # fmt: skip
    assignment_url = f"{base}/agreement/{assignment.pk}/"

    # The supervisor takes analyst2 off (with why), the analyst left alone marks the work done.
    supervisor = as_user("supervisor")
    supervisor.goto(assignment_url)
    row = supervisor.get_by_role("row", name=re.compile("analyst2"))
    row.get_by_label("Why analyst2 is taken off").fill("On leave.")
    row.get_by_role("button", name="Take off").click()
    expect(supervisor.get_by_text("analyst2's units are dropped from the sample.")).to_be_visible()
    page = as_user("analyst")
    page.goto(assignment_url)
    page.get_by_role("button", name="Mark my work done").click()
    expect(page.get_by_text("Your work is done and locked")).to_be_visible()

    # Nothing to compare: the supervisor confirms and closes it, and the report says why; on a
    # phone too.
    supervisor.set_viewport_size({"width": 390, "height": 844})
    supervisor.goto(assignment_url)
    expect(supervisor.get_by_role("button", name="Compare")).to_have_count(0)
    assert supervisor.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    ) == [390, 390]
    supervisor.get_by_label("Why it is closed").fill("One coder cannot be measured.")
    supervisor.get_by_label("I understand").check()
    supervisor.get_by_role("button", name="Close without measuring").click()
    expect(supervisor.get_by_text("is closed without measuring")).to_be_visible()
    expect(supervisor.get_by_text("only analyst was left in the sample")).to_be_visible()
    expect(supervisor.locator("[data-dropped]")).to_have_text(
        "analyst2: Dropped from the sample. On leave."
    )

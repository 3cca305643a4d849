"""Typed links (claims, persons) offer their suggestions as an ARIA combobox: the analyst types
part of a statement or name, moves to a suggestion with the arrow keys, takes it with Enter, and
the saved link is the chosen record (issue #17, item 5)."""

import re

from playwright.sync_api import expect

from apps.annotations.models import Annotation
from tests import factories
from tests.browser.test_accessibility import findings

QUOTE = "Occasionally, the ultra-extremists shift their loyalty to new religious leaders."


def choose_with_the_keyboard(page, field, typed: str, wanted: str) -> None:
    """Type part of a name into `field`, then ArrowDown to the option `wanted` and Enter."""
    expect(field).to_have_attribute("role", "combobox")  # lookup.js is listening
    field.press_sequentially(typed)
    listbox = page.locator("#" + field.get_attribute("aria-controls"))
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option", name=re.compile(re.escape(wanted)))).to_be_visible()
    labels = listbox.get_by_role("option").all_inner_texts()
    wanted_at = next(i for i, text in enumerate(labels) if wanted in text)
    assert len(labels) >= 2, labels  # a real choice, not the only candidate
    for _ in range(wanted_at + 1):
        field.press("ArrowDown")
    active = field.get_attribute("aria-activedescendant")
    expect(page.locator(f"#{active}")).to_have_attribute("aria-selected", "true")
    expect(page.locator(f"#{active}")).to_contain_text(wanted)
    field.press("Enter")
    expect(listbox).to_be_hidden()
    expect(field).to_have_attribute("aria-expanded", "false")


def test_a_link_is_chosen_from_the_suggestions_with_arrow_keys_and_enter(
    page, live_server, seed_review, sign_in
):
    project = seed_review
    factories.make_claim(project, "Reading circles came before the cells")
    wanted_claim = factories.make_claim(project, "Reading circles moved online after 2014")
    factories.make_person(project, "Abu Hamza Zarqawi")
    wanted_person = factories.make_person(project, "Abu Hamza Tunisi")
    source = project.sources.get(citation_key="mironova2017bloody")
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{project.slug}/sources/{source.pk}/annotations/new/")

    # The old <datalist> is gone: the input is a combobox controlling a listbox.
    expect(page.locator("datalist")).to_have_count(0)
    claim = page.locator("#id_evidence-0-claim")
    expect(claim).to_have_attribute("role", "combobox")
    expect(claim).to_have_attribute("aria-expanded", "false")
    expect(claim).not_to_have_attribute("list", re.compile(".*"))
    expect(page.locator("#" + claim.get_attribute("aria-controls"))).to_have_attribute(
        "role", "listbox"
    )

    page.get_by_label("Quote").fill(QUOTE)
    page.get_by_label("Locator").fill("¶21")
    choose_with_the_keyboard(page, claim, "circles", "moved online")
    # Enter chose the suggestion; it did not submit the form.
    expect(claim).to_have_value(f"#{wanted_claim.pk} {wanted_claim.statement}")
    assert "/annotations/new/" in page.url

    person = page.locator("#id_mentions-0-person")
    choose_with_the_keyboard(page, person, "Abu Hamza", "Tunisi")
    expect(person).to_have_value(f"#{wanted_person.pk} {wanted_person.display_name}")

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("saved", exact=False).first).to_be_visible()
    annotation = Annotation.objects.get(source=source, quote=QUOTE)
    assert [e.claim for e in annotation.evidence.all()] == [wanted_claim]
    assert [m.person for m in annotation.mentions.all()] == [wanted_person]


def test_escape_closes_the_suggestions_and_a_click_chooses_one(
    page, live_server, seed_review, sign_in
):
    project = seed_review
    factories.make_claim(project, "Reading circles came before the cells")
    wanted = factories.make_claim(project, "Reading circles moved online after 2014")
    source = project.sources.get(citation_key="mironova2017bloody")
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{project.slug}/sources/{source.pk}/annotations/new/")

    claim = page.locator("#id_evidence-0-claim")
    expect(claim).to_have_attribute("role", "combobox")
    claim.press_sequentially("Reading circ")
    listbox = page.locator("#" + claim.get_attribute("aria-controls"))
    expect(listbox).to_be_visible()
    expect(claim).to_have_attribute("aria-expanded", "true")
    claim.press("Escape")
    expect(listbox).to_be_hidden()
    expect(claim).to_have_attribute("aria-expanded", "false")
    expect(claim).to_have_value("Reading circ")  # Escape closes; it does not clear or choose

    claim.press("ArrowDown")  # opens again
    expect(listbox).to_be_visible()
    expect(claim).to_have_attribute("aria-activedescendant", re.compile(".+"))
    # axe-core finds nothing critical or serious with the list open and an option active.
    assert findings(page) == []
    listbox.get_by_role("option", name=re.compile("moved online")).click()
    expect(claim).to_have_value(f"#{wanted.pk} {wanted.statement}")
    expect(listbox).to_be_hidden()
    expect(claim).to_be_focused()


def test_without_javascript_the_link_is_a_plain_text_input(
    new_context, live_server, seed_review, sign_in
):
    project = seed_review
    wanted = factories.make_claim(project, "Reading circles moved online after 2014")
    source = project.sources.get(citation_key="mironova2017bloody")
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{project.slug}/sources/{source.pk}/annotations/new/")

    claim = page.locator("#id_evidence-0-claim")
    expect(claim).to_have_attribute("type", "text")
    expect(claim).not_to_have_attribute("role", "combobox")
    expect(page.locator("[role=listbox]")).to_have_count(0)
    page.get_by_label("Quote").fill(QUOTE)
    page.get_by_label("Locator").fill("¶21")
    claim.fill("moved online")  # part of a statement that fits one claim: resolved on the server
    page.get_by_role("button", name="Save draft").click()
    annotation = Annotation.objects.get(source=source, quote=QUOTE)
    assert [e.claim for e in annotation.evidence.all()] == [wanted]

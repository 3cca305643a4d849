"""Every page type fits a 390 px phone screen, for each role: nothing wider than the screen,
and the source page not many times longer than on a desktop."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from apps.accounts.mail import email_change_token
from apps.agreement.models import Assignment, Unit
from apps.annotations.anchoring import replace_text
from apps.annotations.models import Annotation, Status
from apps.claims.models import Claim, Concept
from apps.people.models import Person
from tests import factories

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

TEXT = "\n\n".join(
    f"Paragraph {n} tells how the circle number {n} met, read and argued through the night, "
    "and what its members wrote about (and against) the leaders of the movement."
    for n in range(1, 41)
)


def page_types(project) -> dict[str, str]:
    """One address of every kind of page in the seed project (a source with a text too)."""
    analyst = project.memberships.get(user__username="analyst").user
    supervisor = project.memberships.get(user__username="supervisor").user
    source = project.sources.filter(annotations__isnull=False).first()
    read = factories.make_source(project, "A text to read", language="en")
    replace_text(read, TEXT, by=analyst, origin="pasted")
    for n in (3, 17, 33):
        annotation = factories.make_annotation(
            read, analyst, status=Status.APPROVED, reviewer=supervisor,
            quote=f"circle number {n} met",
        )  # fmt: skip
        annotation.anchor_in(read.full_text, read.text_version)
        annotation.save()
    p = f"/p/{project.slug}"
    annotation = Annotation.objects.filter(project=project, status=Status.APPROVED).first()
    assignment = Assignment.objects.filter(project=project).first()
    unit = Unit.objects.filter(assignment=assignment).first()
    return {
        "projects": "/",
        "home": f"{p}/",
        "sources": f"{p}/sources/",
        "source": f"{p}/sources/{source.pk}/",
        "read": f"{p}/sources/{read.pk}/read/",
        "people": f"{p}/people/",
        "person": f"{p}/people/{Person.objects.filter(project=project).first().pk}/",
        "claims": f"{p}/claims/",
        "claim": f"{p}/claims/{Claim.objects.filter(project=project).first().pk}/",
        "concepts": f"{p}/concepts/",
        "concept": f"{p}/concepts/{Concept.objects.filter(project=project).first().pk}/",
        "matrix": f"{p}/matrix/",
        "map": f"{p}/map/",
        "cocitation": f"{p}/cocitation/",
        "annotations": f"{p}/annotations/",
        "annotation": f"{p}/annotations/{annotation.pk}/",
        "search": f"{p}/search/?q=takfir",
        "export": f"{p}/export/",
        "review": f"{p}/review/",
        "import": f"{p}/import/",
        "import annotations": f"{p}/import/annotations/",
        "import from a QDA tool": f"{p}/qda/import/",
        "new annotation": f"{p}/sources/{read.pk}/annotations/new/",
        "source form": f"{p}/sources/{source.pk}/edit/",
        "source text": f"{p}/sources/{read.pk}/text/",
        "members": f"{p}/members/",
        "agreement": f"{p}/agreement/",
        "new assignment": f"{p}/agreement/new/",
        "assignment and its report": f"{p}/agreement/{assignment.pk}/",
        "double-coding unit": f"{p}/agreement/units/{unit.pk}/",
        "jobs": f"{p}/jobs/",
        "project settings": f"{p}/edit/",
        "profile": "/accounts/profile/",
        "password change": "/accounts/password_change/",
        "password changed": "/accounts/password_change/done/",
        "new project": "/projects/new/",
        "api tokens": "/accounts/tokens/",
        "api reference": "/api/v1/docs/",
    }


WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
HEIGHT = "() => document.documentElement.scrollHeight"


@pytest.mark.parametrize("role", ["supervisor", "analyst", "student"])
def test_no_page_is_wider_than_a_phone(page, live_server, seed_review, sign_in, role):
    pages = page_types(seed_review)
    page.set_viewport_size(PHONE)
    sign_in(page, role)
    seen = []
    for name, url in pages.items():
        response = page.goto(live_server.url + url)
        if response.status != 200:
            continue  # a page this role may not open (403) says so in a narrow box
        scroll, width = page.evaluate(WIDTH)
        assert scroll == width == 390, f"{name} ({url}) is {scroll} px wide"
        seen.append(name)
    assert len(seen) >= 18
    assert {"profile", "password change"} <= set(seen)
    # The address confirmation a mailed link opens, for this role's own account.
    user = seed_review.memberships.get(user__username=role).user
    link = reverse("accounts:email_confirm", args=[email_change_token(user, "x@example.org")])
    page.goto(live_server.url + link)
    expect(page.get_by_role("button", name="Use this address")).to_be_visible()
    assert page.evaluate(WIDTH) == [390, 390], link


def test_pages_for_people_signed_out_fit_a_phone(page, live_server, seed_review):
    supervisor = seed_review.memberships.get(user__username="supervisor").user
    invitation = seed_review.invite("new@example.org", role="student", by=supervisor)
    uid = urlsafe_base64_encode(force_bytes(supervisor.pk))
    pages = {
        "sign in": "/accounts/login/",
        "password reset": "/accounts/password_reset/",
        "reset sent": "/accounts/password_reset/done/",
        "reset link": reverse(
            "password_reset_confirm", args=[uid, default_token_generator.make_token(supervisor)]
        ),
        "bad reset link": reverse("password_reset_confirm", args=[uid, "nope"]),
        "invitation": reverse("accounts:invitation_accept", args=[invitation.make_token()]),
        "bad invitation": reverse("accounts:invitation_accept", args=["x" * 40]),
    }
    page.set_viewport_size(PHONE)
    for name, url in pages.items():
        page.goto(live_server.url + url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        scroll, width = page.evaluate(WIDTH)
        assert scroll == width == 390, f"{name} ({url}) is {scroll} px wide"
    page.goto(live_server.url + pages["invitation"])
    page.screenshot(path="test-results/phone-invitation.png", full_page=True)


def test_the_source_page_on_a_phone_is_under_three_desktop_heights(
    page, live_server, seed_review, sign_in
):
    url = live_server.url + page_types(seed_review)["source"]
    sign_in(page, "supervisor")
    page.set_viewport_size(DESKTOP)
    page.goto(url)
    desktop = page.evaluate(HEIGHT)
    page.set_viewport_size(PHONE)
    page.goto(url)
    phone = page.evaluate(HEIGHT)
    assert phone < 3 * desktop, (phone, desktop)


def test_the_passage_list_is_a_panel_on_a_phone(page, live_server, seed_review, sign_in):
    url = live_server.url + page_types(seed_review)["read"]
    page.set_viewport_size(PHONE)
    sign_in(page, "student")
    page.goto(url)
    side = page.locator("#reader-side")
    expect(page.get_by_role("button", name="Passages (3)")).to_be_visible()
    toggle = page.locator(".reader__panel-toggle")
    # The list is not after the whole text, but one button away.
    expect_hidden_then_shown(page, side, toggle)
    assert page.evaluate("getComputedStyle(document.getElementById('reader-side')).position") == (
        "fixed"
    )
    # Choosing a passage there shows it above the panel, its note in the panel.
    page.locator(".reader__list a[data-jump]").nth(2).click()
    mark = page.locator("#reader-text mark[tabindex]").nth(2)
    box, panel = mark.bounding_box(), side.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= panel["y"]
    page.screenshot(path="test-results/phone-reader-panel.png")


def expect_hidden_then_shown(page, side, toggle):
    expect(side).to_be_hidden()
    expect(toggle).to_be_visible()
    toggle.click()
    expect(side).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")

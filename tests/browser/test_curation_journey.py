"""An analyst records a new source with its contributors and identifier, then corrects it; a
supervisor brings a colleague into the project and changes their role."""

import re

from playwright.sync_api import expect

from apps.accounts.models import Membership, Project, Role, User
from apps.library.models import Source


def test_analyst_adds_and_edits_a_source(page, live_server, seed_review, sign_in):
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/")
    page.get_by_role("link", name="New source").click()
    page.get_by_label("Type").select_option("article-journal")
    page.get_by_role("textbox", name="Citation key").fill("kaplan1997leaderless")
    page.get_by_role("textbox", name="Title", exact=True).fill("Leaderless Resistance")
    contributors = page.get_by_role("group", name="Contributors")
    contributors.locator("input[name$='-person']").nth(0).fill("Kaplan, Jeffrey")
    contributors.locator("input[name$='-new']").nth(0).check()
    # With JavaScript on, "Add a contributor" adds a row on the spot.
    rows_before = contributors.locator("input[name$='-person']").count()
    contributors.get_by_role("button", name="Add a contributor").click()
    expect(contributors.locator("input[name$='-person']")).to_have_count(rows_before + 1)
    contributors.locator("input[name$='-person']").nth(1).fill("as-Suri")  # an existing person
    identifiers = page.get_by_role("group", name="Identifiers")
    identifiers.locator("select[name$='-scheme']").nth(0).select_option("doi")
    identifiers.locator("input[name$='-value']").nth(0).fill(
        "https://doi.org/10.1080/09546559708427389"
    )
    page.get_by_role("spinbutton", name="Year").fill("1997")
    page.get_by_role("button", name="Add source").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Leaderless Resistance")
    expect(page.locator(".byline")).to_have_text(re.compile(r"Kaplan.*Abu Musab al-Suri"))
    expect(page.get_by_role("link", name="10.1080/09546559708427389")).to_be_visible()

    page.get_by_role("link", name="Edit").click()
    page.get_by_role("textbox", name="Title", exact=True).fill("Leaderless Resistance (1997)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leaderless Resistance (1997)")
    source = Source.objects.get(project=seed_review, citation_key="kaplan1997leaderless")
    assert source.version == 2
    assert [c.person.display_name for c in source.contributors.order_by("position")] == [
        "Jeffrey Kaplan",
        "Abu Musab al-Suri",
    ]


def test_supervisor_adds_a_member_and_changes_their_role(page, live_server, seed_review, sign_in):
    newcomer = User.objects.create_user(
        "newcomer", email="newcomer@example.org", password="x-long-password-1"
    )
    # The add form names people the supervisor already works with in another project (anyone
    # else is invited by email).
    earlier = Project.objects.create(slug="earlier", name="An earlier review")
    supervisor = Membership.objects.get(project=seed_review, role=Role.SUPERVISOR).user
    Membership.objects.create(project=earlier, user=supervisor, role=Role.SUPERVISOR)
    Membership.objects.create(project=earlier, user=newcomer, role=Role.ANALYST)
    sign_in(page, "supervisor")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Members").click()
    adding = page.get_by_role("region", name="Add a member")
    adding.get_by_role("textbox").fill("newcomer@example.org")
    adding.get_by_role("combobox").select_option("student")
    adding.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("newcomer", exact=True)).to_be_visible()
    membership = Membership.objects.get(project=seed_review, user__username="newcomer")
    assert membership.role == "student"

    page.get_by_label("Role of newcomer", exact=True).select_option("analyst")
    page.get_by_role("button", name="Change role of newcomer").click()
    expect(page.get_by_label("Role of newcomer", exact=True)).to_have_value("analyst")
    membership.refresh_from_db()
    assert membership.role == "analyst"

    # The only supervisor cannot leave: the project would have nobody to manage it.
    page.get_by_text("Leave project").click()
    page.get_by_role("button", name=re.compile("^Leave “")).click()
    expect(page.get_by_role("status").or_(page.locator(".messages"))).to_contain_text("supervisor")
    assert Membership.objects.filter(project=seed_review, user__username="supervisor").exists()

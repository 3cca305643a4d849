"""An analyst imports a BibTeX file: upload, look at the preview (a duplicate and a broken
entry among new ones), confirm, and find the sources in the bibliography."""

import re

from playwright.sync_api import expect

from apps.library.models import Source

BIB = rb"""
@article{kaplan1997leaderless,
  author = {Kaplan, Jeffrey},
  title = {Leaderless Resistance},
  journal = {Terrorism and Political Violence},
  year = 1997,
  doi = {10.1080/09546559708427389},
}
@book{icg2016,
  author = {{International Crisis Group}},
  title = {Exploiting Disorder: al-{Qaeda} and the {Islamic State}},
  year = 2016,
}
@article{broken,
  title = {Unbalanced {braces,
  year = 2001
}
@article{after, title = {After the broken one}, year = 2002}
"""


def test_analyst_imports_a_bibliography(page, live_server, seed_review, sign_in):
    before = Source.objects.filter(project=seed_review).count()
    sign_in(page, "analyst")
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/")
    # The sources page's own "Import" button (the project bar has one too).
    page.get_by_role("main").get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Bibliography file").set_input_files(
        files=[{"name": "mine.bib", "mimeType": "text/plain", "buffer": BIB}]
    )
    page.get_by_role("button", name="Read the file").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("What the file holds")
    expect(page.locator(".lead")).to_contain_text("3 new")
    rejected = page.get_by_role("region", name=re.compile("Rejected"))
    expect(rejected).to_contain_text("line 14")
    expect(rejected).to_contain_text("not balanced")
    assert Source.objects.filter(project=seed_review).count() == before

    # Confirming without skipping the broken entry imports nothing and says why.
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported")
    assert Source.objects.filter(project=seed_review).count() == before

    page.get_by_label("Skip the rejected entries and import the rest").check()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sources")
    expect(page.locator(".messages")).to_contain_text("3 sources imported")
    page.get_by_label("Title contains").fill("Leaderless")
    page.get_by_role("button", name=re.compile("Filter|Apply")).click()
    page.get_by_role("link", name="Leaderless Resistance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leaderless Resistance")
    cite = page.get_by_role("region", name="Cite")
    expect(cite).to_contain_text(
        "Kaplan, J. (1997). Leaderless Resistance. Terrorism and Political Violence."
    )
    assert Source.objects.filter(project=seed_review).count() == before + 3

"""Hostile Markdown notes are stored, sanitised on save and rendered: nothing runs in Chromium."""

from apps.annotations.models import Annotation
from tests import factories
from tests.annotations.test_richtext import HOSTILE_NOTES

PAYLOADS = [note.replace("alert(1)", "window.__pwned=1") for note in HOSTILE_NOTES] + [
    '<img src=x onerror="window.__pwned=1">',
    "[click me](javascript:window.__pwned=1)",
    '<a href="javascript:window.__pwned=1">click me too</a>',
    "<details open ontoggle=window.__pwned=1>",
]


def test_no_hostile_note_or_quote_executes(page, live_server, seed_review, sign_in):
    source = seed_review.sources.get(citation_key="mironova2017bloody")
    analyst = seed_review.memberships.get(user__username="analyst").user
    supervisor = seed_review.memberships.get(user__username="supervisor").user
    for payload in PAYLOADS:
        factories.make_annotation(
            source,
            analyst,
            status="approved",
            reviewer=supervisor,
            note=f"Note before. {payload} Note after.",
            quote=f"{payload} quoted",  # quotes are plain text, escaped by the templates
        )
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "student")
    first = Annotation.objects.filter(source=source).order_by("-pk").first()
    for path in (f"sources/{source.pk}/", f"annotations/{first.pk}/", "", "claims/"):
        page.goto(f"{live_server.url}/p/{seed_review.slug}/{path}")
        for link in page.locator(".passage__note a").all():
            link.click(modifiers=["Control"])  # following a note's link must not run script
        assert page.evaluate("window.__pwned") is None, path
    page.goto(f"{live_server.url}/p/{seed_review.slug}/sources/{source.pk}/")
    assert page.get_by_text("window.__pwned=1").count() > 0  # the payloads were on the page
    assert dialogs == []

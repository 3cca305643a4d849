"""Hostile Markdown notes are stored, sanitised on save and rendered: nothing runs in Chromium."""

from apps.annotations.models import Annotation
from tests import factories
from tests.library.test_richtext import HOSTILE_NOTES

# Half the payloads open a dialog, half set a flag: either would show that script ran.
PAYLOADS = [
    *HOSTILE_NOTES,
    *(note.replace("alert(1)", "window.__pwned=1") for note in HOSTILE_NOTES),
    '<img src=x onerror="window.__pwned=1">',
    "[click me](javascript:window.__pwned=1)",
    '<a href="javascript:window.__pwned=1">click me too</a>',
    "<details open ontoggle=window.__pwned=1>",
]
SAFE_SCHEMES = ("http:", "https:", "mailto:")


def test_no_hostile_note_or_quote_executes(page, live_server, seed_review, sign_in):
    source = seed_review.sources.get(citation_key="mironova2017bloody")
    analyst = seed_review.memberships.get(user__username="analyst").user
    supervisor = seed_review.memberships.get(user__username="supervisor").user
    for number, payload in enumerate(PAYLOADS):
        factories.make_annotation(
            source,
            analyst,
            status="approved" if number % 2 else "submitted",
            reviewer=supervisor,
            note=f"Note before. {payload} Note after.",
            quote=f"{payload} quoted",  # quotes are plain text, escaped by the templates
        )
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "supervisor")
    latest = Annotation.objects.filter(source=source).order_by("-pk").first()
    base = f"{live_server.url}/p/{seed_review.slug}"
    pages = [f"sources/{source.pk}/", f"annotations/{latest.pk}/", "", "review/", "annotations/"]
    for path in pages:
        page.goto(f"{base}/{path}")
        page.wait_for_load_state("load")
        hrefs = page.eval_on_selector_all(".passage__note a", "links => links.map(a => a.href)")
        # A link whose href was removed has none; every other one is http(s) or mailto.
        assert all(href.startswith(SAFE_SCHEMES) for href in hrefs if href), (path, hrefs)
        assert page.evaluate("window.__pwned") is None, path
        assert (
            page.locator(".passage__note script, .passage__note img, .passage__note svg").count()
            == 0
        )
    page.goto(f"{base}/sources/{source.pk}/")
    assert page.get_by_text("window.__pwned=1").count() > 0  # the payloads were on the page
    assert dialogs == []

"""Every page carries the security headers, and no page relies on inline script or style,
which the Content-Security-Policy refuses."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from apps.annotations.anchoring import replace_text
from tests.test_access import PAGES, url_for
from tests.test_access import world as world  # noqa: F401 (the fixture of objects to open)

# Pages outside /p/<slug>/: url -> the user who opens it (None: signed out).
OTHER_PAGES = {
    "/": "supervisor",
    "/projects/new/": "supervisor",
    "/accounts/login/": None,
    "/p/no-such-project/": "supervisor",  # the 404 page
    "/p/review/edit/": "student",  # the 403 page
    "/accounts/tokens/": "student",
    "/api/v1/docs/": None,  # the API reference, rendered from its OpenAPI document
}

# A script element with its own code, a style block, or a style attribute. A <script> with a
# src, or json_script's type="application/json" data, is not inline code.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>"
    r"|<style[\s>]"
    r"|\sstyle\s*="
    r"|\son[a-z]+\s*=\s*[\"']",
    re.IGNORECASE,
)


def assert_secure_headers(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in policy.split(";")) if part
    )
    assert directives.get("default-src") == "'self'", policy
    assert directives.get("script-src") == "'self'", policy
    assert directives.get("style-src") == "'self'", policy
    assert directives.get("frame-ancestors") == "'none'", policy
    assert directives.get("object-src") == "'none'", policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers.get("Referrer-Policy") == "same-origin"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("X-Frame-Options") == "DENY"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_project_page_sends_the_policy_and_has_no_inline_code(
    cast, world, client_for, name
):
    key, expected = PAGES[name]
    role = next(role for role, status in expected.items() if status == 200)
    response = client_for(cast.members()[role]).get(url_for(name, world, key))
    assert response.status_code == 200
    assert_secure_headers(response)
    if response["Content-Type"].startswith("text/html"):
        assert not INLINE.search(response.text), INLINE.search(response.text).group(0)


@pytest.mark.parametrize("url", sorted(OTHER_PAGES))
def test_pages_outside_projects_and_error_pages_send_the_policy(cast, client_for, url):
    user = OTHER_PAGES[url]
    response = client_for(getattr(cast, user) if user else None).get(url)
    assert response.status_code in (200, 403, 404)
    assert_secure_headers(response)
    assert not INLINE.search(response.text)


def test_reading_view_with_passages_has_no_inline_style(cast, world, client_for):
    source = world["source"]
    text = "\n\n".join(f"Paragraph {n}. " + "Words here. " * 40 for n in range(20))
    replace_text(source, text, by=cast.analyst, origin="pasted")
    url = reverse("annotations:source_read", args=["review", source.pk])
    response = client_for(cast.supervisor).get(url)
    assert response.status_code == 200
    assert 'class="reader__block" data-lines="' in response.text
    assert not INLINE.search(response.text)


def test_no_template_holds_inline_script_or_style():
    offenders = []
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        # The formatted bibliography is a file people download and open from their disk, where
        # our stylesheet cannot reach it; it carries its own few rules. It is sent as an
        # attachment, so no browser renders it as one of our pages.
        if path.name == "bibliography.html" and path.parent.name == "bibliography":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if INLINE.search(line):
                offenders.append(f"{path.relative_to(settings.BASE_DIR)}:{number}")
    assert offenders == []


def test_the_downloaded_bibliography_is_an_attachment(cast, world, client_for):
    url = reverse("bibliography:export_file", args=["review"])
    response = client_for(cast.analyst).get(url, {"format": "html", "style": "apa"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert_secure_headers(response)

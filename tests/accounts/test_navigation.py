"""A form's `next` is followed only when it is a path on this site; anything else sends the user
to the page's default, after the action has been taken, and never answers 500."""

import pytest
from django.test import RequestFactory

from apps.accounts.navigation import next_url
from apps.annotations.models import Status
from tests import factories

HOSTILE = [
    "abc",
    "annotations:annotation_detail",
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/p/review/\r\nSet-Cookie: x=1",
    "/p/review/\x7f",
    "/" + "a" * 5000,
    "http://testserver/p/review/",  # our own host, but not a path: the default is as good
    " /p/review/",
    "",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_give_the_default(target):
    request = RequestFactory().post("/", {"next": target})
    assert next_url(request, "/default/") == "/default/"


@pytest.mark.parametrize("target", ["/p/review/", "/p/review/sources/?page=2&q=al-Suri#x"])
def test_paths_on_this_site_are_followed(target):
    assert next_url(RequestFactory().post("/", {"next": target}), "/default/") == target
    assert next_url(RequestFactory().get("/", {"next": target}), "/default/") == target


@pytest.mark.parametrize("target", HOSTILE)
def test_a_review_decision_with_any_next_is_saved_and_goes_to_the_annotation(
    cast, client_for, target
):
    annotation = factories.make_annotation(
        factories.make_source(cast.project), cast.analyst, status=Status.SUBMITTED
    )
    response = client_for(cast.supervisor).post(
        f"/p/review/annotations/{annotation.pk}/approve/",
        {"seen_version": annotation.version, "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/p/review/annotations/{annotation.pk}/"
    annotation.refresh_from_db()
    assert annotation.status == Status.APPROVED


@pytest.mark.parametrize("target", HOSTILE)
def test_a_refused_action_with_any_next_says_why_on_the_annotation(cast, client_for, target):
    annotation = factories.make_annotation(factories.make_source(cast.project), cast.analyst)
    response = client_for(cast.supervisor).post(
        f"/p/review/annotations/{annotation.pk}/approve/",
        {"seen_version": annotation.version, "next": target},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[0][0] == f"/p/review/annotations/{annotation.pk}/"
    assert "error" in {m.level_tag for m in response.context["messages"]}


@pytest.mark.parametrize("target", HOSTILE)
def test_the_scope_switch_with_any_next_is_kept_and_goes_home(cast, client_for, target):
    client = client_for(cast.analyst)
    response = client.post("/p/review/scope/", {"scope": "approved", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/p/review/"
    assert client.session["scope"]["review"] == "approved"

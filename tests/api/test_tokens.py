"""Personal API tokens: made on the account's page (shown once, stored hashed), listed,
revoked; expired and revoked tokens are refused with a message saying so."""

import datetime
import hashlib
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.api.models import ApiToken
from tests import factories

URL = "/accounts/tokens/"


def make(client, **fields):
    data = {"name": "R script", "scope": "read", "lifetime": "30", **fields}
    return client.post(URL, data)


def secret_on(page) -> str:
    found = re.search(r'value="(cm_[A-Za-z0-9_-]{43})"', page.text)
    assert found, "the new token is shown"
    return found.group(1)


def test_a_token_is_shown_once_and_only_its_hash_is_stored(cast, client_for):
    client = client_for(cast.analyst)
    page = make(client, project=cast.project.pk)
    assert page.status_code == 201
    secret = secret_on(page)
    assert "not be shown again" in page.text
    token = ApiToken.objects.get()
    assert (token.user, token.project, token.scope, token.name) == (
        cast.analyst, cast.project, "read", "R script"
    )  # fmt: skip
    assert token.key_digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.values().get())
    assert token.expires_at - token.created_at == datetime.timedelta(days=30)
    # The list shows its name and first characters, never the secret again.
    listed = client.get(URL)
    assert "R script" in listed.text and token.hint in listed.text
    assert secret not in listed.text


def test_the_token_works_for_the_api_and_records_its_use(cast, client_for):
    secret = secret_on(make(client_for(cast.analyst), project=cast.project.pk))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.get("/api/v1/projects/")
    assert response.status_code == 200
    assert [p["slug"] for p in response.json()["results"]] == ["review"]
    assert ApiToken.objects.get().last_used_at is not None


def test_tokens_can_only_be_made_for_the_users_own_projects(cast, client_for):
    elsewhere = factories.make_project(slug="not-mine")
    page = make(client_for(cast.analyst), project=elsewhere.pk)
    assert page.status_code == 200
    assert "Select a valid choice" in page.text
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},
        {"scope": "admin"},
        {"lifetime": "100000"},
        {"lifetime": "x"},
        {"name": "x" * 101},
    ],
)
def test_bad_token_forms_are_refused_and_change_nothing(cast, client_for, fields):
    page = make(client_for(cast.analyst), project=cast.project.pk, **fields)
    assert page.status_code == 200
    assert 'class="field__error"' in page.text
    assert not ApiToken.objects.exists()


def test_the_form_needs_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.analyst)
    assert make(client, project=cast.project.pk).status_code == 403
    token = ApiToken.issue(
        user=cast.analyst, project=cast.project, name="x", scope="read",
        lifetime=datetime.timedelta(days=1),
    )[0]  # fmt: skip
    assert client.post(reverse("tokens:token_revoke", args=[token.pk])).status_code == 403
    assert not ApiToken.objects.get().is_revoked
    assert ApiToken.objects.count() == 1


def test_a_revoked_token_is_refused_with_a_message(cast, client_for, token_for):
    secret = token_for(cast.analyst)
    token = ApiToken.objects.get()
    client = client_for(cast.analyst)
    response = client.post(reverse("tokens:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert "revoked" in client.get(URL).text
    answer = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/projects/")
    assert answer.status_code == 401
    assert answer["Content-Type"].startswith("application/json")
    assert "revoked" in answer.json()["detail"]
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_refused_with_a_message(cast, token_for):
    secret = token_for(cast.analyst, days=30)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/projects/").status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        answer = client.get("/api/v1/projects/")
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


@pytest.mark.parametrize(
    "header", ["Bearer cm_nope", "Bearer ", "Bearer " + "x" * 5000, "Basic eDp5"]
)
def test_unknown_or_malformed_credentials_get_401_json(db, header):
    answer = Client(HTTP_AUTHORIZATION=header).get("/api/v1/p/review/sources/")
    assert answer.status_code == 401
    assert answer.json()["detail"]


def test_a_deactivated_users_tokens_stop_working(cast, token_for):
    secret = token_for(cast.analyst)
    cast.analyst.is_active = False
    cast.analyst.save()
    answer = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/projects/")
    assert answer.status_code == 401


def test_nobody_revokes_another_users_token(cast, client_for, token_for):
    token_for(cast.analyst)
    token = ApiToken.objects.get()
    url = reverse("tokens:token_revoke", args=[token.pk])
    assert client_for(cast.supervisor).post(url).status_code == 404
    assert client_for(cast.analyst).get(url).status_code == 405
    assert not ApiToken.objects.get().is_revoked
    # Nor does anyone see it in their list.
    assert "analyst's script" not in client_for(cast.supervisor).get(URL).text


def test_the_token_list_costs_the_same_queries_with_ten_times_the_tokens(
    cast, client_for, token_for, django_assert_num_queries
):
    client = client_for(cast.analyst)
    # session, user, whether the user has projects, the project choices (the select and its
    # validation copy), the tokens with their projects
    for count in (3, 30):
        while ApiToken.objects.count() < count:
            token_for(cast.analyst)
        with django_assert_num_queries(6):
            page = client.get(URL)
        assert page.text.count("token__revoke") == count


def test_the_profile_links_to_the_tokens(cast, client_for):
    assert URL in client_for(cast.student).get("/accounts/profile/").text


def test_site_administrators_see_tokens_and_revoke_them_but_never_the_secret(
    cast, admin_client, token_for
):
    secret = token_for(cast.analyst)
    token = ApiToken.objects.get()
    listing = admin_client.get("/admin/api/apitoken/")
    assert listing.status_code == 200 and token.hint in listing.text
    change = admin_client.get(f"/admin/api/apitoken/{token.pk}/change/")
    assert change.status_code == 200
    assert secret not in change.text and token.key_digest not in change.text
    assert admin_client.get("/admin/api/apitoken/add/").status_code == 403
    admin_client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert ApiToken.objects.get().is_revoked
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/projects/").status_code == 401

"""Django's admin, as staff use it, with hostile input: never a 500.

The admin is Django's own, but its list filters, searches, ordering and object ids read what
the request says, and our model admins add their own lists and fields. Every registered
model's pages (list, add, change, delete, history) are requested by a superuser with hostile
ids, query strings and form bodies; every admin URL with a non-staff member and a signed-out
visitor is sent to the admin's sign-in, never answered.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests import factories
from tests.test_access import world as world  # noqa: F401 (the fixture of objects to open)
from tests.test_fuzz import HOSTILE

MODELS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
IDS = ["abc", "0", "-1", "99999999999999999999", "9" * 400, "%00", "1e400", "1;2", "ü"]
LIST_PARAMS = ["o", "q", "p", "e", "_popup", "_to_field", "all", "id__gt", "pk__in"]


@pytest.fixture
def staff(cast, client_for):
    boss = factories.make_user("boss")
    boss.is_staff = boss.is_superuser = True
    boss.save()
    return client_for(boss)


def test_the_admin_registers_the_models_staff_repair():
    labels = {model._meta.label for model, _ in MODELS}
    assert {"accounts.User", "annotations.Annotation", "library.Source"} <= labels


@pytest.mark.parametrize(
    "model_admin", [m for _, m in MODELS], ids=[model._meta.label for model, _ in MODELS]
)
def test_no_admin_page_ends_in_a_server_error(world, staff, model_admin):
    opts = model_admin.model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}"
    changelist = reverse(f"{name}_changelist")
    assert staff.get(changelist).status_code == 200
    for field in [*LIST_PARAMS, *(f.name for f in opts.fields)]:
        for value in HOSTILE[:12]:
            response = staff.get(changelist, {field: value})
            assert response.status_code < 500, (changelist, field, value)
    add = reverse(f"{name}_add")
    form = [f.name for f in opts.fields]
    for value in ("abc", "\x00", "99999999999999999999", "-1", "[" * 500):
        response = staff.post(add, dict.fromkeys(form, value))
        assert response.status_code < 500, (add, value)
    existing = model_admin.model._default_manager.order_by("pk").first()
    for object_id in [*IDS, *([str(existing.pk)] if existing else [])]:
        for view in ("change", "delete", "history"):
            url = reverse(f"{name}_{view}", args=["0"]).replace("/0/", f"/{object_id}/")
            response = staff.get(url)
            assert response.status_code < 500, url
    if existing is not None:
        change = reverse(f"{name}_change", args=[existing.pk])
        for value in ("\x00", "99999999999999999999", "x" * 5000):
            response = staff.post(change, dict.fromkeys(form, value))
            assert response.status_code < 500, (change, value)


def test_the_admin_autocomplete_takes_hostile_terms(world, staff):
    url = reverse("admin:autocomplete")
    for model, _ in MODELS:
        for value in ("\x00", "9" * 400, "%", "abc"):
            params = {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": value,
                "term": value,
            }
            assert staff.get(url, params).status_code < 500


@pytest.mark.parametrize("role", ["supervisor", "student", None])
def test_the_admin_sends_everyone_else_to_its_sign_in(cast, client_for, role):
    client = client_for(getattr(cast, role) if role else None)
    for model, _ in MODELS:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url, {"q": "<script>"})
        assert response.status_code == 302, url
        # Signed out, the site's own sign-in (every page needs an account); signed in
        # without staff status, the admin's, which says the account cannot use it.
        assert response.url.startswith("/admin/login/" if role else "/accounts/login/"), url

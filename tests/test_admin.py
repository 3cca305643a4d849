"""The admin is a real tool for supervisors of the whole site: every page of it must render."""

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.transfer.seed import load_seed_review


@pytest.fixture
def admin_client_with_seed(db, admin_client):
    load_seed_review()
    return admin_client


@pytest.mark.parametrize(
    "model", list(admin.site._registry), ids=lambda m: f"{m._meta.app_label}.{m._meta.model_name}"
)
def test_admin_list_add_and_change_pages_render(admin_client_with_seed, model):
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    changelist = admin_client_with_seed.get(reverse(f"{prefix}_changelist"))
    assert changelist.status_code == 200
    # Search and filters work on every list.
    assert (
        admin_client_with_seed.get(reverse(f"{prefix}_changelist"), {"q": "su"}).status_code == 200
    )
    model_admin = admin.site._registry[model]
    if model_admin.has_add_permission(changelist.wsgi_request):
        assert admin_client_with_seed.get(reverse(f"{prefix}_add")).status_code == 200
    obj = model.objects.first()
    if obj is not None:
        change = admin_client_with_seed.get(reverse(f"{prefix}_change", args=[obj.pk]))
        assert change.status_code == 200


def test_admin_person_search_ignores_transliteration_noise(admin_client_with_seed):
    response = admin_client_with_seed.get(
        reverse("admin:people_person_changelist"), {"q": "as-Suri"}
    )
    assert "Abu Musab al-Suri" in response.text

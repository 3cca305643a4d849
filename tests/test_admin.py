"""The admin is a real tool for supervisors of the whole site: every page of it must render."""

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.demo.seed import load_seed_review


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


def test_admin_refuses_links_across_projects(admin_client_with_seed):
    from apps.annotations.models import Annotation
    from tests import factories

    annotation = Annotation.objects.first()
    foreign_claim = factories.make_claim(factories.make_project(), "Elsewhere")
    url = reverse("admin:annotations_annotation_change", args=[annotation.pk])
    page = admin_client_with_seed.get(url)
    form = page.context["adminform"].form
    data = {
        name: form[name].value() or "" for name in form.fields if form[name].value() is not None
    }
    data["concepts"] = [c.pk for c in annotation.concepts.all()]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(
            {f"{formset.prefix}-{k}": v for k, v in formset.management_form.initial.items()}
        )
        for i, sub in enumerate(formset.forms):
            for name in sub.fields:
                value = sub[name].value()
                if value not in (None, False):
                    data[f"{formset.prefix}-{i}-{name}"] = value
    data["evidence-0-claim"] = foreign_claim.pk  # replaces the first linked claim
    response = admin_client_with_seed.post(url, data)
    assert response.status_code == 200
    assert "The claim belongs to another project." in response.text
    assert not annotation.evidence.filter(claim=foreign_claim).exists()


def test_annotations_cannot_be_deleted_from_the_admin(admin_client_with_seed):
    from apps.annotations.models import Annotation

    annotation = Annotation.objects.first()
    url = reverse("admin:annotations_annotation_delete", args=[annotation.pk])
    assert admin_client_with_seed.post(url, {"post": "yes"}).status_code == 403
    assert Annotation.objects.filter(pk=annotation.pk).exists()


def test_admin_normalises_identifiers_and_refuses_javascript_urls(admin_client_with_seed):
    from apps.library.models import Source, SourceIdentifier

    source = Source.objects.get(citation_key="mironova2017bloody")
    identifier = SourceIdentifier(source=source, scheme="url", value="javascript:alert(1)")
    with pytest.raises(Exception, match="A URL starts with http"):
        identifier.full_clean()
    identifier = SourceIdentifier(source=source, scheme="doi", value="https://doi.org/10.1080/ABC")
    identifier.full_clean()
    assert identifier.value == "10.1080/abc"
    assert SourceIdentifier(scheme="url", value="javascript:x").link == ""


def test_admin_claim_relation_without_a_target_is_a_form_error(admin_client_with_seed):
    from apps.claims.models import ClaimRelation

    relation = ClaimRelation(kind="supports")
    with pytest.raises(Exception, match="target"):
        relation.full_clean()

from django.urls import path

from apps.claims import views

app_name = "claims"

urlpatterns = [
    path("claims/lookup/", views.claim_lookup, name="claim_lookup"),
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/new/", views.claim_create, name="claim_create"),
    path("claims/<id:pk>/edit/", views.claim_edit, name="claim_edit"),
    path("claims/<id:pk>/delete/", views.claim_delete, name="claim_delete"),
    path("concepts/", views.concept_list, name="concept_list"),
    path("concepts/new/", views.concept_create, name="concept_create"),
    path("concepts/<id:pk>/edit/", views.concept_edit, name="concept_edit"),
    path("concepts/<id:pk>/delete/", views.concept_delete, name="concept_delete"),
]

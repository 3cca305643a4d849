from django.urls import path

from apps.claims import views

app_name = "claims"

urlpatterns = [
    path("claims/lookup/", views.claim_lookup, name="claim_lookup"),
    path("claims/", views.claim_list, name="claim_list"),
    path("concepts/", views.concept_list, name="concept_list"),
]

from django.urls import path

from apps.library import views

app_name = "library"

urlpatterns = [
    path("sources/lookup/", views.source_lookup, name="source_lookup"),
    path("sources/", views.source_list, name="source_list"),
]

from django.urls import path

from apps.library import views

app_name = "library"

urlpatterns = [
    path("sources/lookup/", views.source_lookup, name="source_lookup"),
    path("sources/new/", views.source_create, name="source_create"),
    path("sources/<id:pk>/edit/", views.source_edit, name="source_edit"),
    path("sources/<id:pk>/delete/", views.source_delete, name="source_delete"),
]

from django.urls import path

from apps.library import views

app_name = "library"

urlpatterns = [
    path("sources/", views.source_list, name="source_list"),
]

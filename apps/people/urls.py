from django.urls import path

from apps.people import views

app_name = "people"

urlpatterns = [
    path("people/lookup/", views.person_lookup, name="person_lookup"),
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<id:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<id:pk>/delete/", views.person_delete, name="person_delete"),
]

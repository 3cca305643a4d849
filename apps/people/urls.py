from django.urls import path

from apps.people import views

app_name = "people"

urlpatterns = [
    path("people/lookup/", views.person_lookup, name="person_lookup"),
    path("people/", views.person_list, name="person_list"),
]

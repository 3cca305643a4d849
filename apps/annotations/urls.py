from django.urls import path

from apps.annotations import views

app_name = "annotations"

urlpatterns = [
    path("annotations/<id:pk>/", views.annotation_detail, name="annotation_detail"),
]

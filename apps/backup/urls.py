from django.urls import path

from apps.backup import views

app_name = "backup"

urlpatterns = [
    path("export/project.json", views.project_export, name="project_export"),
    path("export/project/", views.project_upload, name="project_upload"),
    path("export/project/<str:token>/", views.project_preview, name="project_preview"),
]

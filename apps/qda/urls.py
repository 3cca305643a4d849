from django.urls import path

from apps.qda import views

app_name = "qda"

urlpatterns = [
    path("export/codebook.qdc", views.codebook_export, name="codebook_export"),
    path("export/project.qdpx", views.project_export, name="project_export"),
    path("qda/import/", views.qda_import, name="import"),
    path("qda/import/<str:token>/", views.import_preview, name="import_preview"),
]

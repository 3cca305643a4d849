from django.urls import path

from apps.transfer import views

app_name = "transfer"

urlpatterns = [
    path("import/", views.import_upload, name="import"),
    # Before import/<token>/, which would take "annotations" for a token.
    path("import/annotations/", views.annotations_import, name="annotations_import"),
    path("import/<str:token>/", views.import_preview, name="import_preview"),
    path("import/<str:token>/confirm/", views.import_confirm, name="import_confirm"),
    path("export/", views.export_page, name="export"),
    path("export/file/", views.export_file, name="export_file"),
    path("export/annotations.jsonld", views.annotations_export, name="annotations_export"),
    path(
        "sources/<id:pk>/annotations.jsonld",
        views.source_annotations_export,
        name="source_annotations_export",
    ),
    path("export/project.json", views.project_export, name="project_export"),
    path("export/project/", views.project_upload, name="project_upload"),
    path("export/project/<str:token>/", views.project_preview, name="project_preview"),
    path("sources/duplicates/", views.duplicate_list, name="duplicate_list"),
    path("sources/duplicates/merge/", views.duplicate_merge, name="duplicate_merge"),
]

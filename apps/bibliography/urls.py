from django.urls import path

from apps.bibliography import views

app_name = "bibliography"

urlpatterns = [
    path("import/", views.import_upload, name="import"),
    path("import/<str:token>/", views.import_preview, name="import_preview"),
    path("import/<str:token>/confirm/", views.import_confirm, name="import_confirm"),
    path("export/", views.export_page, name="export"),
    path("export/file/", views.export_file, name="export_file"),
    path("sources/duplicates/", views.duplicate_list, name="duplicate_list"),
    path("sources/duplicates/merge/", views.duplicate_merge, name="duplicate_merge"),
]

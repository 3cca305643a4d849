from django.urls import path

from apps.webanno import views

app_name = "webanno"

urlpatterns = [
    path("import/annotations/", views.annotations_import, name="annotations_import"),
    path(
        "import/annotations/<str:token>/",
        views.annotations_preview,
        name="annotations_preview",
    ),
    path("export/annotations.jsonld", views.annotations_export, name="annotations_export"),
    path(
        "sources/<id:pk>/annotations.jsonld",
        views.source_annotations_export,
        name="source_annotations_export",
    ),
]

# Outside any project: the JSON-LD context every export names.
vocabulary_urlpatterns = [
    path("ns/citemap.jsonld", views.vocabulary, name="webanno_vocabulary"),
]

from django.urls import path

from apps.annotations import reader, views
from apps.annotations.models import ReviewAction

app_name = "annotations"

urlpatterns = [
    path("annotations/", views.annotation_list, name="annotation_list"),
    path("annotations/<id:pk>/", views.annotation_detail, name="annotation_detail"),
    path("annotations/<id:pk>/edit/", views.annotation_edit, name="annotation_edit"),
    path("sources/<id:pk>/read/", reader.source_read, name="source_read"),
    path("sources/<id:pk>/read/passages/", reader.source_passages, name="source_passages"),
    path("sources/<id:pk>/text/", reader.source_text, name="source_text"),
    path("sources/<id:pk>/locate/", reader.source_locate, name="source_locate"),
    path("sources/<id:pk>/orphans/", reader.source_orphans, name="source_orphans"),
    path("annotations/<id:pk>/reattach/", reader.annotation_reattach, name="annotation_reattach"),
    path(
        "sources/<id:pk>/annotations/new/",
        views.annotation_create,
        name="annotation_create",
    ),
    # One POST endpoint per review action: /annotations/12/submit/, …/approve/, …/withdraw/.
    *[
        path(
            f"annotations/<id:pk>/{action.replace('_', '-')}/",
            views.annotation_act,
            {"action": action},
            name=f"annotation_{action}",
        )
        for action in ReviewAction.values
    ],
]

from django.urls import path

from apps.xref import views

app_name = "xref"

urlpatterns = [
    path("", views.project_home, name="project_home"),
    path("sources/", views.source_list, name="source_list"),
    path("sources/<id:pk>/", views.source_detail, name="source_detail"),
    path("people/<id:pk>/", views.person_detail, name="person_detail"),
    path("claims/<id:pk>/", views.claim_detail, name="claim_detail"),
    path("concepts/<id:pk>/", views.concept_detail, name="concept_detail"),
]

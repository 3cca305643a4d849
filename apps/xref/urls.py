from django.urls import path

from apps.xref.views import matrix, network, pages

app_name = "xref"

urlpatterns = [
    path("", pages.project_home, name="project_home"),
    path("sources/", pages.source_list, name="source_list"),
    path("sources/<id:pk>/", pages.source_detail, name="source_detail"),
    path("people/<id:pk>/", pages.person_detail, name="person_detail"),
    path("claims/<id:pk>/", pages.claim_detail, name="claim_detail"),
    path("concepts/<id:pk>/", pages.concept_detail, name="concept_detail"),
    path("matrix/", matrix.matrix, name="matrix"),
    path("matrix.csv", matrix.matrix_csv, name="matrix_csv"),
    path("cocitation/", pages.cocitation, name="cocitation"),
    path("map/", network.map_view, name="map"),
    path("map.gexf", network.map_gexf, name="map_gexf"),
    path("map.graphml", network.map_graphml, name="map_graphml"),
]

from django.contrib import admin
from django.urls import include, path, register_converter

from apps.accounts.urls import auth_urlpatterns
from config.converters import IdConverter

register_converter(IdConverter, "id")

project_patterns = [
    path("", include("apps.xref.urls")),
    path("", include("apps.library.urls")),
    path("", include("apps.people.urls")),
    path("", include("apps.claims.urls")),
    path("", include("apps.annotations.urls")),
]

urlpatterns = [
    path("", include("apps.accounts.urls")),
    *auth_urlpatterns,
    path("admin/", admin.site.urls),
    path("p/<slug:slug>/", include(project_patterns)),
]

from django.contrib import admin
from django.urls import include, path, register_converter

from config.converters import IdConverter
from config.health import healthz

# Registered before any app's URL module is imported, since they use it (accounts' below).
register_converter(IdConverter, "id")

from apps.accounts.urls import auth_urlpatterns  # noqa: E402
from apps.api.urls import token_urlpatterns  # noqa: E402
from apps.webanno.urls import vocabulary_urlpatterns  # noqa: E402

project_patterns = [
    path("", include("apps.xref.urls")),
    path("", include("apps.library.urls")),
    path("", include("apps.people.urls")),
    path("", include("apps.claims.urls")),
    path("", include("apps.annotations.urls")),
    path("", include("apps.search.urls")),
    path("", include("apps.review.urls")),
    path("", include("apps.agreement.urls")),
    # Before bibliography, whose import/<token>/ would take "annotations" for a token.
    path("", include("apps.webanno.urls")),
    path("", include("apps.bibliography.urls")),
    path("", include("apps.backup.urls")),
    path("", include("apps.qda.urls")),
    path("", include("apps.jobs.urls")),
]

urlpatterns = [
    path("", include("apps.accounts.urls")),
    *auth_urlpatterns,
    *vocabulary_urlpatterns,
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
    path("api/v1/", include("apps.api.urls")),
    path("accounts/tokens/", include((token_urlpatterns, "tokens"))),
    path("p/<slug:slug>/", include(project_patterns)),
]

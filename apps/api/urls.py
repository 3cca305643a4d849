from django.urls import path

from apps.api import views
from apps.api.endpoints import api

app_name = "api"


def _public(pattern):
    """The API answers signed-out callers itself (401 in JSON, or a token), instead of the
    sign-in redirect LoginRequiredMiddleware gives pages."""
    pattern.callback.login_required = False
    return pattern


urlpatterns = [
    path("", views.root, name="root"),
    path("schema/", views.schema, name="schema"),
    path("docs/", views.docs, name="docs"),
    # ninja's own root view is replaced by ours above.
    *(_public(pattern) for pattern in api.urls[0] if pattern.name != "api-root"),
]

# The account's token page, under /accounts/tokens/ beside the profile.
token_urlpatterns = [
    path("", views.token_list, name="token_list"),
    path("<id:pk>/revoke/", views.token_revoke, name="token_revoke"),
]

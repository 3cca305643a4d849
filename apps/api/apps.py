from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"

    def ready(self) -> None:
        # Routes defined outside endpoints.py join the API before anything reads it (the URL
        # conf, the OpenAPI document): ninja takes no new routes once its URLs are built.
        # endpoints.py first: it imports its sibling modules of routes at its end.
        from apps.api import endpoints, sync  # noqa: F401

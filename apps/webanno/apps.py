from django.apps import AppConfig


class WebannoConfig(AppConfig):
    name = "apps.webanno"

    def ready(self) -> None:
        from apps.webanno import jobs  # noqa: F401  (registers the job kinds)

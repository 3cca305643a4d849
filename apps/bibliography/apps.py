from django.apps import AppConfig


class BibliographyConfig(AppConfig):
    name = "apps.bibliography"

    def ready(self) -> None:
        from apps.bibliography import formatted  # noqa: F401  (registers its job kind)

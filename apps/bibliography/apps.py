from django.apps import AppConfig


class BibliographyConfig(AppConfig):
    name = "apps.bibliography"

from django.apps import AppConfig


class XrefConfig(AppConfig):
    name = "apps.xref"

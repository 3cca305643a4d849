from django.apps import AppConfig


class WebannoConfig(AppConfig):
    name = "apps.webanno"

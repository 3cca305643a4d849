from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "apps.search"

    def ready(self) -> None:
        from apps.search.maintenance import install_after_migrate

        # Schema upkeep, not domain flow: the index's triggers must exist after every
        # migration (on SQLite, altering another app's table drops the triggers on it).
        post_migrate.connect(install_after_migrate, sender=self)

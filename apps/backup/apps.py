from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "apps.backup"

    def ready(self) -> None:
        from apps.backup import jobs  # noqa: F401  (registers the job kinds)

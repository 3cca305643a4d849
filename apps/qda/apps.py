from django.apps import AppConfig


class QdaConfig(AppConfig):
    name = "apps.qda"
    verbose_name = "Exchange with qualitative analysis tools (REFI-QDA)"

    def ready(self) -> None:
        from apps.qda import jobs  # noqa: F401  (registers the job kinds)

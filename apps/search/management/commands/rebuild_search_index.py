import time

from django.core.management.base import BaseCommand
from django.db.models import Count

from apps.search.maintenance import install
from apps.search.models import Document, Kind


class Command(BaseCommand):
    help = (
        "Rebuild the search index from the project data: reinstalls the index's triggers "
        "and indexes every passage, claim, source, person and concept again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database: str, **options) -> None:
        started = time.perf_counter()
        install(database, rebuild=True)
        counts = dict.fromkeys(Kind, 0)
        for kind, number in (
            Document.objects.using(database).values_list("kind").annotate(n=Count("pk")).order_by()
        ):
            counts[Kind(kind)] = number
        listed = ", ".join(f"{number:,} {kind.label.lower()}" for kind, number in counts.items())
        self.stdout.write(f"Indexed {listed} in {time.perf_counter() - started:.1f} s.")

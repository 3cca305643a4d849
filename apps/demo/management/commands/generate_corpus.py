import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from apps.demo.corpus import create_corpus_project, generate_corpus


class Command(BaseCommand):
    help = (
        "Add a synthetic corpus to a project (created when missing): per source about one "
        "claim, a quarter of a person and ten annotations with links and review history."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--sources", type=int, required=True, help="Number of sources.")
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed (same seed, same data)."
        )

    def handle(self, *args, project: str, sources: int, seed: int, **options):
        if sources < 1 or sources > 1_000_000:
            raise CommandError("--sources must be between 1 and 1,000,000.")
        started = time.perf_counter()
        stats = generate_corpus(create_corpus_project(project), sources=sources, seed=seed)
        # Fresh planner statistics: without them PostgreSQL plans the new tables as if empty.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        elapsed = time.perf_counter() - started
        for name, number in stats.counts.items():
            self.stdout.write(f"{number:>10,}  {name}")
        self.stdout.write(self.style.SUCCESS(f"Generated in {elapsed:.1f} s."))

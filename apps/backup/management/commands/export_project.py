from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Project
from apps.backup.project_file import iter_project_file, write_project_file


class Command(BaseCommand):
    help = (
        "Write a whole project as JSON (to stdout): members, sources, people, claims, concepts, "
        "annotations with their links, review history and revisions. import_project reads it."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Project slug.")
        parser.add_argument("--output", "-o", type=Path, help="A file instead of stdout.")

    def handle(self, *args, slug: str, output: Path | None, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"No project “{slug}”.")
        if output:
            with output.open("w", encoding="utf-8", newline="\n") as stream:
                write_project_file(project, stream)
        else:
            # Written as it is read: a large project never sits in memory.
            for chunk in iter_project_file(project):
                self.stdout.write(chunk, ending="")

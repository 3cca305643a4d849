from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Project
from apps.bibliography.importing import Format, write_sources
from apps.library.models import Source


class Command(BaseCommand):
    help = "Write a project's whole bibliography as BibTeX, RIS or CSL-JSON (to stdout)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--format", choices=Format.values, default=Format.BIBTEX)
        parser.add_argument("--output", "-o", type=Path, help="A file instead of stdout.")

    def handle(self, *args, project: str, format: str, output: Path | None, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project “{project}”.")
        text = write_sources(Source.objects.for_project(target), format)
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Project
from apps.bibliography.formatted import formatted_file
from apps.bibliography.importing import Format, write_sources
from apps.library.citations import STYLE_NAMES
from apps.library.models import Source


class Command(BaseCommand):
    help = (
        "Write a project's whole bibliography as BibTeX, RIS or CSL-JSON, or formatted in a "
        "citation style as text or HTML (to stdout)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--format", choices=Format.values, default=Format.BIBTEX)
        parser.add_argument(
            "--style", choices=list(STYLE_NAMES), help="A formatted bibliography in this style."
        )
        parser.add_argument("--html", action="store_true", help="With --style: as an HTML page.")
        parser.add_argument("--output", "-o", type=Path, help="A file instead of stdout.")

    def handle(self, *args, project: str, format: str, output: Path | None, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project “{project}”.")
        if options["html"] and not options["style"]:
            raise CommandError("--html formats a bibliography: give its --style too.")
        sources = Source.objects.for_project(target)
        if options["style"]:
            style = STYLE_NAMES[options["style"]]
            text, _, _ = formatted_file(target, sources, style, html=options["html"])
        else:
            text = write_sources(sources, format)
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")

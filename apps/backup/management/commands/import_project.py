from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.backup.project_file import ProjectFileError, import_project, imported_counts


class Command(BaseCommand):
    help = (
        "Create a project from a file made by export_project, all or nothing. Users are found "
        "by username; missing ones are created without a usable password."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--slug", help="Import under this address instead of the file's.")

    def handle(self, *args, file: Path, slug: str | None, **options):
        try:
            stream = file.open("rb")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        with stream:
            try:
                project = import_project(stream, slug=slug)
            except ProjectFileError as error:
                raise CommandError(f"{file}: {error}") from None
        counts = ", ".join(f"{n:,} {kind}" for kind, n in imported_counts(project).items())
        self.stdout.write(self.style.SUCCESS(f"Imported “{project.slug}”: {counts}."))

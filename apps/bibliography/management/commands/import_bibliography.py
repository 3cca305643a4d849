from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Project, User
from apps.bibliography.importing import (
    Format,
    ImportRefused,
    import_entries,
    preview_import,
    read_file,
)
from apps.bibliography.records import FileError


class Command(BaseCommand):
    help = (
        "Import a BibTeX, RIS or CSL-JSON file into a project's sources, all or nothing. "
        "Duplicates of existing sources are skipped (or merged with --merge-duplicates)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--format", choices=Format.values, help="Default: from the file.")
        parser.add_argument(
            "--skip-rejected",
            action="store_true",
            help="Import the readable entries even when some cannot be read.",
        )
        parser.add_argument(
            "--merge-duplicates",
            action="store_true",
            help="Complete existing sources from their duplicates instead of skipping them.",
        )
        parser.add_argument("--by", help="Username recorded as the importer.")

    def handle(self, *args, file: Path, project: str, format: str | None, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project “{project}”.")
        by = None
        if options["by"]:
            by = User.objects.filter(username=options["by"]).first()
            if by is None:
                raise CommandError(f"No user “{options['by']}”.")
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            chosen, entries = read_file(data, format=format or "", filename=file.name)
        except FileError as error:
            raise CommandError(f"{file}: {error} Nothing was imported.") from None
        rows = preview_import(project=target, entries=entries)
        for row in rows:
            for line, message in row["warnings"]:
                at = f"line {line:,}, " if line else ""
                self.stdout.write(f"Repaired {at}{row['where']}: {message}")
            if row["status"] == "rejected":
                self.stderr.write(f"Rejected {row['where']}: {row['reason']}.")
            elif row["status"] == "duplicate":
                self.stdout.write(f"Duplicate {row['where']}: {row['reason']}.")
        merge = {row["number"] for row in rows if row["status"] == "duplicate"}
        try:
            result = import_entries(
                project=target,
                entries=entries,
                by=by,
                merge=merge if options["merge_duplicates"] else (),
                skip_rejected=options["skip_rejected"],
            )
        except ImportRefused as error:
            message = str(error).replace("choose to skip", "pass --skip-rejected to skip")
            raise CommandError(message) from None
        self.stdout.write(
            self.style.SUCCESS(f"{file.name} ({Format(chosen).label}): {result.summary()}")
        )

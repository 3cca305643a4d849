from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.qda import importing
from apps.qda.reading import QdaError
from apps.webanno.management.commands.import_annotations import annotator


class Command(BaseCommand):
    help = (
        "Import a REFI-QDA project (.qdpx from NVivo, ATLAS.ti, MAXQDA, QualCoder or Citemap) "
        "into a project as drafts of --user, all or nothing; each selection is placed by its "
        "words and reported as exact, moved, fuzzy or orphaned."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--user", required=True, help="The member the drafts belong to.")
        parser.add_argument(
            "--keep-orphans",
            action="store_true",
            help="Also import selections whose words are not in the text (without a place).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be imported; save nothing."
        )

    def handle(self, *args, file: Path, project: str, user: str, **options):
        membership = annotator(project, user)
        try:
            stream = file.open("rb")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        with stream:
            try:
                if options["dry_run"]:
                    report = importing.preview_project(membership.project, stream)
                else:
                    report = importing.import_project(
                        membership,
                        stream,
                        file_name=file.name,
                        keep_orphans=options["keep_orphans"],
                        progress=self._progress if options["verbosity"] > 1 else None,
                    )
            except QdaError as error:
                raise CommandError(f"{file}: nothing was imported. {error}") from None
        states = ", ".join(f"{report.selections.get(s, 0)} {s}" for s in importing.STATES)
        self.stdout.write(f"Selections: {states}.")
        if report.empty:
            self.stdout.write(f"{report.empty} empty selections were left out.")
        verb = "Would import" if options["dry_run"] else "Imported"
        self.stdout.write(self.style.SUCCESS(f"{verb} {report.summary()}"))

    def _progress(self, done: int, total: int) -> None:
        self.stderr.write(f"{done:,} of {total:,} selections placed")

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Membership, Project
from apps.qda import importing
from apps.qda.reading import QdaError


class Command(BaseCommand):
    help = (
        "Import a REFI-QDA codebook (.qdc) into a project's concepts, all or nothing: new codes "
        "are added with their tree; concepts already there keep what they have unless "
        "--take-theirs."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--user", help="Recorded as the concepts' editor (a member).")
        parser.add_argument(
            "--take-theirs",
            action="store_true",
            help="Concepts that differ take the file's definition and parent.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would change; save nothing."
        )

    def handle(self, *args, file: Path, project: str, user: str | None, **options):
        found = Project.objects.filter(slug=project).first()
        if found is None:
            raise CommandError(f"No project “{project}”.")
        by = None
        if user:
            membership = Membership.objects.filter(project=found, user__username=user).first()
            if membership is None:
                raise CommandError(f"“{user}” is not a member of “{project}”.")
            by = membership.user
        try:
            stream = file.open("rb")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        with stream:
            try:
                rows = importing.preview_codebook(found, stream, file.name)
                if options["dry_run"]:
                    for row in rows:
                        extra = f" ({row.differences})" if row.differences else ""
                        self.stdout.write(f"{row.status:9} {row.name}{extra}")
                    return
                stream.seek(0)
                counts = importing.import_codebook(
                    found, stream, file.name, by=by, take_theirs=options["take_theirs"]
                )
            except QdaError as error:
                raise CommandError(f"{file}: nothing was imported. {error}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Concepts: {counts['new']} new, {counts['updated']} updated, "
                f"{counts['same']} already here."
            )
        )

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Project
from apps.qda import refi
from apps.qda.management.commands.export_qdpx import reader


class Command(BaseCommand):
    help = "Write a project's codebook (concepts, claims, people cited) as a REFI-QDA .qdc."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("-o", "--output", type=Path, help="File to write (default: stdout).")
        parser.add_argument("--user", help="Write what this member may see (default: all).")

    def handle(self, *args, project: str, output: Path | None, user: str | None, **options):
        found = Project.objects.filter(slug=project).first()
        if found is None:
            raise CommandError(f"No project “{project}”.")
        membership = reader(found, user)
        if output is None:
            refi.write_codebook(sys.stdout.buffer, membership)
            return
        with open(output, "wb") as out:
            refi.write_codebook(out, membership)
        self.stderr.write(f"Wrote {output}.")

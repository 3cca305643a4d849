from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Membership, Project, Role
from apps.qda import refi


def reader(project: Project, username: str | None) -> Membership:
    """The member whose view is exported, or (without a name) an unsaved supervisor's: all."""
    if username is None:
        return Membership(project=project, role=Role.SUPERVISOR)
    membership = (
        Membership.objects.select_related("project", "user")
        .filter(project=project, user__username=username)
        .first()
    )
    if membership is None:
        raise CommandError(f"“{username}” is not a member of “{project.slug}”.")
    return membership


class Command(BaseCommand):
    help = (
        "Write a project as a REFI-QDA archive (.qdpx): users, codebook, sources' texts, "
        "passages as coded selections, evidence and mentions as links."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("-o", "--output", type=Path, required=True, help="The .qdpx to write.")
        parser.add_argument("--user", help="Write what this member may see (default: all).")

    def handle(self, *args, project: str, output: Path, user: str | None, **options):
        found = Project.objects.filter(slug=project).first()
        if found is None:
            raise CommandError(f"No project “{project}”.")
        try:
            with open(output, "wb") as out:
                counts = refi.write_project(out, reader(found, user))
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {output}: {counts['sources']} sources, {counts['selections']} passages, "
                f"{counts['codings']} codings, {counts['links']} links."
            )
        )

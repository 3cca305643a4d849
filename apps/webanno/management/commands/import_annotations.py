from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Membership
from apps.accounts.policy import Action, can
from apps.webanno import w3c as webanno
from apps.webanno.items import Site, WebAnnoError, import_annotations
from apps.webanno.views import skipped_summary


def annotator(project: str, user: str) -> Membership:
    """The member who will own imported drafts; CommandError unless they may annotate."""
    membership = (
        Membership.objects.select_related("project", "user")
        .filter(project__slug=project, user__username=user)
        .first()
    )
    if membership is None:
        raise CommandError(f"“{user}” is not a member of a project “{project}”.")
    if not can(membership, Action.ANNOTATE):
        raise CommandError(f"“{user}” may not annotate in “{project}”.")
    return membership


class Command(BaseCommand):
    help = (
        "Add the annotations of a W3C Web Annotation (JSON-LD) file, or of Hypothesis' API JSON, "
        "to a project as drafts of --user, all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--user", required=True, help="The member the drafts belong to.")
        parser.add_argument(
            "--base-url",
            default="http://localhost:8000",
            help="Scheme and host of this site, to recognise its own URLs in the file.",
        )

    def handle(self, *args, file: Path, project: str, user: str, base_url: str, **options):
        membership = annotator(project, user)
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            items = webanno.read_items(data)
            created = import_annotations(
                project=membership.project,
                items=items,
                by=membership.user,
                site=Site(base=base_url.rstrip("/"), slug=project),
                file_name=file.name,
            )
        except WebAnnoError as error:
            raise CommandError(f"{file}: nothing was imported. {error}") from None
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(created)} annotations into “{project}” as drafts.")
        )
        if items.skipped:
            self.stdout.write(skipped_summary(items.skipped, shown=len(items.skipped)))

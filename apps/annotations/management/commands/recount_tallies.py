from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Project
from apps.annotations.tallies import recount


class Command(BaseCommand):
    help = (
        "Count the passages per source, concept, person, claim and project, and the "
        "co-citation pairs, again from the annotations (they are kept current on every "
        "change; this repairs them after code that bypassed the app wrote annotations or "
        "links directly)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", help="Project slug (default: every project).")

    def handle(self, *args, project: str | None = None, **options):
        projects = Project.objects.order_by("pk")
        if project:
            projects = projects.filter(slug=project)
            if not projects.exists():
                raise CommandError(f"No project {project!r}.")
        for each in projects:
            recount(each)
            self.stdout.write(f"Recounted {each.slug}.")

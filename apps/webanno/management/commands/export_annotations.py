from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Membership, Project
from apps.accounts.policy import approved_annotations_q
from apps.annotations.models import Annotation
from apps.library.models import Source, source_texts
from apps.webanno import w3c as webanno
from apps.webanno.items import Site


class Command(BaseCommand):
    help = (
        "Write a project's annotations as W3C Web Annotations (JSON-LD), to stdout: those "
        "--user may see, or only approved ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--source", type=int, help="Only this source's annotations (its id).")
        parser.add_argument("--user", help="Export what this member may see (username).")
        parser.add_argument(
            "--base-url",
            default="http://localhost:8000",
            help="Scheme and host the annotation URLs start with.",
        )
        parser.add_argument("--output", "-o", type=Path, help="A file instead of stdout.")

    def handle(self, *args, project: str, source, user, base_url: str, output, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project “{project}”.")
        annotations = self.visible(target, user)
        site = Site(base=base_url.rstrip("/"), slug=target.slug)
        url_args: tuple = ("webanno:annotations_export",)
        label = f"Annotations of {target.name}"
        if source is not None:
            chosen = (
                Source.objects.for_project(target).defer(*source_texts()).filter(pk=source).first()
            )
            if chosen is None:
                raise CommandError(f"No source {source} in “{project}”.")
            annotations = annotations.filter(source=chosen)
            url_args = ("webanno:source_annotations_export", chosen.pk)
            label = f"Annotations of “{chosen.title}”"
        chunks = webanno.iter_collection(
            annotations, site=site, url=site.url(*url_args), label=label
        )
        if output:
            with output.open("w", encoding="utf-8", newline="\n") as stream:
                stream.writelines(chunks)
        else:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")

    def visible(self, project: Project, username: str | None):
        if username is None:
            # Nobody named: what every member may see.
            return Annotation.objects.for_project(project).filter(approved_annotations_q())
        membership = (
            Membership.objects.select_related("project", "user")
            .filter(project=project, user__username=username)
            .first()
        )
        if membership is None:
            raise CommandError(f"“{username}” is not a member of “{project.slug}”.")
        return Annotation.objects.visible_to(membership)

"""A large project's annotations as W3C Web Annotations, written by a background job."""

from __future__ import annotations

from django.utils.text import slugify

from apps.accounts.models import Membership
from apps.annotations.models import Annotation
from apps.jobs.models import Job
from apps.jobs.running import JobRefused, job_kind, write_result
from apps.library.models import Source, source_texts
from apps.webanno import w3c
from apps.webanno.items import Site


@job_kind("webanno.export", snapshot=True)
def export_annotations(
    job: Job, *, base: str, source: int | None = None, approved_only: bool = False
) -> None:
    """What the member who started it may see (as they saw it: `approved_only` is their
    choice of scope), of the project or of one source."""
    membership = (
        Membership.objects.select_related("project", "user")
        .filter(project=job.project, user=job.user)
        .first()
    )
    if membership is None:
        raise JobRefused("You are no longer a member of this project.")
    membership.approved_only = approved_only
    annotations = Annotation.objects.visible_to(membership)
    site = Site(base=base, slug=job.project.slug)
    project = job.project
    url_args: tuple = ("webanno:annotations_export",)
    label = f"Annotations of {project.name}"
    filename = f"{project.slug}-annotations.jsonld"
    if source is not None:
        chosen = Source.objects.for_project(project).defer(*source_texts()).filter(pk=source)
        chosen = chosen.first()
        if chosen is None:
            raise JobRefused("That source is no longer in this project.")
        annotations = annotations.filter(source=chosen)
        url_args = ("webanno:source_annotations_export", chosen.pk)
        label = f"Annotations of “{chosen.title}”"
        filename = f"{project.slug}-{slugify(chosen.citation_key) or chosen.pk}-annotations.jsonld"
    total = annotations.count()
    write_result(
        job,
        w3c.iter_collection(
            annotations,
            site=site,
            url=site.url(*url_args),
            label=label,
            progress=lambda done: job.report(done, total, "Writing annotations…"),
        ),
        filename=filename,
        content_type=w3c.CONTENT_TYPE,
    )
    job.summary = (
        f"The file is ready: {total:,} annotation{'s' if total != 1 else ''} as W3C Web "
        "Annotations."
    )

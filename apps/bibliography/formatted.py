"""Formatted bibliographies (a citation style's entries as text or as an HTML page) of an
export selection: formatted in the request when small, otherwise by a background job whose
result file is the bibliography."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.text import slugify

from apps.accounts.models import Membership, Project
from apps.jobs.models import Job
from apps.jobs.running import JobRefused, job_kind, write_result
from apps.library.citations import Style, bibliography_of

# citeproc-js formats a few hundred entries a second: larger selections become a job.
FORMAT_IN_REQUEST = 500
# Beyond this a bibliography is no longer something to read (and citeproc-js holds it whole).
MAX_FORMATTED = 20_000


def formatted_file(
    project: Project, sources: QuerySet, style: Style, *, html: bool
) -> tuple[str, str, str]:
    """The bibliography of `sources` as (body, file name, content type)."""
    entries = bibliography_of(sources, style, html=html)
    name = f"{slugify(project.slug) or 'bibliography'}-{style.value}"
    if html:
        context = {"project": project, "style": style, "entries": entries}
        body = render_to_string("bibliography/bibliography.html", context)
        return body, f"{name}.html", "text/html; charset=utf-8"
    body = "\n\n".join(entries) + "\n" if entries else ""
    return body, f"{name}.txt", "text/plain; charset=utf-8"


@job_kind("bibliography.formatted", snapshot=True)
def format_selection(job: Job, *, query: str, style: str, html: bool) -> None:
    """The export page's selection (its filter's query string) formatted in `style`."""
    from apps.bibliography.views import export_selection

    membership = Membership.objects.filter(project=job.project, user=job.user).first()
    if membership is None:
        raise JobRefused("You are no longer a member of this project.")
    chosen = Style(style)
    sources, _ = export_selection(membership, QueryDict(query))
    count = sources.count()
    job.report(0, count, f"Formatting {count:,} sources in {chosen.label}…")
    body, filename, content_type = formatted_file(job.project, sources, chosen, html=html)
    write_result(job, [body], filename=filename, content_type=content_type)
    job.report(count, count, "Formatted.")
    job.summary = f"{count:,} sources formatted in {chosen.label}."

"""REFI-QDA downloads: the codebook at once, the project archive from a background job."""

from __future__ import annotations

import tempfile

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST, require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import project_view
from apps.jobs.running import job_url, start_job
from apps.qda import refi


@require_safe
@project_view()
def codebook_export(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The codes (concepts, the claims the member may see, people cited) as a `.qdc`."""
    # FileResponse closes it once sent (and the file is gone then).
    out = tempfile.TemporaryFile()  # noqa: SIM115
    refi.write_codebook(out, membership)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"{membership.project.slug}-codebook.qdc",
        content_type="application/xml",
    )


@require_POST
@project_view()
def project_export(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Start the job that writes the `.qdpx` (what the member may see); its page offers it."""
    project = membership.project
    job = start_job(
        kind="qda.export",
        project=project,
        user=request.user,
        title=f"REFI-QDA project of {project.name}",
    )
    return redirect(job_url(job))

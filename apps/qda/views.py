"""REFI-QDA pages: the codebook's download, the project archive's job, and the import of
either (upload → preview → confirm)."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import Action, project_view
from apps.jobs.models import JOB_LIFETIME, ImportJob, ImportKind
from apps.jobs.running import job_url, start_job
from apps.jobs.uploads import forget_expired_uploads, keep_upload, upload_path
from apps.qda import importing, refi
from apps.qda.forms import QdaUploadForm, QdcConfirmForm, QdpxConfirmForm
from apps.qda.reading import QdaError

# Archives with more selections than this are imported by a background job (about 10,000
# selections take 10 s of CPU; a request may not run past 30 s on a busy host).
JOB_ABOVE = 1000


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


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "project": membership.project, **extra}


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.ANNOTATE)
def qda_import(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Upload a .qdpx or a .qdc; it is read (nothing saved) and the preview shows what the
    import would do."""
    posted = request.method == "POST"
    form = QdaUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        kind = upload.kind
        path = keep_upload(upload, f".{kind}")
        try:
            with path.open("rb") as stream:
                if kind == "qdpx":
                    preview = importing.preview_project(membership.project, stream).as_data()
                else:
                    rows = importing.preview_codebook(membership.project, stream, upload.name)
                    preview = {"rows": [row.__dict__ for row in rows]}
        except QdaError as error:
            path.unlink(missing_ok=True)
            form.add_error("file", f"Nothing was imported. {error}")
        else:
            forget_expired_uploads()
            job = ImportJob.objects.create(
                project=membership.project,
                user=request.user,
                kind=ImportKind.QDA_PROJECT if kind == "qdpx" else ImportKind.QDA_CODEBOOK,
                format=kind,
                filename=upload.name[:255],
                payload={"file": path.name, "preview": preview},
            )
            return redirect("qda:import_preview", membership.project.slug, job.token)
    return render(
        request,
        "qda/import_upload.html",
        _context(membership, form=form, job_above=f"{JOB_ABOVE:,}"),
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.ANNOTATE)
def import_preview(request: HttpRequest, membership: Membership, token: str) -> HttpResponse:
    job = get_object_or_404(
        ImportJob.objects.of_member(membership),
        token=token,
        kind__in=[ImportKind.QDA_PROJECT, ImportKind.QDA_CODEBOOK],
    )
    if job.is_finished:
        return render(request, "jobs/import_done.html", _context(membership, job=job))
    codebook = job.kind == ImportKind.QDA_CODEBOOK
    form_class = QdcConfirmForm if codebook else QdpxConfirmForm
    form = form_class(request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            done = _confirm(request, membership, job, form.cleaned_data)
        except QdaError as error:
            refusal = f"Nothing was imported. {error}"
        else:
            return done
    preview = job.payload.get("preview", {})
    context = _context(membership, job=job, form=form, refusal=refusal)
    if codebook:
        rows = preview.get("rows", [])
        context.update(
            rows=rows,
            counts={
                s: sum(1 for r in rows if r["status"] == s) for s in ("new", "same", "conflict")
            },
        )
        template = "qda/import_preview_codebook.html"
    else:
        report = importing.Report.from_data(preview)
        context.update(
            report=report,
            states=[(s, report.selections[s]) for s in importing.STATES if report.selections[s]],
            orphans=report.selections.get("orphaned", 0),
            background=report.total > JOB_ABOVE,
        )
        template = "qda/import_preview.html"
    return render(request, template, context, status=400 if refusal else 200)


def _confirm(request, membership: Membership, job: ImportJob, choices: dict) -> HttpResponse:
    """Import what the preview showed, once: in this request, or by a background job for a
    large archive. Raises QdaError (nothing written) when the file is refused now."""
    project = membership.project
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.is_finished:
            raise QdaError("This file was imported already.")
        path = upload_path(locked)
        try:
            stream = path.open("rb")
        except (OSError, AttributeError):
            raise QdaError(
                "The uploaded file is gone (uploads are kept for "
                f"{JOB_LIFETIME.total_seconds() / 3600:.0f} hours); upload it again."
            ) from None
        with stream:
            if locked.kind == ImportKind.QDA_CODEBOOK:
                counts = importing.import_codebook(
                    project, stream, locked.filename, by=request.user, **choices
                )
                result = (
                    f"Codebook imported: {counts['new']} new concept"
                    f"{'s' if counts['new'] != 1 else ''}, {counts['updated']} updated, "
                    f"{counts['same']} already here."
                )
                locked.finish(result)
                next_url = reverse("claims:concept_list", args=[project.slug])
                background = None
            elif importing.Report.from_data(locked.payload.get("preview", {})).total > JOB_ABOVE:
                background = start_job(
                    kind="qda.import",
                    project=project,
                    user=request.user,
                    title=f"Import of {locked.filename or 'a REFI-QDA project'}",
                    params={"file_name": locked.filename, **choices},
                    input_file=stream,
                    input_name=locked.filename,
                )
                locked.finish("Imported by a background job.")
            else:
                report = importing.import_project(
                    membership, stream, file_name=locked.filename, **choices
                )
                result = f"Imported {report.summary()}"
                locked.finish(result)
                list_url = reverse("annotations:annotation_list", args=[project.slug])
                next_url = f"{list_url}?status=draft"
                background = None
    path.unlink(missing_ok=True)  # the job keeps its own copy
    if background is not None:
        return redirect(job_url(background))
    messages.success(request, result)
    return redirect(next_url)

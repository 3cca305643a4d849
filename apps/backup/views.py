"""The whole-project file: download it, upload one and create a new project from it."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts.models import Membership
from apps.accounts.policy import Action, project_view
from apps.annotations.models import Annotation
from apps.backup import project_file
from apps.backup.forms import ProjectUploadForm
from apps.jobs import slots
from apps.jobs.models import JOB_LIFETIME, ImportJob, ImportKind, get_job_for_user
from apps.jobs.running import job_url, start_job
from apps.jobs.uploads import forget_expired_uploads, keep_upload, remove_upload, upload_path

# Whole-project files of one project written at once; more requests come back in a minute.
EXPORT_PLACES = 2
# Above this many annotations the project file is written by a background job (a request may
# not run past 30 s; about 10,000 annotations take 2 s of CPU to write, more on a busy host).
DIRECT_LIMIT = 10_000
# Files larger than this are imported by a background job (a 2,000-source project's file is
# about 36 MB and takes about 25 s of CPU to import).
IMPORT_IN_REQUEST_BYTES = 2 * 1024 * 1024
PREVIEW_COUNTS = ("memberships", "people", "sources", "concepts", "claims", "annotations")


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "project": membership.project, **extra}


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.TRANSFER_PROJECT)
def project_export(request: HttpRequest, membership: Membership) -> HttpResponse:
    """GET: the project file, streamed, for a project small enough to write within a request;
    POST: a background job writes it (any size), and its page offers the download."""
    project = membership.project
    if request.method == "POST":
        job = start_job(
            kind="backup.export",
            project=project,
            user=request.user,
            title=f"Project file of {project.name}",
        )
        return redirect(job_url(job))
    if is_large(project):
        messages.info(
            request,
            f"This project has more than {DIRECT_LIMIT:,} annotations: its file is prepared in "
            "the background. Press “Prepare the project file”.",
        )
        return redirect("backup:project_upload", project.slug)
    try:
        place = slots.take(f"project-export:{project.pk}", places=EXPORT_PLACES)
    except slots.Busy as busy:
        return slots.busy_response(busy)
    # Written as it is read, a batch of rows at a time: the first bytes leave at once and
    # memory stays flat however large the project.
    response = StreamingHttpResponse(
        slots.Held(place, project_file.iter_project_file(project)),
        content_type="application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-project.json"'
    return response


def is_large(project) -> bool:
    """More annotations than a request writes in time (reading at most that many ids)."""
    ids = Annotation.objects.for_project(project).order_by().values_list("pk", flat=True)
    return bool(list(ids[DIRECT_LIMIT : DIRECT_LIMIT + 1]))


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.TRANSFER_PROJECT)
def project_upload(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The backup page: download the project file, or upload one to create a new project."""
    posted = request.method == "POST"
    form = ProjectUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        # Kept on disk, not in the database or in memory, until the import is confirmed.
        path = keep_upload(upload, ".json")
        try:
            with path.open("rb") as stream:
                summary = project_file.read_summary(stream)
        except project_file.ProjectFileError as error:
            path.unlink(missing_ok=True)
            form.add_error("file", str(error))
        else:
            slug = form.cleaned_data["slug"] or str(summary.project.get("slug", ""))
            forget_expired_uploads()
            job = ImportJob.objects.create(
                project=membership.project,
                user=request.user,
                kind=ImportKind.PROJECT,
                format=slug[:20],
                filename=upload.name[:255],
                payload={
                    "slug": slug,
                    "file": path.name,
                    "name": str(summary.project.get("name", "")),
                    "users": summary.usernames,
                    "counts": {kind: summary.counts.get(kind, 0) for kind in PREVIEW_COUNTS},
                },
            )
            return redirect("backup:project_preview", membership.project.slug, job.token)
    return render(
        request,
        "backup/project_upload.html",
        _context(
            membership,
            project_form=form,
            large=is_large(membership.project),
            direct_limit=f"{DIRECT_LIMIT:,}",
        ),
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.TRANSFER_PROJECT)
def project_preview(request: HttpRequest, membership: Membership, token: str) -> HttpResponse:
    job = get_job_for_user(membership, token, ImportKind.PROJECT)
    if job.is_finished:
        return render(request, "jobs/import_done.html", _context(membership, job=job))
    payload = job.payload
    slug = payload["slug"]
    refusal = ""
    if request.method == "POST":
        try:
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                if locked.is_finished:
                    raise project_file.ProjectFileError("This file was imported already.")
                path = upload_path(job)
                try:
                    stream = path.open("rb")
                except OSError:
                    raise project_file.ProjectFileError(
                        "The uploaded file is gone (uploads are kept for "
                        f"{JOB_LIFETIME.total_seconds() / 3600:.0f} hours); upload it again."
                    ) from None
                with stream:
                    if path.stat().st_size > IMPORT_IN_REQUEST_BYTES:
                        background = start_job(
                            kind="backup.import",
                            project=membership.project,
                            user=request.user,
                            title=f"Import of {job.filename or 'a project file'} as /p/{slug}/",
                            params={"slug": slug, "total": sum(payload["counts"].values())},
                            input_file=stream,
                            input_name=job.filename,
                        )
                        locked.finish("Imported by a background job.")
                    else:
                        background = None
                        created = project_file.import_project(stream, slug=slug)
                        locked.finish(
                            f"Imported the project “{created.name}” at /p/{created.slug}/."
                        )
        except project_file.ProjectFileError as error:
            refusal = str(error)
        else:
            remove_upload(job)
            if background is not None:
                return redirect(job_url(background))
            messages.success(request, f"Imported the project “{created.name}”.")
            return redirect("xref:project_home", created.slug)
    return render(
        request,
        "backup/project_preview.html",
        _context(
            membership,
            job=job,
            slug=slug,
            name=payload.get("name", ""),
            counts=payload.get("counts", {}),
            users=payload.get("users", []),
            refusal=refusal,
        ),
        status=400 if refusal else 200,
    )

"""The whole-project file: download it, upload one and create a new project from it."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import Action, project_view
from apps.backup import project_file
from apps.backup.forms import ProjectUploadForm
from apps.jobs.models import ImportJob, ImportKind, get_job_for_user


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "project": membership.project, **extra}


@require_safe
@project_view(Action.TRANSFER_PROJECT)
def project_export(request: HttpRequest, membership: Membership) -> HttpResponse:
    data = project_file.export_project(membership.project)
    response = HttpResponse(project_file.dumps(data), content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="{membership.project.slug}-project.json"'
    )
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.TRANSFER_PROJECT)
def project_upload(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The backup page: download the project file, or upload one to create a new project."""
    posted = request.method == "POST"
    form = ProjectUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            data = project_file.loads(upload.read())
        except project_file.ProjectFileError as error:
            form.add_error("file", str(error))
        else:
            slug = form.cleaned_data["slug"] or str(data.get("project", {}).get("slug", ""))
            ImportJob.objects.expired().delete()
            job = ImportJob.objects.create(
                project=membership.project,
                user=request.user,
                kind=ImportKind.PROJECT,
                format=slug[:20],
                filename=upload.name[:255],
                payload={"slug": slug, "data": data},
            )
            return redirect("backup:project_preview", membership.project.slug, job.token)
    return render(
        request,
        "backup/project_upload.html",
        _context(membership, project_form=form),
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.TRANSFER_PROJECT)
def project_preview(request: HttpRequest, membership: Membership, token: str) -> HttpResponse:
    job = get_job_for_user(membership, token, ImportKind.PROJECT)
    if job.is_finished:
        return render(request, "jobs/import_done.html", _context(membership, job=job))
    slug = job.payload["slug"]
    data = job.payload["data"]
    refusal = ""
    if request.method == "POST":
        try:
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                if locked.is_finished:
                    raise project_file.ProjectFileError("This file was imported already.")
                created = project_file.import_project(data, slug=slug)
                locked.finish(f"Imported the project “{created.name}” at /p/{created.slug}/.")
        except project_file.ProjectFileError as error:
            refusal = str(error)
        else:
            messages.success(request, f"Imported the project “{created.name}”.")
            return redirect("xref:project_home", created.slug)
    return render(
        request,
        "backup/project_preview.html",
        _context(
            membership,
            job=job,
            slug=slug,
            name=data.get("project", {}).get("name", ""),
            counts=project_file.summary(data),
            users=[u.get("username") for u in data.get("users", [])],
            refusal=refusal,
        ),
        status=400 if refusal else 200,
    )

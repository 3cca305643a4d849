"""Annotations out as W3C Web Annotations (JSON-LD), and in from such files."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import Action, project_view
from apps.annotations.models import Annotation
from apps.jobs import slots
from apps.jobs.models import JOB_LIFETIME, ImportJob, ImportKind, get_job_for_user
from apps.jobs.running import job_url, start_job
from apps.jobs.uploads import forget_expired_uploads, keep_upload, upload_path
from apps.library.models import Source, source_texts
from apps.webanno import w3c as webanno
from apps.webanno.forms import AnnotationsConfirmForm, AnnotationsUploadForm
from apps.webanno.items import Site, WebAnnoError, import_annotations, preview_annotations

EMPTY_PREVIEW = {
    "total": 0, "states": {}, "sources": [], "concepts_found": [], "concepts_new": [], "rows": []
}  # fmt: skip
# Exports of one project written at once; more requests are asked to come back in a minute.
EXPORT_PLACES = 3
# Above this many annotations the file is written by a background job (a request may not run
# past 30 s; 10,000 annotations take about 2.5 s of CPU, more on a busy host).
DIRECT_LIMIT = 10_000


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "project": membership.project, **extra}


# --- Annotations as W3C Web Annotations ----------------------------------------------------


@login_not_required  # public: JSON-LD processors reading an export fetch it
@require_safe
def vocabulary(request: HttpRequest) -> HttpResponse:
    """The JSON-LD context of our terms, which every exported annotation names."""
    site = Site(base=request.build_absolute_uri("/").rstrip("/"), slug="")
    response = JsonResponse(
        webanno.context_document(site),
        content_type="application/ld+json",
        json_dumps_params={"indent": 2},
    )
    response["Cache-Control"] = "public, max-age=86400"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EXPORT)
def annotations_export(request: HttpRequest, membership: Membership) -> HttpResponse:
    project = membership.project
    return _annotations_file(
        request,
        membership,
        Annotation.objects.visible_to(membership),
        url_args=("webanno:annotations_export",),
        source=None,
        label=f"Annotations of {project.name}",
        filename=f"{project.slug}-annotations.jsonld",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EXPORT)
def source_annotations_export(
    request: HttpRequest, membership: Membership, pk: int
) -> HttpResponse:
    source = get_object_or_404(
        Source.objects.for_project(membership.project).defer(*source_texts()), pk=pk
    )
    return _annotations_file(
        request,
        membership,
        Annotation.objects.visible_to(membership).filter(source=source),
        url_args=("webanno:source_annotations_export", source.pk),
        source=source,
        label=f"Annotations of “{source.title}”",
        filename=f"{membership.project.slug}-{slugify(source.citation_key) or source.pk}"
        "-annotations.jsonld",
    )


def _annotations_file(
    request: HttpRequest,
    membership: Membership,
    annotations: QuerySet,
    *,
    url_args: tuple,
    source: Source | None,
    label: str,
    filename: str,
) -> HttpResponse:
    """GET: the file, streamed, when it is small enough to write within a request; otherwise
    a page that offers to prepare it. POST: a background job writes it, whatever its size."""
    site = Site.of_request(request, membership.project)
    if request.method == "POST":
        job = start_job(
            kind="webanno.export",
            project=membership.project,
            user=request.user,
            title=label,
            params={
                "base": site.base,
                "source": source.pk if source else None,
                "approved_only": membership.approved_only,
            },
        )
        return redirect(job_url(job))
    ids = annotations.order_by().values_list("pk", flat=True)
    if list(ids[DIRECT_LIMIT : DIRECT_LIMIT + 1]):  # reads at most that many ids
        return render(
            request,
            "webanno/annotations_prepare.html",
            _context(membership, label=label, direct_limit=f"{DIRECT_LIMIT:,}"),
        )
    try:
        place = slots.take(f"annotations-export:{membership.project_id}", places=EXPORT_PLACES)
    except slots.Busy as busy:
        return slots.busy_response(busy)
    # Written as it is read: the first bytes leave at once and memory stays flat.
    response = StreamingHttpResponse(
        slots.Held(
            place,
            webanno.iter_collection(annotations, site=site, url=site.url(*url_args), label=label),
        ),
        content_type=webanno.CONTENT_TYPE,
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.ANNOTATE)
def annotations_import(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Upload a file of annotations; it is read and tried (nothing kept) and the preview shows
    where each passage lands and which tags become concepts."""
    posted = request.method == "POST"
    form = AnnotationsUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        project=membership.project,
    )
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        path = keep_upload(upload, ".json")
        try:
            items = webanno.read_items(path.read_bytes())
            chosen = form.cleaned_data["source"]
            preview = preview_annotations(
                project=membership.project,
                items=items,
                by=request.user,
                site=Site.of_request(request, membership.project),
                file_name=upload.name,
                fallback=chosen,
            )
        except WebAnnoError as error:
            path.unlink(missing_ok=True)
            form.add_error("file", f"Nothing was imported. {error}")
        else:
            forget_expired_uploads()
            job = ImportJob.objects.create(
                project=membership.project,
                user=request.user,
                kind=ImportKind.ANNOTATIONS,
                format="annotations",
                filename=upload.name[:255],
                payload={
                    "file": path.name,
                    "preview": preview.as_data(),
                    "skipped": items.skipped,
                    "source": chosen.pk if chosen else None,
                },
            )
            return redirect("webanno:annotations_preview", membership.project.slug, job.token)
    return render(
        request,
        "webanno/annotations_import.html",
        _context(membership, form=form),
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.ANNOTATE)
def annotations_preview(request: HttpRequest, membership: Membership, token: str) -> HttpResponse:
    job = get_job_for_user(membership, token, ImportKind.ANNOTATIONS)
    if job.is_finished:
        return render(request, "jobs/import_done.html", _context(membership, job=job))
    preview = {**EMPTY_PREVIEW, **job.payload.get("preview", {})}
    form = AnnotationsConfirmForm(request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                if locked.is_finished:
                    raise WebAnnoError("This file was imported already.")
                path = upload_path(locked)
                if path is None or not path.exists():
                    raise WebAnnoError(
                        "The uploaded file is gone (uploads are kept for "
                        f"{JOB_LIFETIME.total_seconds() / 3600:.0f} hours); upload it again."
                    )
                items = webanno.read_items(path.read_bytes())
                chosen = locked.payload.get("source")
                fallback = None
                if chosen is not None:
                    fallback = (
                        Source.objects.for_project(membership.project)
                        .defer(*source_texts())
                        .filter(pk=chosen)
                        .first()
                    )
                    if fallback is None:
                        raise WebAnnoError("The source you chose is no longer in the project.")
                created = import_annotations(
                    project=membership.project,
                    items=items,
                    by=request.user,
                    site=Site.of_request(request, membership.project),
                    file_name=locked.filename,
                    new_concepts=form.cleaned_data["new_concepts"],
                    fallback=fallback,
                )
                count = len(created)
                result = f"Imported {count} annotation{'s' if count != 1 else ''} as drafts."
                locked.finish(result)
        except WebAnnoError as error:
            refusal = f"Nothing was imported. {error}"
        else:
            path.unlink(missing_ok=True)
            messages.success(request, result)
            if items.skipped:
                messages.info(request, skipped_summary(items.skipped))
            list_url = reverse("annotations:annotation_list", args=[membership.project.slug])
            return redirect(f"{list_url}?status=draft")
    skipped = job.payload.get("skipped", [])
    return render(
        request,
        "webanno/annotations_preview.html",
        _context(
            membership,
            job=job,
            form=form,
            refusal=refusal,
            preview=preview,
            states=sorted(preview["states"].items(), key=lambda pair: pair[0] != "exact"),
            skipped=skipped_summary(skipped) if skipped else "",
        ),
        status=400 if refusal else 200,
    )


def skipped_summary(skipped: list[str], shown: int = 5) -> str:
    """What an import left out (replies, page notes), the first few by name."""
    listed = " ".join(skipped[:shown]) + (
        f" And {len(skipped) - shown} more." if len(skipped) > shown else ""
    )
    return f"Skipped {len(skipped)}, which mark no passage: {listed}"

"""Annotations out as W3C Web Annotations (JSON-LD), and in from such files."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import Action, project_view
from apps.annotations.models import Annotation
from apps.library.models import Source, source_texts
from apps.webanno import w3c as webanno
from apps.webanno.forms import AnnotationsUploadForm


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "project": membership.project, **extra}


# --- Annotations as W3C Web Annotations ----------------------------------------------------


@require_safe
@project_view(Action.EXPORT)
def annotations_export(request: HttpRequest, membership: Membership) -> HttpResponse:
    project = membership.project
    return _annotations_file(
        request,
        membership,
        Annotation.objects.visible_to(membership),
        url_args=("webanno:annotations_export",),
        label=f"Annotations of {project.name}",
        filename=f"{project.slug}-annotations.jsonld",
    )


@require_safe
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
    label: str,
    filename: str,
) -> HttpResponse:
    site = webanno.Site.of_request(request, membership.project)
    document = webanno.collection(
        webanno.export_queryset(annotations), site=site, url=site.url(*url_args), label=label
    )
    response = HttpResponse(webanno.dumps(document), content_type=webanno.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.ANNOTATE)
def annotations_import(request: HttpRequest, membership: Membership) -> HttpResponse:
    posted = request.method == "POST"
    form = AnnotationsUploadForm(
        request.POST if posted else None, request.FILES if posted else None
    )
    if posted and form.is_valid():
        try:
            items = webanno.read_items(form.cleaned_data["file"].read())
            created = webanno.import_annotations(
                project=membership.project,
                items=items,
                by=request.user,
                site=webanno.Site.of_request(request, membership.project),
            )
        except webanno.WebAnnoError as error:
            form.add_error("file", f"Nothing was imported. {error}")
        else:
            count = len(created)
            messages.success(
                request, f"Imported {count} annotation{'s' if count != 1 else ''} as drafts."
            )
            list_url = reverse("annotations:annotation_list", args=[membership.project.slug])
            return redirect(f"{list_url}?status=draft")
    return render(
        request,
        "webanno/annotations_import.html",
        _context(membership, form=form),
        status=400 if form.errors else 200,
    )

"""Bibliography pages: upload → preview → confirm, the export page and its files, and the
duplicates of the bibliography."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import Action, project_view
from apps.annotations.models import Annotation
from apps.annotations.tallies import moving_citations, recount_sources
from apps.bibliography import formatted
from apps.bibliography.forms import ConfirmForm, ExportForm, MergeForm, UploadForm
from apps.bibliography.importing import (
    CONTENT_TYPES,
    EXTENSIONS,
    Format,
    ImportFormat,
    ImportRefused,
    duplicate_groups,
    import_entries,
    preview_import,
    read_upload,
    refusal_for_rejected,
    source_pieces,
)
from apps.bibliography.jobs import IMPORT_JOB
from apps.bibliography.records import Entry, FileError
from apps.claims.models import Claim
from apps.jobs import slots
from apps.jobs.models import ImportJob, ImportKind, get_job_for_user
from apps.jobs.running import job_url, start_job, stream_download
from apps.library.citations import Style
from apps.library.models import Source
from apps.xref.filters import SourceFilter

# Uploads with more entries than this are imported by a background job (a progress bar on the
# job's page); smaller ones within the request.
JOB_ABOVE = 1000
# How many rows of each kind the preview lists; the counts always cover the whole file.
PREVIEW_ROWS = 200
EXPORT_SAMPLE = 20
# Bibliography files of one project written at once (each reads the whole selection).
EXPORT_PLACES = 3
GROUPS_PAGE = 25


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "project": membership.project, **extra}


# --- Import ---------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.IMPORT)
def import_upload(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploads = form.cleaned_data["file"]
        try:
            reading = read_upload(
                [(upload.name, upload.read()) for upload in uploads],
                format=form.cleaned_data["format"],
            )
        except FileError as error:
            form.add_error("file", str(error))
        else:
            ImportJob.objects.expired().delete()
            job = ImportJob.objects.create(
                project=membership.project,
                user=request.user,
                kind=ImportKind.BIBLIOGRAPHY,
                format=reading.format,
                filename=", ".join(upload.name for upload in uploads)[:255],
                payload={
                    "entries": [entry.as_data() for entry in reading.entries],
                    "files": [
                        {"name": f.name, "encoding": f.encoding, "entries": f.entries}
                        for f in reading.files
                    ],
                },
            )
            return redirect("bibliography:import_preview", membership.project.slug, job.token)
    return render(
        request,
        "bibliography/import_upload.html",
        _context(membership, form=form),
        status=400 if form.errors else 200,
    )


def job_entries(job: ImportJob) -> list[Entry]:
    """The entries an upload holds (uploads made before several files were read together
    kept a plain list)."""
    payload = job.payload
    data = payload.get("entries", []) if isinstance(payload, dict) else payload
    return [Entry.from_data(item) for item in data]


def job_files(job: ImportJob) -> list[dict]:
    return job.payload.get("files", []) if isinstance(job.payload, dict) else []


@require_safe
@project_view(Action.IMPORT)
def import_preview(request: HttpRequest, membership: Membership, token: str) -> HttpResponse:
    job = get_job_for_user(membership, token, ImportKind.BIBLIOGRAPHY)
    if job.is_finished:
        return render(request, "jobs/import_done.html", _context(membership, job=job))
    return _preview(request, membership, job)


def _preview(
    request: HttpRequest,
    membership: Membership,
    job: ImportJob,
    *,
    form: ConfirmForm | None = None,
    refusal: str = "",
) -> HttpResponse:
    entries = job_entries(job)
    rows = preview_import(project=membership.project, entries=entries)
    by_status: dict[str, list[dict]] = {"new": [], "duplicate": [], "rejected": []}
    repaired = []
    for row in rows:
        by_status[row["status"]].append(row)
        if row["warnings"]:
            repaired.append(row)
    duplicates = [row["number"] for row in by_status["duplicate"][:PREVIEW_ROWS]]
    if form is None:
        form = ConfirmForm(duplicates=duplicates)
    for row in by_status["duplicate"][:PREVIEW_ROWS]:
        if row.get("duplicate_of"):
            row["field"] = form[f"merge-{row['number']}"]
    return render(
        request,
        "bibliography/import_preview.html",
        _context(
            membership,
            job=job,
            form=form,
            refusal=refusal,
            counts={status: len(items) for status, items in by_status.items()},
            new=by_status["new"][:PREVIEW_ROWS],
            duplicates=by_status["duplicate"][:PREVIEW_ROWS],
            mergeable=any(row.get("duplicate_of") for row in by_status["duplicate"]),
            rejected=by_status["rejected"][:PREVIEW_ROWS],
            repaired=repaired[:PREVIEW_ROWS],
            repaired_count=len(repaired),
            shown=PREVIEW_ROWS,
            total=len(rows),
            format_label=ImportFormat(job.format).label
            if job.format in ImportFormat.values
            else job.format,
            files=job_files(job),
        ),
        status=400 if refusal else 200,
    )


@require_POST
@project_view(Action.IMPORT)
def import_confirm(request: HttpRequest, membership: Membership, token: str) -> HttpResponse:
    job = get_job_for_user(membership, token, ImportKind.BIBLIOGRAPHY)
    if job.is_finished:
        messages.info(request, f"This file was imported already: {job.result}")
        return redirect("xref:source_list", membership.project.slug)
    entries = job_entries(job)
    duplicate_rows = [
        row["number"]
        for row in preview_import(project=membership.project, entries=entries)
        if row["status"] == "duplicate" and row.get("duplicate_of")
    ][:PREVIEW_ROWS]
    form = ConfirmForm(request.POST, duplicates=duplicate_rows)
    if not form.is_valid():
        return _preview(request, membership, job, form=form, refusal="Check your choices.")
    skip_rejected = form.cleaned_data["skip_rejected"]
    if any(entry.error for entry in entries) and not skip_rejected:
        return _preview(request, membership, job, form=form, refusal=refusal_for_rejected(entries))
    options = {"merge": form.merge(), "skip_rejected": skip_rejected}
    if len(entries) > JOB_ABOVE:
        # Written by a background job, with a progress bar on its page: a request would run
        # past any proxy's timeout for tens of thousands of entries.
        background = start_job(
            kind=IMPORT_JOB,
            project=membership.project,
            user=request.user,
            title=f"Import of {job.filename or 'a bibliography'} ({len(entries):,} entries)",
            params={
                "token": job.token,
                "merge": sorted(options["merge"]),
                "skip_rejected": skip_rejected,
            },
        )
        return redirect(job_url(background))
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job.pk)
            if job.is_finished:
                raise ImportRefused(f"This file was imported already: {job.result}")
            result = import_entries(
                project=membership.project, entries=entries, by=request.user, **options
            )
            job.finish(result.summary())
    except ImportRefused as error:
        return _preview(request, membership, job, form=form, refusal=str(error))
    messages.success(request, result.summary())
    return redirect("xref:source_list", membership.project.slug)


# --- Export ---------------------------------------------------------------------------------


def _selection(request: HttpRequest, membership: Membership) -> tuple[QuerySet, dict]:
    return export_selection(membership, request.GET)


def export_selection(membership: Membership, params: QueryDict) -> tuple[QuerySet, dict]:
    """The sources to export: the source list's filter (same parameters), optionally only
    those behind one claim (`claim`), as the member may see them."""
    sources = Source.objects.for_project(membership.project)
    claim = None
    raw_claim = params.get("claim", "")
    if raw_claim:
        if not raw_claim.isdigit() or len(raw_claim) > 18:
            raise Http404("No such claim.")
        claim = get_object_or_404(Claim.objects.visible_to(membership), pk=int(raw_claim))
        behind = Annotation.objects.visible_to(membership).filter(evidence__claim=claim)
        sources = sources.filter(pk__in=behind.values("source_id"))
    filterset = SourceFilter(params, queryset=sources, membership=membership)
    selected = filterset.qs if filterset.is_valid() else sources.none()
    return selected, {"filter": filterset, "claim": claim}


def _filter_query(request: HttpRequest) -> str:
    """The selection's parameters, to carry into the download links."""
    query = request.GET.copy()
    for name in ("format", "style", "page"):
        query.pop(name, None)
    return query.urlencode()


@require_safe
@project_view(Action.EXPORT)
def export_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    sources, selection = _selection(request, membership)
    form = ExportForm(initial={"format": Format.BIBTEX, "style": Style.APA.value})
    return render(
        request,
        "bibliography/export.html",
        _context(
            membership,
            form=form,
            count=sources.count(),
            sample=sources.with_list_data()[:EXPORT_SAMPLE],
            query=_filter_query(request),
            filtered=bool(_filter_query(request)),
            **selection,
        ),
    )


@require_safe
@project_view(Action.EXPORT)
def export_file(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = ExportForm(request.GET)
    sources, selection = _selection(request, membership)
    if not form.is_valid() or not selection["filter"].is_valid():
        return render(
            request,
            "bibliography/export.html",
            _context(
                membership,
                form=form,
                count=sources.count(),
                sample=[],
                query=_filter_query(request),
                filtered=True,
                **selection,
            ),
            status=400,
        )
    chosen = form.cleaned_data["format"] or Format.BIBTEX
    name = slugify(membership.project.slug) or "bibliography"
    if chosen in Format.values:
        try:
            place = slots.take(f"bibliography-export:{membership.project_id}", places=EXPORT_PLACES)
        except slots.Busy as busy:
            return slots.busy_response(busy)
        # Written as it is read: the first entries leave at once, memory stays flat.
        return stream_download(
            slots.Held(place, source_pieces(sources, chosen)),
            filename=f"{name}.{EXTENSIONS[chosen]}",
            content_type=CONTENT_TYPES[chosen],
        )
    style = Style(form.cleaned_data["style"] or Style.APA)
    count = sources.count()
    html = chosen == "html"
    if count > formatted.MAX_FORMATTED:
        messages.error(
            request,
            f"A formatted bibliography takes at most {formatted.MAX_FORMATTED:,} sources; this "
            f"selection has {count:,}. Narrow it with the filters, or export BibTeX, RIS or "
            "CSL-JSON.",
        )
        export_url = reverse("bibliography:export", args=[membership.project.slug])
        return redirect(f"{export_url}?{_filter_query(request)}")
    if count > formatted.FORMAT_IN_REQUEST:
        job = start_job(
            kind="bibliography.formatted",
            project=membership.project,
            user=request.user,
            title=f"{style.label} bibliography of {count:,} sources",
            params={"query": _filter_query(request), "style": style.value, "html": html},
        )
        return redirect(job_url(job))
    body, filename, content_type = formatted.formatted_file(
        membership.project, sources, style, html=html
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Duplicates -----------------------------------------------------------------------------


@require_safe
@project_view(Action.EDIT_LIBRARY)
def duplicate_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    groups = duplicate_groups(membership.project)
    page = Paginator(groups, GROUPS_PAGE).get_page(request.GET.get("page"))
    ids = [pk for group in page.object_list for pk in group]
    sources = (
        Source.objects.for_project(membership.project)
        .filter(pk__in=ids)
        .with_list_data()
        .prefetch_related("identifiers")
        .annotate(
            passages=Count("annotations", distinct=True),
            citing=Count("cited_in", filter=Q(cited_in__isnull=False), distinct=True),
        )
    )
    by_pk = {source.pk: source for source in sources}
    rows = [[by_pk[pk] for pk in group if pk in by_pk] for group in page.object_list]
    return render(
        request,
        "bibliography/duplicate_list.html",
        _context(membership, page=page, groups=rows, total=len(groups)),
    )


@require_POST
@project_view(Action.EDIT_LIBRARY)
def duplicate_merge(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = MergeForm(request.POST, project=membership.project)
    back = reverse("bibliography:duplicate_list", args=[membership.project.slug])
    if not form.is_valid():
        messages.error(request, "Nothing merged: choose the source to keep among the duplicates.")
        return redirect(back)
    keep = form.cleaned_data["keep"]
    others = [source for source in form.cleaned_data["sources"] if source.pk != keep.pk]
    try:
        with transaction.atomic():
            # What the merged sources cite (and the pairs it makes) moves to the kept one.
            with moving_citations(membership.project.pk, [keep.pk, *(s.pk for s in others)]):
                for source in others:
                    keep = source.merge_into(keep, by=request.user)
            # The kept source now holds the others' passages.
            recount_sources([keep.pk])
    except Source.DoesNotExist:
        messages.error(request, "Nothing merged: one of the sources was deleted meanwhile.")
        return redirect(back)
    messages.success(
        request,
        f"Merged {len(others)} duplicate{'s' if len(others) != 1 else ''} into “{keep.title}”.",
    )
    return redirect(back)

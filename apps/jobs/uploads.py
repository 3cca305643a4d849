"""Uploaded files that wait on disk for their uploader to confirm the import: never in the
database or in memory. Each ImportJob names its file in `payload["file"]`."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings

from apps.jobs.models import ImportJob

UPLOADS = "uploads"


def upload_folder() -> Path:
    folder = Path(settings.DATA_DIR) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep_upload(upload, suffix: str) -> Path:
    """Copy an uploaded file to the folder, a chunk at a time; its new path."""
    path = upload_folder() / f"{secrets.token_urlsafe(16)}{suffix}"
    with path.open("wb") as stored:
        for chunk in upload.chunks():
            stored.write(chunk)
    return path


def upload_path(job: ImportJob) -> Path | None:
    name = job.payload.get("file") if isinstance(job.payload, dict) else None
    return upload_folder() / Path(name).name if name else None


def remove_upload(job: ImportJob) -> None:
    path = upload_path(job)
    if path is not None:
        path.unlink(missing_ok=True)


def forget_expired_uploads() -> None:
    """Expired uploads and their files (any kind of import)."""
    for job in ImportJob.objects.expired():
        remove_upload(job)
    ImportJob.objects.expired().delete()

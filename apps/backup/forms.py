from __future__ import annotations

from django import forms
from django.core.validators import validate_slug

from apps.accounts.models import Project

# A project file may be large: every text version and annotation of the project.
MAX_FILE_BYTES = 100 * 1024 * 1024
LIMIT_MB = MAX_FILE_BYTES // 1_048_576


class ProjectUploadForm(forms.Form):
    file = forms.FileField(
        label="Project file",
        help_text=f"A .json file made by Export project (or export_project); at most "
        f"{LIMIT_MB} MB.",
    )
    slug = forms.CharField(
        label="Address of the new project",
        max_length=80,
        required=False,
        validators=[validate_slug],
        help_text="/p/<address>/; leave empty to use the one in the file.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is {LIMIT_MB} MB."
            )
        return upload

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug and Project.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"A project with the address “{slug}” exists already.")
        return slug

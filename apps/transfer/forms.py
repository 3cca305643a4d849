from __future__ import annotations

from django import forms
from django.core.validators import validate_slug

from apps.accounts.models import Project
from apps.library.citations import Style
from apps.library.models import Source, source_texts
from apps.transfer import webanno
from apps.transfer.bibliography import Format
from apps.transfer.records import MAX_FILE_BYTES

LIMIT_MB = MAX_FILE_BYTES // 1_048_576


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Bibliography file",
        help_text=f"BibTeX/BibLaTeX, RIS or CSL-JSON, as Zotero, JabRef, EndNote or Mendeley "
        f"export them; UTF-8, at most {LIMIT_MB} MB.",
    )
    format = forms.ChoiceField(
        choices=[("", "Recognise it (by the file name and contents)"), *Format.choices],
        required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is {LIMIT_MB} MB. "
                "Split it and import the parts."
            )
        return upload


class ConfirmForm(forms.Form):
    """The choices made on an import's preview; the entries themselves stay on the server."""

    skip_rejected = forms.BooleanField(
        required=False, label="Skip the rejected entries and import the rest"
    )
    merge_all = forms.BooleanField(
        required=False, label="Merge every duplicate into the source it matches"
    )

    def __init__(self, *args, duplicates: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.duplicates = duplicates
        for number in duplicates:
            self.fields[f"merge-{number}"] = forms.BooleanField(
                required=False, label="Merge into it (otherwise skip)"
            )

    def merge(self) -> set[int]:
        if self.cleaned_data.get("merge_all"):
            return set(self.duplicates)
        return {n for n in self.duplicates if self.cleaned_data.get(f"merge-{n}")}


EXPORT_FORMATS = [
    *Format.choices,
    ("html", "Formatted bibliography (HTML)"),
    ("text", "Formatted bibliography (plain text)"),
]


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=EXPORT_FORMATS, initial=Format.BIBTEX, required=False)
    style = forms.ChoiceField(
        label="Citation style",
        choices=[(style.value, style.label) for style in Style],
        initial=Style.APA.value,
        required=False,
        help_text="For formatted bibliographies.",
    )


class ProjectUploadForm(forms.Form):
    file = forms.FileField(
        label="Project file",
        help_text=f"A .json file made by Export project (or export_project); at most "
        f"{LIMIT_MB * 10} MB.",
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
        if upload.size > MAX_FILE_BYTES * 10:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is {LIMIT_MB * 10} MB."
            )
        return upload

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug and Project.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"A project with the address “{slug}” exists already.")
        return slug


class MergeForm(forms.Form):
    """Merge a group of duplicates into the one to keep."""

    keep = forms.ModelChoiceField(queryset=Source.objects.none())
    sources = forms.ModelMultipleChoiceField(queryset=Source.objects.none())

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        sources = Source.objects.for_project(project).defer(*source_texts())
        self.fields["keep"].queryset = sources
        self.fields["sources"].queryset = sources

    def clean(self) -> dict:
        cleaned = super().clean()
        keep, sources = cleaned.get("keep"), cleaned.get("sources")
        if keep and sources is not None and (keep not in sources or len(sources) < 2):
            raise forms.ValidationError("Choose the source to keep among the duplicates.")
        return cleaned


class AnnotationsUploadForm(forms.Form):
    file = forms.FileField(
        label="Annotations file",
        widget=forms.ClearableFileInput(attrs={"accept": ".jsonld,.json"}),
        help_text="W3C Web Annotations as JSON-LD (.jsonld or .json), such as Citemap's export; "
        f"UTF-8, at most {webanno.MAX_FILE_BYTES // 1_048_576} MB.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > webanno.MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is "
                f"{webanno.MAX_FILE_BYTES // 1_048_576} MB. Split it and import the parts."
            )
        return upload

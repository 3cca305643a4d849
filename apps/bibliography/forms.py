from __future__ import annotations

from django import forms

from apps.accounts.models import Project
from apps.accounts.references import BoundedModelMultipleChoiceField
from apps.bibliography.importing import Format
from apps.bibliography.records import MAX_FILE_BYTES
from apps.library.citations import Style
from apps.library.models import Source, source_texts

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


class MergeForm(forms.Form):
    """Merge a group of duplicates into the one to keep."""

    keep = forms.ModelChoiceField(queryset=Source.objects.none())
    sources = BoundedModelMultipleChoiceField(queryset=Source.objects.none())

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

from __future__ import annotations

from django import forms

from apps.accounts.models import Project
from apps.accounts.references import BoundedModelMultipleChoiceField
from apps.bibliography.importing import Format, ImportFormat
from apps.bibliography.records import MAX_ENTRIES, MAX_FILE_BYTES
from apps.library.citations import Style
from apps.library.models import Source, source_texts

LIMIT_MB = MAX_FILE_BYTES // 1_048_576


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data] or single(None, initial)
        return [single(data, initial)]


class UploadForm(forms.Form):
    file = MultipleFileField(
        label="Bibliography files",
        help_text="BibTeX/BibLaTeX, RIS (EndNote, Zotero, Ovid, PsycINFO, Embase…), Web of "
        "Science plain text, CSL-JSON, Crossref or Zotero JSON, recognised by their content, "
        f"in any common encoding; at most {LIMIT_MB} MB and {MAX_ENTRIES:,} entries in all. "
        "Choose several files to read them together, such as a file of @string macros and "
        "the bibliography that uses them.",
    )
    format = forms.ChoiceField(
        choices=[("", "Recognise it (by the contents)"), *ImportFormat.choices],
        required=False,
    )

    def clean_file(self):
        uploads = self.cleaned_data["file"]
        size = sum(upload.size for upload in uploads)
        if size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The upload is {size / 1_048_576:.1f} MB; the limit is {LIMIT_MB} MB. "
                "Split it and import the parts."
            )
        return uploads


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


# Files carry every field for another tool; a formatted bibliography is text in a citation
# style. Grouped so that the style is seen to belong to the second kind only.
FORMATTED = {"html", "text"}
EXPORT_FORMATS = [
    ("A file for a reference manager", Format.choices),
    (
        "A formatted bibliography",
        [
            ("html", "Formatted bibliography (HTML)"),
            ("text", "Formatted bibliography (plain text)"),
        ],
    ),
]


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=EXPORT_FORMATS, initial=Format.BIBTEX, required=False)
    style = forms.ChoiceField(
        label="Citation style",
        choices=[(style.value, style.label) for style in Style],
        initial=Style.APA.value,
        required=False,
        help_text="Only for a formatted bibliography: a file for a reference manager carries "
        "every field, and the manager formats it in any style.",
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

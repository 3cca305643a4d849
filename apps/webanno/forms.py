from __future__ import annotations

from django import forms
from django.urls import reverse

from apps.accounts.references import ReferenceField, bind_reference
from apps.library.models import Source
from apps.webanno import w3c as webanno


class AnnotationsUploadForm(forms.Form):
    file = forms.FileField(
        label="Annotations file",
        widget=forms.ClearableFileInput(attrs={"accept": ".jsonld,.json"}),
        help_text="W3C Web Annotations as JSON-LD (.jsonld or .json), such as Citemap's or "
        "Hypothesis' export, Hypothesis API JSON or Zotero Web API items; "
        f"UTF-8, at most {webanno.MAX_FILE_BYTES // 1_048_576} MB.",
    )
    source = ReferenceField(
        what="source",
        required=False,
        label="Source, when the file names none found here",
        help_text="Optional: “#12”, its citation key or exact title. Annotations the file ties "
        "to a source of this project go there; the others go to this one (such as Zotero "
        "highlights exported without their work).",
    )

    def clean_source(self) -> Source | None:
        return self.fields["source"].clean_reference(self.cleaned_data["source"].strip())

    def __init__(self, *args, project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bind_reference(
            self.fields["source"],
            Source.objects.for_project(project).resolve_reference,
            reverse("library:source_lookup", args=[project.slug]),
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > webanno.MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is "
                f"{webanno.MAX_FILE_BYTES // 1_048_576} MB. Split it and import the parts."
            )
        return upload


class AnnotationsConfirmForm(forms.Form):
    new_concepts = forms.BooleanField(
        required=False,
        initial=True,
        label="Create a concept for each tag the codebook does not have",
        help_text="Unticked, those tags are left out; tags that name a concept are linked to it.",
    )

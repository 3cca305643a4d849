from __future__ import annotations

from django import forms

from apps.webanno import w3c as webanno


class AnnotationsUploadForm(forms.Form):
    file = forms.FileField(
        label="Annotations file",
        widget=forms.ClearableFileInput(attrs={"accept": ".jsonld,.json"}),
        help_text="W3C Web Annotations as JSON-LD (.jsonld or .json), such as Citemap's or "
        "Hypothesis' export, Hypothesis API JSON or Zotero Web API items; "
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


class AnnotationsConfirmForm(forms.Form):
    new_concepts = forms.BooleanField(
        required=False,
        initial=True,
        label="Create a concept for each tag the codebook does not have",
        help_text="Unticked, those tags are left out; tags that name a concept are linked to it.",
    )

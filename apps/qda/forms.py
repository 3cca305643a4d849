from __future__ import annotations

from django import forms

# A project archive holds every text of the project; 100 sources of 50,000 characters with
# 10,000 selections make about 3 MB.
MAX_FILE_BYTES = 200 * 1024 * 1024
LIMIT_MB = MAX_FILE_BYTES // 1_048_576


class QdaUploadForm(forms.Form):
    file = forms.FileField(
        label="REFI-QDA file",
        widget=forms.ClearableFileInput(attrs={"accept": ".qdpx,.qdc"}),
        help_text="A project (.qdpx) or a codebook (.qdc) exported by NVivo, ATLAS.ti, MAXQDA, "
        f"QualCoder or Citemap; at most {LIMIT_MB} MB.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is {LIMIT_MB} MB."
            )
        head = upload.read(4)
        upload.seek(0)
        if head.startswith(b"PK"):
            upload.kind = "qdpx"
        elif upload.name.lower().endswith(".qdc") or head.lstrip(b"\xef\xbb\xbf").startswith(b"<"):
            upload.kind = "qdc"
        else:
            raise forms.ValidationError(
                "This is neither a REFI-QDA project (.qdpx, a zip archive) nor a codebook "
                "(.qdc, XML)."
            )
        return upload


class QdpxConfirmForm(forms.Form):
    keep_orphans = forms.BooleanField(
        required=False,
        label="Also import the orphaned selections (their words are not in our text: they "
        "keep their quote, without a place)",
    )


class QdcConfirmForm(forms.Form):
    take_theirs = forms.BooleanField(
        required=False,
        label="For concepts that differ, take the file's definition and parent",
    )

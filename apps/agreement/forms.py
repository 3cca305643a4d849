from __future__ import annotations

from django import forms

from apps.accounts.models import Membership, Role, User
from apps.accounts.references import MAX_PK, BoundedModelMultipleChoiceField
from apps.agreement.models import Variable
from apps.annotations.models import ReasonCode
from apps.library.models import Source

MAX_SOURCES = 500


class AssignmentForm(forms.Form):
    title = forms.CharField(max_length=200)
    sources = BoundedModelMultipleChoiceField(
        queryset=Source.objects.none(),
        help_text="The sources each coder codes in full. Hold Ctrl (⌘) to choose several.",
    )
    # A range of one source's stored text, instead of whole sources ("1200-5400").
    text_range = forms.RegexField(
        regex=r"^\s*\d{1,9}\s*[-–]\s*\d{1,9}\s*$",
        required=False,
        label="Only characters",
        help_text="A range of the source's stored text, such as 1200-5400 (one source only).",
        error_messages={"invalid": "Write the range as two numbers, such as 1200-5400."},
    )
    coders = BoundedModelMultipleChoiceField(
        queryset=User.objects.none(),
        help_text="Two or more analysts of the project, who code blind.",
    )
    variables = forms.MultipleChoiceField(
        choices=Variable.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=Variable.values,
    )
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tolerance = forms.IntegerField(
        min_value=0,
        max_value=500,
        initial=10,
        label="Span tolerance (characters)",
        help_text="Two passages are the same span when their starts and their ends differ by "
        "at most this.",
    )

    def __init__(self, *args, project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sources"].queryset = Source.objects.filter(project=project).only(
            "id", "title", "citation_key"
        )
        # Every member is offered, so that choosing one who is not an analyst is answered
        # with why (the rule lives in coding.assign).
        self.fields["coders"].queryset = User.objects.filter(
            pk__in=Membership.objects.filter(project=project).values("user_id")
        ).order_by("username")
        self.fields["coders"].label_from_instance = lambda user: user.username
        self.fields["sources"].label_from_instance = lambda source: (
            f"{source.citation_key}: {source.title[:80]}"
        )
        self.analysts = set(
            Membership.objects.filter(project=project, role=Role.ANALYST).values_list(
                "user_id", flat=True
            )
        )

    def clean_sources(self):
        sources = self.cleaned_data["sources"]
        if len(sources) > MAX_SOURCES:
            raise forms.ValidationError(f"Assign at most {MAX_SOURCES} sources at a time.")
        return sources

    def clean(self):
        data = super().clean()
        text_range = data.get("text_range")
        if text_range and data.get("sources") is not None:
            start, end = (int(n) for n in text_range.replace("–", "-").split("-"))
            if len(data["sources"]) != 1:
                self.add_error("text_range", "A range belongs to one source: choose only one.")
            elif end <= start:
                self.add_error("text_range", "The range must end after it starts.")
            else:
                data["range"] = (start, end)
        return data


class ResolutionForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            ("picked", "Choose this version"),
            ("merged", "Merge the versions"),
            ("written", "Use a passage I wrote"),
        ],
        widget=forms.HiddenInput,
    )
    passage = forms.IntegerField(required=False, widget=forms.HiddenInput, max_value=MAX_PK)
    written = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PK,
        label="Number of the passage you wrote",
        help_text="Write the new version in the reading view, then give its number here.",
    )
    reason = forms.ChoiceField(choices=[("", "Choose a reason…"), *ReasonCode.choices])
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class DropForm(forms.Form):
    replacement = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Nobody: drop their units from the sample",
        help_text="Another analyst codes in their place, or their units leave the sample.",
    )
    why = forms.CharField(
        max_length=150, required=False, label="Why", help_text="The report says it beside them."
    )

    def __init__(self, *args, project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["replacement"].queryset = User.objects.filter(
            memberships__project=project, memberships__role=Role.ANALYST
        ).order_by("username")
        self.fields["replacement"].label_from_instance = lambda user: user.username


class UnitFilter(forms.Form):
    """The units table's query string: every unit, or those where the coders' values of one
    variable differ (the report's list of disagreeing units, in full)."""

    disagreeing = forms.ChoiceField(choices=[("", "Every unit"), *Variable.choices], required=False)


class CloseForm(forms.Form):
    """Closing an open assignment without measuring it: confirmed, with why, on the sample
    the supervisor saw (coding.sample_key)."""

    confirm = forms.BooleanField(
        label="I understand: nothing is compared or measured, and the passages go on in review "
        "as they are, visible to all who may see them."
    )
    reason = forms.CharField(max_length=500, label="Why it is closed")
    seen = forms.CharField(max_length=2000, widget=forms.HiddenInput)

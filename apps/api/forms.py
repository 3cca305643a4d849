import datetime

from django import forms

from apps.accounts.models import Project
from apps.api.models import ApiToken, Scope

LIFETIMES = [(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "A year")]


class TokenForm(forms.ModelForm):
    """A new token for one of the user's projects."""

    project = forms.ModelChoiceField(queryset=Project.objects.none(), empty_label=None)
    scope = forms.ChoiceField(choices=Scope.choices, initial=Scope.READ)
    lifetime = forms.TypedChoiceField(
        label="Expires after", choices=LIFETIMES, coerce=int, initial=90
    )

    class Meta:
        model = ApiToken
        fields = ["name", "project", "scope"]

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.filter(memberships__user=user).order_by(
            "name"
        )

    @property
    def lifetime_delta(self) -> datetime.timedelta:
        return datetime.timedelta(days=self.cleaned_data["lifetime"])

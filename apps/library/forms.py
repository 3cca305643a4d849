from __future__ import annotations

import calendar

from django import forms
from django.core.validators import RegexValidator
from django.urls import reverse

from apps.accounts.editing import VersionedForm
from apps.accounts.models import Project, User
from apps.accounts.references import NewReference, ReferenceField, bind_reference
from apps.library.identifiers import normalise_identifier
from apps.library.models import ContributorRole, IdentifierScheme, Source
from apps.people.models import NAME_MAX, Person

MONTHS = [(None, "—")] + [(number, calendar.month_name[number]) for number in range(1, 13)]


class SourceForm(VersionedForm):
    citation_key = forms.CharField(
        label="Citation key",
        max_length=100,
        validators=[
            RegexValidator(
                r"^[^\s,{}()\"'#%~\\]+$",
                "A citation key has no spaces and none of , { } ( ) \" ' # %% ~ \\ — "
                "e.g. mironova2017bloody.",
            )
        ],
        help_text="Unique in the project; what a LaTeX document cites, e.g. mironova2017bloody.",
    )
    issued_year = forms.IntegerField(
        label="Year",
        required=False,
        min_value=-9999,
        max_value=9999,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    issued_month = forms.TypedChoiceField(
        label="Month", choices=MONTHS, coerce=int, empty_value=None, required=False
    )
    issued_day = forms.IntegerField(
        label="Day",
        required=False,
        min_value=1,
        max_value=31,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    url = forms.URLField(
        label="URL",
        required=False,
        max_length=2000,
        assume_scheme="https",
        # A text input, so that "example.org/page" reaches the server and gets its https://.
        widget=forms.TextInput(attrs={"inputmode": "url", "spellcheck": "false"}),
    )
    language = forms.CharField(
        required=False,
        max_length=35,
        validators=[
            RegexValidator(
                r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$",
                "Use a language tag such as en, ar or pt-BR.",
            )
        ],
        help_text="BCP 47 tag, e.g. en, ar.",
    )

    class Meta:
        model = Source
        fields = [
            "csl_type",
            "title",
            "title_short",
            "citation_key",
            "container_title",
            "collection_title",
            "publisher",
            "publisher_place",
            "genre",
            "edition",
            "volume",
            "issue",
            "page",
            "issued_year",
            "issued_month",
            "issued_day",
            "accessed",
            "language",
            "url",
            "abstract",
        ]
        widgets = {
            "title": forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
            "title_short": forms.TextInput(attrs={"dir": "auto"}),
            "container_title": forms.TextInput(attrs={"dir": "auto"}),
            "collection_title": forms.TextInput(attrs={"dir": "auto"}),
            "abstract": forms.Textarea(attrs={"rows": 5, "dir": "auto"}),
            "accessed": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {"accessed": "When a web page was last read."}

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project

    def clean_citation_key(self) -> str:
        key = self.cleaned_data["citation_key"]
        other = (
            Source.objects.for_project(self.project)
            .filter(citation_key=key)
            .exclude(pk=self.instance.pk)
            .only("id", "title")
            .first()
        )
        if other:
            raise forms.ValidationError(
                f"Another source of this project already has the key “{key}”: "
                f"#{other.pk} {other.title}. Choose another key."
            )
        return key

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("issued_month") and cleaned.get("issued_year") is None:
            self.add_error("issued_year", "Give the year of this month.")
        if cleaned.get("issued_day") and not cleaned.get("issued_month"):
            self.add_error("issued_month", "Give the month of this day.")
        return cleaned


class IdentifierForm(forms.Form):
    scheme = forms.ChoiceField(choices=IdentifierScheme.choices, initial=IdentifierScheme.DOI)
    value = forms.CharField(
        label="Identifier",
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        scheme, value = cleaned.get("scheme"), cleaned.get("value")
        if scheme and value:
            try:
                cleaned["value"] = normalise_identifier(scheme, value)
            except ValueError as error:
                self.add_error("value", str(error))
        return cleaned


class BaseIdentifierFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    def clean(self) -> None:
        if any(self.errors):
            return
        seen = set()
        for scheme, value in self.identifiers():
            if (scheme, value) in seen:
                label = IdentifierScheme(scheme).label
                raise forms.ValidationError(f"{label} {value} is listed twice.")
            seen.add((scheme, value))

    def identifiers(self) -> list[tuple[str, str]]:
        """(scheme, normalised value) of the filled, kept rows."""
        return [
            (form.cleaned_data["scheme"], form.cleaned_data["value"])
            for form in self.forms
            if form.cleaned_data.get("value") and not self._should_delete_form(form)
        ]

    def save(self, source: Source) -> None:
        source.set_identifiers(self.identifiers())


IdentifierFormSet = forms.formset_factory(
    IdentifierForm,
    formset=BaseIdentifierFormSet,
    extra=2,
    # A posted row count is believed up to here (Django's default would build 1,000 more).
    max_num=100,
    absolute_max=100,
    validate_max=True,
    can_delete=True,
    can_delete_extra=False,
)


class ContributorForm(forms.Form):
    person = ReferenceField(
        what="person",
        allow_new=True,
        required=False,
        label="Person",
    )
    new = forms.BooleanField(label="new", required=False)
    role = forms.ChoiceField(choices=ContributorRole.choices, initial=ContributorRole.AUTHOR)

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].widget.attrs["dir"] = "auto"
        bind_reference(
            self.fields["person"],
            Person.objects.for_project(project).resolve_reference,
            reverse("people:person_lookup", args=[project.slug]),
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("person"):
            try:
                person = self.fields["person"].clean_reference(
                    cleaned["person"], create=cleaned.get("new", False)
                )
            except forms.ValidationError as error:
                self.add_error("person", error)
                return cleaned
            if isinstance(person, NewReference) and len(person.text) > NAME_MAX:
                self.add_error("person", f"A name has at most {NAME_MAX} characters.")
            else:
                cleaned["person"] = person
        return cleaned


class BaseContributorFormSet(forms.BaseFormSet):
    ordering_widget = forms.NumberInput(attrs={"inputmode": "numeric", "size": 3})

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "ORDER" in form.fields:
            form.fields["ORDER"].label = "Order"
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    def clean(self) -> None:
        if any(self.errors):
            return
        seen = set()
        for person, role in self.contributors():
            key = (person.text.casefold() if isinstance(person, NewReference) else person.pk, role)
            if key in seen:
                raise forms.ValidationError(
                    f"{person.text if isinstance(person, NewReference) else person} is listed "
                    f"twice as {ContributorRole(role).label.lower()}."
                )
            seen.add(key)

    def contributors(self) -> list[tuple[Person | NewReference, str]]:
        """(person or new name, role) of the filled, kept rows: by the order numbers typed,
        rows without one last, ties in the order of the rows."""
        kept = [
            (form.cleaned_data.get("ORDER"), index, form.cleaned_data)
            for index, form in enumerate(self.forms)
            if form.cleaned_data.get("person") and not self._should_delete_form(form)
        ]
        kept.sort(key=lambda row: (row[0] is None, row[0] or 0, row[1]))
        return [(data["person"], data["role"]) for _, _, data in kept]

    def save(self, source: Source, *, by: User) -> list[Person]:
        """Save the contributors, first adding the people typed as new; returns those."""
        added: dict[str, Person] = {}
        rows = []
        for person, role in self.contributors():
            if isinstance(person, NewReference):
                key = person.text.casefold()
                if key not in added:
                    added[key] = Person.objects.create_from_name(
                        person.text, project=source.project, by=by
                    )
                person = added[key]
            rows.append((person, role))
        source.set_contributors(rows)
        return list(added.values())


ContributorFormSet = forms.formset_factory(
    ContributorForm,
    formset=BaseContributorFormSet,
    extra=3,
    max_num=500,
    absolute_max=500,
    validate_max=True,
    can_order=True,
    can_delete=True,
    can_delete_extra=False,
)

import re

from django import forms
from stdnum.iso7064 import mod_11_2

from apps.accounts.editing import VersionedForm
from apps.accounts.models import Project
from apps.people.models import NameVariant, Person
from apps.people.names import normalise_name

MAX_DUPLICATES_SHOWN = 10
_ORCID_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)
_WIKIDATA_PREFIX = re.compile(
    r"^(?:https?://)?(?:www\.)?wikidata\.org/(?:wiki|entity)/", re.IGNORECASE
)
_VARIANT_MAX = NameVariant._meta.get_field("name").max_length


class PersonForm(VersionedForm):
    variants = forms.CharField(
        label="Other spellings",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
        help_text="One per line: transliterations, kunyas, real names, other scripts "
        "(as-Suri, Abu Mus'ab al-Suri, أبو مصعب السوري).",
    )
    orcid = forms.CharField(
        label="ORCID",
        required=False,
        max_length=60,
        help_text="0000-0002-1825-0097 or the orcid.org link.",
    )
    wikidata = forms.CharField(
        label="Wikidata ID",
        required=False,
        max_length=80,
        help_text="Q42 or the wikidata.org link.",
    )
    different_person = forms.BooleanField(
        label="This is a different person",
        required=False,
        help_text="Tick to save although the name matches the people listed above.",
    )

    class Meta:
        model = Person
        fields = [
            "kind",
            "display_name",
            "family",
            "given",
            "non_dropping_particle",
            "dropping_particle",
            "suffix",
            "literal",
            "description",
            "orcid",
            "wikidata",
        ]
        labels = {
            "display_name": "Name",
            "family": "Family name",
            "given": "Given names",
            "literal": "Literal name",
            "non_dropping_particle": "Particle kept with the family name",
            "dropping_particle": "Particle after the given names",
            "suffix": "Suffix",
        }
        help_texts = {
            "display_name": "As the team refers to them, e.g. Sayyid Qutb.",
            "family": "For citations: Crenshaw in “Crenshaw, Martha”; Gennep in “van Gennep”.",
            "non_dropping_particle": "“van” in Vincent van Gogh (“van Gogh, V.”).",
            "dropping_particle": "“van” in Ludwig van Beethoven (“Beethoven, L. van”).",
            "suffix": "Jr., III.",
            "literal": "Instead of family and given: organisations, mononyms and kunyas "
            "(Abu Bakr Naji) that must never be inverted.",
        }
        widgets = {
            "display_name": forms.TextInput(attrs={"dir": "auto"}),
            "family": forms.TextInput(attrs={"dir": "auto"}),
            "given": forms.TextInput(attrs={"dir": "auto"}),
            "literal": forms.TextInput(attrs={"dir": "auto"}),
        }

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        # Filled by clean(): people whose name or variant matches the name(s) being saved.
        self.duplicates: list[Person] = []
        if self.instance.pk and not self.is_bound:
            self.initial["variants"] = "\n".join(v.name for v in self.instance.variants.all())

    def clean_display_name(self) -> str:
        return " ".join(self.cleaned_data["display_name"].split())

    def clean_variants(self) -> list[str]:
        names = []
        for line in self.cleaned_data["variants"].splitlines():
            name = " ".join(line.split())
            if not name:
                continue
            if len(name) > _VARIANT_MAX:
                raise forms.ValidationError(
                    f"A spelling is longer than {_VARIANT_MAX} characters: “{name[:40]}…”."
                )
            if name not in names:
                names.append(name)
        return names

    def clean_orcid(self) -> str:
        orcid = _ORCID_PREFIX.sub("", self.cleaned_data["orcid"].strip()).upper()
        if not orcid:
            return ""
        if not re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", orcid):
            raise forms.ValidationError("Use the form 0000-0002-1825-0097.")
        if not mod_11_2.is_valid(orcid.replace("-", "")):
            raise forms.ValidationError("This ORCID has a typo: its check digit does not match.")
        taken = self._people_with(orcid=orcid)
        if taken:
            raise forms.ValidationError(f"This ORCID is already recorded for {taken}.")
        return orcid

    def clean_wikidata(self) -> str:
        wikidata = _WIKIDATA_PREFIX.sub("", self.cleaned_data["wikidata"].strip()).upper()
        if not wikidata:
            return ""
        if not re.fullmatch(r"Q\d+", wikidata):
            raise forms.ValidationError("Use the form Q42.")
        taken = self._people_with(wikidata=wikidata)
        if taken:
            raise forms.ValidationError(f"This Wikidata ID is already recorded for {taken}.")
        return wikidata

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("given") and not cleaned.get("family") and not cleaned.get("literal"):
            self.add_error(
                "family", "Give the family name too, or write the whole name as a literal name."
            )
        name = cleaned.get("display_name")
        if name:
            self._check_duplicates([name, *cleaned.get("variants", [])])
        return cleaned

    def _check_duplicates(self, names: list[str]) -> None:
        """Warn when a new or changed name is already somebody's name or variant."""
        keys = {normalise_name(name) for name in names} - {""}
        if self.instance.pk:
            # Only names being added now: a known near-namesake does not nag every later edit.
            keys -= self.instance.name_keys()
        if not keys:
            return
        people = (
            Person.objects.for_project(self.project).known_as(keys).exclude(pk=self.instance.pk)
        )
        self.duplicates = list(people.prefetch_related("variants")[:MAX_DUPLICATES_SHOWN])
        if self.duplicates and not self.cleaned_data.get("different_person"):
            self.add_error(
                "different_person",
                "Someone in this project already has this name or spelling. Check the people "
                "listed; if this is somebody else, tick “This is a different person”.",
            )

    def _people_with(self, **identifier: str) -> str:
        person = (
            Person.objects.for_project(self.project)
            .filter(**identifier)
            .exclude(pk=self.instance.pk)
            .first()
        )
        return f"#{person.pk} {person}" if person else ""

    def save(self, commit: bool = True) -> Person:
        person = super().save(commit=commit)
        if commit:
            person.set_variants(self.cleaned_data["variants"])
        return person

from __future__ import annotations

from django import forms
from django.urls import reverse

from apps.accounts.editing import VersionedForm
from apps.accounts.models import Project
from apps.accounts.references import ReferenceField, bind_reference, reference_label
from apps.claims.models import Claim, Concept, RelationKind, concept_tree
from apps.people.models import Person


class ClaimForm(VersionedForm):
    class Meta:
        model = Claim
        fields = ["statement", "kind"]
        widgets = {"statement": forms.Textarea(attrs={"rows": 3, "dir": "auto"})}
        help_texts = {
            "statement": "One proposition, in the team's own words.",
        }


class RelationForm(forms.Form):
    kind = forms.ChoiceField(
        label="This claim", choices=RelationKind.choices, initial=RelationKind.SUPPORTS
    )
    target = ReferenceField(
        what="claim",
        required=False,
        label="Other claim",
    )

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bind_reference(
            self.fields["target"],
            Claim.objects.for_project(project).resolve_reference,
            reverse("claims:claim_lookup", args=[project.slug]),
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("target"):
            try:
                cleaned["target"] = self.fields["target"].clean_reference(cleaned["target"])
            except forms.ValidationError as error:
                self.add_error("target", error)
        return cleaned


class BaseRelationFormSet(forms.BaseFormSet):
    def __init__(self, *args, claim: Claim, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.claim = claim

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    def clean(self) -> None:
        if any(self.errors):
            return
        seen = set()
        for kind, target in self.relations():
            if target.pk == self.claim.pk:
                raise forms.ValidationError(f"A claim cannot be related to itself ({kind}).")
            if (kind, target.pk) in seen:
                raise forms.ValidationError(f"“This claim {kind} #{target.pk}” is listed twice.")
            seen.add((kind, target.pk))

    def relations(self) -> list[tuple[str, Claim]]:
        """(kind, target claim) of the filled, kept rows."""
        return [
            (form.cleaned_data["kind"], form.cleaned_data["target"])
            for form in self.forms
            if form.cleaned_data.get("target") and not self._should_delete_form(form)
        ]

    def save(self, claim: Claim) -> None:
        claim.set_relations(self.relations())


RelationFormSet = forms.formset_factory(
    RelationForm,
    formset=BaseRelationFormSet,
    extra=2,
    # A posted row count is believed up to here (Django's default would build 1,000 more).
    max_num=100,
    absolute_max=100,
    validate_max=True,
    can_delete=True,
    can_delete_extra=False,
)


class ConceptForm(VersionedForm):
    originator = ReferenceField(
        what="person",
        required=False,
        label="Originator",
        help_text="The person the concept goes back to, e.g. Kaplan for the fifth wave.",
    )

    class Meta:
        model = Concept
        fields = ["name", "definition", "parent", "originator", "colour"]
        labels = {"parent": "Broader concept"}
        help_texts = {"parent": "Where the concept sits in the codebook; empty for a top level."}
        widgets = {
            "definition": forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
            "colour": forms.TextInput(attrs={"placeholder": "#aa3300", "size": 8}),
        }

    def clean_colour(self) -> str:
        return self.cleaned_data["colour"].strip().lower()

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        concepts = Concept.objects.for_project(project).only(
            "id", "name", "parent_id", "project_id"
        )
        parent = self.fields["parent"]
        parent.queryset = concepts
        # Codebook order, indented by depth, so the hierarchy is visible in the list.
        parent.choices = [("", "— top level —")] + [
            (concept.pk, "\u2003" * depth + concept.name)
            for concept, depth in concept_tree(concepts)
        ]
        bind_reference(
            self.fields["originator"],
            Person.objects.for_project(project).resolve_reference,
            reverse("people:person_lookup", args=[project.slug]),
        )
        self.fields["originator"].widget.attrs["dir"] = "auto"
        if self.instance.originator_id and not self.is_bound:
            self.initial["originator"] = reference_label(self.instance.originator)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        other = (
            Concept.objects.for_project(self.project)
            .filter(name__iexact=name)
            .exclude(pk=self.instance.pk)
            .first()
        )
        if other:
            raise forms.ValidationError(
                f"The codebook already has a concept named “{other.name}” (#{other.pk})."
            )
        return name

    def clean_originator(self) -> Person | None:
        return self.fields["originator"].clean_reference(self.cleaned_data["originator"])

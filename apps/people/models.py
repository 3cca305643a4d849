from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from apps.accounts.editing import Versioned
from apps.accounts.models import Project
from apps.accounts.references import MAX_CANDIDATES, Resolution, referenced_id
from apps.people.names import normalise_name, search_tokens


class PersonKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANIZATION = "organization", "Organisation"


class PersonQuerySet(models.QuerySet):
    def for_project(self, project: Project) -> PersonQuerySet:
        return self.filter(project=project)

    def matching(self, query: str) -> PersonQuerySet:
        """People whose name or any variant contains every word of `query`, transliteration
        noise ignored (see names.normalise_name)."""
        people = self
        for token in search_tokens(query):
            variant = NameVariant.objects.filter(person=OuterRef("pk"), search_key__contains=token)
            people = people.filter(Q(search_key__contains=token) | Exists(variant))
        return people

    def with_list_data(self) -> PersonQuerySet:
        return self.prefetch_related("variants")

    def resolve_reference(self, text: str) -> Resolution:
        """ "#12", or a name equal (transliteration noise aside) to a name or variant."""
        pk = referenced_id(text)
        if pk is not None:
            return Resolution(match=self.filter(pk=pk).first())
        key = normalise_name(text)
        if not key:
            return Resolution()
        variant = NameVariant.objects.filter(person=OuterRef("pk"), search_key=key)
        exact = list(self.filter(Q(search_key=key) | Exists(variant))[:MAX_CANDIDATES])
        if len(exact) == 1:
            return Resolution(match=exact[0])
        return Resolution(candidates=exact or list(self.matching(text)[:MAX_CANDIDATES]))


class Person(Versioned):
    """An authority record: authors and cited theorists are the same kind of record."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="people")
    kind = models.CharField(max_length=20, choices=PersonKind.choices, default=PersonKind.PERSON)
    display_name = models.CharField(max_length=300)
    # CSL name parts: family/given for most people; literal for organisations, mononyms and
    # kunyas ("Abu Bakr Naji") that must never be inverted or abbreviated.
    family = models.CharField(max_length=200, blank=True)
    given = models.CharField(max_length=200, blank=True)
    literal = models.CharField(max_length=300, blank=True)
    description = models.CharField(max_length=500, blank=True)
    orcid = models.CharField(
        "ORCID",
        max_length=19,
        blank=True,
        validators=[
            RegexValidator(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$", "Use the form 0000-0002-1825-0097.")
        ],
    )
    wikidata = models.CharField(
        "Wikidata ID",
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^Q\d+$", "Use the form Q42.")],
    )
    search_key = models.CharField(max_length=300, editable=False)
    sort_key = models.CharField(max_length=300, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "people"
        ordering = ["sort_key", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PersonKind.values), name="person_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(display_name=""), name="person_display_name_set"),
            models.UniqueConstraint(
                fields=["project", "orcid"],
                condition=~Q(orcid=""),
                name="person_orcid_unique_per_project",
            ),
            models.UniqueConstraint(
                fields=["project", "wikidata"],
                condition=~Q(wikidata=""),
                name="person_wikidata_unique_per_project",
            ),
        ]
        indexes = [
            # People list: a project's people in alphabetical order.
            models.Index(fields=["project", "sort_key"], name="person_project_sort"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:
        self.search_key = normalise_name(self.display_name)
        self.sort_key = normalise_name(self.family or self.literal or self.display_name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("xref:person_detail", args=[self.project.slug, self.pk])

    def add_variant(self, name: str) -> NameVariant:
        variant, _ = NameVariant.objects.get_or_create(person=self, name=name.strip())
        return variant

    def csl_name(self) -> dict[str, str]:
        if self.literal or not self.family:
            return {"literal": self.literal or self.display_name}
        name = {"family": self.family}
        if self.given:
            name["given"] = self.given
        return name


class NameVariant(models.Model):
    """Another way the same person is written: transliterations, kunyas, real names, scripts."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=300)
    search_key = models.CharField(max_length=300, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "name"], name="namevariant_unique_per_person"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="namevariant_name_set"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.search_key = normalise_name(self.name)
        super().save(*args, **kwargs)

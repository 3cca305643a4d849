from __future__ import annotations

from collections.abc import Iterable

from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import ngettext

from apps.accounts.editing import Versioned
from apps.accounts.models import Project
from apps.accounts.references import MAX_CANDIDATES, Resolution, referenced_id
from apps.accounts.sync import Synced, SyncedPart, stamp
from apps.people.names import cross_script_pattern, match_key, normalise_name, search_tokens

# Longest name a person record or variant holds; search keys are cut to the same length (NFKD
# can make a normalised key longer than the name it comes from).
NAME_MAX = 300


def name_key(name: str) -> str:
    """The lenient key people are searched by (names.normalise_name)."""
    return normalise_name(name)[:NAME_MAX]


def strict_key(name: str) -> str:
    """The strict key people are matched by, with nobody asked (names.match_key)."""
    return match_key(name)[:NAME_MAX]


def person_sort_key(
    *, family: str = "", given: str = "", literal: str = "", display_name: str = "", **parts
) -> str:
    """Alphabetical order: by family name, then given names, particles set aside ("van
    Gennep, Arnold" under G, as Chicago and most indexes sort), or by the literal name."""
    if family and not literal:
        particles = (parts.get("non_dropping_particle", ""), parts.get("dropping_particle", ""))
        name = " ".join(p for p in (family, given, *particles) if p)
    else:
        name = literal or display_name
    return normalise_name(name, single_letters=False)[:NAME_MAX]


class PersonKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANIZATION = "organization", "Organisation"


class PersonQuerySet(models.QuerySet):
    def for_project(self, project: Project) -> PersonQuerySet:
        return self.filter(project=project)

    def matching(self, query: str) -> PersonQuerySet:
        """People whose name or any variant contains every word of `query`, transliteration
        noise ignored (see names.normalise_name), in Arabic or Latin script whichever the
        name is written in (names.cross_script_pattern)."""
        people = self
        for token in search_tokens(query):
            words = Q(search_key__contains=token)
            if pattern := cross_script_pattern(token):
                # The same word in the other script: "السوري" finds "al-Suri", and back.
                words |= Q(search_key__regex=pattern)
            variant = NameVariant.objects.filter(words, person=OuterRef("pk"))
            people = people.filter(words | Exists(variant))
        return people

    def known_as(self, names: Iterable[str]) -> PersonQuerySet:
        """People whose name or a variant is one of `names`, transliteration noise aside: the
        likely duplicates of a person being added or renamed."""
        keys = {name_key(name) for name in names} - {""}
        variant = NameVariant.objects.filter(person=OuterRef("pk"), search_key__in=keys)
        return self.filter(Q(search_key__in=keys) | Exists(variant))

    def with_list_data(self) -> PersonQuerySet:
        return self.prefetch_related("variants")

    def create_from_name(self, name: str, *, project: Project, by=None) -> Person:
        """A person typed into a form: "Family, Given" is split into CSL name parts; anything
        else ("Abu Bakr Naji", an organisation) is kept as written and never inverted. A person
        of the project already known by that name (perhaps added meanwhile) is reused."""
        name = " ".join(name.split())
        family, comma, given = (part.strip() for part in name.partition(","))
        if comma and family and given:
            return self.typed_new(
                f"{given} {family}", project_id=project.pk, by=by, family=family, given=given
            )
        return self.typed_new(name, project_id=project.pk, by=by)

    def typed_new(self, name: str, *, project_id: int, by=None, **parts: str) -> Person:
        """The person a link typed as "new" stands for: one whose name or a variant is the
        same (transliteration noise aside), perhaps added meanwhile by another request, else
        a new record. Decided under the project's lock, so a name never multiplies."""
        name = " ".join(name.split())
        key = name_key(name)
        with transaction.atomic():
            Project.lock_for_typed_rows(project_id)
            if key:
                people = self.model.objects.filter(project_id=project_id)
                variant = NameVariant.objects.filter(person=OuterRef("pk"), search_key=key)
                same = people.filter(Q(search_key=key) | Exists(variant)).order_by("pk").first()
                if same is not None:
                    return same
            if not parts:
                # Typed as one string, a new name is kept whole (never inverted); its CSL
                # parts can be refined on the person's page.
                parts = {"literal": name}
            return self.model.objects.create(
                project_id=project_id, display_name=name, updated_by=by, **parts
            )

    def resolve_reference(self, text: str) -> Resolution:
        """ "#12", or a name equal (transliteration noise aside) to a name or variant."""
        pk = referenced_id(text)
        if pk is not None:
            return Resolution(match=self.filter(pk=pk).first())
        key = name_key(text)
        if not key:
            return Resolution()
        variant = NameVariant.objects.filter(person=OuterRef("pk"), search_key=key)
        exact = list(self.filter(Q(search_key=key) | Exists(variant))[:MAX_CANDIDATES])
        if len(exact) == 1:
            return Resolution(match=exact[0])
        return Resolution(candidates=exact or list(self.matching(text)[:MAX_CANDIDATES]))


class Person(Synced, Versioned):
    """An authority record: authors and cited theorists are the same kind of record."""

    sync_kind = "person"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="people")
    kind = models.CharField(max_length=20, choices=PersonKind.choices, default=PersonKind.PERSON)
    display_name = models.CharField(max_length=NAME_MAX)
    # CSL name parts: family/given for most people; literal for organisations, mononyms and
    # kunyas ("Abu Bakr Naji") that must never be inverted or abbreviated.
    family = models.CharField(max_length=200, blank=True)
    given = models.CharField(max_length=200, blank=True)
    # "van" in "Ludwig van Beethoven" (dropping: set aside when only the family name is shown)
    # and in "Vincent van Gogh" (non-dropping: "van Gogh" stays together), and "Jr.", "III".
    dropping_particle = models.CharField(max_length=50, blank=True)
    non_dropping_particle = models.CharField(max_length=50, blank=True)
    suffix = models.CharField(max_length=50, blank=True)
    literal = models.CharField(max_length=NAME_MAX, blank=True)
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
    search_key = models.CharField(max_length=NAME_MAX, editable=False)
    # The display name's strict key: imports reuse a person only when it (or a variant's)
    # equals the name read.
    match_key = models.CharField(max_length=NAME_MAX, editable=False, default="")
    sort_key = models.CharField(max_length=NAME_MAX, editable=False)
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
            # API lists with ?since=: rows changed after a library version, by version then id.
            models.Index(fields=["project", "library_version", "id"], name="person_project_synced"),
            # People list: a project's people in alphabetical order.
            models.Index(fields=["project", "sort_key"], name="person_project_sort"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:
        self.set_keys()
        super().save(*args, **kwargs)

    def set_keys(self) -> None:
        """The derived keys, as save() sets them (bulk_create callers call this)."""
        self.search_key = name_key(self.display_name)
        self.match_key = strict_key(self.display_name)
        self.sort_key = person_sort_key(
            family=self.family,
            given=self.given,
            literal=self.literal,
            display_name=self.display_name,
            non_dropping_particle=self.non_dropping_particle,
            dropping_particle=self.dropping_particle,
        )

    def get_absolute_url(self) -> str:
        return reverse("xref:person_detail", args=[self.project.slug, self.pk])

    def add_variant(self, name: str) -> NameVariant:
        variant, _ = NameVariant.objects.get_or_create(person=self, name=name.strip())
        return variant

    def set_variants(self, names: Iterable[str]) -> None:
        """Make `names` the person's variants: keep those still listed, add and drop the rest."""
        wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
        stamp(Person, self.pk, self.project_id)
        self.variants.exclude(name__in=wanted).delete()
        for name in wanted:
            self.add_variant(name)

    def name_keys(self) -> set[str]:
        """The normalised keys of the display name and of every saved variant."""
        return {self.search_key, *self.variants.values_list("search_key", flat=True)} - {""}

    def references(self) -> list[str]:
        """What still points at this person, e.g. "2 sources (as contributor)"; a person is
        deleted only when this is empty."""
        # The relations belong to higher apps (library, claims, annotations): reached through
        # their reverse accessors, never imported.
        sources = self.contributions.values("source").distinct().count()
        annotations = self.mentions.values("annotation").distinct().count()
        concepts = self.originated_concepts.count()
        found = []
        if sources:
            found.append(
                ngettext("%(n)d source (as contributor)", "%(n)d sources (as contributor)", sources)
                % {"n": sources}
            )
        if annotations:
            found.append(
                ngettext("%(n)d annotation (mention)", "%(n)d annotations (mention)", annotations)
                % {"n": annotations}
            )
        if concepts:
            found.append(
                ngettext("%(n)d concept (originator)", "%(n)d concepts (originator)", concepts)
                % {"n": concepts}
            )
        return found

    def csl_name(self) -> dict[str, str]:
        if self.literal or not self.family:
            return {"literal": self.literal or self.display_name}
        name = {"family": self.family}
        for part in ("given", "dropping_particle", "non_dropping_particle", "suffix"):
            if value := getattr(self, part):
                name[part.replace("_", "-")] = value
        return name


class NameVariant(SyncedPart):
    """Another way the same person is written: transliterations, kunyas, real names, scripts."""

    sync_owner = "person"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=300)
    search_key = models.CharField(max_length=300, editable=False)
    match_key = models.CharField(max_length=300, editable=False, default="")

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
        self.set_keys()
        super().save(*args, **kwargs)

    def set_keys(self) -> None:
        self.search_key = name_key(self.name)
        self.match_key = strict_key(self.name)

from __future__ import annotations

import calendar
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from apps.accounts.editing import Versioned
from apps.accounts.models import Project
from apps.accounts.references import MAX_CANDIDATES, Resolution, query_words, referenced_id
from apps.accounts.sync import Synced, SyncedPart, bump, stamp
from apps.library.identifiers import normalise_identifier
from apps.people.models import Person


class SourceType(models.TextChoices):
    """The item types of CSL 1.0.2, the vocabulary Zotero and citeproc share."""

    ARTICLE = "article", "Article (preprint, working paper)"
    ARTICLE_JOURNAL = "article-journal", "Journal article"
    ARTICLE_MAGAZINE = "article-magazine", "Magazine article"
    ARTICLE_NEWSPAPER = "article-newspaper", "Newspaper article"
    BILL = "bill", "Bill"
    BOOK = "book", "Book"
    BROADCAST = "broadcast", "Broadcast"
    CHAPTER = "chapter", "Book chapter"
    CLASSIC = "classic", "Classic work"
    COLLECTION = "collection", "Collection"
    DATASET = "dataset", "Dataset"
    DOCUMENT = "document", "Document"
    ENTRY = "entry", "Entry"
    ENTRY_DICTIONARY = "entry-dictionary", "Dictionary entry"
    ENTRY_ENCYCLOPEDIA = "entry-encyclopedia", "Encyclopedia entry"
    EVENT = "event", "Event"
    FIGURE = "figure", "Figure"
    GRAPHIC = "graphic", "Graphic"
    HEARING = "hearing", "Hearing"
    INTERVIEW = "interview", "Interview"
    LEGAL_CASE = "legal_case", "Legal case"
    LEGISLATION = "legislation", "Legislation"
    MANUSCRIPT = "manuscript", "Manuscript"
    MAP = "map", "Map"
    MOTION_PICTURE = "motion_picture", "Film"
    MUSICAL_SCORE = "musical_score", "Musical score"
    PAMPHLET = "pamphlet", "Pamphlet"
    PAPER_CONFERENCE = "paper-conference", "Conference paper"
    PATENT = "patent", "Patent"
    PERFORMANCE = "performance", "Performance"
    PERIODICAL = "periodical", "Periodical"
    PERSONAL_COMMUNICATION = "personal_communication", "Personal communication"
    POST = "post", "Post"
    POST_WEBLOG = "post-weblog", "Blog post"
    REGULATION = "regulation", "Regulation"
    REPORT = "report", "Report"
    REVIEW = "review", "Review"
    REVIEW_BOOK = "review-book", "Book review"
    SOFTWARE = "software", "Software"
    SONG = "song", "Song"
    SPEECH = "speech", "Speech"
    STANDARD = "standard", "Standard"
    THESIS = "thesis", "Thesis"
    TREATY = "treaty", "Treaty"
    WEBPAGE = "webpage", "Web page"


class IdentifierScheme(models.TextChoices):
    DOI = "doi", "DOI"
    ISBN = "isbn", "ISBN"
    ISSN = "issn", "ISSN"
    URL = "url", "URL"
    OPENALEX = "openalex", "OpenAlex"
    PMID = "pmid", "PubMed ID"
    ARXIV = "arxiv", "arXiv"
    WIKIDATA = "wikidata", "Wikidata"
    OTHER = "other", "Other"


class ContributorRole(models.TextChoices):
    """CSL name variables a team is likely to record."""

    AUTHOR = "author", "Author"
    EDITOR = "editor", "Editor"
    TRANSLATOR = "translator", "Translator"
    CONTAINER_AUTHOR = "container-author", "Container author"
    COLLECTION_EDITOR = "collection-editor", "Series editor"
    COMPILER = "compiler", "Compiler"
    CONTRIBUTOR = "contributor", "Contributor"
    DIRECTOR = "director", "Director"
    INTERVIEWER = "interviewer", "Interviewer"
    ILLUSTRATOR = "illustrator", "Illustrator"
    ORIGINAL_AUTHOR = "original-author", "Original author"
    RECIPIENT = "recipient", "Recipient"
    REVIEWED_AUTHOR = "reviewed-author", "Reviewed author"


# Large fields that lists, links and headers never show; defer them wherever sources are loaded
# beside something else (`.defer(*source_texts("annotation__source__"))`).
SOURCE_TEXTS = ("full_text", "abstract", "extra")


def source_texts(prefix: str = "") -> list[str]:
    return [f"{prefix}{name}" for name in SOURCE_TEXTS]


class SourceQuerySet(models.QuerySet):
    def for_project(self, project: Project) -> SourceQuerySet:
        return self.filter(project=project)

    def matching(self, words: str) -> SourceQuerySet:
        sources = self
        for word in query_words(words):
            sources = sources.filter(Q(title__icontains=word) | Q(citation_key__iexact=word))
        return sources

    def resolve_reference(self, text: str) -> Resolution:
        """ "#12", a citation key, or the exact title (case aside)."""
        sources = self.defer(*SOURCE_TEXTS)
        pk = referenced_id(text)
        if pk is not None:
            return Resolution(match=sources.filter(pk=pk).first())
        text = " ".join(text.split())
        exact = list(sources.filter(Q(citation_key=text) | Q(title__iexact=text))[:MAX_CANDIDATES])
        if len(exact) == 1:
            return Resolution(match=exact[0])
        return Resolution(candidates=exact or list(sources.matching(text)[:MAX_CANDIDATES]))

    def with_list_data(self) -> SourceQuerySet:
        """What a bibliography row shows: the source and its ordered contributors."""
        return self.defer(*SOURCE_TEXTS).prefetch_related(
            Prefetch(
                "contributors",
                queryset=Contributor.objects.select_related("person").only(
                    "source_id", "role", "position", "person__display_name", "person__id"
                ),
            )
        )


class Source(Synced, Versioned):
    """Any bibliographic item: an article under review, or a work that is only cited."""

    sync_kind = "source"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sources")
    citation_key = models.CharField(
        max_length=100,
        help_text="Unique in the project; what a LaTeX document cites, e.g. mironova2017bloody.",
    )
    csl_type = models.CharField(
        "type", max_length=30, choices=SourceType.choices, default=SourceType.ARTICLE_JOURNAL
    )
    title = models.TextField()
    title_short = models.CharField("short title", max_length=300, blank=True)
    container_title = models.CharField(
        "container title",
        max_length=500,
        blank=True,
        help_text="Journal, magazine, book or website the item appears in.",
    )
    collection_title = models.CharField("series", max_length=500, blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    publisher_place = models.CharField("place of publication", max_length=200, blank=True)
    genre = models.CharField(max_length=200, blank=True, help_text="e.g. Analysis, PhD thesis.")
    edition = models.CharField(max_length=50, blank=True)
    volume = models.CharField(max_length=50, blank=True)
    issue = models.CharField(max_length=50, blank=True)
    page = models.CharField("pages", max_length=50, blank=True)
    issued_year = models.SmallIntegerField("year", null=True, blank=True)
    issued_month = models.PositiveSmallIntegerField("month", null=True, blank=True)
    issued_day = models.PositiveSmallIntegerField("day", null=True, blank=True)
    language = models.CharField(max_length=35, blank=True, help_text="BCP 47 tag, e.g. en, ar.")
    abstract = models.TextField(blank=True)
    url = models.URLField("URL", max_length=2000, blank=True)
    accessed = models.DateField(null=True, blank=True)
    # Fields of imported records we do not model, kept so that exports give them back.
    extra = models.JSONField(default=dict, blank=True)
    # The current text; every version of it, with its page boundaries, is a SourceText.
    full_text = models.TextField(blank=True)
    text_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "citation_key"], name="source_citation_key_unique_per_project"
            ),
            models.CheckConstraint(condition=~Q(citation_key=""), name="source_citation_key_set"),
            models.CheckConstraint(condition=~Q(title=""), name="source_title_set"),
            models.CheckConstraint(
                condition=Q(csl_type__in=SourceType.values), name="source_csl_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(issued_month__isnull=True)
                | (Q(issued_year__isnull=False) & Q(issued_month__gte=1) & Q(issued_month__lte=12)),
                name="source_issued_month_valid",
            ),
            models.CheckConstraint(
                condition=Q(issued_day__isnull=True)
                | (Q(issued_month__isnull=False) & Q(issued_day__gte=1) & Q(issued_day__lte=31)),
                name="source_issued_day_valid",
            ),
        ]
        indexes = [
            # API lists with ?since=: rows changed after a library version, by version then id.
            models.Index(fields=["project", "library_version", "id"], name="source_project_synced"),
            # Bibliography filtered by type and year range.
            models.Index(fields=["project", "csl_type", "issued_year"], name="source_type_year"),
            models.Index(fields=["project", "issued_year"], name="source_project_year"),
            # Default ordering of the bibliography.
            models.Index(fields=["project", "title"], name="source_project_title"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("xref:source_detail", args=[self.project.slug, self.pk])

    def clean(self) -> None:
        year, month, day = self.issued_year, self.issued_month, self.issued_day
        # calendar (unlike datetime.date) knows the leap years before year 1 too.
        if (
            year is not None
            and month in range(1, 13)
            and day
            and day > calendar.monthrange(year, month)[1]
        ):
            raise ValidationError({"issued_day": "This day does not exist in that month."})

    @property
    def issued_display(self) -> str:
        """The issued date as precisely as it is known: 2016, 2016-12 or 2016-12-01."""
        if self.issued_year is None:
            return ""
        parts = [f"{self.issued_year:04d}"]
        if self.issued_month:
            parts.append(f"{self.issued_month:02d}")
            if self.issued_day:
                parts.append(f"{self.issued_day:02d}")
        return "-".join(parts)

    def authors(self) -> list[Contributor]:
        # Uses the prefetched contributors when a list bundle loaded them.
        return [c for c in self.contributors.all() if c.role == ContributorRole.AUTHOR]

    def add_contributor(self, person: Person, *, role: str = ContributorRole.AUTHOR) -> Contributor:
        last = self.contributors.filter(role=role).aggregate(models.Max("position"))
        position = (last["position__max"] or 0) + 1
        return Contributor.objects.create(source=self, person=person, role=role, position=position)

    def add_identifier(self, scheme: str, value: str) -> SourceIdentifier:
        identifier, _ = SourceIdentifier.objects.get_or_create(
            source=self, scheme=scheme, value=normalise_identifier(scheme, value)
        )
        return identifier

    def set_contributors(self, contributors: Iterable[tuple[Person, str]]) -> None:
        """Replace the contributors by (person, role) pairs in the order the source lists them;
        positions count from 1 within each role."""
        stamp(Source, self.pk, self.project_id)
        self.contributors.all().delete()
        positions: dict[str, int] = {}
        rows = []
        for person, role in contributors:
            positions[role] = positions.get(role, 0) + 1
            rows.append(
                Contributor(source=self, person=person, role=role, position=positions[role])
            )
        Contributor.objects.bulk_create(rows)

    def set_identifiers(self, identifiers: Iterable[tuple[str, str]]) -> None:
        """Replace the identifiers by (scheme, value) pairs, values in normal form."""
        stamp(Source, self.pk, self.project_id)
        self.identifiers.all().delete()
        SourceIdentifier.objects.bulk_create(
            SourceIdentifier(source=self, scheme=scheme, value=normalise_identifier(scheme, value))
            for scheme, value in identifiers
        )

    # What another record of the same work may fill in where this one is blank.
    COMPLETABLE = [
        "title_short", "container_title", "collection_title", "publisher", "publisher_place",
        "genre", "edition", "volume", "issue", "page", "language", "abstract", "url",
        "accessed", "full_text",
    ]  # fmt: skip

    def complete_with(
        self,
        *,
        fields: dict,
        identifiers: Iterable[tuple[str, str]] = (),
        contributors: Iterable[tuple[Person, str]] = (),
        extra: dict | None = None,
        by=None,
    ) -> None:
        """Fill in what this source lacks from another record of the same work: blank fields,
        the date's missing parts, identifiers, contributors and extra data. Nothing recorded
        here is overwritten. Call inside a transaction with the row locked."""
        for name in self.COMPLETABLE:
            value = fields.get(name)
            if value not in (None, "") and getattr(self, name) in (None, ""):
                setattr(self, name, value)
        year, month, day = (fields.get(f"issued_{part}") for part in ("year", "month", "day"))
        if self.issued_year is None:
            self.issued_year, self.issued_month, self.issued_day = year, month, day
        elif self.issued_year == year and self.issued_month is None:
            self.issued_month, self.issued_day = month, day
        elif (self.issued_year, self.issued_month) == (year, month) and self.issued_day is None:
            self.issued_day = day
        self.extra = _merged(extra or {}, self.extra or {})
        self.version += 1
        self.updated_by = by
        self.save()
        have = set(self.identifiers.values_list("scheme", "value"))
        SourceIdentifier.objects.bulk_create(
            SourceIdentifier(source=self, scheme=scheme, value=value)
            for scheme, value in dict.fromkeys(identifiers)
            if (scheme, value) not in have
        )
        listed = set(self.contributors.values_list("person_id", "role"))
        for person, role in contributors:
            if (person.pk, role) not in listed:
                self.add_contributor(person, role=role)
                listed.add((person.pk, role))

    def merge_into(self, kept: Source, *, by=None) -> Source:
        """Fold this source into `kept` (the same work recorded twice) and delete it.

        Its passages, the mentions citing it as a work, its contributors, identifiers, extra
        data and whatever `kept` leaves blank move over, in one transaction with both rows
        locked. Returns `kept` as saved.
        """
        if kept.pk == self.pk or kept.project_id != self.project_id:
            raise ValueError("A source is merged into another source of the same project.")
        with transaction.atomic():
            version = bump(self.project_id)  # before the rows' locks, as every writer
            locked = Source.objects.select_for_update().filter(pk__in=[self.pk, kept.pk])
            rows = {source.pk: source for source in locked.order_by("pk")}
            if len(rows) != 2:
                raise Source.DoesNotExist("One of the sources no longer exists.")
            gone, kept = rows[self.pk], rows[kept.pk]
            now = timezone.now()
            # Annotations and mentions belong to a higher app: reached through reverse
            # accessors. Text positions count in the source's stored text, so they stay
            # valid only when the passages keep the same text.
            passages = gone.annotations.all()
            if gone.full_text and not kept.full_text:
                # The kept record takes the other's text with every version of it, so the
                # passages moving over keep counting in the version they were placed in.
                gone.texts.update(source=kept)
                kept.text_version = gone.text_version
                # Bumping updated_at renews the caches keyed on a project's latest edit.
                passages.update(source=kept, updated_at=now, library_version=version)
            elif gone.full_text in ("", kept.full_text):
                # No text to place them in, or the same words: their offsets hold in the kept
                # record's current version.
                passages.filter(start__isnull=False).update(anchored_version=kept.text_version)
                passages.update(source=kept, updated_at=now, library_version=version)
            else:
                for passage in passages:
                    passage.anchor_in(kept.full_text, kept.text_version)
                    passage.source = kept
                    passage.save(update_fields=["source", *passage.ANCHOR_FIELDS, "updated_at"])
            citing = gone.cited_in.all()
            # A passage citing the same person with both records keeps one mention.
            twin = kept.cited_in.filter(
                annotation=OuterRef("annotation"), person=OuterRef("person")
            )
            citing.filter(Exists(twin)).delete()
            gone.annotations.model.objects.filter(pk__in=citing.values("annotation_id")).update(
                updated_at=now, library_version=version
            )
            citing.update(work=kept)
            contributors = [
                (c.person, c.role)
                for c in gone.contributors.select_related("person").order_by("role", "position")
            ]
            kept.complete_with(
                fields={name: getattr(gone, name) for name in [*self.COMPLETABLE]}
                | {
                    "issued_year": gone.issued_year,
                    "issued_month": gone.issued_month,
                    "issued_day": gone.issued_day,
                },
                identifiers=list(gone.identifiers.values_list("scheme", "value")),
                contributors=contributors,
                extra=gone.extra,
                by=by,
            )
            gone.delete(merged_into=kept.pk)
        # The stored approved-evidence counts of claims count evidence per claim, which a
        # merge of sources does not change; nothing else derived needs refreshing.
        return kept

    def references(self) -> list[str]:
        """What still points at this source, e.g. "3 annotations (excerpts)"; a source is
        deleted only when this is empty. Its own contributors and identifiers do not count."""
        # Annotations and mentions belong to a higher app: reached through reverse accessors.
        excerpts = self.annotations.count()
        citing = self.cited_in.values("annotation").distinct().count()
        found = []
        if excerpts:
            found.append(
                ngettext("%(n)d annotation (excerpt)", "%(n)d annotations (excerpts)", excerpts)
                % {"n": excerpts}
            )
        if citing:
            found.append(
                ngettext(
                    "%(n)d annotation (citing it as a work)",
                    "%(n)d annotations (citing it as a work)",
                    citing,
                )
                % {"n": citing}
            )
        return found

    @property
    def text_direction(self) -> str:
        """ "rtl" for sources in right-to-left languages, else "auto" (the browser decides)."""
        primary = self.language.split("-")[0].lower()
        return (
            "rtl" if primary in {"ar", "fa", "he", "ur", "ps", "yi", "ku", "sd", "dv"} else "auto"
        )


class TextOrigin(models.TextChoices):
    PASTED = "pasted", "Pasted or typed"
    TXT = "txt", "Plain text file"
    HTML = "html", "HTML file"
    PDF = "pdf", "PDF file"
    IMPORTED = "imported", "Imported"


class SourceText(models.Model):
    """One version of a source's full text. The newest is copied to `Source.full_text`;
    annotation offsets count code points in the version named by `Annotation.anchored_version`.
    """

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="texts")
    version = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    # Where each page starts: [[offset, label], ...] in text order (PDFs; empty otherwise).
    pages = models.JSONField(default=list, blank=True)
    origin = models.CharField(max_length=10, choices=TextOrigin.choices)
    filename = models.CharField(max_length=255, blank=True)
    comment = models.CharField(
        max_length=300, blank=True, help_text="What changed, e.g. “fixed OCR errors on p. 12”."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["source", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "version"], name="source_text_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="source_text_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} v{self.version}"

    def page_label_at(self, offset: int) -> str:
        """The label of the page holding `offset` ("" when the text has no pages)."""
        return page_label_at(self.pages, offset)


def page_label_at(pages: list, offset: int) -> str:
    label = ""
    for start, name in pages:
        if start > offset:
            break
        label = name
    return label


def _merged(theirs: dict, ours: dict) -> dict:
    """`ours` with what only `theirs` has added, nested dictionaries merged the same way."""
    merged = dict(theirs)
    for key, value in ours.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


class SourceIdentifier(SyncedPart):
    sync_owner = "source"
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.CharField(max_length=20, choices=IdentifierScheme.choices)
    # Stored in normal form (see identifiers.normalise_identifier) so duplicates are found by
    # equality.
    value = models.CharField(max_length=2000)

    class Meta:
        ordering = ["scheme", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "scheme", "value"], name="identifier_unique_per_source"
            ),
            models.CheckConstraint(
                condition=Q(scheme__in=IdentifierScheme.values), name="identifier_scheme_valid"
            ),
            models.CheckConstraint(condition=~Q(value=""), name="identifier_value_set"),
        ]
        indexes = [
            # Duplicate detection on import: which source already carries this DOI/ISBN?
            models.Index(fields=["scheme", "value"], name="identifier_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.value}"

    def clean(self) -> None:
        # The admin and imports reach rows without the curation form: normalise here too, so
        # nothing malformed (or a javascript: "URL") is ever stored.
        if self.scheme and self.value:
            try:
                self.value = normalise_identifier(self.scheme, self.value)
            except ValueError as error:
                raise ValidationError({"value": str(error)}) from None

    @property
    def link(self) -> str:
        if self.scheme == IdentifierScheme.DOI:
            return f"https://doi.org/{self.value}"
        if self.scheme == IdentifierScheme.URL:
            return self.value if self.value.startswith(("http://", "https://")) else ""
        if self.scheme == IdentifierScheme.OPENALEX:
            return f"https://openalex.org/{self.value}"
        return ""


class Contributor(SyncedPart):
    """A person's role on a source, in the order the source lists them."""

    sync_owner = "source"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="contributors")
    person = models.ForeignKey(Person, on_delete=models.RESTRICT, related_name="contributions")
    role = models.CharField(
        max_length=30, choices=ContributorRole.choices, default=ContributorRole.AUTHOR
    )
    position = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["source", "role", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "role", "position"], name="contributor_position_unique"
            ),
            models.UniqueConstraint(
                fields=["source", "person", "role"], name="contributor_person_role_unique"
            ),
            models.CheckConstraint(
                condition=Q(role__in=ContributorRole.values), name="contributor_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_role_display()}) — {self.source}"

    def clean(self) -> None:
        if self.source_id and self.person_id and self.source.project_id != self.person.project_id:
            raise ValidationError({"person": "The person belongs to another project."})

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.accounts.models import Membership, Project
from apps.accounts.policy import visible_annotations_q
from apps.claims.models import Claim
from apps.library.models import Source


class Kind(models.TextChoices):
    """What a search result is, in the order the results page lists them."""

    PASSAGE = "passage", "Passages"
    CLAIM = "claim", "Claims"
    SOURCE = "source", "Sources"
    PERSON = "person", "People"
    CONCEPT = "concept", "Concepts"


class DocumentQuerySet(models.QuerySet):
    def visible_to(self, membership: Membership) -> DocumentQuerySet:
        """What the member may find: passages by the annotation rule of the access policy
        (withdrawn ones never), claims as the claim list shows them, and every source, person
        and concept of the project."""
        passages = Q(kind=Kind.PASSAGE) & visible_annotations_q(membership)
        claims = Q(kind=Kind.CLAIM, object_id__in=Claim.objects.visible_to(membership).values("pk"))
        others = Q(kind__in=[Kind.SOURCE, Kind.PERSON, Kind.CONCEPT])
        return self.filter(project_id=membership.project_id).filter(passages | claims | others)


class Document(models.Model):
    """One searchable row of another app, copied here by database triggers.

    Rows are written only by the triggers that `apps.search.backends` installs on the tables
    they come from (so every write path — forms, imports with bulk_create, QuerySet.update(),
    merges, deletes, raw SQL — keeps the index current) and by `rebuild_search_index`. Django
    code never saves them.

    The text lives in three fields, by weight:

    | kind    | lead            | body                      | bulk      |
    |---------|-----------------|---------------------------|-----------|
    | passage | quote           | note (Markdown source)    |           |
    | claim   | statement       |                           |           |
    | source  | title           | abstract                  | full text |
    | person  | name (its key)  | name variants (their keys)|           |
    | concept | name            | definition                |           |

    People are indexed by `search_key`, the transliteration-insensitive key of people.names.
    The other columns are what visibility and the facets need, copied so that a search reads
    one table: a passage's source, its source's type and year, its status, author and
    withdrawal. On PostgreSQL the table also has a generated `vector` column (tsvector) with
    GIN indexes; on SQLite an FTS5 table `search_text` indexes lead, body and bulk. Neither is
    a model field: they exist on one backend only.

    The foreign keys carry no database constraint and do nothing on delete: the triggers
    remove a row when its original goes, and Django's delete collector must not query the
    index whenever another app deletes something.
    """

    project = models.ForeignKey(
        Project, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.BigIntegerField()
    # For passages their source, for sources themselves: what the source type and year facets
    # and the triggers that copy a source's type and year to its passages use.
    source = models.ForeignKey(
        Source,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    csl_type = models.CharField(max_length=30, blank=True)
    year = models.SmallIntegerField(null=True)
    # Passages only: what visibility and the status and analyst facets need.
    status = models.CharField(max_length=20, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(null=True)
    lead = models.TextField(blank=True)
    body = models.TextField(blank=True)
    bulk = models.TextField(blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        constraints = [
            # The triggers upsert on it; one row per original.
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=Kind.values), name="search_document_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.object_id}"

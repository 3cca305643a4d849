"""The library version of a project: what API clients sync by (Zotero's model, made atomic).

Every write to a project's synced rows — sources, people, claims, concepts, annotations and
the parts shown with them (contributors, identifiers, name variants, relations, evidence,
mentions, concept links, review status) — takes the project's next version, in the same
transaction, with one statement:

    UPDATE accounts_project SET library_version = library_version + 1 … RETURNING …

The row lock that UPDATE takes is held until the transaction ends, so two writers never get
the same number and versions commit in their order: a client that read version V and then the
rows has seen every change numbered V or lower. A transaction takes one number, however many
rows it writes (the memo below); each row it changes is stamped with it (`library_version`).
A deleted, merged or withdrawn object leaves a Tombstone with the same number.

Writers take the number first (Versioned.editing, transitions, merges do), before locking
their own rows, so every writer locks the project row before any other: two writers never wait
for each other in a circle.

Paths that write without save() (bulk_create, QuerySet.update) stamp the rows themselves with
`bump()`; grep for `library_version` to find them. Deleting a whole project through a queryset
writes no tombstones (there is nothing left to sync).
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models import OuterRef, Subquery

# What a new project and rows written before versions existed carry: a first sync (since=0)
# sees all of them.
FIRST_VERSION = 1


class _Taken:
    """The number a transaction took for a project, and the rows it stamped with it.

    Registered as an on_commit callback: Django drops it when the transaction (or the savepoint
    it was taken in) rolls back, and runs it on commit, so while it is still queued the number
    is this transaction's.
    """

    def __init__(self, version: int, key: Any) -> None:
        self.version = version
        self.key = key
        self.stamped: set[tuple[str, int]] = set()
        self.done = False

    def __call__(self) -> None:
        self.done = True


def _transaction_key(connection) -> Any:
    """Which application transaction is open: None outside one. Test cases wrap each test in
    atomic blocks of their own, so the application's outermost block is the first after them
    (its savepoint's name is unique on the connection)."""
    blocks = connection.atomic_blocks
    outer = 0
    while outer < len(blocks) and getattr(blocks[outer], "_from_testcase", False):
        outer += 1
    if outer >= len(blocks):
        return None
    if outer == 0:
        return "transaction"
    return connection.savepoint_ids[outer - 1]


def _memo(connection) -> dict[int, _Taken]:
    memo = getattr(connection, "_citemap_library_versions", None)
    if memo is None:
        memo = connection._citemap_library_versions = {}
    return memo


def _current(connection, project_id: int) -> _Taken | None:
    key = _transaction_key(connection)
    taken = _memo(connection).get(project_id)
    if (
        key is None
        or taken is None
        or taken.done
        or taken.key != key
        or not any(entry[1] is taken for entry in connection.run_on_commit)
    ):
        return None
    return taken


def take(project_id: int, using: str = DEFAULT_DB_ALIAS) -> _Taken:
    connection = transaction.get_connection(using)
    taken = _current(connection, project_id)
    if taken is not None:
        return taken
    from apps.accounts.models import Project

    table = connection.ops.quote_name(Project._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET library_version = library_version + 1 WHERE id = %s "  # noqa: S608
            "RETURNING library_version",
            [project_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Project.DoesNotExist(f"No project {project_id}.")
    taken = _Taken(row[0], _transaction_key(connection))
    if taken.key is not None:
        transaction.on_commit(taken, using=using)
        _memo(connection)[project_id] = taken
    return taken


def bump(project_id: int, using: str = DEFAULT_DB_ALIAS) -> int:
    """The project's version for this transaction's writes: the next one, taken once."""
    return take(project_id, using).version


def hold(project_id: int, using: str = DEFAULT_DB_ALIAS) -> None:
    """The project row's lock, without a new version: for a step that reads what it then adds
    to (the co-citation tallies) in a transaction that may not have taken the version, so it is
    ordered with the project's other writers. Costs nothing when this transaction took it."""
    connection = transaction.get_connection(using)
    if _current(connection, project_id) is not None:
        return
    from apps.accounts.models import Project

    # The lock `take`'s UPDATE takes (FOR NO KEY UPDATE: rows referring to the project can still
    # be inserted meanwhile). SQLite ignores it: it runs one writing transaction at a time.
    rows = Project.objects.using(using).select_for_update(no_key=True).filter(pk=project_id)
    list(rows.values("pk"))


def stamp(model: type[models.Model], pk: int, project_id: int) -> int:
    """Mark one row of `model` as changed by this transaction (an UPDATE unless this
    transaction has stamped it already)."""
    taken = take(project_id)
    label = model._meta.label
    if (label, pk) not in taken.stamped:
        model._base_manager.filter(pk=pk).update(library_version=taken.version)
        taken.stamped.add((label, pk))
    return taken.version


def project_version(project_ref: str = "project_id") -> Subquery:
    """The project's current version as an expression, for QuerySet.update() after `bump()`
    in the same transaction (then it is this transaction's number)."""
    from apps.accounts.models import Project

    return Subquery(Project.objects.filter(pk=OuterRef(project_ref)).values("library_version")[:1])


class Synced(models.Model):
    """A row API clients sync: stamped with the project version that last changed it, and
    leaving a tombstone when deleted. Each save and delete is a transaction with its stamp (no
    savepoint of its own inside a caller's transaction: an error there fails the caller's
    block, as it would without this)."""

    library_version = models.PositiveBigIntegerField(
        default=FIRST_VERSION,
        editable=False,
        help_text="The project's library version of the last change to this row.",
    )

    # The tombstone kind (apps.accounts.models.SyncedKind) of this model.
    sync_kind: str = ""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.get("using") or DEFAULT_DB_ALIAS
        if self.project_id is None:  # the database refuses it as before (NOT NULL)
            return super().save(*args, **kwargs)
        with transaction.atomic(using=using, savepoint=False):
            taken = take(self.project_id, using)
            self.library_version = taken.version
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "library_version"}
            super().save(*args, **kwargs)
            taken.stamped.add((self._meta.label, self.pk))

    def delete(self, *args: Any, merged_into: int | None = None, **kwargs: Any) -> Any:
        """Delete the row and leave its tombstone (`merged_into`: the row it was folded into),
        in one transaction."""
        from apps.accounts.models import Tombstone, TombstoneReason

        using = kwargs.get("using") or DEFAULT_DB_ALIAS
        reason = TombstoneReason.DELETED if merged_into is None else TombstoneReason.MERGED
        # A savepoint: a delete the database refuses (RESTRICT) takes its tombstone back and
        # leaves the caller's transaction usable (delete_if_unreferenced goes on to say why).
        with transaction.atomic(using=using):
            Tombstone.record(self, reason, merged_into=merged_into)
            return super().delete(*args, **kwargs)

    def sync_audience(self) -> tuple[bool, int | None]:
        """(whether readers of approved work only could see it, its author): who may learn it
        is gone. Sources, people and concepts are everybody's."""
        return True, None


class SyncedPart(models.Model):
    """A row shown inside a synced one (a source's contributor, a person's variant…): saving
    or deleting it stamps its owner. `sync_owner` names the foreign key to the owner."""

    sync_owner: str = ""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic(using=kwargs.get("using") or DEFAULT_DB_ALIAS, savepoint=False):
            super().save(*args, **kwargs)
            self._stamp_owner()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(using=kwargs.get("using") or DEFAULT_DB_ALIAS, savepoint=False):
            self._stamp_owner()
            return super().delete(*args, **kwargs)

    def _stamp_owner(self) -> None:
        field = self._meta.get_field(self.sync_owner)
        owner_id = getattr(self, field.attname)
        owner_model = field.related_model
        cached = field.get_cached_value(self, default=None)
        if cached is not None:
            project = cached.project_id
        else:
            rows = owner_model._base_manager.filter(pk=owner_id)
            project = rows.values_list("project_id", flat=True).first()
        if project is not None:
            stamp(owner_model, owner_id, project)

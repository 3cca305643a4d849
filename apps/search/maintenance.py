"""Installing the index beside the database schema, and rebuilding it."""

from __future__ import annotations

import time

from django.db import connections, transaction

from apps.search.backends import backend_for
from apps.search.models import Document


def install(using: str = "default", *, rebuild: bool = False) -> bool:
    """Make sure the index's database objects exist and are current; rebuild the documents
    when they were not (or when asked). Returns whether the documents were rebuilt."""
    connection = connections[using]
    if Document._meta.db_table not in connection.introspection.table_names():
        return False  # migrated back before search, or not yet migrated
    backend = backend_for(connection)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        outdated = backend.install(cursor)
        if outdated or rebuild:
            backend.rebuild(cursor)
    return outdated or rebuild


def install_after_migrate(*, using: str = "default", verbosity: int = 1, stdout=None, **kwargs):
    started = time.perf_counter()
    rebuilt = install(using)
    if rebuilt and verbosity >= 1 and stdout is not None:
        stdout.write(
            f"  Search index installed and rebuilt ({time.perf_counter() - started:.1f} s)\n"
        )

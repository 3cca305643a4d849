"""The search index on each database, behind one small interface.

A backend is a module with:

- `install(cursor) -> bool`: create or update what the index needs beside search_document
  (PostgreSQL: a fold function, the tsvector column, GIN indexes and triggers; SQLite: an FTS5
  table and triggers). True when something was missing or changed: then `rebuild`.
- `rebuild(cursor)`: index every row again.
- `uninstall(cursor)`: remove it all (before search_document goes).
- `candidates(documents, query, mode, columns, limit)`: SQL for at most `limit` of a
  queryset of documents that match, with their relevance as the column "score" (higher is
  better); None when the query has nothing to look for.
- `highlights(cursor, ids, query)`: {document id: (lead, body, bulk)} with the matching words
  between snippets.START and snippets.STOP.
"""

from __future__ import annotations

from types import ModuleType

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from apps.search.backends import postgresql, sqlite

BACKENDS = {"postgresql": postgresql, "sqlite": sqlite}


def backend_for(connection: BaseDatabaseWrapper | None = None) -> ModuleType:
    connection = connection or connections["default"]
    try:
        return BACKENDS[connection.vendor]
    except KeyError:
        raise ImproperlyConfigured(
            f"Search supports SQLite and PostgreSQL, not {connection.vendor}."
        ) from None

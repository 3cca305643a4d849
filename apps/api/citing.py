"""`?include=citation&style=apa|chicago|mla` on sources: each source of the answer formatted as
its page shows it, through the same cache (apps.library.citations.cached_citations). The
sources' names and identifiers are read for the whole page at once (three queries), and the
entries the cache lacks are formatted alone, so each stands by itself as on the source's page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from django.db.models import Prefetch
from ninja import Query

from apps.library.citations import STYLE_NAMES, cached_citations, csl_item
from apps.library.models import Contributor, Source

IncludeParam = Query(
    None,
    description="`citation`: each source also carries `citation`, formatted in `style` (HTML, "
    "as the source's page shows it).",
)
StyleParam = Query("apa", description="The citation style of `include=citation`.")
Include = Literal["citation"] | None
StyleName = Literal["apa", "chicago", "mla"]


def citations(pks: Iterable[int], style: StyleName) -> dict[int, str]:
    """The formatted citation of each source, by id."""
    sources = list(
        Source.objects.filter(pk__in=list(pks))
        .defer("full_text", "extra")
        .prefetch_related(
            "identifiers",
            Prefetch("contributors", queryset=Contributor.objects.select_related("person")),
        )
    )
    chosen = STYLE_NAMES[style]
    entries = cached_citations([(csl_item(source), chosen) for source in sources])
    return {source.pk: entry for source, entry in zip(sources, entries, strict=True)}


def citing(shape: Callable[[list], list[dict]], style: StyleName) -> Callable[[list], list[dict]]:
    """`shape` (a page's rows as dicts), each dict with its source's citation."""

    def shaped(rows: list) -> list[dict]:
        out = shape(rows)
        found = citations([row["id"] for row in out], style)
        for row in out:
            row["citation"] = found[row["id"]]
        return out

    return shaped

"""Pages about the whole project cost the same whatever its size: they read tallies (or a
ranking computed once per change of the data), never an aggregate over all its passages."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.annotations.models import Annotation, ReviewAction

# The tables that grow with the project's passages.
PASSAGE_TABLES = re.compile(
    r'"annotations_(annotation|evidence|mention|annotation_concepts)"(?![a-z_])'
)
AGGREGATE = re.compile(r"\b(COUNT|SUM)\(|GROUP BY")
# What bounds an aggregate: a list of ids, or one row's own links (one source, one author…).
BOUNDED = re.compile(
    r"\bIN \((\d|')"
    r'|"(author_id|source_id|person_id|claim_id|concept_id|annotation_id|work_id)" = \d'
)


def whole_project_aggregates(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries
        if PASSAGE_TABLES.search(query["sql"])
        and AGGREGATE.search(query["sql"])
        and not BOUNDED.search(query["sql"])
    ]


def test_the_detector_finds_a_whole_project_count(cast):
    with CaptureQueriesContext(connection) as queries:
        Annotation.objects.filter(project=cast.project).count()
        Annotation.objects.filter(source_id__in=[1, 2]).count()
    assert len(whole_project_aggregates(queries.captured_queries)) == 1


PAGES = {
    "project home": "/p/review/",
    "concepts": "/p/review/concepts/",
    "matrix": "/p/review/matrix/",
    "matrix, people": "/p/review/matrix/?cols=people",
    "matrix, claims": "/p/review/matrix/?cols=claims",
    "matrix, by title": "/p/review/matrix/?sort=title",
    "matrix, 200 x 60": "/p/review/matrix/?per_page=200&limit=60",
    "matrix, everything": "/p/review/matrix/?scope=visible",
    "co-citation": "/p/review/cocitation/",
    "co-citation of works, page 2": "/p/review/cocitation/?kind=works&page=2",
    "co-citation, strong pairs": "/p/review/cocitation/?minimum=2",
}


@pytest.mark.parametrize("role", ["student", "supervisor"])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_project_wide_pages_read_no_aggregate_of_all_passages(cast, client_for, grow, role, page):
    grow(10)
    client = client_for(getattr(cast, role))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGES[page]).status_code == 200
    assert whole_project_aggregates(queries.captured_queries) == []


def mention_rankings(queries) -> list[str]:
    """Aggregates over the mentions (an analyst's own drafts bound them by author only)."""
    return [
        q["sql"]
        for q in queries
        if "annotations_mention" in q["sql"] and AGGREGATE.search(q["sql"])
    ]


def test_co_citation_ranks_an_analysts_view_once_per_change(cast, client_for, grow):
    # An analyst sees their own drafts too, which no shared tally counts: their pairs are
    # ranked from the mentions, once per change (students and supervisors read the tallies).
    grow(10)
    client = client_for(cast.analyst)
    url = "/p/review/cocitation/"
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    assert mention_rankings(first.captured_queries)  # ranked now…
    with CaptureQueriesContext(connection) as second:
        client.get(url)
        client.get(f"{url}?page=2")
    assert mention_rankings(second.captured_queries) == []  # …and read after
    # A review decision changes the data: ranked again, once.
    Annotation.objects.filter(project=cast.project, status="approved").first().transition(
        ReviewAction.REOPEN, by=cast.supervisor, reason="other", comment="Again."
    )
    with CaptureQueriesContext(connection) as third:
        client.get(url)
        client.get(url)
    # ranked by the first of the two requests only
    assert len(mention_rankings(third.captured_queries)) == len(
        mention_rankings(first.captured_queries)
    )


@pytest.mark.parametrize("role", ["student", "supervisor"])
def test_co_citation_after_a_write_reads_the_tallies(cast, client_for, grow, role):
    grow(10)
    client = client_for(getattr(cast, role))
    url = "/p/review/cocitation/"
    client.get(url)
    Annotation.objects.filter(project=cast.project, status="approved").first().transition(
        ReviewAction.REOPEN, by=cast.supervisor, reason="other", comment="Again."
    )
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    # The first request after the write costs what any does: no ranking over the mentions.
    assert mention_rankings(first.captured_queries) == []
    assert whole_project_aggregates(first.captured_queries) == []

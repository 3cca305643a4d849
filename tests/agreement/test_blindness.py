"""While an assignment is open a coder never sees a co-coder's passages in its sources: not in
pages, lists, search, the matrix, the map, exports or the API. After resolution they appear.
Supervisors see none of the coders' passages there either until every coder is done."""

import csv
import io
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.agreement import coding
from apps.agreement.models import Unit
from tests import factories
from tests.agreement.conftest import MARK, SECRET, TEXT, Round, span


def pages(r, project="review"):
    source, claim, person, concept = r.source.pk, r.claim.pk, r.person.pk, r.concept.pk
    return [
        reverse("xref:project_home", args=[project]),
        reverse("xref:source_detail", args=[project, source]),
        reverse("annotations:source_read", args=[project, source]),
        reverse("annotations:annotation_list", args=[project]),
        reverse("annotations:annotation_list", args=[project]) + "?scope=approved",
        reverse("search:search", args=[project]) + "?q=" + MARK,
        reverse("xref:matrix", args=[project]) + "?rows=sources&cols=claims",
        reverse("xref:matrix_csv", args=[project]) + "?rows=sources&cols=people",
        reverse("xref:map", args=[project]),
        reverse("xref:map_gexf", args=[project]),
        reverse("xref:claim_detail", args=[project, claim]),
        reverse("xref:person_detail", args=[project, person]),
        reverse("xref:concept_detail", args=[project, concept]),
        reverse("webanno:annotations_export", args=[project]),
        reverse("webanno:source_annotations_export", args=[project, source]),
        reverse("qda:codebook_export", args=[project]),
    ]


def body(response) -> str:
    if response.streaming:
        text = b"".join(response.streaming_content).decode()
    else:
        text = response.content.decode()
    factories.close_response(response)
    return text


def test_a_coder_sees_nothing_of_a_co_coder_in_an_open_assignment(cast, client_for, co_coded):
    r, theirs = co_coded
    client = client_for(cast.analyst)
    link = f"/annotations/{theirs.pk}/"
    for url in pages(r):
        response = client.get(url)
        assert response.status_code == 200, url
        text = body(response)
        assert link not in text, url
        if "/search/" in url:  # the search box repeats what was asked
            assert "Nothing found" in text or "No results" in text or "0 results" in text
        else:
            assert MARK not in text, url
    # Opened directly, it is refused like any passage the member may not see.
    detail = reverse("annotations:annotation_detail", args=["review", theirs.pk])
    assert client.get(detail).status_code == 403
    passages = reverse("annotations:source_passages", args=["review", r.source.pk])
    assert MARK not in body(client.get(f"{passages}?ids={theirs.pk}"))


def test_the_api_hides_it_too(cast, co_coded):
    api = Client(HTTP_ACCEPT="application/json")
    api.force_login(cast.analyst)
    response = api.get("/api/v1/p/review/annotations/")
    assert response.status_code == 200
    assert MARK not in response.content.decode()


def test_others_see_what_the_policy_lets_them_see(cast, client_for, co_coded):
    r, _ = co_coded
    url = reverse("annotations:annotation_list", args=["review"])
    search = reverse("search:search", args=["review"]) + "?q=" + MARK
    assert f"/annotations/{co_coded[1].pk}/" in body(client_for(cast.analyst2).get(search))
    # Its author, an analyst who is not a coder, students (it is approved). Not supervisors
    # while the coders are at work (below).
    other = factories.make_user("analyst3")
    factories.add_member(cast.project, other, "analyst")
    for user in (cast.analyst2, other, cast.student):
        assert MARK in body(client_for(user).get(url)), user
    assert MARK not in body(client_for(cast.supervisor).get(url))


def test_it_appears_once_compared_and_resolved(cast, client_for, co_coded):
    r, _ = co_coded
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=r.assignment, coder=coder)
    coding.compare(assignment=r.assignment, by=cast.supervisor)
    unit = Unit.objects.get(assignment=r.assignment, passages__quote=SECRET)
    coding.resolve(
        unit=unit, by=cast.supervisor, kind="picked", passage=unit.passages.get(quote=SECRET),
        seen_version=unit.version, reason="other", comment="Only one coder saw it; it stands.",
    )  # fmt: skip
    url = reverse("annotations:annotation_list", args=["review"])
    assert MARK in body(client_for(cast.analyst).get(url))


# --- Supervisors: progress counts, not content, until every coder is done ----------------------

DRAFT_MARK = "plumvortex"
OWN_MARK = "larkspindle"
OUTSIDE_MARK = "fernquill"


@dataclass
class AtWork:
    round: Round
    draft: object  # analyst's draft inside the assignment
    submitted: object  # analyst2's passage inside it, submitted for review
    own: object  # the supervisor's own passage on the assigned source
    outside: object  # analyst2's submitted passage on a source outside the assignment

    @property
    def hidden(self) -> list:
        return [self.draft, self.submitted]


@pytest.fixture
def at_work(cast, coding_round) -> AtWork:
    r = coding_round
    links = {"claims": [r.claim], "people": [r.person], "concepts": [r.concept]}
    start, end = span(TEXT, "Sayyid Qutb wrote")
    draft = factories.make_annotation(
        r.source, cast.analyst, quote=f"Qutb {DRAFT_MARK}", start=start, end=end, **links
    )
    start, end = span(TEXT, "Crenshaw reminds us")
    submitted = factories.make_annotation(
        r.source, cast.analyst2, status="submitted", quote=SECRET, start=start, end=end, **links
    )
    start, end = span(TEXT, "Naji planned")
    own = factories.make_annotation(
        r.source, cast.supervisor, quote=f"Naji {OWN_MARK}", start=start, end=end, **links
    )
    elsewhere = factories.make_source(cast.project, "Another article")
    outside = factories.make_annotation(
        elsewhere, cast.analyst2, status="submitted", quote=f"Outside {OUTSIDE_MARK}", **links
    )
    return AtWork(r, draft, submitted, own, outside)


def supervisor_pages(r, project="review"):
    """Every place of `pages` and those only supervisors have: the review queue, withdrawn
    passages, the API's list, and the search for each coder's words."""
    return [
        *pages(r, project),
        reverse("search:search", args=[project]) + "?q=" + DRAFT_MARK,
        reverse("review:queue", args=[project]),
        reverse("review:withdrawn", args=[project]),
        "/api/v1/p/review/annotations/",
    ]


def walk(client, r, hidden, *, shown=()):
    """Each page answers, no hidden passage is on it, every `shown` one is where it should."""
    for url in supervisor_pages(r):
        response = client.get(url)
        assert response.status_code == 200, url
        text = body(response)
        for annotation in hidden:
            assert f"/annotations/{annotation.pk}/" not in text, url
        searched = "?q=" in url
        if not searched:
            assert MARK not in text and DRAFT_MARK not in text, url
    for annotation in hidden:
        detail = reverse("annotations:annotation_detail", args=["review", annotation.pk])
        assert client.get(detail).status_code == 403
        # The reading view's cards of a place: none of these is the member's to see.
        cards = reverse("annotations:source_passages", args=["review", r.source.pk])
        assert client.get(f"{cards}?ids={annotation.pk}").status_code == 404
    listed = body(client.get(reverse("annotations:annotation_list", args=["review"])))
    for annotation in shown:
        assert f"/annotations/{annotation.pk}/" in listed


def test_a_supervisor_sees_no_coder_passage_while_the_coders_work(cast, client_for, at_work):
    w = at_work
    client = client_for(cast.supervisor)
    walk(client, w.round, w.hidden, shown=[w.own, w.outside])
    # Their own passage on the assigned source, and other work, as always.
    reader = body(
        client.get(reverse("annotations:source_read", args=["review", w.round.source.pk]))
    )
    assert OWN_MARK in reader
    search = reverse("search:search", args=["review"]) + "?q=" + OUTSIDE_MARK
    assert f"/annotations/{w.outside.pk}/" in body(client.get(search))
    # The coders' progress, in counts: the assignment page says how many each has coded.
    assignment = body(client.get(w.round.assignment.get_absolute_url()))
    assert MARK not in assignment and DRAFT_MARK not in assignment


def test_a_supervisor_cannot_decide_on_a_hidden_passage(cast, client_for, at_work):
    w = at_work
    client = client_for(cast.supervisor)
    url = reverse("annotations:annotation_approve", args=["review", w.submitted.pk])
    response = client.post(url, {"seen_version": w.submitted.version})
    assert response.status_code == 403
    api = Client(HTTP_ACCEPT="application/json")
    api.force_login(cast.supervisor)
    response = api.post(
        f"/api/v1/p/review/annotations/{w.submitted.pk}/transitions/",
        {"action": "approve", "version": w.submitted.version},
        content_type="application/json",
    )
    assert response.status_code == 404
    w.submitted.refresh_from_db()
    assert w.submitted.status == "submitted"


def test_counts_say_what_the_lists_show(cast, client_for, at_work):
    """The passages list's total, the queue's count and the project home's "waiting" count
    only what the supervisor is shown (the tallies count the hidden passages too)."""
    w = at_work
    client = client_for(cast.supervisor)
    listed = body(client.get(reverse("annotations:annotation_list", args=["review"])))
    assert "2 passages" in listed  # their own and the one outside the assignment
    queue = body(client.get(reverse("review:queue", args=["review"])))
    assert "1 waiting" in queue
    home = body(client.get(reverse("xref:project_home", args=["review"])))
    assert "1 annotation waits for your review" in home
    matrix = body(
        client.get(reverse("xref:matrix_csv", args=["review"]) + "?rows=sources&cols=concepts")
    )
    codebook = body(client.get(reverse("claims:concept_list", args=["review"])))
    assert 'coded with this concept">2</span>' in codebook  # their own and the one outside
    rows = {row["Title"]: row for row in csv.DictReader(io.StringIO(matrix))}
    # The assigned source: the supervisor's own passage only, in its total and in its cell.
    assert rows[w.round.source.title]["Passages"] == "1", matrix
    assert rows[w.round.source.title][w.round.concept.name] == "1", matrix


def test_one_coder_done_is_not_every_coder_done(cast, client_for, at_work):
    w = at_work
    coding.mark_done(assignment=w.round.assignment, coder=cast.analyst)
    walk(client_for(cast.supervisor), w.round, w.hidden)


def test_the_coders_passages_appear_once_every_coder_is_done(cast, client_for, at_work):
    w = at_work
    client = client_for(cast.supervisor)
    body(client.get(reverse("xref:map", args=["review"])))  # a ranking cached while blind
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=w.round.assignment, coder=coder)
    listed = body(client.get(reverse("annotations:annotation_list", args=["review"])))
    for annotation in (*w.hidden, w.own, w.outside):
        assert f"/annotations/{annotation.pk}/" in listed
    assert "4 passages" in listed
    assert "2 waiting" in body(client.get(reverse("review:queue", args=["review"])))
    detail = reverse("annotations:annotation_detail", args=["review", w.submitted.pk])
    assert client.get(detail).status_code == 200
    reader = body(
        client.get(reverse("annotations:source_read", args=["review", w.round.source.pk]))
    )
    assert MARK in reader and DRAFT_MARK in reader


def test_a_dropped_coder_ends_the_blindness_when_the_others_are_done(cast, client_for, at_work):
    w = at_work
    coding.mark_done(assignment=w.round.assignment, coder=cast.analyst)
    coding.drop_coder(assignment=w.round.assignment, coder=cast.analyst2)
    listed = body(
        client_for(cast.supervisor).get(reverse("annotations:annotation_list", args=["review"]))
    )
    assert f"/annotations/{w.submitted.pk}/" in listed


def page_queries(client, url) -> list[str]:
    """The SQL of a second request of `url` (the first fills the caches), read to the end."""
    body(client.get(url))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200, url
        body(response)
    return [query["sql"] for query in captured.captured_queries]


def test_supervisor_pages_cost_one_query_more_at_most_and_none_when_nothing_is_hidden(
    cast, client_for
):
    """Each page a supervisor opens: the same queries before any assignment and once every
    coder is done, none of them asking about coders; at most one more while the coders work.

    Measured (before / while the coders work / after): the project home 16 / 17 / 16 (the
    queue's count is counted, not read from the tally); a passage opened directly 9 / 10 / 9
    (decided for that one row); the matrix 11 / 8 / 11 (counted instead of read from the
    tallies); every other page the same, the passages list included (its total is counted
    instead of read, one query either way)."""
    source = factories.make_source(cast.project, "Coded", full_text=TEXT)
    other = factories.make_source(cast.project, "Not coded", full_text=TEXT)
    concept = factories.make_concept(cast.project, "Isolation")
    for coder in (cast.analyst, cast.analyst2):
        for where in (source, other):
            made = factories.make_annotation(where, coder, status="submitted", concepts=[concept])
    own = factories.make_annotation(source, cast.supervisor, concepts=[concept])
    r = Round(
        assignment=None, source=source, claim=factories.make_claim(cast.project, "A claim"),
        claim2=None, person=factories.make_person(cast.project, "Kaplan"), concept=concept,
    )  # fmt: skip
    client = client_for(cast.supervisor)
    urls = [
        *supervisor_pages(r),
        reverse("claims:concept_list", args=["review"]),
        reverse("claims:claim_list", args=["review"]),
        reverse("annotations:annotation_detail", args=["review", own.pk]),
        reverse("annotations:annotation_detail", args=["review", made.pk]),  # not coded
    ]
    before = {url: page_queries(client, url) for url in urls}
    assignment = coding.assign(
        project=cast.project, title="Round", ranges=[coding.Range(source)],
        coders=[cast.analyst, cast.analyst2], variables=["spans"], due_date=None, tolerance=5,
        by=cast.supervisor,
    )  # fmt: skip
    blind = {url: page_queries(client, url) for url in urls}
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=assignment, coder=coder)
    after = {url: page_queries(client, url) for url in urls}
    for url in urls:
        assert len(after[url]) == len(before[url]), url
        assert not any("agreement_assignmentcoder" in sql for sql in after[url] + before[url]), url
        assert len(blind[url]) <= len(before[url]) + 1, url
    listed = reverse("annotations:annotation_list", args=["review"])
    assert any("agreement_assignmentcoder" in sql for sql in blind[listed])


def test_what_supervisors_see_is_cached_apart_while_coders_work(cast, at_work):
    """The map's ranking and the co-citation lists are cached per what a member sees: a copy
    made while passages were hidden is not served once they are shown, nor the other way."""
    from apps.accounts.models import Membership
    from apps.xref.overview import visibility_key

    def key() -> str:
        return visibility_key(
            Membership.objects.select_related("project").get(user=cast.supervisor)
        )

    blind = key()
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=at_work.round.assignment, coder=coder)
    assert key() == "all" != blind

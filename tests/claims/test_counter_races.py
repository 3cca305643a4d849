"""Requests racing each other leave every stored count equal to a recount, and a name typed as
"new" twice at once makes one record.

Real concurrent transactions on separate connections, so PostgreSQL only (SQLite takes one
writer at a time: its transactions are IMMEDIATE). Each race holds the row the two requests
contend for until both are waiting on it, then lets them go; it is run in both orders.
"""

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from apps.accounts.models import Membership, Project
from apps.accounts.references import NewReference
from apps.annotations import tallies
from apps.annotations.models import Annotation, ClaimTally, ProjectTally, Status
from apps.claims.models import Claim
from apps.people.models import Person
from tests import factories
from tests.claims.test_claim_form import claim_data
from tests.conftest import BROWSER_ACCEPT

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs concurrent transactions (PostgreSQL)"
    ),
]


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL keeps showing the first snapshot of the activity.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def race(hold: Callable[[], object], *actions: Callable[[], object], stagger: float = 0.0):
    """Run `actions` in threads while this connection holds what `hold` locks; release it once
    all of them wait for it. `stagger` seconds between starts fixes who queues first."""
    results: list[object] = [None] * len(actions)

    def run(index: int, action: Callable[[], object]) -> None:
        try:
            results[index] = action()
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    with transaction.atomic():
        hold()
        for thread in threads:
            thread.start()
            time.sleep(stagger)
        deadline = time.monotonic() + 10
        while waiting_on_locks() < len(actions) and time.monotonic() < deadline:
            time.sleep(0.02)
        overlapped = waiting_on_locks()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(isinstance(r, Exception) for r in results), results
    return results, overlapped


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT=BROWSER_ACCEPT)
    client.force_login(user)
    return client


def assert_counts_equal_recounts(project: Project) -> None:
    def claim_tallies() -> set[tuple[int, ...]]:
        # A row of zeros and no row both count nothing (the recount writes no such rows).
        rows = ClaimTally.objects.filter(project=project).values_list(
            "pk", "approved", "visible", "approved_for", "approved_against"
        )
        return {row for row in rows if any(row[1:])}

    stored = dict(Claim.objects.filter(project=project).values_list("pk", "approved_evidence"))
    tallied = claim_tallies()
    waiting = ProjectTally.objects.get(project=project).waiting
    Claim.objects.filter(project=project).refresh_approved_evidence()
    tallies.recount(project)
    assert dict(Claim.objects.filter(project=project).values_list("pk", "approved_evidence")) == (
        stored
    )
    assert claim_tallies() == tallied
    assert ProjectTally.objects.get(project=project).waiting == waiting


def student(cast) -> Membership:
    return Membership.objects.get(project=cast.project, user=cast.student)


def lock_claim(claim: Claim) -> Callable[[], object]:
    return lambda: list(Claim.objects.select_for_update().filter(pk=claim.pk))


def edit_claim(cast, claim: Claim) -> Callable[[], object]:
    """The claim's edit form, posted with the version it was opened at: the view reads the
    claim (and its count) before it waits for the lock."""
    client = signed_in(cast.analyst)
    data = claim_data(statement="Edited while it was being reviewed", version=claim.version)
    return lambda: client.post(f"/p/review/claims/{claim.pk}/edit/", data).status_code


def review(cast, annotation: Annotation, action: str, **fields) -> Callable[[], object]:
    client = signed_in(cast.supervisor)
    url = f"/p/review/annotations/{annotation.pk}/{action}/"
    data = {"seen_version": annotation.version, **fields}
    return lambda: client.post(url, data).status_code


@pytest.mark.parametrize("edit_first", [True, False])
def test_a_claim_edit_racing_an_approval_keeps_the_count(cast, edit_first):
    claim = factories.make_claim(cast.project)
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(
        source, cast.analyst, status=Status.SUBMITTED, claims=[claim]
    )
    actions = [edit_claim(cast, claim), review(cast, annotation, "approve")]
    statuses, overlapped = race(
        lock_claim(claim), *(actions if edit_first else actions[::-1]), stagger=0.2
    )
    assert overlapped == 2
    assert statuses == [302, 302]
    claim.refresh_from_db()
    assert claim.statement == "Edited while it was being reviewed"
    assert claim.approved_evidence == 1
    assert Claim.objects.visible_to(student(cast)).filter(pk=claim.pk).exists()
    assert_counts_equal_recounts(cast.project)


@pytest.mark.parametrize("edit_first", [True, False])
def test_a_claim_edit_racing_a_reopening_keeps_the_count(cast, edit_first):
    claim = factories.make_claim(cast.project)
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor, claims=[claim]
    )
    reopen = review(cast, annotation, "reopen", reason="other", comment="Look again")
    actions = [edit_claim(cast, claim), reopen]
    _, overlapped = race(
        lock_claim(claim), *(actions if edit_first else actions[::-1]), stagger=0.2
    )
    assert overlapped == 2
    claim.refresh_from_db()
    assert Annotation.objects.get(pk=annotation.pk).status != Status.APPROVED
    assert claim.approved_evidence == 0
    assert not Claim.objects.visible_to(student(cast)).filter(pk=claim.pk).exists()
    assert_counts_equal_recounts(cast.project)


def test_a_claim_edit_racing_a_withdrawal_keeps_the_count(cast):
    claim = factories.make_claim(cast.project)
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor, claims=[claim]
    )
    _, overlapped = race(
        lock_claim(claim),
        review(cast, annotation, "withdraw"),
        edit_claim(cast, claim),
        stagger=0.2,
    )
    assert overlapped == 2
    assert Claim.objects.get(pk=claim.pk).approved_evidence == 0
    assert_counts_equal_recounts(cast.project)


def test_two_approvals_at_once_both_count(cast):
    claim = factories.make_claim(cast.project)
    source = factories.make_source(cast.project)
    first, second = (
        factories.make_annotation(source, author, status=Status.SUBMITTED, claims=[claim])
        for author in (cast.analyst, cast.analyst2)
    )
    statuses, overlapped = race(
        lock_claim(claim), review(cast, first, "approve"), review(cast, second, "approve")
    )
    assert overlapped == 2
    assert statuses == [302, 302]
    assert Annotation.objects.filter(status=Status.APPROVED).count() == 2
    assert Claim.objects.get(pk=claim.pk).approved_evidence == 2
    assert ClaimTally.objects.get(pk=claim.pk).approved == 2
    assert_counts_equal_recounts(cast.project)


def test_relinking_racing_an_approval_counts_both(cast):
    """One analyst links an approved passage to the claim while a supervisor approves another
    passage backing it."""
    claim = factories.make_claim(cast.project)
    source = factories.make_source(cast.project)
    linked = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor
    )
    pending = factories.make_annotation(
        source, cast.analyst2, status=Status.SUBMITTED, claims=[claim]
    )

    def relink() -> None:
        annotation = Annotation.objects.get(pk=linked.pk)
        with annotation.editing(by=cast.supervisor, loaded_version=annotation.version):
            annotation.save_content(
                evidence=[{"claim": claim, "stance": "supports"}],
                mentions=[],
                concepts=[],
                by=cast.supervisor,
            )

    _, overlapped = race(lock_claim(claim), relink, review(cast, pending, "approve"))
    assert overlapped == 2
    assert Claim.objects.get(pk=claim.pk).approved_evidence == 2
    assert_counts_equal_recounts(cast.project)


def lock_project(project: Project) -> Callable[[], object]:
    return lambda: list(Project.objects.select_for_update().filter(pk=project.pk))


def test_two_identical_new_links_at_once_make_one_claim_and_one_person(cast):
    source = factories.make_source(cast.project)
    passages = [factories.make_annotation(source, cast.analyst) for _ in range(2)]

    def link(annotation: Annotation, typed: str) -> Callable[[], object]:
        def save() -> None:
            with annotation.editing(by=cast.analyst, loaded_version=annotation.version):
                annotation.save_content(
                    evidence=[{"claim": NewReference(typed), "stance": "supports"}],
                    mentions=[{"person": NewReference(typed), "function": "mentioning"}],
                    concepts=[],
                    by=cast.analyst,
                )

        return save

    _, overlapped = race(
        lock_project(cast.project),
        link(passages[0], "Abu Musab al-Suri"),
        link(passages[1], "abu  musab al-suri"),
    )
    assert overlapped == 2
    assert Claim.objects.filter(project=cast.project).count() == 1
    assert Person.objects.filter(project=cast.project).count() == 1
    claim = Claim.objects.get(project=cast.project)
    assert set(claim.evidence.values_list("annotation_id", flat=True)) == {p.pk for p in passages}
    assert_counts_equal_recounts(cast.project)

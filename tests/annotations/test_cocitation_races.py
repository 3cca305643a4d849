"""Two transactions changing what one source cites at once both count in its pairs: the pair
step reads the source's cited rows before adding to them, under the project row's lock.

PostgreSQL only (SQLite runs one writing transaction at a time), on separate connections, with
the pattern of tests/claims/test_counter_races.py: this connection holds the project row until
both writers wait for it, then lets them go.
"""

import pytest
from django.db import connection, transaction

from apps.accounts.models import Project
from apps.annotations import tallies
from apps.annotations.models import Annotation, Mention, PairTally
from tests import factories
from tests.annotations.test_cocitation_tallies import assert_current
from tests.claims.test_counter_races import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs concurrent transactions (PostgreSQL)"
    ),
]


def lock_project(project: Project):
    # As a writer holds it: the lock of an UPDATE of the row (`bump`), which lets rows
    # referring to the project be inserted meanwhile.
    return lambda: list(Project.objects.select_for_update(no_key=True).filter(pk=project.pk))


def new_passage(source, author, person):
    """A passage citing `person`, saved as the annotation form saves a new one."""

    def save() -> int:
        annotation = Annotation(
            project=source.project, source=source, author=author, quote="Words.", locator="p. 1"
        )
        annotation.save_content(
            evidence=[],
            mentions=[{"person": person, "work": None, "function": "mentioning"}],
            concepts=[],
            by=author,
        )
        return annotation.pk

    return save


def test_two_passages_of_one_source_citing_different_people_make_their_pair(cast):
    source = factories.make_source(cast.project)
    qutb, naji = (factories.make_person(cast.project) for _ in range(2))
    results, overlapped = race(
        lock_project(cast.project),
        new_passage(source, cast.analyst, qutb),
        new_passage(source, cast.analyst2, naji),
    )
    assert overlapped == 2
    pair = PairTally.objects.get(first=min(qutb.pk, naji.pk), second=max(qutb.pk, naji.pk))
    assert (pair.approved, pair.visible) == (0, 1)
    assert_current(cast.project)


def test_a_writer_that_did_not_take_the_projects_version_still_waits_for_it(cast):
    # Links written first (as a bulk import would), counted by two transactions at once that
    # took no version: the tally step takes the project row's lock itself.
    source = factories.make_source(cast.project)
    people = [factories.make_person(cast.project) for _ in range(2)]
    passages = []
    for person in people:
        annotation = Annotation.objects.create(
            project=cast.project, source=source, author=cast.analyst, quote="Q.", locator="p. 1"
        )
        Mention.objects.create(annotation=annotation, person=person)
        passages.append(annotation.pk)

    def count(pk: int):
        def run() -> None:
            with transaction.atomic():
                tallies.retally(None, tallies.Counted.of(pk))

        return run

    _, overlapped = race(lock_project(cast.project), *(count(pk) for pk in passages))
    assert overlapped == 2
    assert PairTally.objects.get(first=min(p.pk for p in people)).visible == 1
    assert_current(cast.project)

"""Of two writers that read the same version of a person, a claim, a concept or an annotation,
one wins and the other gets 412: the check and the write are one transaction with the row
locked (PostgreSQL, where the requests really run at once)."""

import json
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from tests import factories
from tests.accounts.test_last_supervisor_race import waiting_on_locks


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["people", "claims", "concepts", "annotations"])
def test_of_two_writers_with_the_same_version_one_wins(kind):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    project = factories.make_project(slug="race")
    user = factories.make_user("racer")
    factories.add_member(project, user, "analyst")
    row, field = {
        "people": (lambda: factories.make_person(project), "description"),
        "claims": (lambda: factories.make_claim(project), "statement"),
        "concepts": (lambda: factories.make_concept(project), "definition"),
        "annotations": (
            lambda: factories.make_annotation(factories.make_source(project), user),
            "note",
        ),
    }[kind]
    target = row()
    url = f"/api/v1/p/race/{kind}/{target.pk}/"
    statuses: list[int] = []

    def write(value: str) -> None:
        client = Client()
        client.force_login(user)
        try:
            response = client.patch(
                url, json.dumps({field: value}), content_type="application/json",
                HTTP_IF_MATCH='"1"',
            )  # fmt: skip
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(v,)) for v in ("First", "Second")]
    # Hold the row until both requests wait for it, so the two checks really overlap.
    with transaction.atomic():
        type(target).objects.select_for_update().get(pk=target.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting_on_locks() == 2
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(statuses) == [200, 412]
    target.refresh_from_db()
    assert target.version == 2

"""Two requests at once cannot leave a project without a supervisor.

Needs real concurrent transactions, so it runs on PostgreSQL only (SQLite takes one writer at a
time anyway: its transactions are IMMEDIATE).
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from apps.accounts.models import Membership, ProjectError, Role
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL keeps showing the first snapshot of the activity.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("change", ["demote", "remove"])
def test_two_supervisors_demoting_or_removing_each_other_at_once_leave_one(change):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    project = factories.make_project()
    first = factories.add_member(project, factories.make_user(), Role.SUPERVISOR)
    second = factories.add_member(project, factories.make_user(), Role.SUPERVISOR)
    refused: list[ProjectError] = []

    def act(member: Membership) -> None:
        member = Membership.objects.select_related("user").get(pk=member.pk)
        try:
            if change == "demote":
                member.change_role(Role.ANALYST)
            else:
                member.remove()
        except ProjectError as error:
            refused.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(m,)) for m in (first, second)]
    # Hold the supervisors' rows until both requests are waiting, so they really overlap.
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(project=project))
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting_on_locks() == 2
    for thread in threads:
        thread.join(timeout=10)

    assert len(refused) == 1
    assert Membership.objects.filter(project=project).supervisors().count() == 1

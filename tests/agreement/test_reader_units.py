"""A source's double-coding units in its reading view, once the assignment is compared."""

import re

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.agreement import coding
from apps.agreement.models import Unit, UnitOutcome
from tests import factories


def read_url(source):
    return reverse("annotations:source_read", args=["review", source.pk])


def unit_links(response) -> list[str]:
    return re.findall(r'href="/p/review/agreement/units/(\d+)/"', response.content.decode())


def test_a_supervisor_sees_every_unit_marked_with_its_outcome(cast, client_for, compared):
    response = client_for(cast.supervisor).get(read_url(compared.source))
    page = response.content.decode()
    units = list(Unit.objects.filter(assignment=compared.assignment).order_by("start"))
    assert unit_links(response) == [str(u.pk) for u in units]
    assert page.count("unit-outcome--agreed") == 2
    assert page.count("unit-outcome--disagreed") == 2
    assert page.count("unit-outcome--only_some") == 1
    # Each unit's place in the text, for the script to show it.
    assert f'data-at="{units[0].start}"' in page


def test_a_resolved_unit_says_how(cast, client_for, compared):
    unit = Unit.objects.get(assignment=compared.assignment, outcome=UnitOutcome.ONLY_SOME)
    passage = unit.passages.get()
    coding.resolve(
        unit=unit, by=cast.supervisor, kind="picked", seen_version=unit.version,
        passage=passage, reason="other", comment="Naji is cited.",
    )  # fmt: skip
    page = client_for(cast.supervisor).get(read_url(compared.source)).content.decode()
    assert "resolved: one coder&#x27;s version chosen" in page
    assert page.count(">waiting<") == 4


def test_coders_see_the_units_that_hold_a_version_of_theirs(cast, client_for, compared):
    only_analyst = Unit.objects.get(assignment=compared.assignment, outcome=UnitOutcome.ONLY_SOME)
    first = unit_links(client_for(cast.analyst).get(read_url(compared.source)))
    second = unit_links(client_for(cast.analyst2).get(read_url(compared.source)))
    assert len(first) == 5 and str(only_analyst.pk) in first
    assert len(second) == 4 and str(only_analyst.pk) not in second
    # Every link opens for them.
    for pk in second:
        page = client_for(cast.analyst2).get(reverse("agreement:unit_detail", args=["review", pk]))
        assert page.status_code == 200


def test_students_and_analysts_outside_the_round_see_no_units(cast, client_for, compared):
    third = factories.make_user("analyst3")
    factories.add_member(cast.project, third, Role.ANALYST)
    for user in (cast.student, third):
        response = client_for(user).get(read_url(compared.source))
        assert response.status_code == 200
        assert unit_links(response) == []
        assert "Double-coding units" not in response.content.decode()


def test_no_units_while_the_assignment_is_open(cast, client_for, coding_round):
    coding_round.code(cast.analyst, "Naji planned for savagery.")
    page = client_for(cast.supervisor).get(read_url(coding_round.source)).content.decode()
    assert "Double-coding units" not in page


def test_units_of_another_source_are_not_listed_there(cast, client_for, compared):
    other = factories.make_source(cast.project, "Another")
    response = client_for(cast.supervisor).get(read_url(other))
    assert response.status_code == 200
    assert unit_links(response) == []


def test_outsiders_and_the_signed_out_do_not_reach_the_units(cast, client_for, compared):
    assert client_for(cast.outsider).get(read_url(compared.source)).status_code == 404
    response = client_for(None).get(read_url(compared.source))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client_for(cast.supervisor).post(read_url(compared.source)).status_code == 405


@pytest.mark.parametrize(("who", "queries"), [("supervisor", 8), ("analyst", 8), ("student", 7)])
def test_the_reading_view_reads_the_units_in_one_query(
    cast, client_for, compared, django_assert_num_queries, who, queries
):
    # Session, user, membership, the source with its text, its page starts, the passages, their
    # concepts; and, for members who code, the source's units with their resolutions (students
    # have no part in double coding: no query).
    client = client_for(getattr(cast, who))
    with django_assert_num_queries(queries):
        assert client.get(read_url(compared.source)).status_code == 200
    # Tenfold units: the same number of queries.
    assignment = compared.assignment
    template = Unit.objects.filter(assignment=assignment).order_by("number").first()
    extra = [
        Unit(
            assignment=assignment, source=compared.source, number=100 + n,
            start=template.start, end=template.end, outcome=UnitOutcome.DISAGREED,
        )
        for n in range(45)
    ]  # fmt: skip
    Unit.objects.bulk_create(extra)
    with django_assert_num_queries(queries):
        response = client.get(read_url(compared.source))
    if who == "supervisor":
        assert len(unit_links(response)) == 50


def test_a_long_list_of_units_is_cut_with_a_word_why(cast, client_for, compared):
    from apps.agreement import views

    Unit.objects.bulk_create(
        Unit(assignment=compared.assignment, source=compared.source, number=100 + n,
             start=n, end=n + 5, outcome=UnitOutcome.DISAGREED)
        for n in range(views.READER_UNITS)
    )  # fmt: skip
    response = client_for(cast.supervisor).get(read_url(compared.source))
    assert len(unit_links(response)) == views.READER_UNITS
    assert "the assignment pages list them all" in response.text


def test_a_source_without_text_still_lists_its_units(cast, client_for, compared):
    compared.source.full_text = ""
    compared.source.save(update_fields=["full_text"])
    response = client_for(cast.supervisor).get(read_url(compared.source))
    assert "This source has no text yet." in response.text
    assert len(unit_links(response)) == 5
    # No place to show in a text that is not there.
    assert "data-at=" not in response.text

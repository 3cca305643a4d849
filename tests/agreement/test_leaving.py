"""Removing a member who still codes an open assignment: the supervisor chooses first whether
another analyst takes over their place or they are dropped from the sample."""

import pytest
from django.urls import reverse

from apps.accounts.models import Membership, Role
from apps.agreement import coding, report
from apps.agreement.models import AssignmentCoder
from tests import factories


def remove_url(cast, user) -> str:
    member = Membership.objects.get(project=cast.project, user=user)
    return reverse("accounts:member_remove", args=["review", member.pk])


@pytest.fixture
def third(cast, coding_round):
    """A third coder in the round, so that the sample keeps two when one is dropped."""
    user = factories.make_user("analyst3")
    factories.add_member(cast.project, user, Role.ANALYST)
    AssignmentCoder.objects.create(assignment=coding_round.assignment, coder=user)
    return user


def is_member(cast, user) -> bool:
    return Membership.objects.filter(project=cast.project, user=user).exists()


def states(assignment) -> dict[str, str]:
    return dict(assignment.coders.values_list("coder__username", "state"))


def finish(cast, r, coders):
    for coder in coders:
        r.code(coder, "The Islamic State's retreat will not end jihadism.")
        coding.mark_done(assignment=r.assignment, coder=coder)
    coding.compare(assignment=r.assignment, by=cast.supervisor)
    r.assignment.refresh_from_db()
    return report.build(r.assignment)[0]


def test_removing_a_coder_with_open_work_asks_first_and_changes_nothing(
    cast, client_for, coding_round
):
    response = client_for(cast.supervisor).post(remove_url(cast, cast.analyst2))
    assert response.status_code == 200
    assert "Codes “Round one”, not done yet." in response.text
    assert 'value="reassign"' in response.text and 'value="drop"' in response.text
    assert is_member(cast, cast.analyst2)
    assert states(coding_round.assignment)["analyst2"] == "assigned"


def test_dropped_from_the_sample_the_report_counts_one_coder_fewer(
    cast, client_for, coding_round, third
):
    response = client_for(cast.supervisor).post(
        remove_url(cast, third), {"handover": "drop"}, follow=True
    )
    assert "analyst3 is no longer a member. They are dropped from the sample" in response.text
    assert not is_member(cast, third)
    assert states(coding_round.assignment)["analyst3"] == "dropped"
    spans = finish(cast, coding_round, [cast.analyst, cast.analyst2])
    assert spans.n_coders == 2
    dropped = "analyst3: Dropped from the sample. They left the project."
    assert spans.dropped == [dropped]
    page = client_for(cast.supervisor).get(coding_round.assignment.get_absolute_url())
    assert dropped in page.text
    json = client_for(cast.supervisor).get(
        coding_round.assignment.get_absolute_url() + "?format=json"
    )
    assert json.json()["report"][0]["dropped_coders"] == [dropped]


def test_reassigned_the_report_keeps_its_n_with_the_new_coder(cast, client_for, coding_round):
    newcomer = factories.make_user("analyst3")
    factories.add_member(cast.project, newcomer, Role.ANALYST)
    response = client_for(cast.supervisor).post(
        remove_url(cast, cast.analyst2),
        {"handover": "reassign", "replacement": newcomer.pk},
        follow=True,
    )
    assert "analyst3 codes “Round one” in their place." in response.text
    assert not is_member(cast, cast.analyst2)
    assert states(coding_round.assignment) == {
        "analyst": "assigned", "analyst2": "dropped", "analyst3": "assigned",
    }  # fmt: skip
    spans = finish(cast, coding_round, [cast.analyst, newcomer])
    assert (spans.n_coders, spans.coders) == (2, ["analyst", "analyst3"])
    assert spans.dropped == ["analyst2: Replaced by analyst3. They left the project."]


def test_the_choice_page_warns_when_dropping_would_leave_one_coder(cast, client_for, coding_round):
    response = client_for(cast.supervisor).post(remove_url(cast, cast.analyst2))
    assert "it would leave one coder: nothing would be compared or measured" in response.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"handover": "reassign"}, "Choose the analyst who takes over."),
        (
            {"handover": "reassign", "replacement": "{student}"},
            "Choose an analyst of this project.",
        ),
        (
            {"handover": "reassign", "replacement": "{analyst2}"},
            "Choose an analyst of this project.",
        ),
        ({"handover": "reassign", "replacement": "nope"}, "Choose an analyst of this project."),
        ({"handover": "reassign", "replacement": "9" * 30}, "Choose an analyst of this project."),
        ({"handover": "stay"}, "Select a valid choice"),
        ({"replacement": ""}, "Choose what happens to their open work."),
        # The replacement already codes this assignment: refused by drop_coder, all undone.
        ({"handover": "reassign", "replacement": "{analyst}"}, "already codes this assignment"),
    ],
)
def test_bad_choices_are_refused_and_nothing_changes(cast, client_for, coding_round, data, message):
    data = {k: v.format(**{n: u.pk for n, u in cast.members().items()}) for k, v in data.items()}
    response = client_for(cast.supervisor).post(remove_url(cast, cast.analyst2), data)
    assert response.status_code == 400
    assert message in response.text
    assert is_member(cast, cast.analyst2)
    assert states(coding_round.assignment) == {"analyst": "assigned", "analyst2": "assigned"}


def test_all_or_nothing_across_assignments(cast, client_for, coding_round, third):
    # A second open assignment, on another source, that the replacement already codes.
    other = factories.make_source(cast.project, "Another")
    second = coding.assign(
        project=cast.project, title="Round two", ranges=[coding.Range(other)],
        coders=[cast.analyst2, third], variables=["spans"], due_date=None, tolerance=5,
        by=cast.supervisor,
    )  # fmt: skip
    response = client_for(cast.supervisor).post(
        remove_url(cast, cast.analyst2), {"handover": "reassign", "replacement": third.pk}
    )
    assert response.status_code == 400
    assert "“Round one”: analyst3 already codes this assignment." in response.text
    assert is_member(cast, cast.analyst2)
    assert states(coding_round.assignment)["analyst2"] == "assigned"
    assert states(second)["analyst2"] == "assigned"


def test_a_coder_whose_work_is_done_is_removed_at_once(cast, client_for, coding_round):
    coding.mark_done(assignment=coding_round.assignment, coder=cast.analyst2)
    response = client_for(cast.supervisor).post(remove_url(cast, cast.analyst2))
    assert response.status_code == 302
    assert not is_member(cast, cast.analyst2)
    assert states(coding_round.assignment)["analyst2"] == "done"


def test_members_without_open_work_are_removed_as_before(cast, client_for, coding_round):
    response = client_for(cast.supervisor).post(remove_url(cast, cast.student))
    assert response.status_code == 302
    assert not is_member(cast, cast.student)


def test_only_supervisors_remove_and_choose(cast, client_for, coding_round):
    url = remove_url(cast, cast.analyst2)
    for user in (cast.analyst, cast.student):
        assert client_for(user).post(url, {"handover": "drop"}).status_code == 403
    assert client_for(cast.outsider).post(url, {"handover": "drop"}).status_code == 404
    anonymous = client_for(None).post(url, {"handover": "drop"})
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    assert client_for(cast.supervisor).get(url).status_code == 405
    assert is_member(cast, cast.analyst2)
    assert states(coding_round.assignment)["analyst2"] == "assigned"


def test_the_choice_page_query_count_does_not_grow(
    cast, client_for, coding_round, django_assert_num_queries
):
    # Session, user, membership (with the supervisor's right), the member to remove; their open
    # places in assignments (with the coders in the sample); the analysts offered to take over.
    client = client_for(cast.supervisor)
    url = remove_url(cast, cast.analyst2)
    with django_assert_num_queries(6) as first:
        assert client.post(url).status_code == 200
    for n in range(5):
        source = factories.make_source(cast.project, f"More {n}")
        analyst = factories.make_user(f"more{n}")
        factories.add_member(cast.project, analyst, Role.ANALYST)
        coding.assign(
            project=cast.project, title=f"Round {n + 2}", ranges=[coding.Range(source)],
            coders=[cast.analyst2, analyst], variables=["spans"], due_date=None, tolerance=5,
            by=cast.supervisor,
        )  # fmt: skip
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.post(url)
    assert response.text.count("not done yet") == 6


def test_a_coder_with_open_work_cannot_just_leave(cast, client_for, coding_round):
    client = client_for(cast.analyst2)
    response = client.post(reverse("accounts:member_leave", args=["review"]), follow=True)
    assert "You still hold work others wait for: Codes “Round one”, not done yet." in response.text
    assert is_member(cast, cast.analyst2)
    coding.mark_done(assignment=coding_round.assignment, coder=cast.analyst2)
    response = client.post(reverse("accounts:member_leave", args=["review"]))
    assert response.status_code == 302
    assert not is_member(cast, cast.analyst2)

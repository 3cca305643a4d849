import pytest

from apps.accounts.models import Membership
from apps.accounts.policy import Action, can, can_see_annotation, can_see_review_history
from apps.annotations.models import Annotation, Status
from tests import factories

# DESIGN.md's role table, action by action.
EXPECTED = {
    Action.VIEW: {"supervisor", "analyst", "student"},
    Action.EXPORT: {"supervisor", "analyst", "student"},
    Action.EDIT_LIBRARY: {"supervisor", "analyst"},
    Action.ANNOTATE: {"supervisor", "analyst"},
    Action.SEE_UNSUPPORTED_CLAIMS: {"supervisor", "analyst"},
    Action.SEE_ALL_ANNOTATIONS: {"supervisor"},
    Action.REVIEW: {"supervisor"},
    Action.MANAGE: {"supervisor"},
    # Students export bibliographies but do not import them; whole projects are supervisors'.
    Action.IMPORT: {"supervisor", "analyst"},
    Action.TRANSFER_PROJECT: {"supervisor"},
}


def test_every_action_is_in_the_role_table():
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("action", list(Action))
def test_roles_may_do_what_the_design_says(cast, action):
    for role in ("supervisor", "analyst", "student"):
        membership = Membership.objects.get(project=cast.project, user=getattr(cast, role))
        assert can(membership, action) is (role in EXPECTED[action]), (role, action)


def test_no_membership_may_do_nothing():
    assert not any(can(None, action) for action in Action)


@pytest.fixture
def one_of_each_status(cast):
    """Annotations in every status, by analyst and by analyst2."""
    source = factories.make_source(cast.project)
    rows = []
    for author in (cast.analyst, cast.analyst2):
        for status in Status.values:
            rows.append(
                factories.make_annotation(source, author, status=status, reviewer=cast.supervisor)
            )
    return rows


def test_the_visibility_filter_and_the_row_check_agree(cast, one_of_each_status):
    for role in ("supervisor", "analyst", "student"):
        membership = Membership.objects.select_related("project").get(
            project=cast.project, user=getattr(cast, role)
        )
        listed = set(Annotation.objects.visible_to(membership).values_list("pk", flat=True))
        checked = {a.pk for a in one_of_each_status if can_see_annotation(membership, a)}
        assert listed == checked, role


def test_students_see_only_approved_and_analysts_their_own_drafts(cast, one_of_each_status):
    def visible(user):
        membership = Membership.objects.get(project=cast.project, user=user)
        return {(a.author.username, a.status) for a in Annotation.objects.visible_to(membership)}

    assert visible(cast.student) == {("analyst", "approved"), ("analyst2", "approved")}
    assert visible(cast.analyst) == {("analyst", s) for s in Status.values} | {
        ("analyst2", "approved")
    }
    assert len(visible(cast.supervisor)) == 2 * len(Status.values)


def test_review_history_is_for_supervisors_and_authors_and_students_only_by_setting(cast):
    source = factories.make_source(cast.project)
    approved = factories.make_annotation(
        source, cast.analyst, status="approved", reviewer=cast.supervisor
    )

    def sees(user):
        membership = Membership.objects.select_related("project").get(
            project=cast.project, user=user
        )
        return can_see_review_history(membership, approved)

    assert sees(cast.supervisor) and sees(cast.analyst)
    assert not sees(cast.student)
    cast.project.students_see_history = True
    cast.project.save()
    assert sees(cast.student)

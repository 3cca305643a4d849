"""The members page: everyone sees who is in the project; supervisors add, re-role and remove
members; anyone may leave; a project always keeps a supervisor."""

import pytest
from django.urls import reverse

from apps.accounts.models import Membership, Project, ProjectError, Role, User
from tests import factories

MEMBERS = "/p/review/members/"


def membership(cast, user) -> Membership:
    return Membership.objects.get(project=cast.project, user=user)


def roles(cast) -> dict[str, str]:
    return dict(
        Membership.objects.filter(project=cast.project).values_list("user__username", "role")
    )


def role_url(member: Membership) -> str:
    return reverse("accounts:member_role", args=[member.project.slug, member.pk])


def remove_url(member: Membership) -> str:
    return reverse("accounts:member_remove", args=[member.project.slug, member.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# Seeing the members


def test_every_member_sees_the_members_and_their_roles(cast, client_for):
    for user in cast.members().values():
        page = client_for(user).get(MEMBERS)
        assert page.status_code == 200
        for name in ("supervisor", "analyst", "analyst2", "student"):
            assert name in page.text
        assert "Supervisor" in page.text and "Student" in page.text
        assert "Leave project" in page.text


def test_members_are_listed_supervisors_first(cast, client_for):
    page = client_for(cast.student).get(MEMBERS)
    listed = [m.user.username for m in page.context["page"].object_list]
    assert listed == ["supervisor", "analyst", "analyst2", "student"]


def test_only_supervisors_see_the_forms_to_manage_members(cast, client_for):
    supervisor_page = client_for(cast.supervisor).get(MEMBERS).text
    assert "Add a member" in supervisor_page
    assert reverse("accounts:member_add", args=["review"]) in supervisor_page
    assert role_url(membership(cast, cast.student)) in supervisor_page
    assert remove_url(membership(cast, cast.student)) in supervisor_page
    assert "Project settings" in supervisor_page
    for user in (cast.analyst, cast.student):
        page = client_for(user).get(MEMBERS).text
        assert "Add a member" not in page
        assert "/role/" not in page and "/remove/" not in page
        assert "Project settings" not in page


def test_emails_are_shown_to_supervisors_only(cast, client_for):
    cast.student.email = "student@example.org"
    cast.student.save()
    assert "student@example.org" in client_for(cast.supervisor).get(MEMBERS).text
    assert "student@example.org" not in client_for(cast.analyst).get(MEMBERS).text


def test_the_project_nav_links_to_the_members_page(cast, client_for):
    page = client_for(cast.student).get(MEMBERS).text
    assert f'<a href="{MEMBERS}" aria-current="page">Members</a>' in page
    assert f'<a href="{MEMBERS}">Members</a>' in client_for(cast.student).get("/p/review/").text


@pytest.mark.parametrize(("who", "queries"), [("supervisor", 6), ("student", 5)])
def test_members_page_query_count_does_not_grow_with_members(
    cast, client_for, django_assert_num_queries, who, queries
):
    client = client_for(getattr(cast, who))
    # 1 session, 2 user, 3 the viewer's membership with project and user, 4 count of members,
    # 5 the page of members with their users, 6 (supervisors only) the pending invitations
    # with who sent them
    for count in (3, 30):
        for _ in range(count):
            factories.add_member(cast.project, factories.make_user(), Role.STUDENT)
            cast.project.invite(
                f"{factories.make_user().username}@example.org", role="student", by=cast.supervisor
            )
        with django_assert_num_queries(queries):
            assert client.get(MEMBERS).status_code == 200


def test_a_long_member_list_is_paginated(cast, client_for):
    for _ in range(100):
        factories.add_member(cast.project, factories.make_user(), Role.STUDENT)
    first = client_for(cast.supervisor).get(MEMBERS)
    assert len(first.context["page"].object_list) == 100
    assert f'href="{MEMBERS}?page=2"' in first.text
    assert len(client_for(cast.supervisor).get(MEMBERS + "?page=2").context["page"]) == 4


# Adding


def add(client, who: str, role: str = "analyst"):
    return client.post(reverse("accounts:member_add", args=["review"]), {"who": who, "role": role})


def colleague(cast, username: str, **fields):
    """A user who shares another project with the supervisor: one the add form may name."""
    user = factories.make_user(username, **fields)
    other, _ = Project.objects.get_or_create(slug="earlier", defaults={"name": "Earlier"})
    if not other.memberships.filter(user=cast.supervisor).exists():
        factories.add_member(other, cast.supervisor, Role.SUPERVISOR)
    factories.add_member(other, user, Role.ANALYST)
    return user


UNKNOWN = "None of the people you work with in your projects is “{}”."


def test_supervisors_add_an_existing_user_by_username(cast, client_for):
    colleague(cast, "newcomer")
    client = client_for(cast.supervisor)
    response = add(client, "newcomer", "student")
    assert response.status_code == 302
    assert response.url == MEMBERS
    assert roles(cast)["newcomer"] == "student"
    page = client.get(MEMBERS)
    assert messages_of(page) == ["newcomer joined the project as Student."]


def test_a_username_in_another_case_is_accepted_when_it_names_one_account(cast, client_for):
    colleague(cast, "Layla")
    add(client_for(cast.supervisor), "layla")
    assert roles(cast)["Layla"] == "analyst"


def test_supervisors_add_an_existing_user_by_email(cast, client_for):
    colleague(cast, "reader", email="Reader@Example.org")
    response = add(client_for(cast.supervisor), "reader@example.org", "analyst")
    assert response.status_code == 302
    assert roles(cast)["reader"] == "analyst"


def test_an_email_shared_by_two_accounts_asks_for_the_username(cast, client_for):
    colleague(cast, "twin1", email="twins@example.org")
    colleague(cast, "twin2", email="twins@example.org")
    before = roles(cast)
    response = add(client_for(cast.supervisor), "twins@example.org")
    assert response.status_code == 200
    assert "give the username" in response.text
    assert roles(cast) == before
    add(client_for(cast.supervisor), "twin2")
    assert roles(cast)["twin2"] == "analyst"


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("nobody", UNKNOWN.format("nobody")),
        ("nobody@example.org", UNKNOWN.format("nobody@example.org")),
        ("", "This field is required."),
        ("x" * 300, "Ensure this value has at most 254 characters"),
    ],
)
def test_unknown_users_are_refused_with_a_message(cast, client_for, who, message):
    before = roles(cast)
    response = add(client_for(cast.supervisor), who)
    assert response.status_code == 200
    assert message in response.text
    # The typed text is kept and the list is still shown around the form.
    assert response.context["add_form"]["who"].value() == who
    assert "analyst2" in response.text
    assert roles(cast) == before


def test_inactive_users_cannot_be_added(cast, client_for):
    colleague(cast, "gone", is_active=False)
    response = add(client_for(cast.supervisor), "gone")
    assert UNKNOWN.format("gone") in response.text
    assert "gone" not in roles(cast)


def test_an_invalid_role_is_refused_and_nobody_is_added(cast, client_for):
    colleague(cast, "newcomer")
    response = add(client_for(cast.supervisor), "newcomer", "admin")
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert "newcomer" not in roles(cast)


def test_a_user_already_a_member_is_not_added_twice(cast, client_for):
    before = roles(cast)
    client = client_for(cast.supervisor)
    response = add(client, "student", "supervisor")
    assert response.status_code == 302
    page = client.get(MEMBERS)
    assert messages_of(page) == ["student is already a member of this project."]
    assert roles(cast) == before


def test_members_of_the_supervisors_other_projects_can_be_added(cast, client_for):
    colleague(cast, "former")
    add(client_for(cast.supervisor), "former", "student")
    assert roles(cast)["former"] == "student"
    assert client_for(User.objects.get(username="former")).get(MEMBERS).status_code == 200


@pytest.mark.parametrize("by", ["username", "email"])
def test_the_form_does_not_tell_whether_an_account_exists(cast, client_for, by):
    """A stranger (an account sharing no project with the supervisor), an unknown name and a
    deactivated colleague get the same answer, and nobody is added."""
    factories.make_user("stranger", email="stranger@example.org")
    colleague(cast, "retired", email="retired@example.org", is_active=False)
    client = client_for(cast.supervisor)
    answers = {}
    for name in ("stranger", "retired", "nobody"):
        typed = name if by == "username" else f"{name}@example.org"
        response = add(client, typed)
        assert response.status_code == 200
        answers[name] = [str(e) for e in response.context["add_form"].errors["who"]]
        answers[name] = [a.replace(typed, "…") for a in answers[name]]
    assert answers["stranger"] == answers["nobody"] == answers["retired"]
    # The outsider is a supervisor elsewhere, but shares no project with this supervisor.
    response = add(client, "outsider")
    assert [str(e) for e in response.context["add_form"].errors["who"]] == [
        UNKNOWN.format("outsider") + " To bring in someone else, invite them by email."
    ]
    assert set(roles(cast)) == {"supervisor", "analyst", "analyst2", "student"}


def test_analysts_and_students_cannot_add_members(cast, client_for):
    factories.make_user("newcomer")
    for user in (cast.analyst, cast.student):
        assert add(client_for(user), "newcomer").status_code == 403
    assert "newcomer" not in roles(cast)


# Changing roles


def test_supervisors_change_a_members_role(cast, client_for):
    client = client_for(cast.supervisor)
    response = client.post(role_url(membership(cast, cast.student)), {"role": "analyst"})
    assert response.status_code == 302
    assert roles(cast)["student"] == "analyst"
    assert messages_of(client.get(MEMBERS)) == ["student is now Analyst."]


def test_a_new_supervisor_can_manage_members(cast, client_for):
    client_for(cast.supervisor).post(
        role_url(membership(cast, cast.analyst)), {"role": "supervisor"}
    )
    assert "Add a member" in client_for(cast.analyst).get(MEMBERS).text


@pytest.mark.parametrize("role", ["", "admin", "Supervisor"])
def test_an_invalid_role_changes_nothing(cast, client_for, role):
    before = roles(cast)
    client = client_for(cast.supervisor)
    response = client.post(role_url(membership(cast, cast.student)), {"role": role})
    assert response.status_code == 302
    assert messages_of(client.get(MEMBERS)) == ["Choose a role: supervisor, analyst or student."]
    assert roles(cast) == before


def test_analysts_cannot_change_roles(cast, client_for):
    response = client_for(cast.analyst).post(
        role_url(membership(cast, cast.analyst)), {"role": "supervisor"}
    )
    assert response.status_code == 403
    assert roles(cast)["analyst"] == "analyst"


def test_the_last_supervisor_cannot_be_demoted(cast, client_for):
    before = roles(cast)
    client = client_for(cast.supervisor)
    response = client.post(role_url(membership(cast, cast.supervisor)), {"role": "analyst"})
    assert response.status_code == 302
    assert messages_of(client.get(MEMBERS)) == [
        "supervisor is the only supervisor of this project and keeps that role; make another "
        "member a supervisor first."
    ]
    assert roles(cast) == before


def test_a_supervisor_may_step_down_once_there_is_another(cast, client_for):
    client = client_for(cast.supervisor)
    client.post(role_url(membership(cast, cast.analyst)), {"role": "supervisor"})
    response = client.post(role_url(membership(cast, cast.supervisor)), {"role": "analyst"})
    assert response.status_code == 302
    assert roles(cast)["supervisor"] == "analyst"
    # Now the former analyst is the only one, and stays.
    client_for(cast.analyst).post(role_url(membership(cast, cast.analyst)), {"role": "student"})
    assert roles(cast)["analyst"] == "supervisor"


def test_a_decision_on_stale_rows_still_keeps_a_supervisor(cast):
    """Both supervisors were loaded while there were two; each demotion decides on the rows
    as they are when it runs."""
    factories.add_member(cast.project, factories.make_user("second"), Role.SUPERVISOR)
    first, second = Membership.objects.filter(project=cast.project, role=Role.SUPERVISOR)
    first.change_role(Role.ANALYST)
    with pytest.raises(ProjectError):
        second.change_role(Role.STUDENT)
    with pytest.raises(ProjectError):
        second.remove()
    assert Membership.objects.filter(project=cast.project).supervisors().count() == 1


def test_role_changes_refuse_unknown_roles_in_the_model_too(cast):
    student = membership(cast, cast.student)
    with pytest.raises(ProjectError):
        student.change_role("admin")
    with pytest.raises(ProjectError):
        cast.project.add_member(cast.outsider, role="admin")
    assert roles(cast)["student"] == "student"


# Removing and leaving


def test_supervisors_remove_a_member(cast, client_for):
    client = client_for(cast.supervisor)
    response = client.post(remove_url(membership(cast, cast.analyst2)))
    assert response.status_code == 302
    assert "analyst2" not in roles(cast)
    assert messages_of(client.get(MEMBERS)) == ["analyst2 is no longer a member."]
    # Removed means an outsider: the project is not found any more.
    assert client_for(cast.analyst2).get("/p/review/").status_code == 404


def test_the_last_supervisor_cannot_be_removed(cast, client_for):
    before = roles(cast)
    client = client_for(cast.supervisor)
    response = client.post(remove_url(membership(cast, cast.supervisor)))
    assert response.status_code == 302
    assert response.url == MEMBERS
    assert "only supervisor" in messages_of(client.get(MEMBERS))[0]
    assert roles(cast) == before


def test_a_membership_of_another_project_is_not_found_and_unchanged(cast, client_for):
    elsewhere = Membership.objects.get(user=cast.outsider)
    client = client_for(cast.supervisor)
    assert client.post(remove_url(elsewhere).replace("elsewhere", "review")).status_code == 404
    assert client.post(role_url(elsewhere).replace("elsewhere", "review")).status_code == 404
    assert Membership.objects.filter(pk=elsewhere.pk, role=Role.SUPERVISOR).exists()


@pytest.mark.parametrize("pk", ["abc", "-1", "1.5", "1" + "0" * 30])
def test_forged_membership_ids_are_not_found(cast, client_for, pk):
    client = client_for(cast.supervisor)
    for action in ("role", "remove"):
        assert client.post(f"{MEMBERS}{pk}/{action}/", {"role": "student"}).status_code == 404
    assert len(roles(cast)) == 4


def test_any_member_may_leave(cast, client_for):
    client = client_for(cast.student)
    response = client.post(reverse("accounts:member_leave", args=["review"]))
    assert response.status_code == 302
    assert response.url == "/"
    assert "student" not in roles(cast)
    projects = client.get("/")
    assert messages_of(projects) == ["You left “A review”."]
    assert 'href="/p/review/"' not in projects.text


def test_the_last_supervisor_cannot_leave(cast, client_for):
    before = roles(cast)
    client = client_for(cast.supervisor)
    response = client.post(reverse("accounts:member_leave", args=["review"]))
    assert response.status_code == 302
    assert response.url == MEMBERS
    assert messages_of(client.get(MEMBERS)) == [
        "supervisor is the only supervisor of this project and cannot leave it; make another "
        "member a supervisor first."
    ]
    assert roles(cast) == before


def test_a_supervisor_may_leave_when_another_remains(cast, client_for):
    factories.add_member(cast.project, factories.make_user("second"), Role.SUPERVISOR)
    client = client_for(cast.supervisor)
    response = client.post(remove_url(membership(cast, cast.supervisor)))
    assert response.url == "/"
    assert "supervisor" not in roles(cast)
    assert roles(cast)["second"] == "supervisor"

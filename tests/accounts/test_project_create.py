"""/projects/new/: supervisors (of any project) and staff start projects and supervise them."""

import pytest

from apps.accounts.models import Membership, Project, ProjectError, Role
from tests import factories

NEW = "/projects/new/"


def create(client, **fields):
    data = {"name": "Salafi-jihadi splinters", "slug": "splinters", "description": ""}
    return client.post(NEW, {**data, **fields})


def test_a_supervisor_creates_a_project_and_becomes_its_supervisor(cast, client_for):
    client = client_for(cast.supervisor)
    assert client.get(NEW).status_code == 200
    response = create(client, description="Two articles a year apart.")
    assert response.status_code == 302
    assert response.url == "/p/splinters/members/"
    project = Project.objects.get(slug="splinters")
    assert project.name == "Salafi-jihadi splinters"
    assert project.description == "Two articles a year apart."
    assert list(project.memberships.values_list("user__username", "role")) == [
        ("supervisor", Role.SUPERVISOR)
    ]
    page = client.get(response.url)
    assert "is ready and you are its supervisor" in page.text
    assert "Add a member" in page.text


def test_staff_without_projects_may_create_one(db, client_for):
    staff = factories.make_user("admin", is_staff=True)
    assert create(client_for(staff)).status_code == 302
    assert Membership.objects.get(project__slug="splinters").user == staff


@pytest.mark.parametrize("who", ["analyst", "student"])
def test_members_who_supervise_nothing_may_not_create_projects(cast, client_for, who):
    client = client_for(getattr(cast, who))
    assert client.get(NEW).status_code == 403
    assert create(client).status_code == 403
    assert not Project.objects.filter(slug="splinters").exists()


def test_a_supervisor_of_any_project_may_create_one(cast, client_for):
    # The outsider supervises "elsewhere" only.
    assert create(client_for(cast.outsider)).status_code == 302


def test_the_project_list_links_to_creation_for_those_allowed(cast, client_for):
    assert 'href="/projects/new/"' in client_for(cast.supervisor).get("/").text
    assert 'href="/projects/new/"' not in client_for(cast.analyst).get("/").text


def test_a_taken_address_is_refused_with_a_message(cast, client_for):
    for slug in ("review", "REVIEW"):
        response = create(client_for(cast.supervisor), slug=slug)
        assert response.status_code == 200
        assert "The address “review” is already taken; choose another." in response.text
    assert Project.objects.count() == 2


def test_addresses_are_stored_in_lower_case(cast, client_for):
    create(client_for(cast.supervisor), slug="Splinters-2017")
    assert Project.objects.filter(slug="splinters-2017").exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slug": "no spaces"}, "Enter a valid “slug”"),
        ({"slug": "a" * 81}, "at most 80 characters"),
        ({"slug": ""}, "This field is required."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_bad_input_is_refused_with_a_message(cast, client_for, fields, message):
    response = create(client_for(cast.supervisor), **fields)
    assert response.status_code == 200
    assert message in response.text
    assert Project.objects.count() == 2


def test_a_clash_that_slips_past_the_form_is_refused_too(cast):
    with pytest.raises(ProjectError, match="already taken"):
        Project.objects.create_with_supervisor(cast.analyst, name="Again", slug="review")
    assert not cast.analyst.memberships.filter(role=Role.SUPERVISOR).exists()


def test_anonymous_users_sign_in_first_and_other_methods_are_refused(cast, client_for):
    response = client_for(None).get(NEW)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    for method in ("put", "patch", "delete"):
        assert getattr(client_for(cast.supervisor), method)(NEW).status_code == 405

"""/p/<slug>/edit/: supervisors change the project's name, description and what students see."""

import pytest

from apps.accounts.models import Project

EDIT = "/p/review/edit/"


def settings_of(cast) -> tuple:
    project = Project.objects.get(pk=cast.project.pk)
    return project.name, project.slug, project.description, project.students_see_history


def test_supervisors_change_the_project_settings(cast, client_for):
    client = client_for(cast.supervisor)
    page = client.get(EDIT)
    assert page.status_code == 200
    assert "Students may see the review history" in page.text
    response = client.post(
        EDIT,
        {
            "name": "ISIS splinters",
            "description": "Isolationist takfiri groups.",
            "students_see_history": "on",
            "slug": "renamed",  # not a field of this form: addresses stay
        },
    )
    assert response.status_code == 302
    assert response.url == EDIT
    assert settings_of(cast) == ("ISIS splinters", "review", "Isolationist takfiri groups.", True)
    assert "Project settings saved." in client.get(EDIT).text


def test_unticking_hides_the_history_from_students_again(cast, client_for):
    Project.objects.filter(pk=cast.project.pk).update(students_see_history=True)
    client_for(cast.supervisor).post(EDIT, {"name": "A review", "description": ""})
    assert settings_of(cast)[3] is False


def test_a_missing_name_is_refused_and_changes_nothing(cast, client_for):
    before = settings_of(cast)
    response = client_for(cast.supervisor).post(
        EDIT, {"name": "", "description": "changed", "students_see_history": "on"}
    )
    assert response.status_code == 200
    assert "This field is required." in response.text
    # The header still names the project as it is saved.
    assert '<a class="project-bar__name" href="/p/review/">A review</a>' in response.text
    assert settings_of(cast) == before


@pytest.mark.parametrize("who", ["analyst", "student"])
def test_only_supervisors_change_settings(cast, client_for, who):
    before = settings_of(cast)
    client = client_for(getattr(cast, who))
    assert client.get(EDIT).status_code == 403
    assert client.post(EDIT, {"name": "Taken over"}).status_code == 403
    assert settings_of(cast) == before


def test_outsiders_are_not_told_the_project_exists(cast, client_for):
    assert client_for(cast.outsider).post(EDIT, {"name": "Taken over"}).status_code == 404
    assert settings_of(cast)[0] == "A review"


def test_the_members_page_links_to_the_settings_for_supervisors(cast, client_for):
    assert f'href="{EDIT}"' in client_for(cast.supervisor).get("/p/review/members/").text
    assert f'href="{EDIT}"' not in client_for(cast.analyst).get("/p/review/members/").text

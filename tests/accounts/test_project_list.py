from tests import factories


def test_the_project_list_shows_my_projects_and_roles(cast, client_for):
    response = client_for(cast.student).get("/")
    assert response.status_code == 200
    assert "A review" in response.text
    assert "Student" in response.text
    assert "A review" not in client_for(cast.outsider).get("/").text


def test_someone_without_projects_is_told_what_to_do(db, client_for):
    loner = factories.make_user("loner")
    assert "not a member of any project" in client_for(loner).get("/").text


def test_anonymous_users_sign_in_first_and_only_get_is_allowed(cast, client_for):
    assert client_for(None).get("/").status_code == 302
    assert client_for(cast.student).post("/").status_code == 405


def test_query_count_does_not_grow(cast, client_for, django_assert_num_queries):
    client = client_for(cast.supervisor)
    # 1 session, 2 user, 3 may they create projects (do they supervise one), 4 memberships with
    # projects
    for count in (2, 20):
        for _ in range(count):
            factories.add_member(factories.make_project(), cast.supervisor, "analyst")
        with django_assert_num_queries(4):
            assert client.get("/").status_code == 200

import pytest

from apps.people.models import Person
from tests import factories

URL = "/p/review/people/"


@pytest.fixture
def suri(cast):
    person = factories.make_person(cast.project, "Abu Musab al-Suri", literal="Abu Musab al-Suri")
    for variant in ("as-Suri", "Abu Mus'ab al-Suri", "Mustafa Setmariam Nasar", "أبو مصعب السوري"):
        person.add_variant(variant)
    factories.make_person(cast.project, "Sayyid Qutb", family="Qutb", given="Sayyid")
    factories.make_person(cast.project, "Martha Crenshaw", family="Crenshaw", given="Martha")
    return person


def names(response) -> list[str]:
    return [p.display_name for p in response.context["page"].object_list]


@pytest.mark.parametrize(
    "query", ["al-Suri", "as-Suri", "Suri", "Sūrī", "abu musab", "Setmariam", "السوري", "AL-SURI"]
)
def test_name_search_ignores_transliteration_noise(cast, client_for, suri, query):
    response = client_for(cast.student).get(URL, {"q": query})
    assert names(response) == ["Abu Musab al-Suri"]
    assert "Abu Musab al-Suri" in response.text


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("سيد قطب", ["Sayyid Qutb"]),  # written only in Latin script
        ("قطب", ["Sayyid Qutb"]),
        ("السوري", ["Abu Musab al-Suri"]),
        ("الحازمي", ["أحمد الحازمي"]),
        ("al-Hazimi", ["أحمد الحازمي"]),  # written only in Arabic script
        ("Ahmad Hazimi", ["أحمد الحازمي"]),
        ("البغدادي", []),
    ],
)
def test_names_are_found_across_scripts(cast, client_for, suri, query, found):
    factories.make_person(cast.project, "أحمد الحازمي", literal="أحمد الحازمي")
    assert names(client_for(cast.student).get(URL, {"q": query})) == found


def test_every_word_must_match(cast, client_for, suri):
    assert names(client_for(cast.student).get(URL, {"q": "Sayyid Crenshaw"})) == []
    assert names(client_for(cast.student).get(URL, {"q": "sayid qutb"})) == ["Sayyid Qutb"]


def test_people_are_listed_alphabetically_with_variants(cast, client_for, suri):
    response = client_for(cast.student).get(URL)
    assert names(response) == ["Abu Musab al-Suri", "Martha Crenshaw", "Sayyid Qutb"]
    assert "Mustafa Setmariam Nasar" in response.text


def test_filter_by_kind(cast, client_for, suri):
    factories.make_person(cast.project, "Foreign Affairs", kind="organization")
    response = client_for(cast.student).get(URL, {"kind": "organization"})
    assert names(response) == ["Foreign Affairs"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "'"}, "Type at least one letter"),
        ({"q": "x" * 201}, "at most 200 characters"),
        ({"kind": "robot"}, "Select a valid choice"),
    ],
)
def test_bad_queries_get_a_form_error_and_no_results(cast, client_for, suri, params, message):
    response = client_for(cast.student).get(URL, params)
    assert response.status_code == 200
    assert message in response.text
    assert names(response) == []


def test_people_of_other_projects_never_appear(cast, client_for, suri):
    elsewhere = factories.make_project()
    factories.make_person(elsewhere, "Abu Musab al-Suri (elsewhere)")
    assert names(client_for(cast.student).get(URL, {"q": "Suri"})) == ["Abu Musab al-Suri"]


def test_pages_past_the_end_show_the_last_page(cast, client_for, suri):
    response = client_for(cast.student).get(URL, {"page": "999"})
    assert response.status_code == 200
    assert client_for(cast.student).get(URL, {"page": "abc"}).status_code == 200


def test_query_count_does_not_grow(cast, assert_constant_queries):
    # 1 session, 2 user, 3 membership + project, 4 count, 5 page of people, 6 their variants
    assert_constant_queries(cast.student, lambda: URL, 6)
    assert Person.objects.count() > 10


def test_search_query_count_does_not_grow(cast, assert_constant_queries):
    # as above, the name filter is part of queries 4 and 5
    assert_constant_queries(cast.student, lambda: URL + "?q=a", 6)

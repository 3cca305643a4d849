import pytest


@pytest.mark.parametrize(
    "url",
    [
        "/p/review/people/?q=%00",
        "/p/review/sources/?person=a%00b",
        "/p/review/claims/lookup/?q=%00",
    ],
)
def test_nul_characters_in_query_strings_are_a_bad_request(cast, client_for, url):
    response = client_for(cast.student).get(url)
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_nul_characters_in_form_data_are_a_bad_request(cast, client_for):
    response = client_for(None).post("/accounts/login/", {"username": "a\x00", "password": "x"})
    assert response.status_code == 400

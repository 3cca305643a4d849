"""Analysts and supervisors may look at the approved map only, as students see it."""

from tests import factories


def test_choosing_approved_only_narrows_lists_counts_and_claims(cast, client_for):
    source = factories.make_source(cast.project)
    backed = factories.make_claim(cast.project, "Backed by approved work")
    drafted = factories.make_claim(cast.project, "Only a draft backs this")
    factories.make_annotation(
        source,
        cast.analyst,
        status="approved",
        reviewer=cast.supervisor,
        claims=[backed],
        quote="seen by all",
    )
    factories.make_annotation(source, cast.analyst, claims=[drafted], quote="my draft")
    client = client_for(cast.analyst)
    page = f"/p/review/sources/{source.pk}/"
    assert "my draft" in client.get(page).text

    response = client.post("/p/review/scope/", {"scope": "approved", "next": page})
    assert response.url == page
    assert "my draft" not in client.get(page).text
    assert "Showing approved work only" in client.get(page).text
    claims = [c.statement for c in client.get("/p/review/claims/").context["page"].object_list]
    assert claims == ["Backed by approved work"]
    # A link can ask for the other scope for one page.
    assert "my draft" in client.get(page, {"scope": "visible"}).text

    client.post("/p/review/scope/", {"scope": "visible"})
    assert "my draft" in client.get(page).text


def test_the_choice_is_per_project_and_validated(cast, client_for):
    client = client_for(cast.analyst)
    response = client.post(
        "/p/review/scope/", {"scope": "everything", "next": "https://evil.example/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/p/review/"
    assert "Choose what to show" in response.text
    assert client.get("/p/review/scope/").status_code == 405


def test_students_have_no_choice(cast, client_for):
    assert (
        client_for(cast.student).post("/p/review/scope/", {"scope": "visible"}).status_code == 403
    )
    assert "Show approved work only" not in client_for(cast.student).get("/p/review/").text
    assert (
        client_for(cast.outsider).post("/p/review/scope/", {"scope": "approved"}).status_code == 404
    )

"""Deleting a concept: only when no passage is coded with it and nothing sits below it."""

from apps.claims.models import Concept
from tests import factories


def delete_url(concept):
    return f"/p/review/concepts/{concept.pk}/delete/"


def test_an_unused_concept_is_deleted_after_confirmation(cast, client_for):
    parent = factories.make_concept(cast.project, "Isolation")
    concept = factories.make_concept(cast.project, "Unused", parent=parent)
    client = client_for(cast.analyst)
    page = client.get(delete_url(concept))
    assert page.status_code == 200
    assert "Delete concept" in page.text
    response = client.post(delete_url(concept), follow=True)
    assert response.redirect_chain == [("/p/review/concepts/", 302)]
    assert "Deleted the concept “Unused”." in response.text
    assert list(Concept.objects.all()) == [parent]


def test_a_concept_coding_passages_or_with_narrower_concepts_is_kept(cast, client_for):
    isolation = factories.make_concept(cast.project, "Isolation")
    factories.make_concept(cast.project, "Hijra", parent=isolation)
    factories.make_concept(cast.project, "Uzla", parent=isolation)
    factories.make_annotation(
        factories.make_source(cast.project), cast.analyst2, concepts=[isolation]
    )
    message = "Used by 1 annotation (coded with it), 2 concepts (narrower, below it)."
    client = client_for(cast.supervisor)
    assert message in client.get(delete_url(isolation)).text
    response = client.post(delete_url(isolation))
    assert response.status_code == 409
    assert message in response.text
    assert Concept.objects.filter(pk=isolation.pk).exists()
    # The coding survives: deleting would have dropped it silently (a plain many-to-many).
    assert isolation.annotations.count() == 1


def test_the_database_guard_gives_a_refusal_instead_of_an_error(cast, client_for, monkeypatch):
    parent = factories.make_concept(cast.project, "Isolation")
    factories.make_concept(cast.project, "Hijra", parent=parent)
    monkeypatch.setattr(Concept, "references", lambda self: [])
    response = client_for(cast.analyst).post(delete_url(parent))
    assert response.status_code == 409
    assert "Used by other records of this project." in response.text
    assert Concept.objects.count() == 2


def test_concepts_of_other_projects_are_not_found(cast, client_for):
    stranger = factories.make_concept(factories.make_project())
    assert client_for(cast.supervisor).post(delete_url(stranger)).status_code == 404
    assert Concept.objects.filter(pk=stranger.pk).exists()

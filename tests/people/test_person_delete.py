"""Deleting a person: only when nothing refers to them, and the refusal says by what."""

from apps.annotations.models import Mention
from apps.people.models import NameVariant, Person
from tests import factories


def delete_url(person):
    return f"/p/review/people/{person.pk}/delete/"


def test_an_unreferenced_person_is_deleted_after_confirmation(cast, client_for):
    person = factories.make_person(cast.project, "Typo Persn")
    person.add_variant("Typo")
    client = client_for(cast.analyst)
    page = client.get(delete_url(person))
    assert page.status_code == 200
    assert "Delete person" in page.text
    response = client.post(delete_url(person), follow=True)
    assert response.redirect_chain == [("/p/review/people/", 302)]
    assert "Deleted Typo Persn." in response.text
    assert not Person.objects.exists()
    assert not NameVariant.objects.exists()


def test_a_referenced_person_is_kept_and_the_message_counts_each_use(cast, client_for):
    kaplan = factories.make_person(cast.project, "Jeffrey Kaplan")
    for _ in range(2):
        factories.make_source(cast.project).add_contributor(kaplan)
    # Editor and author of the same source: one source.
    edited = factories.make_source(cast.project)
    edited.add_contributor(kaplan, role="editor")
    edited.add_contributor(kaplan)
    annotation = factories.make_annotation(factories.make_source(cast.project), cast.analyst)
    Mention.objects.create(annotation=annotation, person=kaplan, function="supporting")
    Mention.objects.create(annotation=annotation, person=kaplan, work=edited)
    factories.make_concept(cast.project, "Fifth wave", originator=kaplan)
    message = "Used by 3 sources (as contributor), 1 annotation (mention), 1 concept (originator)."
    client = client_for(cast.analyst)
    page = client.get(delete_url(kaplan))
    assert message in page.text
    assert "Delete person" not in page.text
    response = client.post(delete_url(kaplan))
    assert response.status_code == 409
    assert message in response.text
    assert Person.objects.filter(pk=kaplan.pk).exists()


def test_the_database_guard_gives_a_refusal_instead_of_an_error(cast, client_for, monkeypatch):
    person = factories.make_person(cast.project)
    factories.make_source(cast.project).add_contributor(person)
    monkeypatch.setattr(Person, "references", lambda self: [])
    response = client_for(cast.analyst).post(delete_url(person))
    assert response.status_code == 409
    assert "Used by other records of this project." in response.text
    assert Person.objects.filter(pk=person.pk).exists()


def test_people_of_other_projects_are_not_found(cast, client_for):
    stranger = factories.make_person(factories.make_project())
    assert client_for(cast.supervisor).post(delete_url(stranger)).status_code == 404
    assert Person.objects.filter(pk=stranger.pk).exists()

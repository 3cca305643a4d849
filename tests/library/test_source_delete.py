"""Deleting a source: only when nothing refers to it, and the refusal says by what."""

from apps.annotations.models import Mention
from apps.library.models import Contributor, Source, SourceIdentifier
from apps.people.models import Person
from tests import factories


def delete_url(source):
    return f"/p/review/sources/{source.pk}/delete/"


def test_an_unreferenced_source_is_deleted_after_confirmation(cast, client_for):
    source = factories.make_source(cast.project, "A work nobody cites")
    naji = factories.make_person(cast.project, "Abu Bakr Naji")
    source.add_contributor(naji)
    source.add_identifier("doi", "10.1000/xyz")
    client = client_for(cast.analyst)
    page = client.get(delete_url(source))
    assert page.status_code == 200
    assert "Delete source" in page.text
    assert Source.objects.filter(pk=source.pk).exists()
    response = client.post(delete_url(source), follow=True)
    assert response.redirect_chain == [("/p/review/sources/", 302)]
    assert "Deleted “A work nobody cites”." in response.text
    assert not Source.objects.filter(pk=source.pk).exists()
    assert not Contributor.objects.exists()
    assert not SourceIdentifier.objects.exists()
    # People outlive the sources they wrote.
    assert Person.objects.filter(pk=naji.pk).exists()


def test_a_source_with_annotations_is_kept_and_the_message_says_by_what(cast, client_for):
    source = factories.make_source(cast.project, "Withdrawal from Society")
    for _ in range(3):
        factories.make_annotation(source, cast.analyst2)
    citing = factories.make_annotation(factories.make_source(cast.project), cast.analyst)
    qutb = factories.make_person(cast.project, "Sayyid Qutb")
    Mention.objects.create(annotation=citing, person=qutb, work=source, function="supporting")
    message = "Used by 3 annotations (excerpts), 1 annotation (citing it as a work)."
    client = client_for(cast.supervisor)
    page = client.get(delete_url(source))
    assert page.status_code == 200
    assert message in page.text
    assert "Delete source" not in page.text
    response = client.post(delete_url(source))
    assert response.status_code == 409
    assert message in response.text
    assert Source.objects.filter(pk=source.pk).exists()


def test_the_database_guard_gives_the_same_refusal_instead_of_an_error(
    cast, client_for, monkeypatch
):
    source = factories.make_source(cast.project)
    factories.make_annotation(source, cast.analyst)
    # As if the annotation had been added between the check and the delete.
    checks = iter([[], ["1 annotation (excerpt)"]])
    monkeypatch.setattr(Source, "references", lambda self: next(checks))
    response = client_for(cast.analyst).post(delete_url(source))
    assert response.status_code == 409
    assert "Used by 1 annotation (excerpt)." in response.text
    assert Source.objects.filter(pk=source.pk).exists()


def test_sources_of_other_projects_and_forged_ids_are_not_found(cast, client_for):
    elsewhere = factories.make_source(factories.make_project(), "Elsewhere")
    client = client_for(cast.supervisor)
    assert client.post(delete_url(elsewhere)).status_code == 404
    assert client.post("/p/review/sources/999999999999999999/delete/").status_code == 404
    assert Source.objects.filter(pk=elsewhere.pk).exists()


def test_students_cannot_delete_sources(cast, client_for):
    source = factories.make_source(cast.project)
    assert client_for(cast.student).post(delete_url(source)).status_code == 403
    assert Source.objects.filter(pk=source.pk).exists()

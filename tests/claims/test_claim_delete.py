"""Deleting a claim: only when no evidence or other claim refers to it."""

from apps.claims.models import Claim, ClaimRelation
from tests import factories


def delete_url(claim):
    return f"/p/review/claims/{claim.pk}/delete/"


def test_an_unreferenced_claim_is_deleted_with_its_own_relations(cast, client_for):
    claim = factories.make_claim(cast.project, "A claim nobody backs")
    other = factories.make_claim(cast.project, "Another claim")
    claim.relate(other, "supports")
    client = client_for(cast.analyst)
    page = client.get(delete_url(claim))
    assert page.status_code == 200
    assert "Delete claim" in page.text
    response = client.post(delete_url(claim), follow=True)
    assert response.redirect_chain == [("/p/review/claims/", 302)]
    assert "Deleted the claim “A claim nobody backs”." in response.text
    assert list(Claim.objects.all()) == [other]
    assert not ClaimRelation.objects.exists()


def test_a_claim_with_evidence_or_incoming_relations_is_kept(cast, client_for):
    claim = factories.make_claim(cast.project, "Isolationist groups will spread")
    source = factories.make_source(cast.project)
    for status in ("approved", "draft", "submitted"):
        factories.make_annotation(
            source, cast.analyst, status=status, reviewer=cast.supervisor, claims=[claim]
        )
    factories.make_claim(cast.project).relate(claim, "refines")
    message = "Used by 3 annotations (evidence), 1 claim (related to it)."
    client = client_for(cast.analyst2)
    assert message in client.get(delete_url(claim)).text
    response = client.post(delete_url(claim))
    assert response.status_code == 409
    assert message in response.text
    assert Claim.objects.filter(pk=claim.pk).exists()


def test_the_database_guard_gives_a_refusal_instead_of_an_error(cast, client_for, monkeypatch):
    claim = factories.make_claim(cast.project)
    factories.make_annotation(factories.make_source(cast.project), cast.analyst, claims=[claim])
    monkeypatch.setattr(Claim, "references", lambda self: [])
    response = client_for(cast.analyst).post(delete_url(claim))
    assert response.status_code == 409
    assert "Used by other records of this project." in response.text
    assert Claim.objects.filter(pk=claim.pk).exists()


def test_claims_of_other_projects_are_not_found(cast, client_for):
    stranger = factories.make_claim(factories.make_project())
    assert client_for(cast.supervisor).post(delete_url(stranger)).status_code == 404
    assert Claim.objects.filter(pk=stranger.pk).exists()

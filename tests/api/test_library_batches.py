"""Batch creates of people, claims and concepts (as sources/batch/): each item succeeds, is
unchanged (the project has it already) or fails with its reason, on its own; the successes
share one library version; bad batches are refused whole."""

import pytest

from apps.claims.models import Claim, Concept
from apps.people.models import Person
from tests import factories
from tests.api.test_sync import BASE, send, version_of


def test_a_people_batch_saves_the_new_names_and_points_at_the_known_ones(cast, api_for):
    known = factories.make_person(cast.project, "Jeffrey Kaplan")
    before = version_of(cast.project)
    response = send(api_for(cast.analyst), "post", BASE + "people/batch/", [
        {"display_name": "Martha  Crenshaw", "variants": ["M. Crenshaw"]},
        {"display_name": "jeffrey kaplan"},
        {"display_name": ""},
        {"display_name": "X", "shade": "blue"},
        "not an object",
    ])  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    crenshaw = Person.objects.get(display_name="Martha Crenshaw")
    assert body["successful"]["0"]["id"] == crenshaw.pk
    assert body["unchanged"] == {"1": known.pk}
    assert {key: failure["code"] for key, failure in body["failed"].items()} == {
        "2": 400, "3": 400, "4": 400,
    }  # fmt: skip
    assert [e["where"] for e in body["failed"]["3"]["errors"]] == ["body.shade"]
    assert body["version"] == version_of(cast.project) == before + 1
    assert crenshaw.library_version == before + 1
    assert Person.objects.filter(project=cast.project).count() == 2
    assert response["Last-Modified-Version"] == str(before + 1)


def test_a_claims_batch_links_relations_and_knows_a_statement_however_spaced(cast, api_for):
    known = factories.make_claim(cast.project, "Takfiri groups will spread")
    response = send(api_for(cast.supervisor), "post", BASE + "claims/batch/", [
        {"statement": "Isolation is old", "relations": [
            {"kind": "supports", "target_id": known.pk}]},
        {"statement": "  takfiri   groups will SPREAD "},
    ])  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    made = Claim.objects.get(statement="Isolation is old")
    assert body["successful"]["0"]["id"] == made.pk
    assert [(r.kind, r.target_id) for r in made.relations_out.all()] == [("supports", known.pk)]
    assert body["unchanged"] == {"1": known.pk} and body["failed"] == {}


def test_a_concepts_batch_places_concepts_under_their_parent(cast, api_for):
    parent = factories.make_concept(cast.project, "Isolation")
    other_project = factories.make_concept(factories.make_project("other"), "Elsewhere")
    response = send(api_for(cast.analyst), "post", BASE + "concepts/batch/", [
        {"name": "Hijra", "parent_id": parent.pk, "colour": "#AA3300"},
        {"name": "ISOLATION"},
        {"name": "Stray", "parent_id": other_project.pk},
    ])  # fmt: skip
    body = response.json()
    hijra = Concept.objects.get(project=cast.project, name="Hijra")
    assert (hijra.parent, hijra.colour) == (parent, "#aa3300")
    assert body["successful"]["0"]["colour"] == "#aa3300"
    assert body["unchanged"] == {"1": parent.pk}
    assert body["failed"]["2"]["errors"][0]["where"] == "body.parent_id"
    assert not Concept.objects.filter(name="Stray").exists()


@pytest.mark.parametrize("kind", ["people", "claims", "concepts"])
@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ([{"name": f"n{n}"} for n in range(51)], 413, "at most 50"),
        ([], 400, "at least one"),
        ({"name": "x"}, 400, "Invalid request"),
    ],
)
def test_bad_batches_are_refused_whole(cast, api_for, kind, body, status, words):
    before = version_of(cast.project)
    response = send(api_for(cast.analyst), "post", f"{BASE}{kind}/batch/", body)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert version_of(cast.project) == before
    assert not (Person.objects.exists() or Claim.objects.exists() or Concept.objects.exists())


def test_a_stale_library_version_writes_nothing(cast, api_for):
    version = version_of(cast.project)
    factories.make_concept(cast.project, "Isolation")
    response = send(
        api_for(cast.analyst), "post", BASE + "people/batch/", [{"display_name": "A B"}],
        HTTP_IF_UNMODIFIED_SINCE_VERSION=str(version),
    )  # fmt: skip
    assert response.status_code == 412
    assert not Person.objects.exists()

"""People, claims and concepts written through the API are checked by the pages' own forms and
saved by them: the same normalising, the same refusals (as JSON naming the refused field), the
same links, and deletions refused with what still refers to the object."""

import json

import pytest

from apps.claims.models import Claim, ClaimRelation, Concept
from apps.people.models import Person
from tests import factories
from tests.api.test_writes_access import state

PEOPLE = "/api/v1/p/review/people/"
CLAIMS = "/api/v1/p/review/claims/"
CONCEPTS = "/api/v1/p/review/concepts/"


def send(client, method, url, body=None, **headers):
    data = body if isinstance(body, str) or body is None else json.dumps(body)
    return getattr(client, method)(url, data, content_type="application/json", **headers)


def v1(**more):
    return {"HTTP_IF_UNMODIFIED_SINCE_VERSION": "1", **more}


# --- People ------------------------------------------------------------------------------------


def test_a_person_is_added_as_the_form_adds_one(cast, api_for):
    response = send(api_for(cast.analyst), "post", PEOPLE, {
        "display_name": "  Abu   Mus'ab al-Suri ", "literal": "Abu Mus'ab al-Suri",
        "variants": ["as-Suri", " Mustafa  Setmariam Nasar ", "as-Suri"],
        "orcid": "https://orcid.org/0000-0002-1825-0097",
    })  # fmt: skip
    assert response.status_code == 201, response.content
    person = Person.objects.get(pk=response.json()["id"])
    assert person.display_name == "Abu Mus'ab al-Suri"
    assert person.orcid == "0000-0002-1825-0097"
    assert sorted(v.name for v in person.variants.all()) == ["Mustafa Setmariam Nasar", "as-Suri"]
    assert response.json()["variants"] == ["Mustafa Setmariam Nasar", "as-Suri"]
    assert person.updated_by == cast.analyst and person.project == cast.project


def test_a_namesake_needs_different_person(cast, api_for):
    known = factories.make_person(cast.project, "Sayyid Qutb")
    client = api_for(cast.analyst)
    before = state()
    refused = send(client, "post", PEOPLE, {"display_name": "Sayyid  Qutb"})
    assert refused.status_code == 400
    [error] = refused.json()["errors"]
    assert error["where"] == "body.different_person"
    assert f"#{known.pk} Sayyid Qutb" in error["message"]
    assert state() == before
    body = {"display_name": "Sayyid Qutb", "different_person": True}
    assert send(client, "post", PEOPLE, body).status_code == 201


def test_a_change_keeps_the_variants_unless_it_names_them(cast, api_for):
    person = factories.make_person(cast.project, "Martha Crenshaw")
    person.set_variants(["M. Crenshaw"])
    client = api_for(cast.analyst)
    url = f"{PEOPLE}{person.pk}/"
    changed = send(client, "patch", url, {"description": "Political scientist"}, **v1())
    assert changed.status_code == 200, changed.content
    assert changed.json()["variants"] == ["M. Crenshaw"]
    assert changed.json()["description"] == "Political scientist"
    cleared = send(client, "patch", url, {"variants": []}, HTTP_IF_MATCH='"2"')
    assert cleared.json()["variants"] == [] and not person.variants.exists()


def test_a_person_others_refer_to_is_not_deleted(cast, world, api_for):
    person = world["person"]  # mentioned by an annotation
    before = state()
    response = send(api_for(cast.analyst), "delete", f"{PEOPLE}{person.pk}/", **v1())
    assert response.status_code == 409
    assert response.json()["references"]
    assert "annotation" in response.json()["references"][0]
    assert state() == before
    lonely = factories.make_person(cast.project)
    assert send(api_for(cast.analyst), "delete", f"{PEOPLE}{lonely.pk}/", **v1()).status_code == 204
    assert not Person.objects.filter(pk=lonely.pk).exists()


BAD_PEOPLE = [
    ("{not json", "body"),
    ("[]", "body"),
    ({"display_name": "X", "colour": "red"}, "body.colour"),
    ({"display_name": 5}, "body.display_name"),
    ({"display_name": ""}, "body.display_name"),
    ({"display_name": "X", "kind": "robot"}, "body.kind"),
    ({"display_name": "X", "orcid": "0000-0002-1825-0098"}, "body.orcid"),
    ({"display_name": "X", "wikidata": "P42"}, "body.wikidata"),
    ({"display_name": "X", "given": "Only"}, "body.family"),
    ({"display_name": "X\x00"}, "body.display_name"),
    ({"display_name": "X", "variants": "not a list"}, "body.variants"),
    ({"display_name": "X", "variants": ["x" * 301]}, "body.variants"),
    ({"display_name": "X", "different_person": "perhaps"}, "body.different_person"),
    ({"display_name": "X", "variants": ["two\nnames"]}, "body.variants.0"),
    ({"display_name": "X", "variants": [None]}, "body.variants.0"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "where"), BAD_PEOPLE, ids=range(len(BAD_PEOPLE)))
def test_bad_people_are_refused_and_change_nothing(cast, api_for, body, where):
    person = factories.make_person(cast.project, "Someone")
    client = api_for(cast.analyst)
    before = state()
    for method, url, headers in (("post", PEOPLE, {}), ("patch", f"{PEOPLE}{person.pk}/", v1())):
        response = send(client, method, url, body, **headers)
        assert response.status_code == 400, (method, response.content)
        answer = response.json()
        assert answer["detail"]
        assert any(e["where"].startswith(where) for e in answer["errors"]), answer
    assert state() == before


# --- Claims ------------------------------------------------------------------------------------


def test_a_claim_is_added_with_its_relations(cast, api_for):
    other = factories.make_claim(cast.project, "ISIS will split")
    response = send(api_for(cast.analyst), "post", CLAIMS, {
        "statement": "Takfiri groups spread", "kind": "prediction",
        "relations": [{"kind": "contradicts", "target_id": other.pk}],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    claim = Claim.objects.get(pk=response.json()["id"])
    assert (claim.statement, claim.kind, claim.created_by) == (
        "Takfiri groups spread", "prediction", cast.analyst,
    )  # fmt: skip
    assert list(claim.relations_out.values_list("kind", "target_id")) == [("contradicts", other.pk)]
    assert response.json()["relations"] == [{"kind": "contradicts", "target_id": other.pk}]


def test_a_change_keeps_the_relations_unless_it_names_them(cast, api_for):
    claim, other = factories.make_claim(cast.project), factories.make_claim(cast.project)
    claim.set_relations([("supports", other)])
    client = api_for(cast.analyst)
    url = f"{CLAIMS}{claim.pk}/"
    kept = send(client, "patch", url, {"statement": "Reworded"}, **v1())
    assert kept.status_code == 200, kept.content
    assert kept.json()["relations"] == [{"kind": "supports", "target_id": other.pk}]
    cleared = send(client, "patch", url, {"relations": []}, HTTP_IF_MATCH='"2"')
    assert cleared.json()["relations"] == [] and not ClaimRelation.objects.exists()


def test_a_claim_with_evidence_is_not_deleted(cast, world, api_for):
    before = state()
    response = send(api_for(cast.supervisor), "delete", f"{CLAIMS}{world['claim'].pk}/", **v1())
    assert response.status_code == 409
    assert "evidence" in " ".join(response.json()["references"])
    assert state() == before


def test_claims_relate_only_to_claims_of_the_project(cast, api_for):
    other = factories.make_project(slug="other")
    theirs = factories.make_claim(other, "Elsewhere")
    claim = factories.make_claim(cast.project)
    client = api_for(cast.analyst)
    before = state()
    for method, url, headers in (("post", CLAIMS, {}), ("patch", f"{CLAIMS}{claim.pk}/", v1())):
        body = {"statement": "New", "relations": [{"kind": "supports", "target_id": theirs.pk}]}
        response = send(client, method, url, body, **headers)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["where"] == "body.relations.0.target_id"
        assert f"no claim #{theirs.pk} in this project" in error["message"]
    itself = {"relations": [{"kind": "supports", "target_id": claim.pk}]}
    response = send(client, "patch", f"{CLAIMS}{claim.pk}/", itself, **v1())
    assert response.status_code == 400 and "itself" in response.json()["detail"]
    assert state() == before


BAD_CLAIMS = [
    ({"statement": "S", "kind": "rumour"}, "body.kind"),
    ({"statement": ""}, "body.statement"),
    ({"statement": ["S"]}, "body.statement"),
    ({"statement": "S", "relations": [{"kind": "loves", "target_id": 1}]}, "body.relations.0"),
    ({"statement": "S", "relations": [{"kind": "supports", "target_id": 0}]}, "body.relations.0"),
    ({"statement": "S", "relations": [{"kind": "supports"}]}, "body.relations.0"),
    ({"statement": "S", "relations": {"kind": "supports"}}, "body.relations"),
    ({"statement": "S", "evidence": []}, "body.evidence"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "where"), BAD_CLAIMS, ids=range(len(BAD_CLAIMS)))
def test_bad_claims_are_refused_and_change_nothing(cast, api_for, body, where):
    claim = factories.make_claim(cast.project)
    client = api_for(cast.analyst)
    before = state()
    for method, url, headers in (("post", CLAIMS, {}), ("patch", f"{CLAIMS}{claim.pk}/", v1())):
        response = send(client, method, url, body, **headers)
        assert response.status_code == 400, (method, response.content)
        assert any(e["where"].startswith(where) for e in response.json()["errors"])
    assert state() == before


# --- Concepts ----------------------------------------------------------------------------------


def test_a_concept_is_placed_in_the_codebook(cast, api_for):
    broader = factories.make_concept(cast.project, "jihadism")
    kaplan = factories.make_person(cast.project, "Jeffrey Kaplan")
    client = api_for(cast.analyst)
    response = send(client, "post", CONCEPTS, {
        "name": "fifth  wave", "definition": "Kaplan's term.", "parent_id": broader.pk,
        "originator_id": kaplan.pk,
    })  # fmt: skip
    assert response.status_code == 201, response.content
    concept = Concept.objects.get(pk=response.json()["id"])
    assert (concept.name, concept.parent, concept.originator) == ("fifth wave", broader, kaplan)
    url = f"{CONCEPTS}{concept.pk}/"
    kept = send(client, "patch", url, {"definition": "Changed."}, **v1())
    assert (kept.json()["parent_id"], kept.json()["originator_id"]) == (broader.pk, kaplan.pk)
    top = send(
        client, "patch", url, {"parent_id": None, "originator_id": None}, HTTP_IF_MATCH='"2"'
    )
    assert (top.json()["parent_id"], top.json()["originator_id"]) == (None, None)
    coloured = send(client, "patch", url, {"colour": "#AA3300"}, HTTP_IF_MATCH='"3"')
    assert coloured.json()["colour"] == "#aa3300"
    refused = send(client, "patch", url, {"colour": "red"}, HTTP_IF_MATCH='"4"')
    assert refused.status_code == 400
    assert [e["where"] for e in refused.json()["errors"]] == ["body.colour"]


def test_concepts_name_only_the_projects_rows(cast, api_for):
    other = factories.make_project(slug="other")
    their_concept = factories.make_concept(other)
    their_person = factories.make_person(other)
    factories.make_concept(cast.project, "isolation")
    client = api_for(cast.analyst)
    before = state()
    for body, where in (
        ({"name": "x", "parent_id": their_concept.pk}, "body.parent_id"),
        ({"name": "x", "originator_id": their_person.pk}, "body.originator_id"),
        ({"name": "ISOLATION"}, "body.name"),
        ({"name": "x", "parent_id": "abc"}, "body.parent_id"),
        ({"name": "x", "shade": "blue"}, "body.shade"),
    ):
        response = send(client, "post", CONCEPTS, body)
        assert response.status_code == 400, response.content
        assert [e["where"] for e in response.json()["errors"]] == [where]
    assert state() == before


def test_a_concept_cannot_sit_below_itself(cast, api_for):
    top = factories.make_concept(cast.project, "top")
    middle = factories.make_concept(cast.project, "middle", parent=top)
    before = state()
    for parent in (top, middle):
        response = send(
            api_for(cast.analyst), "patch", f"{CONCEPTS}{top.pk}/", {"parent_id": parent.pk},
            **v1(),
        )  # fmt: skip
        assert response.status_code == 400, response.content
        assert [e["where"] for e in response.json()["errors"]] == ["body.parent_id"]
    assert state() == before


def test_a_concept_in_use_is_not_deleted(cast, world, api_for):
    before = state()
    response = send(api_for(cast.analyst), "delete", f"{CONCEPTS}{world['concept'].pk}/", **v1())
    assert response.status_code == 409
    assert response.json()["references"]
    assert state() == before

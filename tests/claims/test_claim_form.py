"""Adding and editing claims: statement, kind and typed relations to other claims."""

import pytest

from apps.claims.models import Claim, ClaimRelation
from tests import factories

NEW = "/p/review/claims/new/"


def edit_url(claim):
    return f"/p/review/claims/{claim.pk}/edit/"


def claim_data(relations=(), *, version=None, initial=0, **fields):
    data = {
        "statement": "Isolationist takfiri groups will spread",
        "kind": "prediction",
        "relations-TOTAL_FORMS": str(len(relations)),
        "relations-INITIAL_FORMS": str(initial),
    }
    if version is not None:
        data["loaded_version"] = str(version)
    for index, row in enumerate(relations):
        data.update({f"relations-{index}-{key}": value for key, value in row.items()})
    data.update(fields)
    return data


def relation(kind, target, **extra):
    text = target if isinstance(target, str) else f"#{target.pk} {target}"
    return {"kind": kind, "target": text, **extra}


def relations_of(claim):
    return sorted(claim.relations_out.values_list("kind", "target__statement"))


def errors(response):
    formset = response.context["relations"]
    found = [e for es in response.context["form"].errors.values() for e in es]
    found += list(formset.non_form_errors())
    return found + [e for form_errors in formset.errors for es in form_errors.values() for e in es]


@pytest.fixture
def claims(cast):
    project = cast.project
    return {
        "scattered": factories.make_claim(project, "The dissidents scattered"),
        "isolation": factories.make_claim(project, "Isolation is a prerequisite"),
    }


def test_analyst_adds_a_claim_related_to_others(cast, client_for, claims):
    data = claim_data(
        [
            relation("supports", claims["isolation"]),
            relation("contradicts", "the dissidents SCATTERED"),  # the exact statement
            {"kind": "refines", "target": ""},  # a blank row is ignored
        ]
    )
    response = client_for(cast.analyst).post(NEW, data, follow=True)
    claim = Claim.objects.get(statement="Isolationist takfiri groups will spread")
    assert response.redirect_chain == [(f"/p/review/claims/{claim.pk}/", 302)]
    assert "Saved the claim." in response.text
    assert (claim.project, claim.kind, claim.created_by, claim.updated_by) == (
        cast.project,
        "prediction",
        cast.analyst,
        cast.analyst,
    )
    assert relations_of(claim) == [
        ("contradicts", "The dissidents scattered"),
        ("supports", "Isolation is a prerequisite"),
    ]


def test_supervisor_edits_a_claim_and_its_relations(cast, client_for, claims):
    claim = factories.make_claim(cast.project, "Groups will spread")
    claim.relate(claims["scattered"], "supports")
    claims["isolation"].relate(claim, "refines")
    page = client_for(cast.supervisor).get(edit_url(claim))
    assert f'value="#{claims["scattered"].pk} The dissidents scattered"' in page.text
    # Incoming relations are shown, read only: they belong to the other claim's form.
    assert "Other claims related to this one" in page.text
    assert "refines this claim" in page.text
    data = claim_data(
        [
            relation("supports", claims["scattered"], DELETE="on"),
            relation("refines", claims["isolation"]),
        ],
        version=1,
        initial=1,
        kind="thesis",
    )
    assert client_for(cast.supervisor).post(edit_url(claim), data).status_code == 302
    claim.refresh_from_db()
    assert (claim.statement, claim.kind, claim.version) == (
        "Isolationist takfiri groups will spread",
        "thesis",
        2,
    )
    assert relations_of(claim) == [("refines", "Isolation is a prerequisite")]
    # The other claim's relation to this one is untouched.
    assert claims["isolation"].relations_out.filter(target=claim).exists()


def test_a_missing_statement_is_refused(cast, client_for):
    response = client_for(cast.analyst).post(NEW, claim_data(statement=""))
    assert response.status_code == 200
    assert errors(response) == ["This field is required."]
    assert not Claim.objects.exists()


def test_a_relation_to_itself_is_refused(cast, client_for, claims):
    claim = claims["scattered"]
    data = claim_data([relation("supports", claim)], version=1)
    response = client_for(cast.analyst).post(edit_url(claim), data)
    assert response.status_code == 200
    assert errors(response) == ["A claim cannot be related to itself (supports)."]
    claim.refresh_from_db()
    assert (claim.statement, claim.version) == ("The dissidents scattered", 1)
    assert not ClaimRelation.objects.exists()


def test_the_same_relation_twice_is_refused(cast, client_for, claims):
    target = claims["isolation"]
    data = claim_data([relation("supports", target), relation("supports", f"#{target.pk}")])
    response = client_for(cast.analyst).post(NEW, data)
    assert errors(response) == [f"“This claim supports #{target.pk}” is listed twice."]
    assert Claim.objects.count() == 2
    # Two different kinds towards the same claim are fine.
    data = claim_data([relation("supports", target), relation("refines", target)])
    assert client_for(cast.analyst).post(NEW, data).status_code == 302


def test_claims_of_another_project_cannot_be_related(cast, client_for):
    stranger = factories.make_claim(factories.make_project(), "Isolation is a prerequisite")
    response = client_for(cast.analyst).post(NEW, claim_data([relation("supports", stranger)]))
    assert errors(response) == [f"There is no claim #{stranger.pk} in this project."]
    response = client_for(cast.analyst).post(
        NEW, claim_data([relation("supports", "Isolation is a prerequisite")])
    )
    assert errors(response) == ["No claim matches “Isolation is a prerequisite”."]
    assert Claim.objects.count() == 1


def test_an_ambiguous_target_lists_the_candidates(cast, client_for, claims):
    response = client_for(cast.analyst).post(NEW, claim_data([relation("supports", "is")]))
    [message] = errors(response)
    assert message.startswith("Several claims could be meant — type one as “#number”:")
    assert f"#{claims['scattered'].pk} The dissidents scattered" in message
    assert f"#{claims['isolation'].pk} Isolation is a prerequisite" in message
    assert Claim.objects.count() == 2


def test_a_stale_edit_changes_nothing_and_shows_what_changed(cast, client_for, claims):
    claim = claims["scattered"]
    theirs = claim_data(
        [relation("supports", claims["isolation"])], version=1, statement="They scattered"
    )
    assert client_for(cast.supervisor).post(edit_url(claim), theirs).status_code == 302
    mine = claim_data(version=1, statement="The dissidents scattered and went quiet")
    response = client_for(cast.analyst).post(edit_url(claim), mine)
    assert response.status_code == 200
    assert "Not saved: this changed while you were editing" in response.text
    changed = {d.label: (d.yours, d.saved) for d in response.context["differences"]}
    assert changed == {
        "Statement": ("The dissidents scattered and went quiet", "They scattered"),
        "Related claims": (
            "",
            f"supports #{claims['isolation'].pk} Isolation is a prerequisite",
        ),
    }
    claim.refresh_from_db()
    assert (claim.statement, claim.version, claim.updated_by) == (
        "They scattered",
        2,
        cast.supervisor,
    )
    assert relations_of(claim) == [("supports", "Isolation is a prerequisite")]
    assert "The dissidents scattered and went quiet" in response.text


def test_claims_of_other_projects_and_forged_ids_are_not_found(cast, client_for):
    stranger = factories.make_claim(factories.make_project(), "Elsewhere")
    client = client_for(cast.supervisor)
    assert client.get(edit_url(stranger)).status_code == 404
    assert client.post(edit_url(stranger), claim_data(version=1)).status_code == 404
    assert client.get("/p/review/claims/999999999999999999/edit/").status_code == 404
    stranger.refresh_from_db()
    assert stranger.statement == "Elsewhere"


def test_editors_find_the_forms_from_the_list_and_the_claim_page(cast, client_for, claims):
    claim = claims["scattered"]
    factories.make_annotation(
        factories.make_source(cast.project),
        cast.analyst,
        status="approved",
        reviewer=cast.supervisor,
        claims=[claim],
    )
    for user, shown in [(cast.analyst, True), (cast.supervisor, True), (cast.student, False)]:
        client = client_for(user)
        assert (NEW in client.get("/p/review/claims/").text) is shown
        page = client.get(f"/p/review/claims/{claim.pk}/")
        assert page.status_code == 200
        assert (edit_url(claim) in page.text) is shown
        assert (f"/p/review/claims/{claim.pk}/delete/" in page.text) is shown

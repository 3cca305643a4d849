"""Adding and editing concepts of the codebook: unique names, a hierarchy without cycles."""

import pytest

from apps.claims.models import Concept
from tests import factories

NEW = "/p/review/concepts/new/"


def edit_url(concept):
    return f"/p/review/concepts/{concept.pk}/edit/"


def concept_data(*, version=None, **fields):
    data = {"name": "Fifth wave", "definition": "", "parent": "", "originator": ""}
    if version is not None:
        data["loaded_version"] = str(version)
    data.update(fields)
    return data


@pytest.fixture
def codebook(cast):
    project = cast.project
    isolation = factories.make_concept(project, "Isolation")
    hijra = factories.make_concept(project, "Hijra", parent=isolation)
    desert = factories.make_concept(project, "Retreat to the desert", parent=hijra)
    return {"isolation": isolation, "hijra": hijra, "desert": desert}


def test_analyst_adds_a_concept_with_parent_and_originator(cast, client_for, codebook):
    kaplan = factories.make_person(cast.project, "Jeffrey Kaplan")
    data = concept_data(
        definition="Radical groups that turn on their own community.",
        parent=str(codebook["isolation"].pk),
        originator="jeffrey kaplan",
    )
    response = client_for(cast.analyst).post(NEW, data, follow=True)
    concept = Concept.objects.get(name="Fifth wave")
    assert response.redirect_chain == [(f"/p/review/concepts/{concept.pk}/", 302)]
    assert "Saved “Fifth wave”." in response.text
    assert (concept.project, concept.parent, concept.originator, concept.updated_by) == (
        cast.project,
        codebook["isolation"],
        kaplan,
        cast.analyst,
    )


def test_the_parent_list_shows_the_codebook_as_a_tree(cast, client_for, codebook):
    kaplan = factories.make_person(cast.project, "Jeffrey Kaplan")
    concept = factories.make_concept(cast.project, "Fifth wave", originator=kaplan)
    page = client_for(cast.analyst).get(edit_url(concept))
    choices = [label for _, label in page.context["form"].fields["parent"].choices]
    assert choices == [
        "— top level —",
        "Fifth wave",
        "Isolation",
        "\u2003Hijra",
        "\u2003\u2003Retreat to the desert",
    ]
    assert f'value="#{kaplan.pk} Jeffrey Kaplan"' in page.text


def test_supervisor_edits_a_concept(cast, client_for, codebook):
    desert = codebook["desert"]
    data = concept_data(version=1, name="Desert retreat", parent="")
    assert client_for(cast.supervisor).post(edit_url(desert), data).status_code == 302
    desert.refresh_from_db()
    assert (desert.name, desert.parent, desert.version) == ("Desert retreat", None, 2)


def test_a_missing_name_is_refused(cast, client_for):
    response = client_for(cast.analyst).post(NEW, concept_data(name=""))
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert not Concept.objects.exists()


def test_a_name_already_in_the_codebook_is_refused_whatever_its_case(cast, client_for, codebook):
    response = client_for(cast.analyst).post(NEW, concept_data(name="  isolation "))
    assert response.context["form"].errors["name"] == [
        f"The codebook already has a concept named “Isolation” (#{codebook['isolation'].pk})."
    ]
    assert Concept.objects.count() == 3
    # The same name in another project is no obstacle.
    factories.make_concept(factories.make_project(), "Fifth wave")
    assert client_for(cast.analyst).post(NEW, concept_data()).status_code == 302


@pytest.mark.parametrize("below", ["isolation", "hijra", "desert"])
def test_a_concept_cannot_be_put_below_itself_or_its_descendants(cast, client_for, codebook, below):
    isolation = codebook["isolation"]
    data = concept_data(version=1, name="Isolation", parent=str(codebook[below].pk))
    response = client_for(cast.analyst).post(edit_url(isolation), data)
    assert response.status_code == 200
    assert response.context["form"].errors["parent"] == ["A concept cannot sit below itself."]
    isolation.refresh_from_db()
    assert (isolation.parent, isolation.version) == (None, 1)


def test_a_parent_of_another_project_is_refused(cast, client_for):
    stranger = factories.make_concept(factories.make_project(), "Elsewhere")
    response = client_for(cast.analyst).post(NEW, concept_data(parent=str(stranger.pk)))
    assert response.context["form"].errors["parent"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not Concept.objects.filter(project=cast.project).exists()


def test_an_unknown_or_foreign_originator_is_refused(cast, client_for):
    stranger = factories.make_person(factories.make_project(), "Jeffrey Kaplan")
    client = client_for(cast.analyst)
    response = client.post(NEW, concept_data(originator="Jeffrey Kaplan"))
    assert response.context["form"].errors["originator"] == ["No person matches “Jeffrey Kaplan”."]
    response = client.post(NEW, concept_data(originator=f"#{stranger.pk}"))
    assert response.context["form"].errors["originator"] == [
        f"There is no person #{stranger.pk} in this project."
    ]
    assert not Concept.objects.filter(project=cast.project).exists()


def test_a_stale_edit_changes_nothing_and_shows_what_changed(cast, client_for, codebook):
    hijra = codebook["hijra"]
    theirs = concept_data(version=1, name="Hijra", definition="Emigration from the jahiliyya")
    theirs["parent"] = str(codebook["isolation"].pk)
    assert client_for(cast.supervisor).post(edit_url(hijra), theirs).status_code == 302
    mine = concept_data(version=1, name="Hijra (emigration)", parent="")
    response = client_for(cast.analyst).post(edit_url(hijra), mine)
    assert response.status_code == 200
    assert "Not saved: this changed while you were editing" in response.text
    changed = {d.label: (d.yours, d.saved) for d in response.context["differences"]}
    assert changed == {
        "Name": ("Hijra (emigration)", "Hijra"),
        "Definition": ("", "Emigration from the jahiliyya"),
        "Broader concept": (None, codebook["isolation"]),
    }
    hijra.refresh_from_db()
    assert (hijra.name, hijra.definition, hijra.version) == (
        "Hijra",
        "Emigration from the jahiliyya",
        2,
    )


def test_concepts_of_other_projects_and_forged_ids_are_not_found(cast, client_for):
    stranger = factories.make_concept(factories.make_project(), "Elsewhere")
    client = client_for(cast.supervisor)
    assert client.get(edit_url(stranger)).status_code == 404
    assert client.post(edit_url(stranger), concept_data(version=1)).status_code == 404
    stranger.refresh_from_db()
    assert stranger.name == "Elsewhere"


def test_editors_find_the_forms_from_the_list_and_the_concept_page(cast, client_for, codebook):
    concept = codebook["hijra"]
    for user, shown in [(cast.analyst, True), (cast.supervisor, True), (cast.student, False)]:
        client = client_for(user)
        assert (NEW in client.get("/p/review/concepts/").text) is shown
        page = client.get(f"/p/review/concepts/{concept.pk}/").text
        assert (edit_url(concept) in page) is shown
        assert (f"/p/review/concepts/{concept.pk}/delete/" in page) is shown


@pytest.mark.parametrize(
    ("typed", "saved"), [("#AA3300", "#aa3300"), (" #0f0f0f ", "#0f0f0f"), ("", "")]
)
def test_a_concept_takes_a_colour_and_the_codebook_shows_it(cast, client_for, typed, saved):
    client = client_for(cast.analyst)
    assert client.post(NEW, concept_data(colour=typed)).status_code == 302
    assert Concept.objects.get(name="Fifth wave").colour == saved
    page = client.get("/p/review/concepts/").text
    assert (f'fill="{saved}"' in page) is bool(saved)


@pytest.mark.parametrize("typed", ["red", "#abc", "#12345g", "aa3300", "#aa33001"])
def test_a_colour_that_is_not_six_hexadecimal_digits_is_refused(cast, client_for, typed):
    response = client_for(cast.analyst).post(NEW, concept_data(colour=typed))
    assert response.status_code == 200
    assert "six hexadecimal digits" in response.text or "at most 7 characters" in response.text
    assert not Concept.objects.filter(name="Fifth wave").exists()

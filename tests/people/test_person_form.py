"""Adding and editing people: name parts, spellings, identifiers, the duplicate warning."""

import pytest

from apps.people.models import Person
from tests import factories

NEW = "/p/review/people/new/"


def edit_url(person):
    return f"/p/review/people/{person.pk}/edit/"


def person_data(*, version=None, **fields):
    data = {"kind": "person", "display_name": "Jeffrey Kaplan", "family": "Kaplan"}
    data["given"] = "Jeffrey" if "family" not in fields else ""
    if version is not None:
        data["loaded_version"] = str(version)
    data.update(fields)
    return data


def variants_of(person):
    return sorted(person.variants.values_list("name", flat=True))


@pytest.fixture
def suri(cast):
    suri = factories.make_person(cast.project, "Abu Musab al-Suri", description="Strategist")
    suri.add_variant("Mustafa Setmariam Nasar")
    return suri


def test_analyst_adds_a_person_with_spellings(cast, client_for):
    data = person_data(
        variants="J. Kaplan\n\n  Jeffrey   Kaplan Jr \nJ. Kaplan\n",
        description="Historian of terrorism; the fifth wave.",
        orcid="https://orcid.org/0000-0002-1825-0097",
        wikidata="q42",
    )
    response = client_for(cast.analyst).post(NEW, data, follow=True)
    kaplan = Person.objects.get()
    assert response.redirect_chain == [(f"/p/review/people/{kaplan.pk}/", 302)]
    assert "Saved Jeffrey Kaplan." in response.text
    assert (kaplan.project, kaplan.family, kaplan.given) == (cast.project, "Kaplan", "Jeffrey")
    assert (kaplan.orcid, kaplan.wikidata) == ("0000-0002-1825-0097", "Q42")
    assert (kaplan.version, kaplan.updated_by) == (1, cast.analyst)
    # Blank lines, repeated spellings and stray spaces are dropped.
    assert variants_of(kaplan) == ["J. Kaplan", "Jeffrey Kaplan Jr"]


def test_supervisor_edits_a_person_and_the_spellings_are_replaced(cast, client_for, suri):
    page = client_for(cast.supervisor).get(edit_url(suri))
    assert "Mustafa Setmariam Nasar</textarea>" in page.text
    data = person_data(
        version=1,
        display_name="Abu Musab al-Suri",
        family="",
        literal="Abu Musab al-Suri",
        variants="as-Suri\nأبو مصعب السوري",
    )
    assert client_for(cast.supervisor).post(edit_url(suri), data).status_code == 302
    suri.refresh_from_db()
    assert (suri.literal, suri.version, suri.updated_by) == (
        "Abu Musab al-Suri",
        2,
        cast.supervisor,
    )
    assert variants_of(suri) == ["as-Suri", "أبو مصعب السوري"]


def test_a_missing_name_is_refused(cast, client_for):
    response = client_for(cast.analyst).post(NEW, person_data(display_name="  "))
    assert response.status_code == 200
    assert response.context["form"].errors["display_name"] == ["This field is required."]
    assert not Person.objects.exists()


def test_a_given_name_without_family_name_is_refused(cast, client_for):
    response = client_for(cast.analyst).post(NEW, person_data(family="", given="Martha"))
    assert response.context["form"].errors["family"] == [
        "Give the family name too, or write the whole name as a literal name."
    ]
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("orcid", "0000-0002-1825-0098", "This ORCID has a typo: its check digit does not match."),
        ("orcid", "1234", "Use the form 0000-0002-1825-0097."),
        ("wikidata", "42", "Use the form Q42."),
        ("wikidata", "https://www.wikidata.org/wiki/Berlin", "Use the form Q42."),
    ],
)
def test_malformed_identifiers_are_refused(cast, client_for, field, value, message):
    response = client_for(cast.analyst).post(NEW, person_data(**{field: value}))
    assert response.context["form"].errors[field] == [message]
    assert not Person.objects.exists()


def test_an_orcid_or_wikidata_id_already_recorded_names_the_person(cast, client_for):
    crenshaw = factories.make_person(
        cast.project, "Martha Crenshaw", orcid="0000-0002-1825-0097", wikidata="Q42"
    )
    data = person_data(orcid="0000-0002-1825-0097", wikidata="Q42")
    form = client_for(cast.analyst).post(NEW, data).context["form"]
    assert form.errors["orcid"] == [
        f"This ORCID is already recorded for #{crenshaw.pk} Martha Crenshaw."
    ]
    assert form.errors["wikidata"] == [
        f"This Wikidata ID is already recorded for #{crenshaw.pk} Martha Crenshaw."
    ]
    # The person's own identifiers are no obstacle to editing them.
    data = person_data(version=1, display_name="Martha Crenshaw", family="Crenshaw", given="Martha")
    data.update(orcid="0000-0002-1825-0097", wikidata="Q42")
    assert client_for(cast.analyst).post(edit_url(crenshaw), data).status_code == 302


@pytest.mark.parametrize(
    ("name", "variants"),
    [
        ("Abu Mus'ab as-Suri", ""),  # the display name in another transliteration
        ("Abu Musʿab al-Sūrī", ""),
        ("Mustafa Nasar", "mustafa setmariam nasar"),  # a spelling equal to their variant
        ("The Syrian", "Abu Musab al-Suri"),  # a spelling equal to their name
    ],
)
def test_a_name_matching_someone_is_held_until_confirmed(cast, client_for, suri, name, variants):
    client = client_for(cast.analyst)
    data = person_data(display_name=name, family="", literal=name, variants=variants)
    response = client.post(NEW, data)
    assert response.status_code == 200
    assert [p.pk for p in response.context["form"].duplicates] == [suri.pk]
    assert f'href="/p/review/people/{suri.pk}/"' in response.text
    assert "Already in the project?" in response.text
    assert "This is a different person" in response.text
    assert Person.objects.count() == 1
    data["different_person"] = "on"
    assert client.post(NEW, data).status_code == 302
    assert Person.objects.count() == 2


def test_people_of_other_projects_are_no_duplicates(cast, client_for):
    factories.make_person(factories.make_project(), "Jeffrey Kaplan")
    assert client_for(cast.analyst).post(NEW, person_data()).status_code == 302


def test_editing_without_a_new_name_does_not_ask_again(cast, client_for, suri):
    namesake = factories.make_person(cast.project, "Abu Musab as-Suri")
    data = person_data(
        version=1,
        display_name="Abu Musab as-Suri",
        family="",
        description="Not the strategist",
    )
    assert client_for(cast.analyst).post(edit_url(namesake), data).status_code == 302
    namesake.refresh_from_db()
    assert namesake.description == "Not the strategist"


def test_renaming_to_someone_elses_name_is_held_until_confirmed(cast, client_for, suri):
    other = factories.make_person(cast.project, "Abu Khalid al-Suri")
    client = client_for(cast.analyst)
    data = person_data(version=1, display_name="Abu Khalid al-Suri", family="")
    data["variants"] = "Mustafa Setmariam Nasar"
    response = client.post(edit_url(other), data)
    assert [p.pk for p in response.context["form"].duplicates] == [suri.pk]
    other.refresh_from_db()
    assert (other.version, variants_of(other)) == (1, [])
    data["different_person"] = "on"
    assert client.post(edit_url(other), data).status_code == 302


def test_a_stale_edit_changes_nothing_and_shows_what_changed(cast, client_for, suri):
    theirs = person_data(version=1, display_name="Abu Musab al-Suri", family="", variants="as-Suri")
    theirs["description"] = "Author of The Global Islamic Resistance Call"
    assert client_for(cast.supervisor).post(edit_url(suri), theirs).status_code == 302
    mine = person_data(version=1, display_name="Abu Musab al-Suri", family="", variants="Setmariam")
    mine["description"] = "Jihadi strategist"
    response = client_for(cast.analyst).post(edit_url(suri), mine)
    assert response.status_code == 200
    assert "Not saved: this changed while you were editing" in response.text
    changed = {d.label: (d.yours, d.saved) for d in response.context["differences"]}
    assert changed == {
        "Description": ("Jihadi strategist", "Author of The Global Islamic Resistance Call"),
        "Other spellings": ("Setmariam", "as-Suri"),
    }
    suri.refresh_from_db()
    assert (suri.description, suri.version) == ("Author of The Global Islamic Resistance Call", 2)
    assert variants_of(suri) == ["as-Suri"]
    assert 'name="loaded_version" value="2"' in response.text
    assert "Jihadi strategist" in response.text


def test_people_of_other_projects_and_forged_ids_are_not_found(cast, client_for):
    stranger = factories.make_person(factories.make_project(), "Stranger")
    client = client_for(cast.supervisor)
    assert client.get(edit_url(stranger)).status_code == 404
    data = person_data(version=1, display_name="Taken over")
    assert client.post(edit_url(stranger), data).status_code == 404
    assert client.post("/p/review/people/0/edit/", data).status_code == 404
    stranger.refresh_from_db()
    assert stranger.display_name == "Stranger"


def test_students_cannot_add_or_edit_people(cast, client_for, suri):
    client = client_for(cast.student)
    assert client.post(NEW, person_data()).status_code == 403
    assert client.post(edit_url(suri), person_data(version=1)).status_code == 403
    assert Person.objects.count() == 1
    suri.refresh_from_db()
    assert suri.display_name == "Abu Musab al-Suri"


def test_editors_find_the_forms_from_the_list_and_the_person_page(cast, client_for, suri):
    for user, shown in [(cast.analyst, True), (cast.supervisor, True), (cast.student, False)]:
        client = client_for(user)
        assert (NEW in client.get("/p/review/people/").text) is shown
        page = client.get(f"/p/review/people/{suri.pk}/").text
        assert (edit_url(suri) in page) is shown
        assert (f"/p/review/people/{suri.pk}/delete/" in page) is shown


def test_name_particles_and_suffix_are_edited_and_sort_the_person(cast, client_for):
    response = client_for(cast.analyst).post(
        "/p/review/people/new/",
        person_data(
            display_name="Arnold van Gennep",
            family="Gennep",
            given="Arnold",
            non_dropping_particle="van",
            suffix="Jr.",
        ),
    )
    assert response.status_code == 302
    person = Person.objects.get(project=cast.project)
    assert person.csl_name() == {
        "family": "Gennep",
        "given": "Arnold",
        "non-dropping-particle": "van",
        "suffix": "Jr.",
    }
    assert person.sort_key == "gennep arnold van"

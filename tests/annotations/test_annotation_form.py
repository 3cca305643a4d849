import pytest

from apps.annotations.models import Annotation, AnnotationRevision, Status
from apps.claims.models import Claim
from apps.people.models import Person
from tests import factories


@pytest.fixture
def setting(cast):
    project = cast.project
    source = factories.make_source(
        project,
        "The Bloody Split Within ISIS",
        full_text="Hazimi supports is known as “chain takfir.” Like some other radical groups.",
    )
    claim = factories.make_claim(project, "Chain takfir reached ISIS' own leadership")
    hazimi = factories.make_person(project, "Ahmad al-Hazimi")
    hazimi.add_variant("al-Hazmi")
    work = factories.make_source(
        project, "Ignorance Is Not an Excuse in Islam", citation_key="hazimi-ignorance"
    )
    concept = factories.make_concept(project, "Chain takfir")
    return {"source": source, "claim": claim, "hazimi": hazimi, "work": work, "concept": concept}


def form_data(**overrides):
    data = {
        "quote": "known as “chain takfir.”",
        "locator": "¶4",
        "page_label": "",
        "note": "Defines *chain takfir*.",
        "evidence-TOTAL_FORMS": "2",
        "evidence-INITIAL_FORMS": "0",
        "evidence-0-claim": "",
        "evidence-0-stance": "supports",
        "evidence-0-claim_kind": "thesis",
        "evidence-1-claim": "",
        "evidence-1-stance": "supports",
        "evidence-1-claim_kind": "thesis",
        "mentions-TOTAL_FORMS": "2",
        "mentions-INITIAL_FORMS": "0",
        "mentions-0-person": "",
        "mentions-0-work": "",
        "mentions-0-function": "mentioning",
        "mentions-1-person": "",
        "mentions-1-work": "",
        "mentions-1-function": "mentioning",
    }
    data.update(overrides)
    return data


def create_url(source):
    return f"/p/review/sources/{source.pk}/annotations/new/"


def test_an_analyst_creates_a_draft_with_links_typed_by_hand(cast, client_for, setting):
    data = form_data(
        **{
            "evidence-0-claim": f"#{setting['claim'].pk}",
            "evidence-0-stance": "asserts",
            "evidence-1-claim": "Chain takfir fragments the dissidents",
            "evidence-1-new_claim": "on",
            "evidence-1-claim_kind": "finding",
            "mentions-0-person": "al-Hazmi",
            "mentions-0-work": "hazimi-ignorance",
            "mentions-0-function": "supporting",
            "mentions-1-person": "Hilmi Hashimi",
            "mentions-1-new_person": "on",
            "concepts": [setting["concept"].pk],
        }
    )
    response = client_for(cast.analyst).post(create_url(setting["source"]), data)
    assert response.status_code == 302
    annotation = Annotation.objects.get(quote="known as “chain takfir.”")
    assert (annotation.status, annotation.author, annotation.version) == ("draft", cast.analyst, 1)
    assert annotation.note_html == "<p>Defines <em>chain takfir</em>.</p>"
    stances = {e.claim.statement: e.stance for e in annotation.evidence.all()}
    assert stances == {
        "Chain takfir reached ISIS' own leadership": "asserts",
        "Chain takfir fragments the dissidents": "supports",
    }
    assert Claim.objects.get(statement="Chain takfir fragments the dissidents").kind == "finding"
    cited = {
        (m.person.display_name, m.work and m.work.title, m.function)
        for m in annotation.mentions.all()
    }
    assert cited == {
        ("Ahmad al-Hazimi", "Ignorance Is Not an Excuse in Islam", "supporting"),
        ("Hilmi Hashimi", None, "mentioning"),
    }
    assert list(annotation.concepts.all()) == [setting["concept"]]
    # The quote occurs once in the stored text, so its selectors are filled in.
    assert (annotation.start, annotation.end) == (19, 43)
    assert annotation.prefix == "Hazimi supports is "
    assert annotation.suffix == " Like some other radical groups."
    assert AnnotationRevision.objects.get(annotation=annotation).version == 1


def test_save_and_submit(cast, client_for, setting):
    data = form_data(submit="1")
    client_for(cast.analyst).post(create_url(setting["source"]), data)
    annotation = Annotation.objects.get()
    assert annotation.status == Status.SUBMITTED
    assert annotation.review_events.get().action == "submit"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"quote": ""}, "This field is required"),
        ({"quote": "   "}, "This field is required"),
        ({"quote": "x" * 5001}, "at most 5000 characters"),
        ({"evidence-0-claim": "no such claim anywhere"}, "No claim matches"),
        ({"evidence-0-claim": "#999999"}, "There is no claim #999999 in this project"),
        ({"mentions-0-person": "Nobody Known"}, "No person matches"),
        ({"mentions-0-work": "no-such-key", "mentions-0-person": "Hazimi"}, "No source matches"),
        ({"mentions-0-work": "hazimi-ignorance"}, "Name the person whose work this is"),
        ({"evidence-TOTAL_FORMS": "x"}, "ManagementForm data is missing or has been tampered with"),
        ({"concepts": ["999999"]}, "Select a valid choice"),
        ({"evidence-0-stance": "loves"}, "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_message_and_creates_nothing(
    cast, client_for, setting, overrides, message
):
    response = client_for(cast.analyst).post(create_url(setting["source"]), form_data(**overrides))
    assert response.status_code == 200
    assert message in response.text
    assert not Annotation.objects.exists()
    assert Claim.objects.count() == 1 and Person.objects.count() == 1


def test_an_empty_locator_is_filled_in_from_the_place(cast, client_for, setting):
    # The quote is typed (not selected) and found once: its paragraph is the locator.
    text = "First paragraph.\n\nSecond one, where Hazimi speaks of chain takfir."
    source = factories.make_source(cast.project, "Two paragraphs", full_text=text)
    data = form_data(quote="Hazimi speaks", locator="")
    response = client_for(cast.analyst).post(create_url(source), data)
    assert response.status_code == 302
    assert Annotation.objects.get().locator == "¶2"


def test_a_quote_typed_without_hamzas_is_found_once_in_the_texts_spelling(
    cast, client_for, setting
):
    text = "قال الكاتب إنّ الأمير أعلن الدولة في مدينة الرقة."
    source = factories.make_source(cast.project, "مقال", full_text=text)
    data = form_data(quote="الامير اعلن الدوله", locator="")
    response = client_for(cast.analyst).post(create_url(source), data)
    assert response.status_code == 302
    annotation = Annotation.objects.get()
    assert annotation.quote == "الأمير أعلن الدولة"
    assert (annotation.start, annotation.end) == (text.index("الأمير"), text.index(" في"))
    assert annotation.locator == "¶1"


def test_a_locator_is_asked_for_when_there_is_no_text_to_take_it_from(cast, client_for):
    source = factories.make_source(cast.project, "No text yet")
    response = client_for(cast.analyst).post(create_url(source), form_data(locator=""))
    assert response.status_code == 200
    assert "Say where a reader finds the passage" in response.text
    assert not Annotation.objects.exists()


def test_part_of_a_name_or_statement_that_fits_one_record_is_that_record(cast, client_for, setting):
    data = form_data(**{"mentions-0-person": "Hazim", "evidence-0-claim": "reached ISIS"})
    response = client_for(cast.analyst).post(create_url(setting["source"]), data)
    assert response.status_code == 302
    annotation = Annotation.objects.get()
    assert annotation.mentions.get().person == setting["hazimi"]
    assert annotation.evidence.get().claim == setting["claim"]


def test_several_claims_are_listed_without_a_double_full_stop(cast, client_for, setting):
    factories.make_claim(cast.project, "Chain takfir spread beyond the group.")
    data = form_data(**{"evidence-0-claim": "chain takfir"})
    response = client_for(cast.analyst).post(create_url(setting["source"]), data)
    assert "Several claims could be meant" in response.text
    assert "group.." not in response.text


def test_the_same_claim_twice_is_refused(cast, client_for, setting):
    ref = f"#{setting['claim'].pk}"
    data = form_data(**{"evidence-0-claim": ref, "evidence-1-claim": ref})
    response = client_for(cast.analyst).post(create_url(setting["source"]), data)
    assert "The same claim is linked twice" in response.text
    assert not Annotation.objects.exists()


def test_links_to_another_projects_objects_are_refused(cast, client_for, setting):
    elsewhere = factories.make_project()
    foreign_claim = factories.make_claim(elsewhere, "Elsewhere")
    foreign_person = factories.make_person(elsewhere, "Foreign Person")
    foreign_concept = factories.make_concept(elsewhere, "Foreign")
    data = form_data(
        **{
            "evidence-0-claim": f"#{foreign_claim.pk}",
            "mentions-0-person": f"#{foreign_person.pk}",
            "concepts": [foreign_concept.pk],
        }
    )
    response = client_for(cast.analyst).post(create_url(setting["source"]), data)
    assert f"There is no claim #{foreign_claim.pk} in this project" in response.text
    assert f"There is no person #{foreign_person.pk} in this project" in response.text
    assert "Select a valid choice" in response.text
    assert not Annotation.objects.exists()


def test_ambiguous_names_list_the_candidates(cast, client_for, setting):
    factories.make_person(cast.project, "Ahmad al-Hazimi").add_variant("Hazimi the younger")
    data = form_data(**{"mentions-0-person": "Ahmad al-Hazimi"})
    response = client_for(cast.analyst).post(create_url(setting["source"]), data)
    assert "Several persons could be meant" in response.text
    assert f"#{setting['hazimi'].pk} Ahmad al-Hazimi" in response.text


def test_who_may_create(cast, client_for, setting):
    url = create_url(setting["source"])
    assert client_for(cast.supervisor).get(url).status_code == 200
    assert client_for(cast.analyst).get(url).status_code == 200
    assert client_for(cast.student).get(url).status_code == 403
    assert client_for(cast.student).post(url, form_data()).status_code == 403
    assert client_for(cast.outsider).get(url).status_code == 404
    assert client_for(cast.analyst).put(url).status_code == 405
    other = factories.make_source(factories.make_project())
    assert client_for(cast.analyst).get(create_url(other)).status_code == 404
    assert not Annotation.objects.exists()


def edit_url(annotation):
    return f"/p/review/annotations/{annotation.pk}/edit/"


@pytest.fixture
def draft(cast, client_for, setting):
    data = form_data(**{"evidence-0-claim": f"#{setting['claim'].pk}"})
    client_for(cast.analyst).post(create_url(setting["source"]), data)
    return Annotation.objects.get()


def test_the_author_edits_a_draft_and_a_new_version_is_kept(cast, client_for, setting, draft):
    page = client_for(cast.analyst).get(edit_url(draft))
    assert f"#{setting['claim'].pk} Chain takfir reached" in page.text
    data = form_data(
        loaded_version="1",
        locator="¶5",
        **{"evidence-0-claim": f"#{setting['claim'].pk}", "evidence-0-stance": "qualifies"},
    )
    response = client_for(cast.analyst).post(edit_url(draft), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.locator, draft.version, draft.evidence.get().stance) == ("¶5", 2, "qualifies")
    assert list(draft.revisions.values_list("version", flat=True)) == [1, 2]


def test_a_stale_edit_is_refused_and_shows_what_changed(cast, client_for, setting, draft):
    # Someone else's save (here the author in another tab) made version 2.
    client_for(cast.analyst).post(edit_url(draft), form_data(loaded_version="1", locator="¶5"))
    response = client_for(cast.analyst).post(
        edit_url(draft), form_data(loaded_version="1", locator="¶9")
    )
    assert response.status_code == 409
    assert "Not saved: this changed while you were editing" in response.text
    assert "¶9" in response.text and "¶5" in response.text
    draft.refresh_from_db()
    assert (draft.locator, draft.version) == ("¶5", 2)
    # The form now carries the newer version: saving again, having compared, overwrites.
    assert response.context["form"]["loaded_version"].value() == 2
    client_for(cast.analyst).post(edit_url(draft), form_data(loaded_version="2", locator="¶9"))
    draft.refresh_from_db()
    assert (draft.locator, draft.version) == ("¶9", 3)


@pytest.mark.parametrize("status", ["submitted", "approved", "rejected"])
def test_only_drafts_and_sent_back_work_can_be_edited(cast, client_for, setting, status):
    annotation = factories.make_annotation(
        setting["source"], cast.analyst, status=status, reviewer=cast.supervisor
    )
    assert client_for(cast.analyst).get(edit_url(annotation)).status_code == 403
    response = client_for(cast.analyst).post(edit_url(annotation), form_data(loaded_version="1"))
    assert response.status_code == 403
    assert Annotation.objects.get(pk=annotation.pk).version == 1


def test_nobody_edits_someone_elses_annotation(cast, client_for, setting, draft):
    for user in (cast.analyst2, cast.supervisor):
        assert client_for(user).get(edit_url(draft)).status_code == 403
    assert client_for(cast.student).get(edit_url(draft)).status_code == 403
    assert client_for(cast.outsider).get(edit_url(draft)).status_code == 404


def test_sent_back_work_is_edited_and_resubmitted(cast, client_for, setting, draft):
    draft.transition("submit", by=cast.analyst)
    draft.transition("request_changes", by=cast.supervisor, reason="wrong_locator", comment="¶5")
    data = form_data(loaded_version=str(draft.version), locator="¶5", submit="1")
    client_for(cast.analyst).post(edit_url(draft), data)
    draft.refresh_from_db()
    assert (draft.status, draft.locator) == ("submitted", "¶5")


def test_the_edit_form_shows_why_the_work_was_sent_back(cast, client_for, setting, draft):
    draft.transition("submit", by=cast.analyst)
    draft.transition(
        "request_changes", by=cast.supervisor, reason="wrong_locator", comment="It is in ¶5."
    )
    page = client_for(cast.analyst).get(edit_url(draft)).text
    assert "asked for changes" in page and str(cast.supervisor) in page
    assert "Reason:</strong> " in page and "It is in ¶5." in page
    # A draft never sent back shows nothing of the kind.
    other = factories.make_annotation(setting["source"], cast.analyst, quote="Hazimi")
    assert "review-note" not in client_for(cast.analyst).get(edit_url(other)).text


@pytest.mark.parametrize("version", ["", "abc", "0", "99"])
def test_forged_versions_are_refused(cast, client_for, setting, draft, version):
    response = client_for(cast.analyst).post(
        edit_url(draft), form_data(loaded_version=version, locator="¶7")
    )
    assert response.status_code in {200, 409}
    draft.refresh_from_db()
    assert (draft.locator, draft.version) == ("¶4", 1)


def test_rows_of_links_are_not_marked_required_but_the_quote_is(cast, client_for, setting):
    page = client_for(cast.analyst).get(create_url(setting["source"])).content.decode()
    before_rows = page.split('class="formset"')[0]
    rows = page.split('class="formset"', 1)[1]
    # The quote is required; an empty row of links is simply not saved, and its choices
    # (kind, stance, function) have defaults: nothing there carries the mark.
    assert 'Quote <span class="required"' in before_rows
    assert 'class="required"' not in rows


def test_new_links_typed_twice_with_other_spacing_or_spelling_are_refused(
    cast, client_for, setting
):
    """Two rows typed as new that `typed_new` would make the same claim or person: refused as
    linked twice (before, both were accepted and the second link broke a unique constraint)."""
    before = (Annotation.objects.count(), Claim.objects.count(), Person.objects.count())
    for rows in (
        {"evidence-0-claim": "Takfir splits ISIS", "evidence-0-new_claim": "on",
         "evidence-1-claim": "takfir  splits isis", "evidence-1-new_claim": "on"},
        {"mentions-0-person": "Abu Bakr Naji", "mentions-0-new_person": "on",
         "mentions-1-person": "abu bakr nāji", "mentions-1-new_person": "on"},
    ):  # fmt: skip
        response = client_for(cast.analyst).post(create_url(setting["source"]), form_data(**rows))
        assert response.status_code == 200
        assert "is linked twice" in response.text
    after = (Annotation.objects.count(), Claim.objects.count(), Person.objects.count())
    assert after == before

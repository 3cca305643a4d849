"""Adding and editing sources: CSL fields, identifiers, ordered contributors, stale edits."""

import pytest

from apps.library.models import Source, SourceIdentifier
from apps.people.models import Person
from tests import factories

NEW = "/p/review/sources/new/"


def edit_url(source):
    return f"/p/review/sources/{source.pk}/edit/"


def rows(prefix, items, *, initial=0):
    """A formset's POST data: management form plus one dict per row."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(items)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, item in enumerate(items):
        data.update({f"{prefix}-{index}-{key}": value for key, value in item.items()})
    return data


def source_data(contributors=(), identifiers=(), *, version=None, **fields):
    data = {
        "csl_type": "article-magazine",
        "title": "The Bloody Split Within ISIS",
        "citation_key": "mironova2017bloody",
        "container_title": "Foreign Affairs",
        "issued_year": "2017",
        "issued_month": "12",
        "issued_day": "8",
        "language": "en",
    }
    if version is not None:
        data["loaded_version"] = str(version)
    data.update(fields)
    data.update(rows("contributors", list(contributors)))
    data.update(rows("identifiers", list(identifiers)))
    return data


def author(person, **extra):
    text = person if isinstance(person, str) else f"#{person.pk} {person}"
    return {"person": text, "role": "author", **extra}


def contributors_of(source):
    return [
        (c.person.display_name, c.role, c.position)
        for c in source.contributors.select_related("person").order_by("role", "position")
    ]


def errors(response):
    """Every error message the form page shows, fields and formsets alike."""
    context = response.context
    found = [e for field in context["form"].errors.values() for e in field]
    for name in ("contributors", "identifiers"):
        formset = context[name]
        found += list(formset.non_form_errors())
        found += [e for form_errors in formset.errors for es in form_errors.values() for e in es]
    return found


@pytest.fixture
def people(cast):
    project = cast.project
    return {
        name: factories.make_person(project, name)
        for name in ("Vera Mironova", "Ekaterina Sergatskova", "Karam Alhamad")
    }


def test_analyst_adds_a_source_with_contributors_and_identifiers(cast, client_for, people):
    data = source_data(
        [author(people["Vera Mironova"]), author(people["Ekaterina Sergatskova"])],
        [
            {"scheme": "doi", "value": "https://doi.org/10.1080/ABC.123"},
            {"scheme": "isbn", "value": "0-306-40615-2"},
        ],
        url="www.foreignaffairs.com/articles/syria/2017-12-08/bloody-split-within-isis",
    )
    response = client_for(cast.analyst).post(NEW, data, follow=True)
    source = Source.objects.get(citation_key="mironova2017bloody")
    assert response.redirect_chain == [(f"/p/review/sources/{source.pk}/", 302)]
    assert "Saved “The Bloody Split Within ISIS”." in response.text
    assert (source.project, source.csl_type, source.issued_display) == (
        cast.project,
        "article-magazine",
        "2017-12-08",
    )
    assert source.url.startswith("https://www.foreignaffairs.com/")
    assert (source.version, source.updated_by) == (1, cast.analyst)
    assert contributors_of(source) == [
        ("Vera Mironova", "author", 1),
        ("Ekaterina Sergatskova", "author", 2),
    ]
    # Stored in normal form: DOIs lower case without resolver, ISBN-10 as ISBN-13.
    assert sorted(source.identifiers.values_list("scheme", "value")) == [
        ("doi", "10.1080/abc.123"),
        ("isbn", "9780306406157"),
    ]


def test_the_edit_form_shows_what_is_saved(cast, client_for, people):
    source = factories.make_source(cast.project, "Withdrawal from Society", issued_year=2016)
    source.add_contributor(people["Karam Alhamad"])
    source.add_identifier("doi", "10.1000/xyz")
    page = client_for(cast.analyst).get(edit_url(source))
    assert page.status_code == 200
    assert f'value="#{people["Karam Alhamad"].pk} Karam Alhamad"' in page.text
    assert 'value="10.1000/xyz"' in page.text
    assert 'name="loaded_version" value="1"' in page.text
    # Both scripts are optional helpers, loaded deferred.
    assert "js/formset.js" in page.text and "js/lookup.js" in page.text


def test_supervisor_edits_a_source_and_its_lists(cast, client_for, people):
    source = factories.make_source(cast.project, "Draft title", citation_key="old")
    source.add_contributor(people["Karam Alhamad"])
    source.add_identifier("doi", "10.1000/old")
    data = source_data(
        [author(people["Vera Mironova"]), author(people["Karam Alhamad"], role="editor")],
        [{"scheme": "issn", "value": "00157120"}],
        version=1,
        title="The Bloody Split Within ISIS (revised)",
    )
    response = client_for(cast.supervisor).post(edit_url(source), data)
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.title == "The Bloody Split Within ISIS (revised)"
    assert (source.version, source.updated_by) == (2, cast.supervisor)
    assert contributors_of(source) == [
        ("Vera Mironova", "author", 1),
        ("Karam Alhamad", "editor", 1),
    ]
    assert list(source.identifiers.values_list("scheme", "value")) == [("issn", "0015-7120")]


def test_rows_ticked_remove_or_left_empty_are_dropped(cast, client_for, people):
    source = factories.make_source(cast.project)
    data = source_data(version=1)
    data.update(
        rows(
            "contributors",
            [
                author(people["Vera Mironova"], DELETE="on"),
                author(people["Karam Alhamad"]),
                {"person": "", "role": "editor"},
            ],
            initial=2,
        )
    )
    data.update(
        rows(
            "identifiers",
            [{"scheme": "doi", "value": "10.1000/gone", "DELETE": "on"}, {"scheme": "doi"}],
            initial=1,
        )
    )
    assert client_for(cast.analyst).post(edit_url(source), data).status_code == 302
    assert contributors_of(source) == [("Karam Alhamad", "author", 1)]
    assert not source.identifiers.exists()


def test_missing_required_fields_are_named_and_nothing_is_saved(cast, client_for):
    response = client_for(cast.analyst).post(NEW, source_data(title="", citation_key=" "))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["title"] == ["This field is required."]
    assert form.errors["citation_key"] == ["This field is required."]
    assert "Not saved yet: check the fields marked below." in response.text
    assert not Source.objects.exists()


@pytest.mark.parametrize(
    ("scheme", "value", "message"),
    [
        ("isbn", "978-0-306-40615-8", "Not a valid ISBN"),
        ("isbn", "12345", "Not a valid ISBN"),
        ("doi", "10.abc/x", "A DOI starts with 10. and a registrant code"),
        ("doi", "doi.org/nothing", "A DOI starts with 10. and a registrant code"),
        ("issn", "0015-7121", "Not a valid ISSN"),
        ("url", "ftp://example.org/x", "A URL starts with http:// or https://."),
        ("openalex", "X123", "An OpenAlex work ID looks like W2741809807."),
    ],
)
def test_malformed_identifiers_are_refused_with_the_reason(
    cast, client_for, scheme, value, message
):
    data = source_data(identifiers=[{"scheme": scheme, "value": value}])
    response = client_for(cast.analyst).post(NEW, data)
    assert response.status_code == 200
    assert any(message in error for error in errors(response))
    assert not Source.objects.exists()
    assert not SourceIdentifier.objects.exists()


def test_the_same_identifier_twice_is_refused_however_it_is_written(cast, client_for):
    data = source_data(
        identifiers=[
            {"scheme": "doi", "value": "10.1080/ABC"},
            {"scheme": "doi", "value": "https://doi.org/10.1080/abc"},
        ]
    )
    response = client_for(cast.analyst).post(NEW, data)
    assert response.status_code == 200
    assert errors(response) == ["DOI 10.1080/abc is listed twice."]
    assert not Source.objects.exists()


def test_a_citation_key_taken_in_the_project_is_refused_with_the_source_named(cast, client_for):
    taken = factories.make_source(cast.project, "Withdrawal from Society", citation_key="faras2016")
    # The same key in another project is no obstacle.
    factories.make_source(factories.make_project(), citation_key="mironova2017bloody")
    response = client_for(cast.analyst).post(NEW, source_data(citation_key="faras2016"))
    assert response.status_code == 200
    assert response.context["form"].errors["citation_key"] == [
        f"Another source of this project already has the key “faras2016”: "
        f"#{taken.pk} Withdrawal from Society. Choose another key."
    ]
    assert client_for(cast.analyst).post(NEW, source_data()).status_code == 302


def test_a_source_keeps_its_own_citation_key_when_edited(cast, client_for):
    source = factories.make_source(cast.project, citation_key="mironova2017bloody")
    response = client_for(cast.analyst).post(edit_url(source), source_data(version=1))
    assert response.status_code == 302


def test_citation_keys_with_spaces_or_braces_are_refused(cast, client_for):
    response = client_for(cast.analyst).post(NEW, source_data(citation_key="mironova {2017}"))
    assert "A citation key has no spaces" in response.context["form"].errors["citation_key"][0]


@pytest.mark.parametrize(
    ("year", "month", "day", "field", "message"),
    [
        ("2017", "2", "30", "issued_day", "This day does not exist in that month."),
        ("2019", "2", "29", "issued_day", "This day does not exist in that month."),
        ("2017", "4", "31", "issued_day", "This day does not exist in that month."),
        ("2017", "", "3", "issued_month", "Give the month of this day."),
        ("", "5", "", "issued_year", "Give the year of this month."),
        ("2017", "13", "", "issued_month", "Select a valid choice. 13 is not one of"),
        ("2017", "1", "32", "issued_day", "Ensure this value is less than or equal to 31."),
        ("20170", "", "", "issued_year", "Ensure this value is less than or equal to 9999."),
    ],
)
def test_impossible_dates_are_refused(cast, client_for, year, month, day, field, message):
    data = source_data(issued_year=year, issued_month=month, issued_day=day)
    response = client_for(cast.analyst).post(NEW, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field][0].startswith(message)
    assert not Source.objects.exists()


def test_a_leap_day_and_a_year_without_month_are_accepted(cast, client_for):
    client = client_for(cast.analyst)
    data = source_data(issued_year="2016", issued_month="2", issued_day="29")
    assert client.post(NEW, data).status_code == 302
    data = source_data(citation_key="qutb1964", issued_year="1964", issued_month="", issued_day="")
    assert client.post(NEW, data).status_code == 302
    assert Source.objects.get(citation_key="qutb1964").issued_display == "1964"


def test_contributors_keep_the_order_of_the_rows_and_of_order_numbers(cast, client_for, people):
    vera, ekaterina, karam = people.values()
    data = source_data([author(karam), author(vera), author(ekaterina)])
    client = client_for(cast.analyst)
    assert client.post(NEW, data).status_code == 302
    source = Source.objects.get()
    assert [name for name, _, _ in contributors_of(source)] == [
        "Karam Alhamad",
        "Vera Mironova",
        "Ekaterina Sergatskova",
    ]
    # Order numbers move rows; rows without a number follow in their own order.
    data = source_data(
        [author(karam, ORDER="3"), author(vera), author(ekaterina, ORDER="1")], version=1
    )
    assert client.post(edit_url(source), data).status_code == 302
    assert [name for name, _, _ in contributors_of(source)] == [
        "Ekaterina Sergatskova",
        "Karam Alhamad",
        "Vera Mironova",
    ]


def test_thirty_contributors_are_saved_in_order_and_shown_again(cast, client_for):
    authors = [factories.make_person(cast.project, f"Author {n:02d}") for n in range(30)]
    client = client_for(cast.analyst)
    response = client.post(NEW, source_data([author(p) for p in reversed(authors)]))
    assert response.status_code == 302
    source = Source.objects.get()
    assert [position for _, _, position in contributors_of(source)] == list(range(1, 31))
    assert contributors_of(source)[0][0] == "Author 29"
    page = client.get(edit_url(source))
    # Every contributor as a row, plus blank rows to fill without JavaScript.
    assert len(page.context["contributors"].forms) == 33
    assert page.text.index("Author 29") < page.text.index("Author 00")


def test_a_name_ticked_new_adds_the_person(cast, client_for, people):
    data = source_data(
        [author(people["Vera Mironova"]), author("Kaplan, Jeffrey", new="on")],
    )
    response = client_for(cast.analyst).post(NEW, data, follow=True)
    assert "Added to the people: Jeffrey Kaplan." in response.text
    kaplan = Person.objects.get(display_name="Jeffrey Kaplan")
    assert (kaplan.project, kaplan.family, kaplan.given, kaplan.updated_by) == (
        cast.project,
        "Kaplan",
        "Jeffrey",
        cast.analyst,
    )
    assert contributors_of(Source.objects.get()) == [
        ("Vera Mironova", "author", 1),
        ("Jeffrey Kaplan", "author", 2),
    ]


def test_a_new_name_used_in_two_roles_adds_one_person(cast, client_for):
    data = source_data(
        [author("Abu Bakr Naji", new="on"), author("abu bakr naji", new="on", role="translator")]
    )
    assert client_for(cast.analyst).post(NEW, data).status_code == 302
    naji = Person.objects.get()
    # Kept as written: a kunya is never split into family and given names.
    assert (naji.display_name, naji.family, naji.given) == ("Abu Bakr Naji", "", "")
    assert naji.contributions.count() == 2


def test_an_unknown_name_without_new_is_refused_with_the_remedy(cast, client_for):
    response = client_for(cast.analyst).post(NEW, source_data([author("Nobody Known")]))
    assert response.status_code == 200
    assert errors(response) == [
        "No person matches “Nobody Known”. Tick “new” to add it as a new person."
    ]
    assert not Source.objects.exists()
    assert not Person.objects.exists()


def test_an_ambiguous_name_lists_the_candidates(cast, client_for):
    first = factories.make_person(cast.project, "Ahmad al-Hazimi")
    second = factories.make_person(cast.project, "Ahmad as-Hazimi")
    response = client_for(cast.analyst).post(NEW, source_data([author("ahmad hazimi")]))
    assert response.status_code == 200
    [message] = errors(response)
    assert message.startswith("Several persons could be meant — type one as “#number”:")
    assert f"#{first.pk} Ahmad al-Hazimi" in message
    assert f"#{second.pk} Ahmad as-Hazimi" in message
    assert not Source.objects.exists()


def test_people_of_another_project_cannot_be_contributors(cast, client_for):
    stranger = factories.make_person(factories.make_project(), "Vera Mironova")
    response = client_for(cast.analyst).post(NEW, source_data([author(stranger)]))
    assert errors(response) == [f"There is no person #{stranger.pk} in this project."]
    response = client_for(cast.analyst).post(NEW, source_data([author("Vera Mironova")]))
    assert errors(response)[0].startswith("No person matches “Vera Mironova”.")
    assert not Source.objects.exists()


def test_the_same_person_twice_in_one_role_is_refused(cast, client_for, people):
    vera = people["Vera Mironova"]
    data = source_data([author(vera), author("Vera Mironova")])
    response = client_for(cast.analyst).post(NEW, data)
    assert errors(response) == ["Vera Mironova is listed twice as author."]
    assert not Source.objects.exists()
    # In two roles it is fine.
    data = source_data([author(vera), author(vera, role="editor")])
    assert client_for(cast.analyst).post(NEW, data).status_code == 302


def test_a_stale_edit_changes_nothing_and_shows_what_changed(cast, client_for, people):
    source = factories.make_source(cast.project, "Withdrawal from Society", citation_key="faras")
    source.add_contributor(people["Karam Alhamad"])
    # The analyst opens the form at version 1 ...
    analyst = client_for(cast.analyst)
    assert 'name="loaded_version" value="1"' in analyst.get(edit_url(source)).text
    # ... the supervisor saves first ...
    theirs = source_data(
        [author(people["Vera Mironova"])],
        version=1,
        title="Withdrawal from Society (supervisor)",
        citation_key="faras",
    )
    assert client_for(cast.supervisor).post(edit_url(source), theirs).status_code == 302
    # ... and the analyst's save of version 1 is refused.
    mine = source_data(
        [author(people["Ekaterina Sergatskova"])],
        version=1,
        title="Withdrawal from Society (analyst)",
        citation_key="faras",
    )
    response = analyst.post(edit_url(source), mine)
    assert response.status_code == 200
    assert "Not saved: this changed while you were editing" in response.text
    changed = {d.label: (d.yours, d.saved) for d in response.context["differences"]}
    assert changed["Title"] == (
        "Withdrawal from Society (analyst)",
        "Withdrawal from Society (supervisor)",
    )
    assert changed["Contributors"] == (
        "Ekaterina Sergatskova (author)",
        "Vera Mironova (author)",
    )
    source.refresh_from_db()
    assert (source.title, source.version, source.updated_by) == (
        "Withdrawal from Society (supervisor)",
        2,
        cast.supervisor,
    )
    assert contributors_of(source) == [("Vera Mironova", "author", 1)]
    # The analyst's input stays in the form, which now carries the newer version: saving it
    # again is a deliberate overwrite.
    assert "Withdrawal from Society (analyst)" in response.text
    assert 'name="loaded_version" value="2"' in response.text
    mine["loaded_version"] = "2"
    assert analyst.post(edit_url(source), mine).status_code == 302
    source.refresh_from_db()
    assert (source.title, source.version) == ("Withdrawal from Society (analyst)", 3)


@pytest.mark.parametrize("version", ["", "0", "abc", "99999999999999999999"])
def test_a_missing_or_forged_version_is_refused(cast, client_for, version):
    source = factories.make_source(cast.project, "Withdrawal from Society")
    response = client_for(cast.analyst).post(edit_url(source), source_data(version=version))
    assert response.status_code == 200
    assert (
        "The form lost track of the version it was opened at" in response.text
        or "Not saved: this changed while you were editing" in response.text
    )
    source.refresh_from_db()
    assert (source.title, source.version) == ("Withdrawal from Society", 1)


def test_a_future_version_is_refused_as_stale(cast, client_for):
    source = factories.make_source(cast.project, "Withdrawal from Society")
    response = client_for(cast.analyst).post(edit_url(source), source_data(version=7))
    assert "Not saved: this changed while you were editing" in response.text
    source.refresh_from_db()
    assert source.title == "Withdrawal from Society"


@pytest.mark.parametrize(
    "management",
    [
        {"contributors-TOTAL_FORMS": "100000"},
        {"contributors-TOTAL_FORMS": "x"},
        {"identifiers-INITIAL_FORMS": ""},
    ],
)
def test_forged_formset_management_data_is_refused_without_error(cast, client_for, management):
    data = {**source_data(), **management}
    response = client_for(cast.analyst).post(NEW, data)
    assert response.status_code == 200
    assert not Source.objects.exists()


def test_students_cannot_add_sources(cast, client_for):
    assert client_for(cast.student).get(NEW).status_code == 403
    assert client_for(cast.student).post(NEW, source_data()).status_code == 403
    assert not Source.objects.exists()


def test_editors_find_the_forms_from_the_list_and_the_source_page(cast, client_for):
    source = factories.make_source(cast.project)
    for user, shown in [(cast.analyst, True), (cast.supervisor, True), (cast.student, False)]:
        client = client_for(user)
        assert (NEW in client.get("/p/review/sources/").text) is shown
        page = client.get(f"/p/review/sources/{source.pk}/").text
        assert (edit_url(source) in page) is shown
        assert (f"/p/review/sources/{source.pk}/delete/" in page) is shown


def test_the_edit_page_needs_the_same_queries_for_three_or_thirty_contributors(
    cast, client_for, django_assert_num_queries
):
    source = factories.make_source(cast.project)
    client = client_for(cast.analyst)
    for count in (3, 30):
        source.set_contributors(
            (factories.make_person(cast.project), "author") for _ in range(count)
        )
        # 1 session, 2 user, 3 membership + project, 4 source, 5 identifiers,
        # 6 contributors with their people
        with django_assert_num_queries(6):
            assert client.get(edit_url(source)).status_code == 200

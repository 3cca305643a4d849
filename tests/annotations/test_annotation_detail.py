import pytest

from tests import factories


@pytest.fixture
def annotation(cast):
    source = factories.make_source(cast.project, "The Bloody Split Within ISIS", language="en")
    annotation = factories.make_annotation(
        source,
        cast.analyst,
        quote="the extension of excommunication Hazimi supports is known as “chain takfir.”",
        prefix="(To excommunicate is to declare takfir; ",
        suffix=") Like some other radical",
        locator="¶5",
        note="Defines *chain takfir*.",
    )
    annotation.transition("submit", by=cast.analyst)
    annotation.transition(
        "request_changes", by=cast.supervisor, reason="wrong_locator", comment="It is ¶4, not ¶5."
    )
    factories.revise(annotation, cast.analyst, locator="¶4")
    annotation.transition("submit", by=cast.analyst)
    annotation.transition("approve", by=cast.supervisor)
    return annotation


def url(annotation):
    return f"/p/review/annotations/{annotation.pk}/"


def test_shows_the_quote_in_context_and_the_note(cast, client_for, annotation):
    text = client_for(cast.student).get(url(annotation)).text
    assert "“chain takfir.”" in text
    assert "(To excommunicate is to declare takfir;" in text
    assert "Defines <em>chain takfir</em>." in text


def test_review_history_for_supervisors_and_the_author(cast, client_for, annotation):
    for user in (cast.supervisor, cast.analyst):
        text = client_for(user).get(url(annotation)).text
        assert "It is ¶4, not ¶5." in text
        assert "Wrong locator" in text
    assert "It is ¶4, not ¶5." not in client_for(cast.student).get(url(annotation)).text
    assert "It is ¶4, not ¶5." not in client_for(cast.analyst2).get(url(annotation)).text


def test_students_see_the_history_from_the_approval_when_the_project_allows(
    cast, client_for, annotation
):
    cast.project.students_see_history = True
    cast.project.save()
    student = client_for(cast.student)
    page = student.get(url(annotation))
    history = [event.action for event in page.context["history"]]
    assert history == ["approve"]
    assert [r.version for r in page.context["revisions"]] == [2]
    # Nothing said or written before the approval: not the reviewer's comment, not the
    # first version's locator, not a link to compare with it.
    assert "It is ¶4, not ¶5." not in page.text
    assert "?seen=1" not in page.text
    assert "Changed since" not in student.get(url(annotation), {"seen": 1}).text
    assert "¶5" not in student.get(url(annotation), {"seen": 1}).text


def test_students_see_later_versions_of_an_approved_passage_compared(cast, client_for, annotation):
    cast.project.students_see_history = True
    cast.project.save()
    factories.revise(annotation, cast.supervisor, locator="¶4, line 2")
    student = client_for(cast.student)
    page = student.get(url(annotation))
    assert [r.version for r in page.context["revisions"]] == [2, 3]
    assert "?seen=2" in page.text and "?seen=1" not in page.text
    assert "Changed since" in student.get(url(annotation), {"seen": 2}).text
    assert "Changed since" not in student.get(url(annotation), {"seen": 1}).text


def test_after_a_reopening_and_a_new_approval_students_see_from_the_last(
    cast, client_for, annotation
):
    cast.project.students_see_history = True
    cast.project.save()
    annotation.transition("reopen", by=cast.supervisor, reason="other", comment="Recheck ¶4.")
    factories.revise(annotation, cast.analyst, locator="¶4a")
    annotation.transition("submit", by=cast.analyst)
    annotation.transition("approve", by=cast.supervisor)
    page = client_for(cast.student).get(url(annotation))
    assert [event.action for event in page.context["history"]] == ["approve"]
    assert [r.version for r in page.context["revisions"]] == [3]
    assert "Recheck ¶4." not in page.text


def test_query_count_does_not_grow(cast, assert_constant_queries, annotation):
    def link(count):
        for _ in range(count):
            annotation.evidence.create(claim=factories.make_claim(cast.project), stance="supports")
            annotation.mentions.create(person=factories.make_person(cast.project))
            annotation.concepts.add(factories.make_concept(cast.project))

    # 1 session, 2 user, 3 membership + project, 4 annotation with source and author,
    # 5 evidence with claims, 6 mentions with people and works, 7 concepts,
    # 8 review history with actors, 9 saved versions
    assert_constant_queries(
        cast.supervisor, lambda: url(annotation), 9, before=lambda: link(2), after=lambda: link(20)
    )


def test_earlier_versions_are_history_for_those_who_may_read_it(cast, client_for, annotation):
    # The fixture's annotation went v1 -> v2 (locator fixed) before approval.
    for user in (cast.supervisor, cast.analyst):
        assert (
            "Changed since the version you reviewed"
            in client_for(user).get(url(annotation), {"seen": 1}).text
        )
    for user in (cast.student, cast.analyst2):
        assert "Changed since" not in client_for(user).get(url(annotation), {"seen": 1}).text


@pytest.mark.parametrize("seen", ["²", "9" * 5000, "-1", "0", "2", "99", "abc", ""])
def test_odd_seen_versions_are_ignored(cast, client_for, annotation, seen):
    response = client_for(cast.supervisor).get(url(annotation), {"seen": seen})
    assert response.status_code == 200
    assert "Changed since" not in response.text


def test_a_placed_passage_links_to_its_place_without_offsets(cast, client_for, annotation):
    annotation.start, annotation.end = 3272, 3361
    annotation.save()
    text = client_for(cast.student).get(url(annotation)).text
    assert f'#at-{annotation.pk}">in the text</a>' in text
    assert "¶4" in text
    assert "3272" not in text and "characters" not in text

import pytest

from tests import factories


@pytest.fixture
def qutb(cast):
    project = cast.project
    qutb = factories.make_person(project, "Sayyid Qutb", family="Qutb", given="Sayyid")
    qutb.add_variant("Sayed Qutb")
    milestones = factories.make_source(project, "Milestones", issued_year=1964)
    milestones.add_contributor(qutb)
    article = factories.make_source(project, "Withdrawal from Society")
    factories.make_annotation(
        article,
        cast.analyst,
        status="approved",
        reviewer=cast.supervisor,
        people=[qutb],
        quote="according to renowned Islamic theorist Sayyid Qutb",
    )
    factories.make_annotation(article, cast.analyst, people=[qutb], quote="a draft about Qutb")
    factories.make_concept(project, "Jahiliyyah", originator=qutb)
    return qutb


def url(person):
    return f"/p/review/people/{person.pk}/"


def test_variants_works_concepts_and_citing_passages(cast, client_for, qutb):
    text = client_for(cast.student).get(url(qutb)).text
    assert "Sayed Qutb" in text
    assert "Milestones" in text and "1964" in text
    assert "Jahiliyyah" in text
    assert "Withdrawal from Society" in text
    assert "according to renowned Islamic theorist Sayyid Qutb" in text


def test_students_see_only_approved_citing_passages(cast, client_for, qutb):
    assert "a draft about Qutb" not in client_for(cast.student).get(url(qutb)).text
    assert "a draft about Qutb" in client_for(cast.analyst).get(url(qutb)).text
    assert "a draft about Qutb" not in client_for(cast.analyst2).get(url(qutb)).text


def test_query_count_does_not_grow(cast, assert_constant_queries, qutb):
    article = factories.make_source(cast.project)

    def cite(count):
        for _ in range(count):
            claim = factories.make_claim(cast.project)
            other = factories.make_person(cast.project)
            factories.make_annotation(
                article,
                cast.analyst,
                status="approved",
                reviewer=cast.supervisor,
                people=[qutb, other],
                claims=[claim],
            )
            factories.make_source(cast.project).add_contributor(qutb)

    # 1 session, 2 user, 3 membership + project, 4 person, 5 name variants,
    # 6 works with sources, 7 count of citing mentions, 8 page of mentions with passage,
    # source and work, 9 concepts originated, 10 claims their citations bear on; co-cited
    # people: 11 count of pairs, 12 the pairs, 13 their names
    assert_constant_queries(
        cast.student, lambda: url(qutb), 13, before=lambda: cite(2), after=lambda: cite(20)
    )


def test_claims_their_citations_bear_on_and_who_is_cited_with_them(cast, client_for, qutb):
    shukri = factories.make_person(cast.project, "Shukri Mustafa")
    claim = factories.make_claim(cast.project, "Withdrawal precedes empowerment")
    article = factories.make_source(cast.project, "Withdrawal from Society")
    factories.make_annotation(
        article,
        cast.analyst,
        status="approved",
        reviewer=cast.supervisor,
        people=[qutb, shukri],
        claims=[claim],
    )
    factories.make_annotation(
        article,
        cast.analyst,
        people=[qutb],
        claims=[factories.make_claim(cast.project, "Draft-only claim")],
    )
    student = client_for(cast.student).get(url(qutb))
    assert "Withdrawal precedes empowerment" in student.text
    assert "Draft-only claim" not in student.text
    assert [p.second.display_name for p in student.context["cocited"]] == ["Shukri Mustafa"]

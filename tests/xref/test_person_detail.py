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
            factories.make_annotation(
                article, cast.analyst, status="approved", reviewer=cast.supervisor, people=[qutb]
            )
            factories.make_source(cast.project).add_contributor(qutb)

    # 1 session, 2 user, 3 membership + project, 4 person, 5 name variants,
    # 6 works with sources, 7 count of citing mentions, 8 page of mentions with passage,
    # source and work, 9 concepts originated
    assert_constant_queries(
        cast.student, lambda: url(qutb), 9, before=lambda: cite(2), after=lambda: cite(20)
    )

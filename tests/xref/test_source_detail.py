import pytest

from apps.annotations.models import Annotation
from tests import factories


@pytest.fixture
def source(cast):
    project = cast.project
    source = factories.make_source(
        project,
        "Withdrawal from Society",
        csl_type="webpage",
        issued_year=2016,
        issued_month=12,
        issued_day=1,
        language="en",
        abstract="Think-tank analysis.",
    )
    faras = factories.make_person(
        project, "Future for Advanced Research and Studies", kind="organization"
    )
    source.add_contributor(faras)
    source.add_identifier("url", "https://futureuae.com/en-US/Mainpage/Item/2229")
    qutb = factories.make_person(project, "Sayyid Qutb")
    claim = factories.make_claim(project, "Isolation is a prerequisite")
    factories.make_annotation(
        source,
        cast.analyst,
        status="approved",
        reviewer=cast.supervisor,
        quote="later passage",
        locator="¶9",
        start=900,
        end=913,
    )
    factories.make_annotation(
        source,
        cast.analyst2,
        status="approved",
        reviewer=cast.supervisor,
        quote="earlier passage",
        locator="¶8",
        start=100,
        end=115,
        claims=[claim],
        people=[qutb],
        note="Qutb on *jahiliyyah*",
    )
    factories.make_annotation(source, cast.analyst, status="submitted", quote="waiting passage")
    factories.make_annotation(source, cast.analyst2, quote="draft of analyst2")
    return source


def url(source):
    return f"/p/review/sources/{source.pk}/"


def quotes(response):
    return [a.quote for a in response.context["page"].object_list]


def test_metadata_contributors_and_identifiers(cast, client_for, source):
    response = client_for(cast.student).get(url(source))
    text = response.text
    assert "Withdrawal from Society" in text
    assert "Future for Advanced Research and Studies" in text
    assert "2016-12-01" in text
    assert "https://futureuae.com/en-US/Mainpage/Item/2229" in text
    assert "Think-tank analysis." in text


def test_passages_in_text_order_with_their_links(cast, client_for, source):
    response = client_for(cast.student).get(url(source))
    assert quotes(response) == ["earlier passage", "later passage"]
    assert "Isolation is a prerequisite" in response.text
    assert "Sayyid Qutb" in response.text
    assert "Qutb on <em>jahiliyyah</em>" in response.text


def test_each_member_sees_approved_passages_and_their_own(cast, client_for, source):
    assert "waiting passage" not in client_for(cast.student).get(url(source)).text
    assert quotes(client_for(cast.analyst).get(url(source))) == [
        "earlier passage",
        "later passage",
        "waiting passage",
    ]
    assert quotes(client_for(cast.analyst2).get(url(source))) == [
        "earlier passage",
        "later passage",
        "draft of analyst2",
    ]
    assert len(quotes(client_for(cast.supervisor).get(url(source)))) == 4


def test_a_source_without_passages_says_so(cast, client_for):
    empty = factories.make_source(cast.project)
    assert "No passage of this source" in client_for(cast.student).get(url(empty)).text


def test_query_count_does_not_grow(cast, assert_constant_queries, source):
    def more_passages(count):
        person = factories.make_person(cast.project)
        claim = factories.make_claim(cast.project)
        concept = factories.make_concept(cast.project)
        for _ in range(count):
            factories.make_annotation(
                source,
                cast.analyst,
                status="approved",
                reviewer=cast.supervisor,
                claims=[claim],
                people=[person],
                concepts=[concept],
            )

    # 1 session, 2 user, 3 membership + project, 4 source, 5 contributors with people,
    # 6 identifiers, 7 count of visible passages, 8 a page of them with source and author,
    # 9 their evidence with claims, 10 their mentions with people and works, 11 their
    # concepts; the tallies: 12 claims argued, 13 people cited, 14 works cited, 15 concepts,
    # 16 sources citing this one as a work
    assert_constant_queries(
        cast.student,
        lambda: url(source),
        16,
        before=lambda: more_passages(2),
        after=lambda: more_passages(20),
    )
    assert Annotation.objects.filter(source=source, status="approved").count() == 24

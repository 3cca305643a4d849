import pytest

from tests import factories


@pytest.fixture
def spread(cast):
    project = cast.project
    forecast = factories.make_source(project, "Withdrawal from Society", issued_year=2016)
    report = factories.make_source(project, "The Bloody Split Within ISIS", issued_year=2017)
    spread = factories.make_claim(project, "Isolationist takfiri groups will spread")
    scattered = factories.make_claim(project, "The dissidents scattered")
    hidden = factories.make_claim(project, "A claim only a draft backs")
    scattered.relate(spread, "refines")
    spread.relate(hidden, "supports")

    def evidence(source, claim, stance, quote, status="approved"):
        factories.make_annotation(
            source,
            cast.analyst,
            status=status,
            reviewer=cast.supervisor,
            quote=quote,
            claims=[claim],
            stance=stance,
        )

    evidence(forecast, spread, "asserts", "will witness an escalation")
    evidence(report, spread, "qualifies", "The ultra-extremists scattered.")
    evidence(report, spread, "contradicts", "no known instances")
    evidence(report, spread, "supports", "not yet reviewed", status="submitted")
    evidence(report, scattered, "asserts", "scattered")
    evidence(report, hidden, "asserts", "hidden", status="draft")
    return spread


def url(claim):
    return f"/p/review/claims/{claim.pk}/"


def groups(response):
    return [
        (stance.value, [(e.annotation.source.title, e.annotation.quote) for e in items])
        for stance, items in response.context["groups"]
    ]


def test_evidence_is_grouped_by_stance_then_source(cast, client_for, spread):
    assert groups(client_for(cast.student).get(url(spread))) == [
        ("asserts", [("Withdrawal from Society", "will witness an escalation")]),
        ("qualifies", [("The Bloody Split Within ISIS", "The ultra-extremists scattered.")]),
        ("contradicts", [("The Bloody Split Within ISIS", "no known instances")]),
    ]
    supervisor = groups(client_for(cast.supervisor).get(url(spread)))
    assert ("supports", [("The Bloody Split Within ISIS", "not yet reviewed")]) in supervisor


def test_long_evidence_is_paginated_and_counted_per_stance(cast, client_for, spread):
    source = factories.make_source(cast.project)
    for _ in range(55):
        factories.make_annotation(
            source,
            cast.analyst,
            status="approved",
            reviewer=cast.supervisor,
            claims=[spread],
            stance="reports",
        )
    first = client_for(cast.student).get(url(spread))
    assert "58 passages: 1 asserts, 1 qualifies, 1 contradicts, 55 reports" in first.text
    assert sum(len(items) for _, items in first.context["groups"]) == 50
    second = client_for(cast.student).get(url(spread), {"page": 2})
    assert groups(second) and all(stance == "reports" for stance, _ in groups(second))


def test_related_claims_in_both_directions_that_the_member_may_see(cast, client_for, spread):
    student = client_for(cast.student).get(url(spread)).text
    assert "The dissidents scattered" in student
    assert "refines this claim" in student
    assert "A claim only a draft backs" not in student
    analyst = client_for(cast.analyst).get(url(spread)).text
    assert "A claim only a draft backs" in analyst


def test_query_count_does_not_grow(cast, assert_constant_queries, spread):
    source = factories.make_source(cast.project)
    person = factories.make_person(cast.project)

    def back(count):
        for _ in range(count):
            factories.make_annotation(
                source,
                cast.analyst,
                status="approved",
                reviewer=cast.supervisor,
                people=[person],
                claims=[spread],
            )
            other = factories.make_claim(cast.project)
            other.relate(spread, "supports")
            spread.relate(other, "refines")

    # 1 session, 2 user, 3 membership + project, 4 claim, 5 is it visible to this member,
    # 6 count of visible evidence, 7 a page of it with passages and sources, 8 mentions of
    # those passages with people, 9 evidence per stance, 10 relations to visible claims,
    # 11 relations from visible claims, 12 the people cited in the evidence
    assert_constant_queries(
        cast.student, lambda: url(spread), 12, before=lambda: back(2), after=lambda: back(20)
    )

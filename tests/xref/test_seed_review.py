"""The cross-reference pages on the seed review: the map a student walks."""

import pytest

from apps.annotations.models import Mention
from apps.demo.seed import load_seed_review


@pytest.fixture
def seed(db, cast):
    project = load_seed_review().project
    return project


def test_the_spread_claim_shows_evidence_from_both_articles_with_their_stances(seed, client_for):
    from apps.accounts.models import User
    from apps.claims.models import Claim

    student = User.objects.get(username="student")
    claim = Claim.objects.get(
        project=seed, statement__startswith="Once ISIS loses its territorial state"
    )
    response = client_for(student).get(f"/p/{seed.slug}/claims/{claim.pk}/")
    found = {
        (stance.value, e.annotation.source.citation_key)
        for stance, items in response.context["groups"]
        for e in items
    }
    assert ("asserts", "faras2016withdrawal") in found
    assert ("qualifies", "mironova2017bloody") in found
    assert ("contradicts", "mironova2017bloody") in found


def test_qutbs_page_lists_the_first_article_with_its_passages(seed, client_for):
    from apps.accounts.models import User
    from apps.people.models import Person

    student = User.objects.get(username="student")
    qutb = Person.objects.get(project=seed, display_name="Sayyid Qutb")
    response = client_for(student).get(f"/p/{seed.slug}/people/{qutb.pk}/")
    sources = {m.annotation.source.citation_key for m in response.context["page"].object_list}
    assert sources == {"faras2016withdrawal"}
    expected = Mention.objects.filter(
        person=qutb,
        annotation__status="approved",
        annotation__source__citation_key="faras2016withdrawal",
    )
    for mention in expected:
        assert mention.annotation.quote[:40] in response.text


def test_cocitation_lists_qutb_with_shukri_mustafa(seed, client_for):
    from apps.accounts.models import User

    student = User.objects.get(username="student")
    response = client_for(student).get(f"/p/{seed.slug}/cocitation/")
    names = {frozenset((str(p.first), str(p.second))) for p in response.context["pairs"]}
    assert frozenset(("Sayyid Qutb", "Shukri Mustafa")) in names


def test_the_first_article_page_tallies_what_it_argues_and_cites(seed, client_for):
    from apps.accounts.models import User
    from apps.library.models import Source

    student = User.objects.get(username="student")
    source = Source.objects.get(project=seed, citation_key="faras2016withdrawal")
    response = client_for(student).get(f"/p/{seed.slug}/sources/{source.pk}/")
    cited = {row["person__display_name"]: row["passages"] for row in response.context["people"]}
    assert cited["Jeffrey Kaplan"] >= 1 and "Sayyid Qutb" in cited
    works = {row["work__title"] for row in response.context["works"]}
    assert "Milestones" in works
    stances = {stance.value for stance, _ in response.context["claims"]}
    assert "asserts" in stances
    # Qutb's Milestones page says who cites it.
    milestones = Source.objects.get(project=seed, citation_key="qutb-milestones")
    cited_by = (
        client_for(student).get(f"/p/{seed.slug}/sources/{milestones.pk}/").context["cited_by"]
    )
    assert [row["annotation__source_id"] for row in cited_by] == [source.pk]


def test_the_home_overview_of_the_approved_map(seed, client_for):
    from apps.accounts.models import User

    student = User.objects.get(username="student")
    overview = client_for(student).get(f"/p/{seed.slug}/").context["overview"]
    assert overview["most_cited"]
    spread = [
        row for row in overview["contested"] if row["statement"].startswith("Once ISIS loses")
    ]
    assert spread and spread[0]["pro"] >= 2 and spread[0]["con"] >= 1
    assert overview["thin_concepts"][0]["passages"] <= overview["thin_concepts"][-1]["passages"]

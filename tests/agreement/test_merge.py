"""Resolving a unit by merging its versions: the span of one, the links of all."""

import pytest
from django.urls import reverse

from apps.agreement import coding
from apps.agreement.models import CodedPassage, Resolution, Unit, UnitOutcome
from apps.annotations.models import Annotation
from tests import factories
from tests.agreement.conftest import TEXT


def url(unit):
    return reverse("agreement:unit_detail", args=["review", unit.pk])


@pytest.fixture
def linked(cast, coding_round):
    """One unit the two coders linked differently: analyst a claim (supports) and a person,
    analyst2 a longer span with the same claim (asserts), another claim and a concept."""
    r = coding_round
    words = "Naji planned for savagery."
    start = TEXT.index(words)
    factories.make_annotation(
        r.source, cast.analyst, quote=words, start=start, end=start + len(words),
        claims=[r.claim], stance="supports", people=[r.person],
    )  # fmt: skip
    longer = "Crenshaw reminds us that organisations outlive their causes. " + words
    begin = TEXT.index(longer)
    second = factories.make_annotation(
        r.source, cast.analyst2, quote=longer, start=begin, end=begin + len(longer),
        claims=[r.claim], stance="asserts", concepts=[r.concept],
    )  # fmt: skip
    second.evidence.create(claim=r.claim2, stance="supports")
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=r.assignment, coder=coder)
    coding.compare(assignment=r.assignment, by=cast.supervisor)
    unit = Unit.objects.get(assignment=r.assignment)
    assert unit.outcome == UnitOutcome.DISAGREED
    return unit


def frozen(unit):
    return list(unit.passages.order_by("pk").values_list("start", "end", "claims", "people"))


def test_a_supervisor_merges_the_versions_over_the_span_chosen(
    cast, client_for, coding_round, linked
):
    unit, r = linked, coding_round
    first = unit.passages.get(coder__coder=cast.analyst)
    before = frozen(unit)
    originals = {p.annotation_id: Annotation.objects.get(pk=p.annotation_id).version
                 for p in unit.passages.all()}  # fmt: skip
    client = client_for(cast.supervisor)
    page = client.get(url(unit))
    assert "Or merge the versions" in page.text
    # What each span would give, before deciding: the shared claim's stance follows the span.
    previews = page.text.split("Or merge the versions")[1]
    for stance in ("supports", "asserts"):
        gives = f"Gives: {stance}: Takfiri groups will spread; supports: Organisations"
        assert previews.count(gives) == 1
    assert "Jeffrey Kaplan (mentioning); Isolation" in previews
    response = client.post(url(unit), {
        "kind": "merged", "passage": first.pk, "version": 1, "reason": "other",
        "comment": "Both links hold.",
    })  # fmt: skip
    assert response.status_code == 302
    resolution = Resolution.objects.get()
    assert (resolution.kind, resolution.chosen, resolution.reason, resolution.comment) == (
        "merged",
        first,
        "other",
        "Both links hold.",
    )
    unit.refresh_from_db()
    result = unit.result
    # The span of analyst's version; the links of both; on the shared claim, analyst's stance.
    assert (result.start, result.end, result.quote) == (first.start, first.end, first.quote)
    assert sorted(result.evidence.values_list("claim_id", "stance")) == sorted(
        [(r.claim.pk, "supports"), (r.claim2.pk, "supports")]
    )
    assert list(result.mentions.values_list("person_id", flat=True)) == [r.person.pk]
    assert list(result.concepts.values_list("pk", flat=True)) == [r.concept.pk]
    assert result.author == cast.analyst and result.status == "approved"
    # The ledger: whose versions were merged, and the resolver's approval with the comment.
    submit = result.review_events.get(action="submit")
    assert "Merged by supervisor from the versions of analyst, analyst2" in submit.comment
    approve = result.review_events.get(action="approve")
    assert approve.actor == cast.supervisor and approve.comment == "Both links hold."
    # The originals are untouched: the frozen versions and the coders' annotations.
    assert frozen(unit) == before
    for pk, version in originals.items():
        assert Annotation.objects.get(pk=pk).version == version
    # Each coder's feedback says it was merged, and over whose span.
    home = client_for(cast.analyst).get(reverse("xref:project_home", args=["review"]))
    assert "Versions merged, over your span" in home.text
    home2 = client_for(cast.analyst2).get(reverse("xref:project_home", args=["review"]))
    assert "Versions merged:" in home2.text and "Your version was chosen" not in home2.text


def test_the_span_chosen_decides_a_stance_they_disagree_on(cast, coding_round, linked):
    second = linked.passages.get(coder__coder=cast.analyst2)
    coding.resolve(
        unit=linked, by=cast.supervisor, kind="merged", passage=second, seen_version=1,
        reason="other", comment="The longer span.",
    )  # fmt: skip
    result = linked.result
    assert (result.start, result.end) == (second.start, second.end)
    stances = dict(result.evidence.values_list("claim_id", "stance"))
    assert stances == {coding_round.claim.pk: "asserts", coding_round.claim2.pk: "supports"}
    assert result.author == cast.analyst2


def test_merging_a_unit_only_one_coder_coded_is_refused(cast, client_for, compared):
    unit = Unit.objects.get(assignment=compared.assignment, outcome=UnitOutcome.ONLY_SOME)
    response = client_for(cast.supervisor).post(url(unit), {
        "kind": "merged", "passage": unit.passages.get().pk, "version": 1, "reason": "other",
        "comment": "Merge.",
    })  # fmt: skip
    assert response.status_code == 400
    assert "there is nothing to merge" in response.text
    assert "Or merge the versions" not in client_for(cast.supervisor).get(url(unit)).text
    assert not Resolution.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"passage": ""}, "Choose the version whose span the merge keeps."),
        ({"passage": "{other}"}, "Choose the version whose span the merge keeps."),
        ({"reason": ""}, "Give a reason and a comment"),
        ({"comment": "  "}, "Give a reason and a comment"),
        ({"version": "2"}, "This unit changed since you opened it"),
        ({"kind": "melded"}, "open the unit again"),
    ],
)
def test_bad_merges_are_refused_and_change_nothing(cast, client_for, compared, changes, message):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    other = CodedPassage.objects.exclude(unit=unit).first()
    annotations = Annotation.objects.count()
    data = {"kind": "merged", "passage": unit.passages.first().pk, "version": 1,
            "reason": "other", "comment": "Merge."}  # fmt: skip
    data.update({k: v.format(other=other.pk) for k, v in changes.items()})
    response = client_for(cast.supervisor).post(url(unit), data)
    assert response.status_code == 400
    assert message in response.text
    assert not Resolution.objects.exists()
    assert Annotation.objects.count() == annotations


def test_only_supervisors_who_did_not_code_merge(cast, client_for, compared):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    data = {"kind": "merged", "passage": unit.passages.first().pk, "version": 1,
            "reason": "other", "comment": "Merge."}  # fmt: skip
    assert client_for(cast.analyst).post(url(unit), data).status_code == 403
    assert client_for(cast.student).post(url(unit), data).status_code == 403
    assert client_for(cast.outsider).post(url(unit), data).status_code == 404
    anonymous = client_for(None).post(url(unit), data)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    # A coder made supervisor still may not resolve their own unit.
    cast.project.memberships.filter(user=cast.analyst).update(role="supervisor")
    response = client_for(cast.analyst).post(url(unit), data)
    assert response.status_code == 400 and "You coded this assignment" in response.text
    assert not Resolution.objects.exists()


def test_the_unit_page_with_the_merge_form_keeps_its_query_count(
    cast, compared, assert_constant_queries
):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    # Session, user, membership; the unit with its assignment, source, result and resolution;
    # its passages with their coders; names of the claims linked. The merge form reads the
    # passages already loaded.
    assert_constant_queries(cast.supervisor, lambda: url(unit), 6)

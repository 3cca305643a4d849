"""Whether students see a claim follows every change of the approval of its evidence."""

from apps.annotations.models import ReviewAction
from apps.claims.models import Claim
from apps.demo.seed import load_seed_review
from tests import factories


def approved_evidence(claim):
    return Claim.objects.get(pk=claim.pk).approved_evidence


def test_the_count_follows_approval_reopening_withdrawal_and_restoring(cast):
    source = factories.make_source(cast.project)
    claim = factories.make_claim(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted", claims=[claim])
    assert approved_evidence(claim) == 0
    annotation.transition(ReviewAction.APPROVE, by=cast.supervisor)
    assert approved_evidence(claim) == 1
    annotation.transition(ReviewAction.WITHDRAW, by=cast.supervisor)
    assert approved_evidence(claim) == 0
    annotation.transition(ReviewAction.RESTORE, by=cast.supervisor)
    assert approved_evidence(claim) == 1
    annotation.transition(
        ReviewAction.REOPEN, by=cast.supervisor, reason="other", comment="Look again"
    )
    assert approved_evidence(claim) == 0


def test_relinking_an_approved_annotation_moves_the_count(cast):
    source = factories.make_source(cast.project)
    first, second = factories.make_claim(cast.project), factories.make_claim(cast.project)
    annotation = factories.make_annotation(
        source, cast.analyst, status="approved", reviewer=cast.supervisor, claims=[first]
    )
    annotation.set_links(
        evidence=[{"claim": second, "stance": "supports"}],
        mentions=[],
        concepts=[],
        by=cast.supervisor,
    )
    assert (approved_evidence(first), approved_evidence(second)) == (0, 1)


def test_the_seed_review_counts_agree_with_a_recount(db):
    project = load_seed_review().project
    stored = dict(Claim.objects.filter(project=project).values_list("pk", "approved_evidence"))
    Claim.objects.filter(project=project).update(approved_evidence=0)
    Claim.objects.filter(project=project).refresh_approved_evidence()
    assert (
        dict(Claim.objects.filter(project=project).values_list("pk", "approved_evidence")) == stored
    )
    assert sum(stored.values()) > 20

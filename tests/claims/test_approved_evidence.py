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


def test_saving_a_claim_loaded_before_an_approval_keeps_the_new_count(cast):
    claim = factories.make_claim(cast.project)
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted", claims=[claim])
    stale = Claim.objects.get(pk=claim.pk)  # as an edit form loads it
    annotation.transition(ReviewAction.APPROVE, by=cast.supervisor)
    stale.statement = "Edited meanwhile"
    stale.save()
    fresh = Claim.objects.get(pk=claim.pk)
    assert (fresh.statement, fresh.approved_evidence) == ("Edited meanwhile", 1)


def test_the_claim_form_has_no_count_field():
    from apps.claims.forms import ClaimForm

    assert "approved_evidence" not in ClaimForm.base_fields


def test_a_claim_typed_as_new_again_is_the_same_claim(cast):
    first = Claim.objects.typed_new(
        "Isolationists  spread", project_id=cast.project.pk, kind="thesis", by=cast.analyst
    )
    again = Claim.objects.typed_new(
        "isolationists spread ", project_id=cast.project.pk, kind="finding", by=cast.analyst
    )
    assert again.pk == first.pk
    assert Claim.objects.filter(project=cast.project).count() == 1
    assert first.statement == "Isolationists spread"

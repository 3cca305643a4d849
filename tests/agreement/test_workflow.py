"""Assigning, marking done, comparing, resolving, and coders leaving."""

import pytest

from apps.agreement import coding, report
from apps.agreement.models import (
    Assignment,
    AssignmentCoder,
    CodedPassage,
    CoderState,
    Resolution,
    Unit,
    UnitOutcome,
    Variable,
)
from apps.annotations.models import Annotation, ReviewEvent
from tests import factories


def assign(cast, source, coders, **extra):
    return coding.assign(
        project=cast.project,
        title=extra.pop("title", "Another round"),
        ranges=[coding.Range(source)],
        coders=coders,
        variables=list(Variable.values),
        due_date=None,
        tolerance=5,
        by=cast.supervisor,
        **extra,
    )


def test_a_source_under_an_open_assignment_is_not_assigned_again_to_the_same_coder(
    cast, coding_round
):
    before = Assignment.objects.count()
    other = factories.make_user("analyst3")
    factories.add_member(cast.project, other, "analyst")
    with pytest.raises(coding.AgreementError, match="already assigned to analyst"):
        assign(cast, coding_round.source, [cast.analyst, other])
    with pytest.raises(coding.AgreementError, match="already assigned"):
        assign(cast, coding_round.source, [other, cast.analyst2])
    assert Assignment.objects.count() == before


def test_coders_must_be_analysts_of_the_project(cast):
    source = factories.make_source(cast.project)
    for intruder in (cast.supervisor, cast.student, cast.outsider):
        with pytest.raises(coding.AgreementError, match="not an analyst"):
            assign(cast, source, [cast.analyst, intruder])
    with pytest.raises(coding.AgreementError, match="at least two coders"):
        assign(cast, source, [cast.analyst])
    assert not Assignment.objects.exists()


def test_marking_done_freezes_the_passages_and_later_edits_do_not_count(cast, coding_round):
    r = coding_round
    passage = r.code(cast.analyst, "Naji planned for savagery.")
    # A passage from before the assignment is not part of it.
    assert coding.mark_done(assignment=r.assignment, coder=cast.analyst) == 1
    frozen = CodedPassage.objects.get()
    factories.revise(passage, cast.analyst, quote="Naji planned.")
    frozen.refresh_from_db()
    assert frozen.quote == "Naji planned for savagery."
    with pytest.raises(coding.AgreementError, match="already done"):
        coding.mark_done(assignment=r.assignment, coder=cast.analyst)
    assert AssignmentCoder.objects.get(coder=cast.analyst).state == CoderState.DONE


def test_comparing_waits_for_every_coder(cast, coding_round):
    coding.mark_done(assignment=coding_round.assignment, coder=cast.analyst)
    with pytest.raises(coding.AgreementError, match="1 coder not done"):
        coding.compare(assignment=coding_round.assignment, by=cast.supervisor)
    assert not Unit.objects.exists()


def test_complete_agreements_merge_and_the_rest_become_conflict_units(cast, compared):
    units = {u.number: u for u in Unit.objects.filter(assignment=compared.assignment)}
    outcomes = [units[n].outcome for n in sorted(units)]
    assert outcomes == [
        UnitOutcome.AGREED,  # same span, same claim and stance
        UnitOutcome.AGREED,  # same span, claim and person
        UnitOutcome.DISAGREED,  # supports vs asserts
        UnitOutcome.DISAGREED,  # spans ending 27 characters apart
        UnitOutcome.ONLY_SOME,  # only analyst coded it
    ]
    merged = units[1].result
    assert merged.status == "submitted"
    assert merged.evidence.get().claim == compared.claim
    submit = merged.review_events.get()
    assert "Complete agreement of analyst, analyst2" in submit.comment
    # The coders' own annotations are withdrawn through the ledger, never changed.
    originals = Annotation.objects.exclude(pk__in=[u.result_id for u in units.values()])
    assert originals.count() == 9
    assert all(a.is_withdrawn for a in originals)
    assert ReviewEvent.objects.filter(action="withdraw").count() == 9


def test_a_missing_claim_link_is_a_disagreement(cast, coding_round):
    r = coding_round
    r.code(cast.analyst, "Naji planned for savagery.")
    r.code(cast.analyst2, "Naji planned for savagery.", claims=[])
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=r.assignment, coder=coder)
    counts = coding.compare(assignment=r.assignment, by=cast.supervisor)
    assert counts == {"agreed": 0, "disagreed": 1, "only_some": 0}


def test_a_resolution_records_reason_and_comment_and_keeps_both_originals(cast, compared):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    chosen = unit.passages.get(coder__coder=cast.analyst2)
    resolution = coding.resolve(
        unit=unit, by=cast.supervisor, kind="picked", passage=chosen, seen_version=1,
        reason="unsupported_link", comment="The passage asserts it.",
    )  # fmt: skip
    unit.refresh_from_db()
    assert resolution.reason == "unsupported_link"
    assert unit.result.status == "approved"
    assert unit.result.evidence.get().stance == "asserts"
    assert unit.result.author == cast.analyst2
    approve = unit.result.review_events.get(action="approve")
    assert approve.actor == cast.supervisor and approve.comment == "The passage asserts it."
    # Both originals are still there, as they were.
    stances = sorted(
        Annotation.objects.get(pk=p.annotation_id).evidence.get().stance
        for p in unit.passages.all()
    )
    assert stances == ["asserts", "supports"]


def test_resolving_needs_a_reason_a_current_version_and_someone_who_did_not_code(cast, compared):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    chosen = unit.passages.first()
    with pytest.raises(coding.AgreementError, match="reason and a comment"):
        coding.resolve(unit=unit, by=cast.supervisor, kind="picked", passage=chosen,
                       seen_version=1, reason="", comment="")  # fmt: skip
    with pytest.raises(coding.StaleUnit, match="version 0"):
        coding.resolve(unit=unit, by=cast.supervisor, kind="picked", passage=chosen,
                       seen_version=0, reason="other", comment="x")  # fmt: skip
    # A coder made supervisor afterwards still may not resolve their own units.
    cast.project.memberships.filter(user=cast.analyst).update(role="supervisor")
    with pytest.raises(coding.AgreementError, match="You coded this assignment"):
        coding.resolve(unit=unit, by=cast.analyst, kind="picked", passage=chosen,
                       seen_version=1, reason="other", comment="x")  # fmt: skip
    assert not Resolution.objects.exists()
    unit.refresh_from_db()
    assert unit.version == 1 and unit.result_id is None


def test_a_second_resolution_of_the_same_unit_is_refused_as_stale(cast, compared):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    chosen = unit.passages.first()
    coding.resolve(unit=unit, by=cast.supervisor, kind="picked", passage=chosen,
                   seen_version=1, reason="other", comment="first")  # fmt: skip
    with pytest.raises(coding.StaleUnit):
        coding.resolve(unit=unit, by=cast.supervisor, kind="picked", passage=chosen,
                       seen_version=1, reason="other", comment="second")  # fmt: skip
    assert Resolution.objects.count() == 1


def test_accepting_all_complete_agreements_approves_them(cast, compared):
    accepted, refused = coding.accept_agreements(assignment=compared.assignment, by=cast.supervisor)
    assert (accepted, refused) == (2, [])
    agreed = Unit.objects.filter(assignment=compared.assignment, outcome="agreed")
    assert all(u.result.status == "approved" and u.is_resolved for u in agreed)
    assert Resolution.objects.filter(kind="accepted").count() == 2
    assert coding.accept_agreements(assignment=compared.assignment, by=cast.supervisor) == (0, [])


def test_a_coder_dropped_from_the_sample_leaves_the_report(cast, coding_round):
    r = coding_round
    third = factories.make_user("analyst3")
    factories.add_member(cast.project, third, "analyst")
    AssignmentCoder.objects.create(assignment=r.assignment, coder=third)
    for coder in (cast.analyst, cast.analyst2, third):
        r.code(coder, "The Islamic State's retreat will not end jihadism.")
    coding.mark_done(assignment=r.assignment, coder=third)
    coding.drop_coder(assignment=r.assignment, coder=third)
    assert not CodedPassage.objects.filter(coder__coder=third).exists()
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=r.assignment, coder=coder)
    coding.compare(assignment=r.assignment, by=cast.supervisor)
    r.assignment.refresh_from_db()
    spans = report.build(r.assignment)[0]
    assert spans.n_coders == 2
    assert spans.coders == ["analyst", "analyst2"]


def test_a_coder_replaced_by_another_analyst_leaves_no_unit_stranded(cast, coding_round):
    r = coding_round
    third = factories.make_user("analyst3")
    factories.add_member(cast.project, third, "analyst")
    coding.drop_coder(assignment=r.assignment, coder=cast.analyst2, replacement=third)
    states = dict(r.assignment.coders.values_list("coder__username", "state"))
    assert states == {"analyst": "assigned", "analyst2": "dropped", "analyst3": "assigned"}
    with pytest.raises(coding.AgreementError, match="not an analyst"):
        coding.drop_coder(assignment=r.assignment, coder=third, replacement=cast.student)
    for coder in (cast.analyst, third):
        r.code(coder, "Naji planned for savagery.")
        coding.mark_done(assignment=r.assignment, coder=coder)
    coding.compare(assignment=r.assignment, by=cast.supervisor)
    r.assignment.refresh_from_db()
    assert report.build(r.assignment)[0].coders == ["analyst", "analyst3"]


def test_the_report_counts_units_per_variable(cast, compared):
    by_variable = {r.variable: r for r in report.build(compared.assignment)}
    spans = by_variable[Variable.SPANS]
    assert (spans.n_units, spans.n_coders, spans.missing) == (5, 2, 0)
    # Unit 4's spans differ, unit 5 has one coder: 3 of 5 agree.
    assert spans.percent == pytest.approx(3 / 5)
    claims = by_variable[Variable.CLAIMS]
    # One claim per unit; the passage only analyst coded leaves analyst2's value missing.
    assert (claims.n_units, claims.missing) == (5, 1)
    assert claims.percent == pytest.approx(3 / 4)
    # Only supports and asserts ever differ here, so halving that distance changes nothing.
    assert claims.alpha_stance == pytest.approx(claims.alpha)
    assert [n for n, _ in claims.disagreeing] == [3]


def test_an_edit_after_resolution_is_a_discrepancy(cast, compared):
    unit = Unit.objects.get(assignment=compared.assignment, number=3)
    coding.resolve(
        unit=unit, by=cast.supervisor, kind="written", written=compared_written(cast, compared),
        seen_version=1, reason="other", comment="My own wording.",
    )  # fmt: skip
    unit = Unit.objects.select_related("result", "resolution").get(pk=unit.pk)
    assert not unit.is_discrepant
    factories.revise(unit.result, cast.supervisor, locator="¶9")
    unit = Unit.objects.select_related("result", "resolution").get(pk=unit.pk)
    assert unit.is_discrepant


def compared_written(cast, compared):
    """A passage the supervisor wrote on the unit's source, as the resolution's new version."""
    return factories.make_annotation(compared.source, cast.supervisor, quote="Qutb's vanguard.")


def test_the_comparison_keeps_the_tallies_right(cast, compared):
    from apps.annotations.models import ClaimTally, PersonTally, ProjectTally, SourceTally
    from apps.annotations.tallies import recount
    from tests.annotations.test_cocitation_tallies import (
        assert_current as assert_cocitation_current,
    )

    def tallies():
        # A row that does not exist counts 0, as one at 0 does.
        return [
            sorted(row for row in model.objects.values_list(*fields) if any(row[1:]))
            for model, fields in (
                (ProjectTally, ("project_id", "approved", "visible", "waiting")),
                (SourceTally, ("source_id", "approved", "visible")),
                (ClaimTally, ("claim_id", "approved", "visible")),
                (PersonTally, ("person_id", "approved", "visible")),
            )
        ]

    kept = tallies()
    # What each source cites and the pairs it makes: as the mentions say.
    assert_cocitation_current(cast.project)
    recount(cast.project)
    assert tallies() == kept


def test_a_merged_agreement_cites_what_its_coders_cited_in_the_cocitation_tallies(
    cast, coding_round
):
    from apps.annotations.models import CitedTally
    from tests.annotations.test_cocitation_tallies import assert_current

    r = coding_round
    qutb = factories.make_person(cast.project, "Sayyid Qutb")
    milestones = factories.make_source(cast.project, "Milestones")
    for coder in (cast.analyst, cast.analyst2):
        words = "Isolationist takfiri groups will spread"
        r.code(coder, words, people=[r.person], works=[(qutb, milestones)])
        coding.mark_done(assignment=r.assignment, coder=coder)
    coding.compare(assignment=r.assignment, by=cast.supervisor)
    # The coders' drafts are withdrawn; the merged passage cites the work in their place.
    cited = CitedTally.objects.get(source=r.source, kind="works", cited=milestones.pk)
    assert (cited.approved, cited.visible) == (0, 1)
    assert_current(cast.project)


def test_api_clients_syncing_see_the_merged_passages_and_the_withdrawn_originals(
    cast, coding_round
):
    """The comparison writes in bulk, past save(): it still stamps the library version and
    leaves tombstones, so a since= pull and deleted/ tell a client what changed."""
    from apps.accounts.models import Project, Tombstone

    r = coding_round
    for coder in (cast.analyst, cast.analyst2):
        r.code(coder, "The Islamic State's retreat will not end jihadism.")
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=r.assignment, coder=coder)
    before = Project.objects.get(pk=cast.project.pk).library_version
    coding.compare(assignment=r.assignment, by=cast.supervisor)
    after = Project.objects.get(pk=cast.project.pk).library_version
    assert after > before
    (merged,) = Annotation.objects.filter(withdrawn_at__isnull=True)
    assert merged.library_version == after
    originals = Annotation.objects.filter(withdrawn_at__isnull=False)
    assert set(originals.values_list("library_version", flat=True)) == {after}
    gone = Tombstone.objects.filter(kind="annotation", reason="withdrawn")
    assert sorted(gone.values_list("object_id", flat=True)) == sorted(
        originals.values_list("pk", flat=True)
    )
    assert set(gone.values_list("library_version", flat=True)) == {after}

"""The tallies (passages per source, concept, person, claim and project) follow every change
made through the app, and equal a recount from scratch afterwards."""

from apps.annotations.models import (
    Annotation,
    ClaimTally,
    ConceptTally,
    PersonTally,
    ProjectTally,
    ReviewAction,
    SourceTally,
)
from apps.annotations.tallies import recount, recount_sources
from tests import factories

MODELS = {
    "source": (SourceTally, "source_id", ("approved", "visible")),
    "concept": (ConceptTally, "concept_id", ("approved", "visible")),
    "person": (PersonTally, "person_id", ("approved", "visible")),
    "claim": (ClaimTally, "claim_id", ("approved", "visible", "approved_for", "approved_against")),
    "project": (ProjectTally, "project_id", ("approved", "visible", "waiting")),
}


def tallies(project) -> dict:
    """Every non-zero tally of the project (a missing row counts 0)."""
    found = {}
    for name, (model, key, fields) in MODELS.items():
        rows = model.objects.filter(project_id=project.pk) if name != "project" else (
            model.objects.filter(project=project)
        )
        for row in rows.values(key, *fields):
            counts = tuple(row[field] for field in fields)
            if any(counts):
                found[name, row[key]] = counts
    return found


def recounted(project) -> dict:
    recount(project)
    return tallies(project)


def edit_links(annotation, by, *, claims=(), people=(), concepts=(), stance="contradicts"):
    annotation = Annotation.objects.get(pk=annotation.pk)
    with annotation.editing(by=by, loaded_version=annotation.version):
        annotation.save_content(
            evidence=[{"claim": claim, "stance": stance} for claim in claims],
            mentions=[
                {"person": person, "work": None, "function": "supporting"} for person in people
            ],
            concepts=list(concepts),
            by=by,
        )


def test_tallies_follow_review_decisions_withdrawals_and_link_edits(cast):
    project = cast.project
    sources = [factories.make_source(project) for _ in range(3)]
    concepts = [factories.make_concept(project) for _ in range(3)]
    people = [factories.make_person(project) for _ in range(3)]
    claims = [factories.make_claim(project) for _ in range(3)]
    approve = {"status": "approved", "reviewer": cast.supervisor}
    first = factories.make_annotation(
        sources[0], cast.analyst, claims=claims[:2], people=people[:2], concepts=concepts[:2],
        **approve,
    )  # fmt: skip
    second = factories.make_annotation(
        sources[0], cast.analyst2, claims=[claims[0]], stance="contradicts", people=[people[0]],
        concepts=[concepts[0]], **approve,
    )  # fmt: skip
    draft = factories.make_annotation(
        sources[1], cast.analyst, concepts=concepts[1:], people=people
    )
    submitted = factories.make_annotation(
        sources[2], cast.analyst, status="submitted", claims=[claims[2]], concepts=[concepts[2]]
    )
    assert tallies(project)[("concept", concepts[0].pk)] == (2, 2)
    assert tallies(project)[("claim", claims[0].pk)] == (2, 2, 1, 1)  # one for, one against
    assert tallies(project)[("project", project.pk)] == (2, 4, 1)
    assert tallies(project) == recounted(project)

    # Every kind of change, each checked against a recount.
    steps = [
        lambda: first.transition(ReviewAction.REOPEN, by=cast.supervisor, reason="other",
                                 comment="Look again."),  # fmt: skip
        lambda: edit_links(first, cast.analyst, claims=[claims[1]], people=[people[2]],
                           concepts=[concepts[2], concepts[0]]),  # fmt: skip
        lambda: first.transition(ReviewAction.SUBMIT, by=cast.analyst),
        lambda: first.transition(ReviewAction.APPROVE, by=cast.supervisor),
        lambda: second.transition(ReviewAction.WITHDRAW, by=cast.supervisor),
        lambda: edit_links(draft, cast.analyst, people=[people[1]], concepts=[]),
        lambda: submitted.transition(ReviewAction.REJECT, by=cast.supervisor, reason="other",
                                     comment="No."),  # fmt: skip
        lambda: second.transition(ReviewAction.RESTORE, by=cast.supervisor),
        lambda: draft.transition(ReviewAction.WITHDRAW, by=cast.analyst),
    ]
    for number, step in enumerate(steps):
        step()
        assert tallies(project) == recounted(project), number


def test_a_new_annotation_counts_for_what_it_links_once_saved(cast):
    source = factories.make_source(cast.project)
    concept = factories.make_concept(cast.project)
    annotation = Annotation(
        project=cast.project, source=source, author=cast.analyst, quote="Words.", locator="p. 1"
    )
    annotation.save_content(evidence=[], mentions=[], concepts=[concept], by=cast.analyst)
    assert tallies(cast.project) == {
        ("source", source.pk): (0, 1),
        ("concept", concept.pk): (0, 1),
        ("project", cast.project.pk): (0, 1, 0),
    }
    assert tallies(cast.project) == recounted(cast.project)


def test_merging_sources_moves_their_passages_tallies(cast):
    project = cast.project
    kept, gone = factories.make_source(project), factories.make_source(project)
    for source in (kept, gone):
        factories.make_annotation(source, cast.analyst, status="approved", reviewer=cast.supervisor)
    gone.merge_into(kept)
    recount_sources([kept.pk])
    assert tallies(project)[("source", kept.pk)] == (2, 2)
    assert tallies(project) == recounted(project)


def test_the_corpus_generator_leaves_tallies_equal_to_a_recount(cast, grow):
    grow(5)
    before = tallies(cast.project)
    assert before[("project", cast.project.pk)][0] > 0
    assert before == recounted(cast.project)

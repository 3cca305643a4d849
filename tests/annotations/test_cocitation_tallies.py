"""The co-citation tallies (what each source cites, and the sources citing both of a pair) follow
every change made through the app, and equal both a recount and a count from the mentions."""

import contextlib
import itertools
import random
from collections import defaultdict

import pytest

from apps.annotations.models import (
    Annotation,
    CitedTally,
    Mention,
    PairTally,
    ReviewAction,
    Status,
    TransitionError,
)
from apps.annotations.tallies import recount_cocitation
from tests import factories


def stored(project) -> tuple[dict, dict]:
    """(cited rows, pair rows) of the project as stored, as {key: (approved, visible)}."""
    cited = {
        (row[0], row[1], row[2]): row[3:]
        for row in CitedTally.objects.filter(project=project).values_list(
            "source_id", "kind", "cited", "approved", "visible"
        )
    }
    pairs = {
        (row[0], row[1], row[2]): row[3:]
        for row in PairTally.objects.filter(project=project).values_list(
            "kind", "first", "second", "approved", "visible"
        )
    }
    return cited, pairs


def from_mentions(project) -> tuple[dict, dict]:
    """The same, counted here from the mentions one by one: what the tallies must say."""
    passages: dict = defaultdict(lambda: [set(), set()])
    rows = Mention.objects.filter(
        annotation__project=project, annotation__withdrawn_at__isnull=True
    ).values_list("annotation_id", "annotation__source_id", "annotation__status", "person_id",
                  "work_id")  # fmt: skip
    for annotation, source, status, person, work in rows:
        for kind, pk in (("people", person), ("works", work)):
            if pk is None:
                continue
            passages[source, kind, pk][1].add(annotation)
            if status == Status.APPROVED:
                passages[source, kind, pk][0].add(annotation)
    cited = {key: (len(a), len(v)) for key, (a, v) in passages.items()}
    by_source: dict = defaultdict(dict)
    for (source, kind, pk), counts in cited.items():
        by_source[source, kind][pk] = counts
    pairs: dict = defaultdict(lambda: [0, 0])
    for (_, kind), counts in by_source.items():
        for one, other in itertools.combinations(sorted(counts), 2):
            for level in (0, 1):
                if counts[one][level] and counts[other][level]:
                    pairs[kind, one, other][level] += 1
    return cited, {key: tuple(counts) for key, counts in pairs.items()}


def assert_current(project, note="") -> None:
    now = stored(project)
    assert now == from_mentions(project), note
    recount_cocitation(project)
    assert stored(project) == now, note


def edit_cites(annotation, by, people=(), works=()):
    """Save the passage's links as the edit form does: these people, and (person, work) pairs."""
    annotation = Annotation.objects.get(pk=annotation.pk)
    with annotation.editing(by=by, loaded_version=annotation.version):
        annotation.save_content(
            evidence=[],
            mentions=[{"person": p, "work": None, "function": "supporting"} for p in people]
            + [{"person": p, "work": w, "function": "supporting"} for p, w in works],
            concepts=[],
            by=by,
        )


def test_a_pair_counts_the_sources_citing_both_at_each_level(cast):
    project = cast.project
    qutb, naji, kaplan = (factories.make_person(project) for _ in range(3))
    first, second = factories.make_source(project), factories.make_source(project)
    approve = {"status": "approved", "reviewer": cast.supervisor}
    factories.make_annotation(first, cast.analyst, people=[qutb, naji], **approve)
    # Two passages of one source citing the same pair: one source, counted once.
    factories.make_annotation(first, cast.analyst, people=[qutb, naji], **approve)
    factories.make_annotation(second, cast.analyst, people=[qutb], **approve)
    factories.make_annotation(second, cast.analyst, people=[naji, kaplan])  # a draft
    pairs = stored(project)[1]
    a, b = sorted([qutb.pk, naji.pk])
    assert pairs["people", a, b] == (1, 2)
    assert pairs["people", *sorted([naji.pk, kaplan.pk])] == (0, 1)
    assert pairs["people", *sorted([qutb.pk, kaplan.pk])] == (0, 1)
    assert_current(project)


@pytest.mark.parametrize("seed", range(4))
def test_tallies_follow_a_random_run_of_changes(cast, client_for, seed):
    rng = random.Random(seed)
    project = cast.project
    people = [factories.make_person(project) for _ in range(5)]
    sources = [factories.make_source(project) for _ in range(5)]
    passages = []

    def cites():
        chosen = rng.sample(people, rng.randint(0, 3))
        works = [(rng.choice(people), rng.choice(sources)) for _ in range(rng.randint(0, 2))]
        return chosen, [(p, w) for p, w in dict.fromkeys(works) if p not in chosen]

    def add():
        chosen, works = cites()
        status = rng.choice(["draft", "submitted", "approved", "approved"])
        passages.append(
            factories.make_annotation(
                rng.choice(sources[:3]), cast.analyst, people=chosen, works=works,
                status=status, reviewer=cast.supervisor,
            )
        )  # fmt: skip

    def decide():
        annotation = Annotation.objects.get(pk=rng.choice(passages).pk)
        action, by, extra = rng.choice([
            (ReviewAction.APPROVE, cast.supervisor, {}),
            (ReviewAction.REOPEN, cast.supervisor, {"reason": "other", "comment": "Again."}),
            (ReviewAction.SUBMIT, cast.analyst, {}),
            (ReviewAction.WITHDRAW, cast.supervisor, {}),
            (ReviewAction.RESTORE, cast.supervisor, {}),
        ])  # fmt: skip
        with contextlib.suppress(TransitionError):  # not allowed from its status
            annotation.transition(action, by=by, **extra)

    def relink():
        annotation = Annotation.objects.get(pk=rng.choice(passages).pk)
        if annotation.status in (Status.DRAFT, Status.CHANGES_REQUESTED) and not (
            annotation.withdrawn_at
        ):
            chosen, works = cites()
            edit_cites(annotation, cast.analyst, chosen, works)

    def merge():
        # Two of the sources are one work recorded twice: passages and citations move.
        gone, kept = rng.sample(sources, 2)
        response = client_for(cast.supervisor).post(
            "/p/review/sources/duplicates/merge/", {"keep": kept.pk, "sources": [kept.pk, gone.pk]}
        )
        assert response.status_code == 302
        sources.remove(gone)

    for _ in range(4):
        add()
    for number in range(25):
        step = merge if number in (8, 16) else rng.choice([add, decide, decide, relink, relink])
        step()
        assert_current(project, f"step {number}: {step.__name__}")
    assert stored(project)[1]  # the run made pairs


def test_merging_sources_moves_their_pairs(cast, client_for):
    project = cast.project
    qutb, naji, kaplan = (factories.make_person(project) for _ in range(3))
    kept, gone, citing = (factories.make_source(project) for _ in range(3))
    milestones, milestones_again = factories.make_source(project), factories.make_source(project)
    approve = {"status": "approved", "reviewer": cast.supervisor}
    factories.make_annotation(kept, cast.analyst, people=[qutb], **approve)
    factories.make_annotation(gone, cast.analyst, people=[naji, kaplan], **approve)
    factories.make_annotation(
        citing, cast.analyst, works=[(qutb, milestones), (naji, milestones_again)], **approve
    )
    factories.make_annotation(citing, cast.analyst, works=[(kaplan, kept)], **approve)
    client = client_for(cast.supervisor)
    url = "/p/review/sources/duplicates/merge/"
    qutb_naji = ("people", *sorted([qutb.pk, naji.pk]))
    assert stored(project)[1][qutb_naji] == (1, 1)  # the citing source
    client.post(url, {"keep": kept.pk, "sources": [kept.pk, gone.pk]})
    # The kept source now cites Qutb, Naji and Kaplan: one more source for the pair.
    assert stored(project)[1][qutb_naji] == (2, 2)
    assert not CitedTally.objects.filter(source_id=gone.pk).exists()
    client.post(url, {"keep": milestones.pk, "sources": [milestones.pk, milestones_again.pk]})
    # The two works were one: the pair of works is gone, the source cites it once.
    assert ("works", *sorted([milestones.pk, milestones_again.pk])) not in stored(project)[1]
    assert stored(project)[0][citing.pk, "works", milestones.pk] == (1, 1)
    assert_current(project)


def test_the_corpus_generator_leaves_tallies_equal_to_the_mentions(cast, grow):
    grow(4)
    assert stored(cast.project)[1]
    assert_current(cast.project)


def test_a_source_is_deleted_only_when_nothing_cites_it_so_pairs_stay_right(cast, client_for):
    project = cast.project
    qutb, naji = factories.make_person(project), factories.make_person(project)
    citing, milestones, spare = (factories.make_source(project) for _ in range(3))
    factories.make_annotation(
        citing, cast.analyst, people=[naji], works=[(qutb, milestones)],
        status="approved", reviewer=cast.supervisor,
    )  # fmt: skip
    client = client_for(cast.supervisor)
    # Cited as a work, or holding passages: refused, the tallies untouched.
    for source in (milestones, citing):
        assert client.post(f"/p/review/sources/{source.pk}/delete/").status_code == 409
    assert client.post(f"/p/review/sources/{spare.pk}/delete/").status_code == 302
    assert stored(project)[0][citing.pk, "works", milestones.pk] == (1, 1)
    assert_current(project)


def test_deleting_a_project_takes_its_cocitation_tallies(cast):
    source = factories.make_source(cast.project)
    people = [factories.make_person(cast.project) for _ in range(2)]
    factories.make_annotation(source, cast.analyst, people=people)
    assert PairTally.objects.filter(project=cast.project).exists()
    cast.project.delete()
    assert not PairTally.objects.exists() and not CitedTally.objects.exists()

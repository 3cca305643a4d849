"""A synthetic corpus at a chosen scale, for benchmarks and growth tests.

Proportions follow DESIGN.md's target corpus (20,000 sources, 5,000 people, 20,000 claims,
200,000 annotations): per source one claim, a quarter of a person, ten annotations. Everything is
inserted with bulk_create in batches, and the same seed always gives the same data.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction

from apps.accounts.models import Membership, Project, Role, User
from apps.accounts.sync import FIRST_VERSION, bump
from apps.annotations.models import (
    Annotation,
    Evidence,
    Mention,
    MentionFunction,
    ReasonCode,
    ReviewAction,
    ReviewEvent,
    Stance,
    Status,
)
from apps.annotations.tallies import recount as recount_tallies
from apps.claims.models import Claim, ClaimKind, ClaimRelation, Concept, RelationKind
from apps.library.models import Contributor, ContributorRole, Source, SourceIdentifier, SourceType
from apps.library.richtext import render_markdown
from apps.people.models import NameVariant, Person, PersonKind

WORDS = (
    "isolation withdrawal society takfir excommunication caliphate territory insurgency jihad "
    "militant recruitment ideology doctrine movement network faction dissent purity violence "
    "state border desert periphery governance legitimacy propaganda media narrative crisis "
    "vulnerability empowerment strategy organisation leadership fighters foreign local tribe "
    "cohesion belonging innovation adaptation crime funding smuggling continuum hybrid nexus "
    "security counterterrorism policy analysis evidence interview field report archive manual "
    "prison execution loyalty authority scholars preacher teaching interpretation religion "
    "radicalisation extremism moderation quietism emigration hijra community believers enemy "
    "region conflict war retreat defeat victory frustration grievance alienation youth camps "
    "women children education curriculum training violence attack drones weapons cities "
    "rural mountains caves sanctuary safe haven collapse fragmentation splinter wave theory"
).split()
GIVEN = (
    "Ahmad Omar Layla Sara Yusuf Khalid Mariam Hana Ali Fatima Karim Nadia Samir Rania Tariq "
    "Jeffrey Martha Richard Tamara Vera Ekaterina Daniel Clara Peter Anna Thomas Maria Lucas "
    "Ines Jonas Elena Marco Sofia David Laura Hassan Amina Bilal Zainab Mustafa Ibrahim Salma"
).split()
FAMILY = (
    "al-Amin al-Hashimi Haddad Nasser al-Rashid Saleh Mansour Khoury Darwish al-Tamimi Kaplan "
    "Crenshaw Haass Makarenko Mironova Sergatskova Hoffman Byman Hegghammer Lia Gerges Kepel "
    "Roy Wiktorowicz Lahoud Brachman Fishman Zelin Hamming Winter Ingram Moghadam Bunzel "
    "Weiss Hassan Stern Berger Cockburn Napoleoni Lister Kenney Hafez Schmid Bjorgo Horgan"
).split()
CONTAINERS = (
    "Studies in Conflict & Terrorism",
    "Terrorism and Political Violence",
    "Perspectives on Terrorism",
    "Foreign Affairs",
    "Middle East Journal",
    "International Security",
    "Security Studies",
    "CTC Sentinel",
    "Journal of Strategic Studies",
    "Critical Studies on Terrorism",
)
SOURCE_TYPES = [
    (SourceType.ARTICLE_JOURNAL, 50),
    (SourceType.BOOK, 12),
    (SourceType.CHAPTER, 10),
    (SourceType.REPORT, 10),
    (SourceType.WEBPAGE, 8),
    (SourceType.ARTICLE_MAGAZINE, 6),
    (SourceType.THESIS, 4),
]
STATUSES = [
    (Status.APPROVED, 85),
    (Status.SUBMITTED, 5),
    (Status.DRAFT, 4),
    (Status.CHANGES_REQUESTED, 3),
    (Status.REJECTED, 3),
]
START = datetime.datetime(2025, 1, 1, 8, 0, tzinfo=datetime.UTC)


@dataclass
class CorpusStats:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, number: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + number


def _weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in table], weights=[w for _, w in table])[0]


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def _text(rng: random.Random, chars: int) -> str:
    parts: list[str] = []
    length = 0
    while length < chars:
        sentence = _sentence(rng, 8, 22)
        parts.append(sentence)
        length += len(sentence) + 1
    return " ".join(parts)[:chars].rstrip() or "Text."


def _batched(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _corpus_team(project: Project) -> tuple[list[User], list[User]]:
    """The project's analysts and supervisors, creating a synthetic team when it has none."""
    members = Membership.objects.filter(project=project).select_related("user")
    analysts = [m.user for m in members if m.role == Role.ANALYST]
    supervisors = [m.user for m in members if m.role == Role.SUPERVISOR]
    if not analysts:
        for number in range(1, 4):
            user, _ = User.objects.get_or_create(username=f"corpus-analyst-{number}")
            Membership.objects.get_or_create(
                user=user, project=project, defaults={"role": Role.ANALYST}
            )
            analysts.append(user)
    if not supervisors:
        user, _ = User.objects.get_or_create(username="corpus-supervisor")
        Membership.objects.get_or_create(
            user=user, project=project, defaults={"role": Role.SUPERVISOR}
        )
        supervisors.append(user)
    return analysts, supervisors


@transaction.atomic
def generate_corpus(
    project: Project,
    *,
    sources: int,
    people: int | None = None,
    concepts: int | None = None,
    seed: int = 1,
    batch_size: int = 2000,
) -> CorpusStats:
    """Add `sources` sources and everything in proportion to `project`.

    `people` and `concepts` override the proportional counts (a quarter of a person and a
    hundredth of a concept per source, at least 4 and 8).
    """
    rng = random.Random(seed)
    stats = CorpusStats()
    analysts, supervisors = _corpus_team(project)
    # Keys stay unique when the generator runs twice on the same project.
    run = Source.objects.filter(project=project).count()

    # People: a quarter per source, with one or two name variants each.
    people_count = people if people is not None else max(4, sources // 4)
    persons: list[Person] = []
    for _ in range(people_count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        display = f"{given} {family}"
        persons.append(
            Person(
                project=project,
                kind=PersonKind.PERSON if rng.random() > 0.03 else PersonKind.ORGANIZATION,
                display_name=display,
                family=family,
                given=given,
                description=_sentence(rng, 5, 12) if rng.random() < 0.4 else "",
            )
        )
        persons[-1].set_keys()
    for batch in _batched(persons, batch_size):
        Person.objects.bulk_create(batch)
    variants = []
    for person in persons:
        for number in range(rng.randint(0, 2)):
            name = f"{person.given[0]}. {person.family}" if number == 0 else person.family
            variants.append(NameVariant(person=person, name=name))
            variants[-1].set_keys()
    NameVariant.objects.bulk_create(variants, batch_size=batch_size, ignore_conflicts=True)
    stats.add("people", len(persons))
    stats.add("name variants", len(variants))

    # Concepts: a small hierarchical codebook, one per hundred sources.
    codebook: list[Concept] = []
    existing_concepts = Concept.objects.filter(project=project).count()
    for number in range(concepts if concepts is not None else max(8, sources // 100)):
        parent = rng.choice(codebook) if codebook and rng.random() < 0.4 else None
        label = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)}"
        codebook.append(
            Concept(
                project=project,
                name=f"{label} {existing_concepts + number + 1}",
                definition=_sentence(rng, 10, 25),
                parent=parent,
            )
        )
    _create_in_dependency_order(codebook)
    stats.add("concepts", len(codebook))

    # Claims: one per source, with relations between a third of them.
    claims = [
        Claim(
            project=project,
            statement=_sentence(rng, 10, 30),
            kind=rng.choice(ClaimKind.values),
            created_by=rng.choice(analysts),
        )
        for _ in range(sources)
    ]
    for batch in _batched(claims, batch_size):
        Claim.objects.bulk_create(batch)
    relations = []
    for claim in rng.sample(claims, k=len(claims) // 3):
        target = rng.choice(claims)
        if target is not claim:
            relations.append(
                ClaimRelation(source=claim, target=target, kind=rng.choice(RelationKind.values))
            )
    ClaimRelation.objects.bulk_create(relations, batch_size=batch_size, ignore_conflicts=True)
    stats.add("claims", len(claims))
    stats.add("claim relations", len(relations))

    # Sources with contributors and identifiers.
    source_rows = []
    for number in range(sources):
        csl_type = _weighted(rng, SOURCE_TYPES)
        year = rng.randint(1960, 2025)
        source_rows.append(
            Source(
                project=project,
                citation_key=f"syn{run + number + 1}",
                csl_type=csl_type,
                title=_sentence(rng, 6, 16).rstrip("."),
                container_title=rng.choice(CONTAINERS) if csl_type != SourceType.BOOK else "",
                publisher=rng.choice(["Routledge", "Hurst", "Oxford University Press", "RAND", ""]),
                issued_year=year,
                issued_month=rng.randint(1, 12) if rng.random() < 0.5 else None,
                volume=str(rng.randint(1, 45)) if csl_type == SourceType.ARTICLE_JOURNAL else "",
                page=f"{(p := rng.randint(1, 400))}–{p + rng.randint(5, 30)}",
                language=rng.choice(["en"] * 8 + ["ar", "fr"]),
                abstract=_text(rng, rng.randint(400, 1400)),
            )
        )
    for batch in _batched(source_rows, batch_size):
        Source.objects.bulk_create(batch)
    contributors = []
    identifiers = []
    for index, source in enumerate(source_rows):
        for position, person in enumerate(
            rng.sample(persons, k=min(len(persons), rng.randint(1, 3))), start=1
        ):
            contributors.append(
                Contributor(
                    source=source, person=person, role=ContributorRole.AUTHOR, position=position
                )
            )
        if source.csl_type == SourceType.ARTICLE_JOURNAL:
            identifiers.append(
                SourceIdentifier(
                    source=source, scheme="doi", value=f"10.5555/syn.{seed}.{run + index + 1}"
                )
            )
    Contributor.objects.bulk_create(contributors, batch_size=batch_size)
    SourceIdentifier.objects.bulk_create(identifiers, batch_size=batch_size)
    stats.add("sources", len(source_rows))
    stats.add("contributors", len(contributors))
    stats.add("identifiers", len(identifiers))

    # Annotations, ten per source on average, with links and their review history.
    notes = [""] * 50 + [_text(rng, rng.randint(40, 500)) for _ in range(2000)]
    rendered = {note: render_markdown(note) for note in notes}
    annotation_total = 0
    for source_batch in _batched(source_rows, max(1, batch_size // 10)):
        annotations: list[Annotation] = []
        for source in source_batch:
            offset = 0
            for _ in range(rng.randint(5, 15)):
                quote = _text(rng, rng.randint(80, 400))
                offset += rng.randint(50, 3000)
                status = _weighted(rng, STATUSES)
                created = START + datetime.timedelta(minutes=rng.randint(0, 60 * 24 * 600))
                note = rng.choice(notes)
                annotations.append(
                    Annotation(
                        project=project,
                        source=source,
                        author=rng.choice(analysts),
                        status=status,
                        status_changed_at=created + datetime.timedelta(days=2),
                        quote=quote,
                        prefix=_text(rng, 32),
                        suffix=_text(rng, 32),
                        start=offset,
                        end=offset + len(quote),
                        locator=f"p. {offset // 2500 + 1}",
                        note=note,
                        note_html=rendered[note],
                        created_at=created,
                    )
                )
                offset += len(quote)
        Annotation.objects.bulk_create(annotations)
        annotation_total += len(annotations)
        _link_annotations(
            rng, annotations, claims, persons, source_rows, codebook, supervisors, stats
        )
    stats.add("annotations", annotation_total)
    # The recount joins the tables just filled; without statistics PostgreSQL plans them as
    # empty (nested loops over 200,000 rows: an hour instead of seconds).
    analyze([Annotation, Evidence, Mention, Annotation.concepts.through, ReviewEvent, Claim,
             Source, Person, Concept, Contributor])  # fmt: skip
    with transaction.atomic():
        # bulk_create wrote the rows at the first library version: the corpus is one change
        # for API clients syncing the project (apps.accounts.sync), stamped as one.
        version = bump(project.pk)
        for model in (Source, Person, Concept, Annotation):
            model.objects.filter(project=project, library_version=FIRST_VERSION).update(
                library_version=version
            )
        Claim.objects.filter(project=project).refresh_approved_evidence()
    recount_tallies(project)
    return stats


def analyze(models) -> None:
    """Fresh planner statistics for these tables (PostgreSQL; SQLite plans without them).

    ANALYZE runs inside the caller's transaction and sees its uncommitted rows, so a bulk load
    can analyse before the steps that need good plans."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _create_in_dependency_order(concepts: list[Concept]) -> None:
    """Bulk-create a codebook level by level: a child needs its parent's primary key."""
    pending = concepts
    while pending:
        ready = [c for c in pending if c.parent is None or c.parent.pk is not None]
        for concept in ready:
            concept.parent_id = concept.parent.pk if concept.parent else None
        Concept.objects.bulk_create(ready)
        pending = [c for c in pending if c.pk is None]


def _link_annotations(
    rng: random.Random,
    annotations: list[Annotation],
    claims: list[Claim],
    people: list[Person],
    sources: list[Source],
    concepts: list[Concept],
    supervisors: list[User],
    stats: CorpusStats,
) -> None:
    evidence, mentions, codings, events = [], [], [], []
    coding_model = Annotation.concepts.through
    for annotation in annotations:
        for claim in {rng.choice(claims) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))}:
            evidence.append(
                Evidence(annotation=annotation, claim=claim, stance=rng.choice(Stance.values))
            )
        for person in {rng.choice(people) for _ in range(rng.choice([0, 1, 1, 1, 2]))}:
            work = rng.choice(sources) if rng.random() < 0.2 else None
            mentions.append(
                Mention(
                    annotation=annotation,
                    person=person,
                    work=work,
                    function=rng.choice(MentionFunction.values),
                )
            )
        for concept in {rng.choice(concepts) for _ in range(rng.choice([0, 1, 1, 2]))}:
            codings.append(coding_model(annotation=annotation, concept=concept))
        if annotation.status != Status.DRAFT:
            submitted = annotation.created_at + datetime.timedelta(hours=3)
            events.append(
                ReviewEvent(
                    annotation=annotation,
                    actor=annotation.author,
                    action=ReviewAction.SUBMIT,
                    from_status=Status.DRAFT,
                    to_status=Status.SUBMITTED,
                    annotation_version=1,
                    created_at=submitted,
                )
            )
            decision = {
                Status.APPROVED: ReviewAction.APPROVE,
                Status.CHANGES_REQUESTED: ReviewAction.REQUEST_CHANGES,
                Status.REJECTED: ReviewAction.REJECT,
            }.get(annotation.status)
            if decision:
                needs_reason = decision != ReviewAction.APPROVE
                events.append(
                    ReviewEvent(
                        annotation=annotation,
                        actor=rng.choice(supervisors),
                        action=decision,
                        from_status=Status.SUBMITTED,
                        to_status=annotation.status,
                        reason=rng.choice(ReasonCode.values) if needs_reason else "",
                        comment=_sentence(rng, 6, 18) if needs_reason else "",
                        annotation_version=1,
                        created_at=annotation.status_changed_at,
                    )
                )
    Evidence.objects.bulk_create(evidence)
    Mention.objects.bulk_create(mentions)
    coding_model.objects.bulk_create(codings)
    ReviewEvent.objects.bulk_create(events)
    stats.add("evidence", len(evidence))
    stats.add("mentions", len(mentions))
    stats.add("concept codings", len(codings))
    stats.add("review events", len(events))


def create_corpus_project(slug: str) -> Project:
    project, _ = Project.objects.get_or_create(
        slug=slug,
        defaults={
            "name": f"Synthetic corpus {slug}",
            "description": "Generated by generate_corpus for benchmarks.",
        },
    )
    return project

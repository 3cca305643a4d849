"""Plain factory functions: each makes one valid row with sensible defaults."""

from __future__ import annotations

import itertools

from apps.accounts.models import Membership, Project, Role, User
from apps.annotations.models import Annotation, Evidence, Mention, ReviewAction, Status
from apps.annotations.tallies import Counted, retally
from apps.claims.models import Claim, Concept
from apps.library.models import Source
from apps.people.models import Person

_numbers = itertools.count(1)
PASSWORD = "a-test-password-9"


def make_user(username: str | None = None, **fields) -> User:
    username = username or f"user{next(_numbers)}"
    return User.objects.create_user(username=username, password=PASSWORD, **fields)


def make_project(slug: str | None = None, **fields) -> Project:
    number = next(_numbers)
    return Project.objects.create(
        slug=slug or f"project-{number}", name=fields.pop("name", f"Project {number}"), **fields
    )


def add_member(project: Project, user: User, role: str = Role.ANALYST) -> Membership:
    return Membership.objects.create(project=project, user=user, role=role)


def make_person(project: Project, display_name: str | None = None, **fields) -> Person:
    return Person.objects.create(
        project=project, display_name=display_name or f"Person {next(_numbers)}", **fields
    )


def make_source(project: Project, title: str | None = None, **fields) -> Source:
    number = next(_numbers)
    fields.setdefault("citation_key", f"key{number}")
    return Source.objects.create(project=project, title=title or f"Source {number}", **fields)


def make_claim(project: Project, statement: str | None = None, **fields) -> Claim:
    return Claim.objects.create(
        project=project, statement=statement or f"Claim {next(_numbers)}", **fields
    )


def make_concept(project: Project, name: str | None = None, **fields) -> Concept:
    return Concept.objects.create(
        project=project, name=name or f"Concept {next(_numbers)}", **fields
    )


def make_annotation(
    source: Source,
    author: User,
    *,
    status: str = Status.DRAFT,
    reviewer: User | None = None,
    claims: list[Claim] = (),
    stance: str = "supports",
    people: list[Person] = (),
    concepts: list[Concept] = (),
    works: list[tuple[Person, Source]] = (),
    **fields,
) -> Annotation:
    """An annotation brought to `status` through the real transitions (reviewer decides).

    Links are made before the transitions, as in the app, so derived counts follow them.
    """
    number = next(_numbers)
    fields.setdefault("quote", f"Quoted passage number {number}.")
    fields.setdefault("locator", f"¶{number}")
    annotation = Annotation.objects.create(
        project=source.project, source=source, author=author, **fields
    )
    for claim in claims:
        Evidence.objects.create(annotation=annotation, claim=claim, stance=stance)
    for person in people:
        Mention.objects.create(annotation=annotation, person=person, function="mentioning")
    for person, work in works:  # a person cited for one of their works
        Mention.objects.create(annotation=annotation, person=person, work=work)
    annotation.concepts.set(concepts)
    # Counted as the app counts a new annotation (save_content does the same).
    retally(None, Counted.of(annotation.pk))
    annotation.record_revision(by=author)
    if status != Status.DRAFT:
        annotation.transition(ReviewAction.SUBMIT, by=author)
    decisions = {
        Status.APPROVED: (ReviewAction.APPROVE, {}),
        Status.CHANGES_REQUESTED: (
            ReviewAction.REQUEST_CHANGES,
            {"reason": "wrong_locator", "comment": "Check the paragraph."},
        ),
        Status.REJECTED: (ReviewAction.REJECT, {"reason": "other", "comment": "Out of scope."}),
    }
    if status in decisions:
        if reviewer is None:
            raise ValueError(f"A {status} annotation needs a reviewer.")
        action, decision = decisions[status]
        annotation.transition(action, by=reviewer, **decision)
    return annotation


def revise(annotation: Annotation, by: User, **fields) -> Annotation:
    """An edit by its author, as the edit form makes it: a new version and its revision."""
    with annotation.editing(by=by, loaded_version=annotation.version):
        for name, value in fields.items():
            setattr(annotation, name, value)
        annotation.save(update_fields=Annotation.CONTENT_FIELDS)
    annotation.record_revision(by=by)
    return annotation


def close_response(response) -> None:
    """Close a response as a server does once it is sent, or when its client went away: a
    streamed download gives back what it held. The database connection, which a server would
    then close or recycle, is kept: here it holds the test's transaction. (Holding off Django's
    signal is not enough: the test client's wrapper around streamed content connects it again
    while the response closes.)"""
    from contextlib import ExitStack
    from unittest import mock

    from django.db import connections

    with ExitStack() as stack:
        for connection in connections.all(initialized_only=True):
            stack.enter_context(mock.patch.object(connection, "close_if_unusable_or_obsolete"))
        response.close()


def streamed(chunks) -> tuple[str, int, int]:
    """The sha256 of what `chunks` yields, its size, and the most memory Python held while
    they were written (each chunk is hashed and let go, as a download sends it)."""
    import hashlib
    import tracemalloc

    digest, size = hashlib.sha256(), 0
    tracemalloc.start()
    try:
        for chunk in chunks:
            data = chunk.encode()
            digest.update(data)
            size += len(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return digest.hexdigest(), size, peak

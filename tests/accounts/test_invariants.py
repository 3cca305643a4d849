"""Invariants the database itself enforces, whatever code writes the rows."""

import pytest
from django.db import IntegrityError, transaction

from apps.accounts.models import Membership, Role
from apps.annotations.models import Annotation, Evidence, Mention, ReviewEvent
from apps.claims.models import ClaimRelation, Concept
from apps.library.models import Contributor, Source
from apps.people.models import NameVariant, Person
from tests import factories


def refused(callable_) -> bool:
    try:
        with transaction.atomic():
            callable_()
    except IntegrityError:
        return True
    return False


def test_a_user_has_one_membership_per_project(cast):
    assert refused(lambda: factories.add_member(cast.project, cast.analyst, Role.STUDENT))


def test_membership_role_must_be_a_known_role(cast):
    membership = Membership.objects.get(user=cast.analyst, project=cast.project)
    assert refused(lambda: Membership.objects.filter(pk=membership.pk).update(role="admin"))


def test_citation_key_is_unique_within_a_project_only(cast):
    factories.make_source(cast.project, citation_key="qutb1964")
    assert refused(lambda: factories.make_source(cast.project, citation_key="qutb1964"))
    other = factories.make_project()
    assert factories.make_source(other, citation_key="qutb1964").pk


def test_source_type_and_issued_date_are_checked(cast):
    source = factories.make_source(cast.project)
    rows = Source.objects.filter(pk=source.pk)
    assert refused(lambda: rows.update(csl_type="tweet"))
    assert refused(lambda: rows.update(issued_year=None, issued_month=3))
    assert refused(lambda: rows.update(issued_year=2016, issued_month=13))
    assert refused(lambda: rows.update(issued_year=2016, issued_month=None, issued_day=4))
    assert refused(lambda: rows.update(title=""))


def test_contributor_positions_are_unique_per_role(cast):
    source = factories.make_source(cast.project)
    first, second = factories.make_person(cast.project), factories.make_person(cast.project)
    source.add_contributor(first)
    source.add_contributor(second)
    assert list(source.contributors.values_list("position", flat=True)) == [1, 2]
    Contributor.objects.create(source=source, person=second, role="editor", position=1)
    assert refused(
        lambda: Contributor.objects.create(source=source, person=first, role="editor", position=1)
    )
    assert refused(
        lambda: Contributor.objects.create(source=source, person=first, role="author", position=9)
    )


def test_person_kind_and_name_variants_are_checked(cast):
    person = factories.make_person(cast.project, "Abu Musab al-Suri")
    person.add_variant("as-Suri")
    assert refused(lambda: NameVariant.objects.create(person=person, name="as-Suri"))
    assert refused(lambda: Person.objects.filter(pk=person.pk).update(kind="robot"))


def test_claim_relations_are_typed_and_never_reflexive(cast):
    claim, other = factories.make_claim(cast.project), factories.make_claim(cast.project)
    claim.relate(other, "supports")
    assert refused(lambda: ClaimRelation.objects.create(source=claim, target=claim, kind="refines"))
    assert refused(lambda: ClaimRelation.objects.create(source=claim, target=other, kind="likes"))
    assert refused(
        lambda: ClaimRelation.objects.create(source=claim, target=other, kind="supports")
    )


def test_concept_names_are_unique_per_project_and_not_own_parent(cast):
    concept = factories.make_concept(cast.project, "Isolation")
    assert refused(lambda: factories.make_concept(cast.project, "Isolation"))
    assert refused(lambda: Concept.objects.filter(pk=concept.pk).update(parent=concept))


def test_annotation_status_stance_function_and_position_are_checked(cast):
    source = factories.make_source(cast.project)
    claim = factories.make_claim(cast.project)
    person = factories.make_person(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, claims=[claim], people=[person])
    rows = Annotation.objects.filter(pk=annotation.pk)
    assert refused(lambda: rows.update(status="published"))
    assert refused(lambda: rows.update(quote=""))
    assert refused(lambda: rows.update(start=10, end=5))
    assert refused(lambda: rows.update(start=10, end=None))
    assert refused(lambda: rows.update(version=0))
    assert refused(lambda: Evidence.objects.filter(annotation=annotation).update(stance="likes"))
    assert refused(
        lambda: Evidence.objects.create(annotation=annotation, claim=claim, stance="supports")
    )
    assert refused(lambda: Mention.objects.filter(annotation=annotation).update(function="citing"))


def test_a_person_is_mentioned_once_per_work_in_an_annotation(cast):
    source, work = factories.make_source(cast.project), factories.make_source(cast.project)
    person = factories.make_person(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, people=[person])
    assert refused(lambda: Mention.objects.create(annotation=annotation, person=person))
    Mention.objects.create(annotation=annotation, person=person, work=work)
    assert refused(lambda: Mention.objects.create(annotation=annotation, person=person, work=work))


def test_review_events_are_append_only(cast):
    source = factories.make_source(cast.project)
    annotation = factories.make_annotation(source, cast.analyst, status="submitted")
    event = annotation.review_events.get()
    event.comment = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        ReviewEvent.objects.filter(pk=event.pk).update(comment="rewritten")
    with pytest.raises(TypeError):
        ReviewEvent.objects.filter(pk=event.pk).delete()
    assert ReviewEvent.objects.get(pk=event.pk).comment == ""

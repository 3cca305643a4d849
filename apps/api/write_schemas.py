"""What the API takes to create and change people, claims, concepts and annotations, and what
it answers besides the objects of schemas.py (members, the review ledger, stale writes).

Every body is checked again by the form of the pages (apps.api.writes): these models only say
the shape, so that the OpenAPI document describes it and a wrong type is refused before a form
is bound. Unknown fields are refused.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, model_validator

from apps.api import schemas
from apps.api.paging import MAX_ID

NAME = 300
RowId = Field(ge=1, le=MAX_ID)
# One row's id in a list; a name on one line.
ListedId = Annotated[int, Field(ge=1, le=MAX_ID)]
OneLine = Annotated[str, Field(max_length=NAME, pattern=r"^[^\r\n]*$")]
LONG_TEXT = 100_000
MAX_LINKS = 50


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- People ------------------------------------------------------------------------------------


class PersonIn(Strict):
    """A person's fields, checked by the person form of the pages. On create, `display_name` is
    required; on update, fields left out keep their value. `variants`, when given, replaces the
    other spellings. A name someone in the project already has (or spells so) is refused unless
    `different_person` says this is somebody else, as the form's tick box does."""

    kind: str | None = Field(None, max_length=30, description="`person` or `organisation`.")
    display_name: str | None = Field(None, max_length=NAME)
    family: str | None = Field(None, max_length=NAME)
    given: str | None = Field(None, max_length=NAME)
    dropping_particle: str | None = Field(None, max_length=NAME)
    non_dropping_particle: str | None = Field(None, max_length=NAME)
    suffix: str | None = Field(None, max_length=NAME)
    literal: str | None = Field(None, max_length=NAME)
    description: str | None = Field(None, max_length=LONG_TEXT)
    orcid: str | None = Field(None, max_length=60)
    wikidata: str | None = Field(None, max_length=80)
    variants: list[OneLine] | None = Field(
        None, max_length=200, description="Other spellings, one name each."
    )
    different_person: bool = Field(
        False, description="Save although the name matches someone in the project."
    )


class StalePerson(schemas.Error):
    current: schemas.PersonOut = Field(description="The person as they are now.")


# --- Claims and concepts -----------------------------------------------------------------------


class RelationIn(Strict):
    kind: str = Field(max_length=20, description="supports, contradicts, refines or duplicates.")
    target_id: int = RowId


class ClaimIn(Strict):
    """A claim's statement and kind, checked by the claim form. `relations`, when given,
    replaces the claim's relations to other claims of the project."""

    statement: str | None = Field(None, max_length=LONG_TEXT)
    kind: str | None = Field(None, max_length=30)
    relations: list[RelationIn] | None = Field(None, max_length=100)


class StaleClaim(schemas.Error):
    current: schemas.ClaimOut = Field(description="The claim as it is now.")


class ConceptIn(Strict):
    """A codebook entry, checked by the concept form. `parent_id` and `originator_id` name a
    concept and a person of the project (null: none)."""

    name: str | None = Field(None, max_length=NAME)
    definition: str | None = Field(None, max_length=LONG_TEXT)
    parent_id: int | None = Field(None, ge=1, le=MAX_ID)
    originator_id: int | None = Field(None, ge=1, le=MAX_ID)
    colour: str | None = Field(None, max_length=7, description="#rrggbb, or empty for none.")


class StaleConcept(schemas.Error):
    current: schemas.ConceptOut = Field(description="The concept as it is now.")


# --- Annotations -------------------------------------------------------------------------------


class EvidenceIn(Strict):
    """A claim the passage is evidence for: an existing one by id, or a new statement."""

    claim_id: int | None = Field(None, ge=1, le=MAX_ID)
    statement: str | None = Field(
        None,
        max_length=5000,
        description="Instead of `claim_id`: a new claim (or the one with this statement).",
    )
    kind: str = Field("thesis", max_length=30, description="The kind of a new claim.")
    stance: str = Field("supports", max_length=20)

    @model_validator(mode="after")
    def one_claim(self) -> EvidenceIn:
        if (self.claim_id is None) == (self.statement is None):
            raise ValueError("Give either claim_id or statement.")
        return self


class MentionIn(Strict):
    """A person the passage mentions or cites: by id, or a new name; with a work of theirs."""

    person_id: int | None = Field(None, ge=1, le=MAX_ID)
    name: str | None = Field(
        None,
        max_length=NAME,
        description="Instead of `person_id`: a new person (or the one known by this name).",
    )
    work_id: int | None = Field(None, ge=1, le=MAX_ID, description="A source of the project.")
    function: str = Field("mentioning", max_length=20)

    @model_validator(mode="after")
    def one_person(self) -> MentionIn:
        if (self.person_id is None) == (self.name is None):
            raise ValueError("Give either person_id or name.")
        return self


class AnnotationChange(Strict):
    """An annotation's content, checked by the annotation form of the pages: the quote is found
    in the source's text (or placed at `start`–`end`), the locator follows from the place when
    left out. On update, fields left out keep their value; `claims`, `mentions` and
    `concept_ids`, when given, replace the links."""

    quote: str | None = Field(None, max_length=20_000)
    start: int | None = Field(None, ge=0, le=2**31 - 1)
    end: int | None = Field(None, ge=0, le=2**31 - 1)
    occurrence: str | None = Field(
        None,
        max_length=30,
        description="`start-end` of one of the places a refused quote listed, to choose it.",
    )
    locator: str | None = Field(None, max_length=60)
    page_label: str | None = Field(None, max_length=30)
    note: str | None = Field(None, max_length=20_000)
    concept_ids: list[ListedId] | None = Field(None, max_length=200)
    claims: list[EvidenceIn] | None = Field(None, max_length=MAX_LINKS)
    mentions: list[MentionIn] | None = Field(None, max_length=MAX_LINKS)


class AnnotationCreate(AnnotationChange):
    """A new annotation on `source_id`: a draft of the caller's, submitted for review through
    the transitions endpoint."""

    source_id: int = RowId
    quote: str = Field(max_length=20_000)


class StaleAnnotationWrite(schemas.Error):
    current: schemas.AnnotationOut = Field(description="The annotation as it is now.")


class OccurrenceOut(Schema):
    start: int
    end: int
    words: str
    before: str
    after: str
    where: str


class QuoteRefused(schemas.ValidationErrors):
    occurrences: list[OccurrenceOut] = Field(
        default_factory=list,
        description="Where the quote may be meant, when it occurs more than once or only "
        "approximately: send one back as `occurrence`.",
    )


# --- Members and the review ledger -------------------------------------------------------------


class MemberOut(Schema):
    user_id: int
    username: str
    name: str
    role: Literal["supervisor", "analyst", "student"]
    joined: datetime.datetime
    actions: list[str] = schemas.ACTIONS


class MemberList(schemas.ListOut):
    results: list[MemberOut]


class ReviewEventList(schemas.ListOut):
    results: list[schemas.ReviewEventOut]


class AnnotationsCreated(Schema):
    results: list[schemas.AnnotationOut] = Field(description="The new drafts, in the body's order.")
    skipped: list[str] = Field(
        default_factory=list, description="What the body held that marks no passage, and why."
    )

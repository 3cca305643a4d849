"""What the API answers, as Pydantic models: the OpenAPI document is generated from these."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field


class Error(Schema):
    detail: str = Field(description="What went wrong, for a person to read.")


class Refusal(Schema):
    where: str = Field(description="The refused part: `query.limit`, `body.title`, `body`…")
    message: str


class ValidationErrors(Error):
    errors: list[Refusal] = Field(description="Each refused part of the request and why.")


class ListOut(Schema):
    next: str | None = Field(description="The next page's URL; null on the last page.")
    total: int = Field(description="Rows in the whole list (also the Total-Results header).")


class ProjectOut(Schema):
    id: int
    slug: str
    name: str
    description: str
    role: Literal["supervisor", "analyst", "student"]
    permissions: list[str] = Field(
        description="What the member's role allows in the project (the access policy's actions)."
    )
    url: str = Field(description="The project's API root.")


class ProjectList(ListOut):
    results: list[ProjectOut]


ACTIONS = Field(
    description="What the caller may do with this object now (the access policy, narrowed by "
    "the token's scope)."
)


class ContributorOut(Schema):
    person_id: int
    name: str
    role: str
    position: int


class IdentifierOut(Schema):
    scheme: str
    value: str


class IssuedOut(Schema):
    year: int
    month: int | None
    day: int | None


class SourceOut(Schema):
    id: int
    version: int
    citation_key: str
    type: str = Field(description="CSL item type, e.g. article-journal.")
    title: str
    title_short: str
    container_title: str
    collection_title: str
    publisher: str
    publisher_place: str
    genre: str
    edition: str
    volume: str
    issue: str
    page: str
    issued: IssuedOut | None
    language: str
    abstract: str
    url: str
    accessed: datetime.date | None
    contributors: list[ContributorOut]
    identifiers: list[IdentifierOut]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    actions: list[str] = ACTIONS
    citation: str | None = Field(
        None, description="With `include=citation`: the source formatted in `style`, as HTML."
    )


class SourceList(ListOut):
    results: list[SourceOut]


class PersonOut(Schema):
    id: int
    version: int
    kind: str
    display_name: str
    family: str
    given: str
    dropping_particle: str
    non_dropping_particle: str
    suffix: str
    literal: str
    description: str
    orcid: str
    wikidata: str
    variants: list[str]
    actions: list[str] = ACTIONS


class PersonList(ListOut):
    results: list[PersonOut]


class RelationOut(Schema):
    kind: str
    target_id: int


class ClaimOut(Schema):
    id: int
    version: int
    statement: str
    kind: str
    evidence_count: int = Field(description="Evidence the caller may see.")
    relations: list[RelationOut] = Field(description="To other claims the caller may see.")
    actions: list[str] = ACTIONS


class ClaimList(ListOut):
    results: list[ClaimOut]


class ConceptOut(Schema):
    id: int
    version: int
    name: str
    definition: str
    parent_id: int | None
    originator_id: int | None
    colour: str = Field("", description="#rrggbb as REFI-QDA tools show the code; empty: none.")
    actions: list[str] = ACTIONS


class ConceptList(ListOut):
    results: list[ConceptOut]


# Annotations: the W3C Web Annotation shape of apps.webanno.w3c (keys omitted when empty, as
# there), plus the API's own fields.


class TextQuoteSelector(Schema):
    type: Literal["TextQuoteSelector"]
    exact: str
    prefix: str = ""
    suffix: str = ""


class TextPositionSelector(Schema):
    type: Literal["TextPositionSelector"]
    start: int
    end: int


class Target(Schema):
    type: Literal["SpecificResource"]
    source: str = Field(description="The source's IRI: its DOI URL, else its URL, else its page.")
    selector: list[TextQuoteSelector | TextPositionSelector]
    locator: str
    anchorState: str
    pageLabel: str = ""
    pageIndex: int = 0
    anchorScore: float = 0
    sourceDescription: dict[str, Any]


class TextualBody(Schema):
    type: Literal["TextualBody"]
    value: str
    purpose: Literal["commenting", "tagging"]
    format: str = "text/plain"


class LinkingBody(Schema):
    type: Literal["SpecificResource"]
    purpose: Literal["linking"]
    source: str
    sourceDescription: dict[str, Any]
    stance: str = ""
    function: str = ""
    work: dict[str, Any] = Field(default_factory=dict)


class Creator(Schema):
    id: str
    type: Literal["Person"]
    name: str
    nickname: str


class AnnotationOut(Schema):
    id: int
    iri: str = Field(description="The annotation's page: its id in the Web Annotation model.")
    type: Literal["Annotation"]
    motivation: str | list[str]
    creator: Creator
    created: str
    modified: str
    status: Literal["draft", "submitted", "approved", "changes_requested", "rejected"]
    version: int
    source_id: int
    target: Target
    body: list[TextualBody | LinkingBody] = Field(default_factory=list)
    actions: list[str] = ACTIONS


class AnnotationList(ListOut):
    results: list[AnnotationOut]


# --- Writes ------------------------------------------------------------------------------------


class IssuedIn(Schema):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=-9999, le=9999)
    month: int | None = Field(None, ge=1, le=12)
    day: int | None = Field(None, ge=1, le=31)


class IdentifierIn(Schema):
    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(max_length=20)
    value: str = Field(max_length=2000)


class SourceIn(Schema):
    """A source's fields, checked by the rules of the source form. On create, `title` and
    `citation_key` are required; on update, fields left out keep their value. `identifiers`,
    when given, replaces the list."""

    model_config = ConfigDict(extra="forbid")

    citation_key: str | None = Field(None, max_length=100)
    type: str | None = Field(None, max_length=30, description="CSL item type.")
    title: str | None = Field(None, max_length=100_000)
    title_short: str | None = Field(None, max_length=300)
    container_title: str | None = Field(None, max_length=500)
    collection_title: str | None = Field(None, max_length=500)
    publisher: str | None = Field(None, max_length=300)
    publisher_place: str | None = Field(None, max_length=200)
    genre: str | None = Field(None, max_length=200)
    edition: str | None = Field(None, max_length=50)
    volume: str | None = Field(None, max_length=50)
    issue: str | None = Field(None, max_length=50)
    page: str | None = Field(None, max_length=50)
    issued: IssuedIn | None = None
    language: str | None = Field(None, max_length=35)
    abstract: str | None = Field(None, max_length=100_000)
    url: str | None = Field(None, max_length=2000)
    accessed: datetime.date | None = None
    identifiers: list[IdentifierIn] | None = Field(None, max_length=100)


class Stale(Error):
    current: SourceOut = Field(description="The object as it is now.")


class Referenced(Error):
    references: list[str] = Field(description="What still refers to the object.")


# --- Review ------------------------------------------------------------------------------------


class TransitionIn(Schema):
    """A review action on an annotation, naming the version the actor read."""

    model_config = ConfigDict(extra="forbid")

    action: Literal[
        "submit", "approve", "request_changes", "reject", "reopen", "withdraw", "restore"
    ]
    version: int = Field(
        ge=1, le=2**31 - 1, description="The annotation's `version` you read before deciding."
    )
    reason: (
        Literal[
            "misquoted",
            "wrong_locator",
            "unsupported_link",
            "not_a_claim",
            "duplicate",
            "unclear_note",
            "other",
        ]
        | None
    ) = Field(None, description="Required with `request_changes` and `reject`.")
    comment: str = Field("", max_length=5000, description="Required with a reason.")


class ReviewEventOut(Schema):
    """A row of the annotation's review ledger."""

    id: int
    annotation_id: int
    action: str
    from_status: str
    to_status: str
    reason: str
    comment: str
    actor: str = Field(description="The username of who acted.")
    annotation_version: int = Field(description="The version the action was taken on.")
    self_approval: bool
    created_at: datetime.datetime
    actions: list[str] = Field(
        default_factory=lambda: ["view"],
        description="What the caller may do with this row: the ledger is append-only, so `view`.",
    )


class StaleAnnotation(Error):
    version: int = Field(description="The annotation's current version: read it, then decide.")

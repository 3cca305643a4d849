"""What the API answers, as Pydantic models: the OpenAPI document is generated from these."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field


class Error(Schema):
    detail: str = Field(description="What went wrong, for a person to read.")


class ValidationErrors(Error):
    errors: list[dict[str, Any]] = Field(description="Each refused parameter and why.")


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

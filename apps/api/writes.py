"""Creating, changing and deleting people, claims, concepts and annotations through the API.

Each write binds the form the pages use (people: PersonForm; claims: ClaimForm and its relation
rows; concepts: ConceptForm; annotations: AnnotationForm with its evidence and mention rows) and
saves through the same functions, so the API accepts, refuses and records exactly what the pages
do. A change names the version it was made on (If-Unmodified-Since-Version, or If-Match with
the ETag): missing, 428; stale, 412 with the object as it is now. A deletion refused because
other records refer to the object is a 409 that names them.

Annotations are the author's own drafts: the API creates them as drafts of the caller, and
their review status changes only through `…/annotations/<id>/transitions/`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from ninja import Body, Header, Schema, Status
from pydantic import Field

from apps.accounts.editing import SAVE_FAILED, StaleEdit, delete_if_unreferenced, save_edit
from apps.accounts.models import Membership
from apps.accounts.policy import Action
from apps.annotations.anchoring import current_haystack
from apps.annotations.forms import AnnotationForm, EvidenceRows, MentionRows
from apps.annotations.models import Annotation, TransitionError
from apps.annotations.views import create_annotation, update_annotation
from apps.api import write_schemas as ws
from apps.api.auth import ApiError, member
from apps.api.batches import BATCH_ERRORS, MAX_BATCH, Failure, run_batch, validated
from apps.api.endpoints import (
    MAX_VERSION,
    WRITE_ERRORS,
    Id,
    SeenTag,
    SeenVersion,
    Slug,
    _annotations,
    _annotations_out,
    _claim_out,
    _claims,
    _concept_out,
    _found,
    _library_actions,
    _person_out,
    _seen_version,
    api,
    summary,
)
from apps.claims.forms import ClaimForm, ConceptForm, RelationFormSet
from apps.claims.models import Claim, Concept
from apps.library.models import SOURCE_TEXTS, Source
from apps.people.forms import PersonForm
from apps.people.models import Person
from apps.webanno.items import Site, WebAnnoError, import_annotations
from apps.webanno.w3c import read_items

# --- Shared: a form bound to the object's values overlaid with the body ------------------------


def _refused(errors: list[dict], **body) -> ApiError:
    error = ApiError(400, f"Not saved: {summary(errors)}", errors=errors)
    error.body = body
    return error


def _form_errors(form: forms.BaseForm, names: dict[str, str], where: str = "body") -> list[dict]:
    """The form's errors, each where the API's body has the field (`names` maps form fields
    whose API name differs)."""
    return [
        {
            "where": where if name == "__all__" else f"{where}.{names.get(name, name)}",
            "message": str(message),
        }
        for name, messages in form.errors.items()
        for message in messages
    ]


def _formset_errors(formset: forms.BaseFormSet, names: dict[str, str], where: str) -> list[dict]:
    errors = []
    for number, form in enumerate(formset.forms):
        errors += _form_errors(form, names, f"{where}.{number}")
    errors += [{"where": where, "message": str(m)} for m in formset.non_form_errors()]
    return errors


def _text(value) -> str:
    return "" if value is None else str(value)


def _rows(prefix: str, rows: list[dict[str, str]]) -> dict[str, str]:
    """A formset's POST data: its management form and `rows`."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for number, row in enumerate(rows):
        for name, value in row.items():
            if value:  # an unticked box is not sent
                data[f"{prefix}-{number}-{name}"] = value
    return data


def _versioned(data: dict, instance, seen: int | None) -> dict:
    if instance.pk is not None:
        data["loaded_version"] = str(seen)
    return data


def _save(request: HttpRequest, instance, form, save: Callable[[], object], stale) -> None:
    """Save as the pages do (apps.accounts.editing.save_edit); 412 when stale."""
    try:
        save_edit(instance, form, by=request.user, save=save)
    except StaleEdit as conflict:
        raise stale(conflict.current.pk) from None
    except IntegrityError:
        raise ApiError(409, SAVE_FAILED) from None


def _stale_error(what: str, version: int, current: dict) -> ApiError:
    error = ApiError(
        412,
        f"The {what} was changed since the version you read; it is now version {version}. "
        "Compare, then send your change again with that version.",
        {"ETag": f'"{version}"'},
    )
    error.body = {"current": current}
    return error


def _delete(request: HttpRequest, instance, seen: int, what: str, stale) -> Status:
    """Delete `instance` unless something refers to it (409 naming what), as the pages do."""
    try:
        with instance.editing(by=request.user, loaded_version=seen) as current:
            references = delete_if_unreferenced(current)
    except StaleEdit:
        raise stale(instance.pk) from None
    if references:
        error = ApiError(409, f"Not deleted: other records refer to this {what}.")
        error.body = {"references": references}
        raise error
    return Status(204, None)


def _created(request: HttpRequest, response: HttpResponse, pk: int, body: dict) -> Status:
    response["Location"] = request.build_absolute_uri(f"{request.path}{pk}/")
    response["ETag"] = f'"{body["version"]}"'
    return Status(201, body)


def _answer(response: HttpResponse, body: dict) -> dict:
    response["ETag"] = f'"{body["version"]}"'
    return body


def _errors(stale_schema) -> dict:
    return {**WRITE_ERRORS, 412: stale_schema}


# --- People ------------------------------------------------------------------------------------


def _people(membership: Membership):
    return Person.objects.for_project(membership.project).with_list_data()


def _person_now(request: HttpRequest, membership: Membership, pk: int) -> dict:
    return _person_out(_people(membership).get(pk=pk), _library_actions(request, membership))


def _person_stale(request, membership):
    def stale(pk: int) -> ApiError:
        current = _person_now(request, membership, pk)
        return _stale_error("person", current["version"], current)

    return stale


def _person_form(payload: ws.PersonIn, person: Person, project, seen: int | None) -> PersonForm:
    data = {name: _text(getattr(person, name)) for name in PersonForm._meta.fields}
    data["variants"] = "\n".join(v.name for v in person.variants.all()) if person.pk else ""
    given = payload.model_dump(exclude_unset=True, exclude={"different_person"})
    for name, value in given.items():
        if name == "variants":
            value = "\n".join(value or [])
        data[name] = _text(value)
    if payload.different_person:
        data["different_person"] = "on"
    form = PersonForm(_versioned(data, person, seen), instance=person, project=project)
    if not form.is_valid():
        errors = _form_errors(form, {"loaded_version": "If-Unmodified-Since-Version"})
        for error in errors:
            if error["where"] == "body.different_person":
                names = "; ".join(f"#{p.pk} {p.display_name}" for p in form.duplicates)
                error["message"] = (
                    f"Someone in this project already has this name or spelling ({names}). "
                    "If this is somebody else, send `different_person: true`."
                )
        raise _refused(errors)
    return form


@api.post(
    "/p/{slug:slug}/people/",
    response={201: ws.schemas.PersonOut, **_errors(ws.StalePerson)},
    tags=["people"],
    url_name="list_people",
)
def create_person(
    request: HttpRequest, response: HttpResponse, payload: ws.PersonIn, slug: str = Slug
):
    """Add a person (analysts and supervisors; a token needs the `write` scope)."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    person = Person(project=membership.project)
    form = _person_form(payload, person, membership.project, None)
    _save(request, person, form, form.save, _person_stale(request, membership))
    return _created(request, response, person.pk, _person_now(request, membership, person.pk))


@api.patch(
    "/p/{slug:slug}/people/{id:pk}/",
    response={200: ws.schemas.PersonOut, **_errors(ws.StalePerson)},
    tags=["people"],
    url_name="get_person",
)
def update_person(
    request: HttpRequest,
    response: HttpResponse,
    payload: ws.PersonIn,
    slug: str = Slug,
    pk: int = Id,
    version: int | None = SeenVersion,
    tag: str | None = SeenTag,
):
    """Change some fields of a person, naming the version you read."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    person = _found(_people(membership), pk, "person")
    seen = _seen_version(version, tag)
    form = _person_form(payload, person, membership.project, seen)
    _save(request, person, form, form.save, _person_stale(request, membership))
    return _answer(response, _person_now(request, membership, pk))


@api.delete(
    "/p/{slug:slug}/people/{id:pk}/",
    response={204: None, **_errors(ws.StalePerson)},
    tags=["people"],
    url_name="get_person",
)
def delete_person(
    request: HttpRequest,
    slug: str = Slug,
    pk: int = Id,
    version: int | None = SeenVersion,
    tag: str | None = SeenTag,
):
    """Delete a person nothing refers to (409 names what does), naming the version you read."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    person = _found(Person.objects.for_project(membership.project), pk, "person")
    seen = _seen_version(version, tag)
    return _delete(request, person, seen, "person", _person_stale(request, membership))


# --- Claims ------------------------------------------------------------------------------------

RELATION_NAMES = {"target": "target_id"}


def _claim_now(request: HttpRequest, membership: Membership, pk: int) -> dict:
    return _claim_out(_claims(membership).get(pk=pk), _library_actions(request, membership))


def _claim_stale(request, membership):
    def stale(pk: int) -> ApiError:
        current = _claim_now(request, membership, pk)
        return _stale_error("claim", current["version"], current)

    return stale


def _claim_forms(payload: ws.ClaimIn, claim: Claim, project, seen: int | None):
    """The claim form, and its relation rows when the body gives `relations` (else None: the
    relations stay as they are)."""
    data = {"statement": claim.statement, "kind": claim.kind}
    data.update({k: _text(v) for k, v in payload.model_dump(exclude_unset=True).items()})
    data.pop("relations", None)
    form = ClaimForm(_versioned(data, claim, seen), instance=claim)
    relations = None
    if payload.relations is not None:
        rows = [{"kind": r.kind, "target": f"#{r.target_id}"} for r in payload.relations]
        relations = RelationFormSet(
            _rows("relations", rows),
            prefix="relations",
            claim=claim,
            form_kwargs={"project": project},
        )
    errors = [] if form.is_valid() else _form_errors(form, {})
    if relations is not None and not relations.is_valid():
        errors += _formset_errors(relations, RELATION_NAMES, "body.relations")
    if errors:
        raise _refused(errors)
    return form, relations


def _save_claim(request, membership, claim: Claim, payload: ws.ClaimIn, seen: int | None) -> None:
    form, relations = _claim_forms(payload, claim, membership.project, seen)

    def save() -> None:
        form.save()
        if relations is not None:
            relations.save(claim)

    _save(request, claim, form, save, _claim_stale(request, membership))


@api.post(
    "/p/{slug:slug}/claims/",
    response={201: ws.schemas.ClaimOut, **_errors(ws.StaleClaim)},
    tags=["claims"],
    url_name="list_claims",
)
def create_claim(
    request: HttpRequest, response: HttpResponse, payload: ws.ClaimIn, slug: str = Slug
):
    """Add a claim, with its relations to other claims (analysts and supervisors)."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    claim = Claim(project=membership.project, created_by=request.user)
    _save_claim(request, membership, claim, payload, None)
    return _created(request, response, claim.pk, _claim_now(request, membership, claim.pk))


@api.patch(
    "/p/{slug:slug}/claims/{id:pk}/",
    response={200: ws.schemas.ClaimOut, **_errors(ws.StaleClaim)},
    tags=["claims"],
    url_name="get_claim",
)
def update_claim(
    request: HttpRequest,
    response: HttpResponse,
    payload: ws.ClaimIn,
    slug: str = Slug,
    pk: int = Id,
    version: int | None = SeenVersion,
    tag: str | None = SeenTag,
):
    """Change a claim's statement, kind or relations, naming the version you read."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    claim = _found(Claim.objects.for_project(membership.project), pk, "claim")
    _save_claim(request, membership, claim, payload, _seen_version(version, tag))
    return _answer(response, _claim_now(request, membership, pk))


@api.delete(
    "/p/{slug:slug}/claims/{id:pk}/",
    response={204: None, **_errors(ws.StaleClaim)},
    tags=["claims"],
    url_name="get_claim",
)
def delete_claim(
    request: HttpRequest,
    slug: str = Slug,
    pk: int = Id,
    version: int | None = SeenVersion,
    tag: str | None = SeenTag,
):
    """Delete a claim no annotation or claim refers to (409 names what does)."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    claim = _found(Claim.objects.for_project(membership.project), pk, "claim")
    seen = _seen_version(version, tag)
    return _delete(request, claim, seen, "claim", _claim_stale(request, membership))


# --- Concepts ----------------------------------------------------------------------------------

CONCEPT_NAMES = {"parent": "parent_id", "originator": "originator_id"}


def _concepts(membership: Membership):
    return Concept.objects.for_project(membership.project)


def _concept_now(request: HttpRequest, membership: Membership, pk: int) -> dict:
    concept = _concepts(membership).get(pk=pk)
    return _concept_out(concept, _library_actions(request, membership))


def _concept_stale(request, membership):
    def stale(pk: int) -> ApiError:
        current = _concept_now(request, membership, pk)
        return _stale_error("concept", current["version"], current)

    return stale


def _concept_form(payload: ws.ConceptIn, concept: Concept, project, seen: int | None):
    data = {
        "name": concept.name,
        "definition": concept.definition,
        "parent": _text(concept.parent_id),
        "originator": f"#{concept.originator_id}" if concept.originator_id else "",
        "colour": concept.colour,
    }
    given = payload.model_dump(exclude_unset=True)
    for name in ("name", "definition", "colour"):
        if name in given:
            data[name] = _text(given[name])
    if "parent_id" in given:
        data["parent"] = _text(given["parent_id"])
    if "originator_id" in given:
        originator = given["originator_id"]
        data["originator"] = f"#{originator}" if originator else ""
    form = ConceptForm(_versioned(data, concept, seen), instance=concept, project=project)
    if not form.is_valid():
        raise _refused(_form_errors(form, CONCEPT_NAMES))
    return form


@api.post(
    "/p/{slug:slug}/concepts/",
    response={201: ws.schemas.ConceptOut, **_errors(ws.StaleConcept)},
    tags=["concepts"],
    url_name="list_concepts",
)
def create_concept(
    request: HttpRequest, response: HttpResponse, payload: ws.ConceptIn, slug: str = Slug
):
    """Add a concept to the codebook (analysts and supervisors)."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    concept = Concept(project=membership.project)
    form = _concept_form(payload, concept, membership.project, None)
    _save(request, concept, form, form.save, _concept_stale(request, membership))
    return _created(request, response, concept.pk, _concept_now(request, membership, concept.pk))


@api.patch(
    "/p/{slug:slug}/concepts/{id:pk}/",
    response={200: ws.schemas.ConceptOut, **_errors(ws.StaleConcept)},
    tags=["concepts"],
    url_name="get_concept",
)
def update_concept(
    request: HttpRequest,
    response: HttpResponse,
    payload: ws.ConceptIn,
    slug: str = Slug,
    pk: int = Id,
    version: int | None = SeenVersion,
    tag: str | None = SeenTag,
):
    """Change a concept's name, definition, broader concept or originator."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    concept = _found(_concepts(membership), pk, "concept")
    seen = _seen_version(version, tag)
    form = _concept_form(payload, concept, membership.project, seen)
    _save(request, concept, form, form.save, _concept_stale(request, membership))
    return _answer(response, _concept_now(request, membership, pk))


@api.delete(
    "/p/{slug:slug}/concepts/{id:pk}/",
    response={204: None, **_errors(ws.StaleConcept)},
    tags=["concepts"],
    url_name="get_concept",
)
def delete_concept(
    request: HttpRequest,
    slug: str = Slug,
    pk: int = Id,
    version: int | None = SeenVersion,
    tag: str | None = SeenTag,
):
    """Delete a concept nothing is coded with and no concept is narrower than."""
    membership = member(request, slug, Action.EDIT_LIBRARY)
    concept = _found(_concepts(membership), pk, "concept")
    seen = _seen_version(version, tag)
    return _delete(request, concept, seen, "concept", _concept_stale(request, membership))


# --- Annotations -------------------------------------------------------------------------------

ANNOTATION_NAMES = {"concepts": "concept_ids", "loaded_version": "If-Unmodified-Since-Version"}
EVIDENCE_NAMES = {"claim": "claim_id", "claim_kind": "kind", "new_claim": "statement"}
MENTION_NAMES = {"person": "person_id", "work": "work_id", "new_person": "name"}
ANNOTATION_ERRORS = {**WRITE_ERRORS, 400: ws.QuoteRefused, 412: ws.StaleAnnotationWrite}


def _annotation_now(request: HttpRequest, membership: Membership, pk: int) -> dict:
    annotation = _annotations(membership).get(pk=pk)
    return _annotations_out(request, membership, [annotation])[0]


def _evidence_rows(payload: ws.AnnotationChange, annotation: Annotation) -> list[dict]:
    if payload.claims is None:  # kept as they are
        if annotation.pk is None:
            return []
        return [
            {"claim": f"#{e.claim_id}", "claim_kind": "thesis", "stance": e.stance}
            for e in annotation.evidence.all()
        ]
    return [
        {
            "claim": f"#{row.claim_id}" if row.claim_id else row.statement,
            "new_claim": "" if row.claim_id else "on",
            "claim_kind": row.kind,
            "stance": row.stance,
        }
        for row in payload.claims
    ]


def _mention_rows(payload: ws.AnnotationChange, annotation: Annotation) -> list[dict]:
    if payload.mentions is None:
        if annotation.pk is None:
            return []
        return [
            {
                "person": f"#{m.person_id}",
                "work": f"#{m.work_id}" if m.work_id else "",
                "function": m.function,
            }
            for m in annotation.mentions.all()
        ]
    return [
        {
            "person": f"#{row.person_id}" if row.person_id else row.name,
            "new_person": "" if row.person_id else "on",
            "work": f"#{row.work_id}" if row.work_id else "",
            "function": row.function,
        }
        for row in payload.mentions
    ]


def _annotation_forms(
    payload: ws.AnnotationChange,
    annotation: Annotation,
    membership: Membership,
    haystack,
    seen: int | None,
):
    """The annotation form and its evidence and mention rows, bound to the annotation's values
    overlaid with `payload`; 400 with each refusal (and the places a quote may be meant)."""
    given = payload.model_dump(exclude_unset=True, exclude={"claims", "mentions", "source_id"})
    data = {
        "quote": annotation.quote,
        "start": _text(annotation.start),
        "end": _text(annotation.end),
        "locator": annotation.locator,
        "page_label": annotation.page_label,
        "note": annotation.note,
        "concepts": [str(pk) for pk in annotation.concepts.values_list("pk", flat=True)]
        if annotation.pk
        else [],
    }
    moved = "quote" in given and given["quote"] != annotation.quote
    if moved and "start" not in given and "end" not in given:
        data["start"] = data["end"] = ""  # a new quote is looked for in the text
    for name, value in given.items():
        if name == "concept_ids":
            data["concepts"] = [str(pk) for pk in value or []]
        else:
            data[name] = _text(value)
    form = AnnotationForm(
        _versioned(data, annotation, seen),
        instance=annotation if annotation.pk else None,
        membership=membership,
        haystack=haystack,
    )
    evidence = EvidenceRows(
        _rows("evidence", _evidence_rows(payload, annotation)),
        prefix="evidence",
        membership=membership,
    )
    mentions = MentionRows(
        _rows("mentions", _mention_rows(payload, annotation)),
        prefix="mentions",
        membership=membership,
    )
    errors = [] if form.is_valid() else _form_errors(form, ANNOTATION_NAMES)
    if not evidence.is_valid():
        errors += _formset_errors(evidence, EVIDENCE_NAMES, "body.claims")
    if not mentions.is_valid():
        errors += _formset_errors(mentions, MENTION_NAMES, "body.mentions")
    if errors:
        occurrences = [
            {name: getattr(o, name) for name in ("start", "end", "words", "before", "after")}
            | {"where": o.where}
            for o in form.occurrences
        ]
        raise _refused(errors, occurrences=occurrences)
    return form, evidence, mentions


@api.post(
    "/p/{slug:slug}/annotations/",
    response={201: ws.schemas.AnnotationOut, **ANNOTATION_ERRORS},
    tags=["annotations"],
    url_name="list_annotations",
    exclude_unset=True,
)
def create_annotation_draft(
    request: HttpRequest, response: HttpResponse, payload: ws.AnnotationCreate, slug: str = Slug
):
    """Annotate a passage of a source: a new draft of the caller's (analysts and supervisors),
    to submit for review through the transitions endpoint."""
    membership = member(request, slug, Action.ANNOTATE)
    source = (
        Source.objects.for_project(membership.project)
        .defer(*SOURCE_TEXTS)
        .filter(pk=payload.source_id)
        .first()
    )
    if source is None:
        message = f"There is no source #{payload.source_id} in this project."
        raise _refused([{"where": "body.source_id", "message": message}])
    haystack, _ = current_haystack(source.pk)
    annotation = Annotation(project=membership.project, source=source)
    form, evidence, mentions = _annotation_forms(payload, annotation, membership, haystack, None)
    try:
        annotation = create_annotation(
            form, evidence, mentions, membership=membership, source=source
        )
    except IntegrityError:  # a new name that is a person already linked, say
        raise ApiError(409, SAVE_FAILED) from None
    body = _annotation_now(request, membership, annotation.pk)
    return _created(request, response, annotation.pk, body)


@api.patch(
    "/p/{slug:slug}/annotations/{id:pk}/",
    response={200: ws.schemas.AnnotationOut, **ANNOTATION_ERRORS},
    tags=["annotations"],
    url_name="get_annotation",
    exclude_unset=True,
)
def update_annotation_content(
    request: HttpRequest,
    response: HttpResponse,
    payload: ws.AnnotationChange,
    slug: str = Slug,
    pk: int = Id,
    version: int | None = SeenVersion,
    tag: str | None = SeenTag,
):
    """Change the quote, place, note or links of your own draft (or of work sent back for
    changes), naming the version you read. Approved work is locked."""
    membership = member(request, slug, Action.ANNOTATE)
    annotation = _found(_annotations(membership).with_links(), pk, "annotation")
    if not annotation.is_editable_by(membership):
        raise ApiError(
            403,
            "Only the author may edit an annotation, and only while it is a draft or sent back "
            "for changes. Approved annotations are locked.",
        )
    seen = _seen_version(version, tag)
    haystack, _ = current_haystack(annotation.source_id)
    form, evidence, mentions = _annotation_forms(payload, annotation, membership, haystack, seen)
    try:
        update_annotation(annotation, form, evidence, mentions, membership)
    except StaleEdit:
        current = _annotation_now(request, membership, pk)
        raise _stale_error("annotation", current["version"], current) from None
    except TransitionError as refused:
        raise ApiError(409, str(refused)) from None
    except IntegrityError:
        raise ApiError(409, SAVE_FAILED) from None
    return _answer(response, _annotation_now(request, membership, pk))


# An annotation in the Web Annotation model, as GET gives it and as other tools write it: the
# importer reads it (apps.webanno), so the API takes what the import page takes.
W3C_BODY = {
    "required": True,
    "content": {
        "application/ld+json": {
            "schema": {
                "type": ["object", "array"],
                "description": "One Web Annotation (or a collection, a Hypothesis API answer, "
                "Zotero annotation items): what the annotation import page reads.",
            }
        },
        "application/json": {"schema": {"type": ["object", "array"]}},
    },
}
MAX_W3C_ITEMS = 100


@api.post(
    "/p/{slug:slug}/annotations/w3c/",
    response={201: ws.AnnotationsCreated, **WRITE_ERRORS},
    tags=["annotations"],
    url_name="create_w3c_annotations",
    openapi_extra={"requestBody": W3C_BODY},
)
def create_w3c_annotations(request: HttpRequest, response: HttpResponse, slug: str = Slug):
    """Annotate in the Web Annotation model: the body is one W3C annotation (the shape GET
    returns, another Citemap's export, Hypothesis' W3C form…) or any file the annotation
    import page takes, at most 100 annotations. Each becomes the caller's draft, placed by its
    quote in the source its target names; all or nothing."""
    membership = member(request, slug, Action.ANNOTATE)
    try:
        items = read_items(request.body)
        if len(items) > MAX_W3C_ITEMS:
            raise WebAnnoError(
                f"The body holds {len(items):,} annotations; send at most {MAX_W3C_ITEMS} at a "
                "time (the import page takes large files)."
            )
        if not items:
            raise WebAnnoError("The body holds no annotation of a passage.")
        created = import_annotations(
            project=membership.project,
            items=items,
            by=request.user,
            site=Site.of_request(request, membership.project),
            file_name="API",
        )
    except WebAnnoError as error:
        raise ApiError(400, str(error)) from None
    except IntegrityError:
        raise ApiError(409, SAVE_FAILED) from None
    rows = list(_annotations(membership).filter(pk__in=[a.pk for a in created]).order_by("pk"))
    results = _annotations_out(request, membership, rows)
    return Status(201, {"results": results, "skipped": items.skipped})


# --- Batch creates of people, claims and concepts (as sources/batch/ in apps.api.sync) ------


class _BatchOut(Schema):
    version: int = Field(description="The project's library version after the batch.")
    unchanged: dict[str, int] = Field(
        description="By the item's index: the id of the project's object it is already (same "
        "name or statement, case and spacing aside); nothing was written for it."
    )
    failed: dict[str, Failure] = Field(description="By index: why the item was not saved.")


class PeopleBatchOut(_BatchOut):
    successful: dict[str, ws.schemas.PersonOut] = Field(description="By index: the new person.")


class ClaimsBatchOut(_BatchOut):
    successful: dict[str, ws.schemas.ClaimOut] = Field(description="By index: the new claim.")


class ConceptsBatchOut(_BatchOut):
    successful: dict[str, ws.schemas.ConceptOut] = Field(description="By index: the new concept.")


def _batch_body(noun: str, schema: str):
    return Body(
        ...,
        description=f"Up to {MAX_BATCH} {noun}, each as the single create takes it "
        f"(`{schema}`); each is checked and saved on its own.",
    )


PeopleBody = _batch_body("people", "PersonIn")
ClaimsBody = _batch_body("claims", "ClaimIn")
ConceptsBody = _batch_body("concepts", "ConceptIn")
LibraryHeader = Header(
    None,
    alias="If-Unmodified-Since-Version",
    ge=0,
    le=MAX_VERSION,
    description="Optional: the library version you last pulled; 412 (nothing written) when "
    "the project changed since.",
)


def _spaced(text: str | None) -> str:
    return " ".join((text or "").split())


def _new_person(request, membership, item) -> Person | int:
    payload = validated(ws.PersonIn, item, "person")
    name = _spaced(payload.display_name)
    if name and not payload.different_person:
        same = _people(membership).filter(display_name__iexact=name).order_by("pk").first()
        if same is not None:
            return same.pk
    person = Person(project=membership.project)
    form = _person_form(payload, person, membership.project, None)
    with transaction.atomic():
        _save(request, person, form, form.save, _person_stale(request, membership))
    return person


def _new_claim(request, membership, item) -> Claim | int:
    payload = validated(ws.ClaimIn, item, "claim")
    statement = _spaced(payload.statement)
    if statement:
        claims = Claim.objects.for_project(membership.project)
        same = claims.filter(statement__iexact=statement).order_by("pk").first()
        if same is not None:
            return same.pk
    claim = Claim(project=membership.project, created_by=request.user)
    with transaction.atomic():
        _save_claim(request, membership, claim, payload, None)
    return claim


def _new_concept(request, membership, item) -> Concept | int:
    payload = validated(ws.ConceptIn, item, "concept")
    name = _spaced(payload.name)
    if name:
        same = _concepts(membership).filter(name__iexact=name).order_by("pk").first()
        if same is not None:
            return same.pk
    concept = Concept(project=membership.project)
    form = _concept_form(payload, concept, membership.project, None)
    with transaction.atomic():
        _save(request, concept, form, form.save, _concept_stale(request, membership))
    return concept


def _batch_route(kind: str, out: type, body, create_one, rows, shape) -> None:
    """POST …/<kind>/batch/: several objects of one kind at once (see run_batch)."""

    def create_batch(
        request: HttpRequest,
        response: HttpResponse,
        slug: str = Slug,
        items: list[Any] = body,
        library: int | None = LibraryHeader,
    ):
        membership = member(request, slug, Action.EDIT_LIBRARY)
        return run_batch(
            request, response, membership, items, library=library, noun=kind,
            create_one=create_one,
            shape=lambda pks, actions: {
                row.pk: shape(row, actions) for row in rows(membership).filter(pk__in=pks)
            },
        )  # fmt: skip

    create_batch.__doc__ = (
        f"Add several {kind} at once: each item succeeds, is unchanged (the project has it "
        "already: same name or statement, case and spacing aside) or fails with its message, "
        "on its own."
    )
    api.post(
        f"/p/{{slug:slug}}/{kind}/batch/",
        response={200: out, **BATCH_ERRORS},
        tags=[kind, "sync"],
        operation_id=f"create_{kind}",
        url_name=f"create_{kind}",
    )(create_batch)


_batch_route("people", PeopleBatchOut, PeopleBody, _new_person, _people, _person_out)
_batch_route("claims", ClaimsBatchOut, ClaimsBody, _new_claim, _claims, _claim_out)
_batch_route("concepts", ConceptsBatchOut, ConceptsBody, _new_concept, _concepts, _concept_out)

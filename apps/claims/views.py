from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.forms.formsets import all_valid
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from apps.accounts.editing import (
    SAVE_FAILED,
    Difference,
    StaleEdit,
    delete_if_unreferenced,
    differences,
    rebase,
    save_edit,
)
from apps.accounts.models import Membership
from apps.accounts.navigation import url_for_ids
from apps.accounts.policy import Action, can, project_view
from apps.accounts.references import lookup_response, reference_label
from apps.claims.filters import ClaimFilter
from apps.claims.forms import ClaimForm, ConceptForm, RelationFormSet
from apps.claims.models import Claim, Concept, concept_tree

PAGE_SIZE = 50


@require_safe
@project_view()
def claim_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    claims = Claim.objects.visible_to(membership).with_evidence_counts(membership)
    filterset = ClaimFilter(request.GET, queryset=claims)
    results = filterset.qs if filterset.is_valid() else claims.none()
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "claims/claim_list.html",
        {
            "membership": membership,
            "project": membership.project,
            "filter": filterset,
            "page": page,
        },
    )


@require_safe
@project_view()
def concept_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    codebook = Concept.objects.for_project(membership.project)
    counts = codebook.annotation_counts(membership)
    concepts = list(codebook.select_related("originator"))
    # The codebook can be long: each row's links are made from one reversed address per kind
    # instead of resolving two per row.
    concept_url = url_for_ids("xref:concept_detail", membership.project.slug)
    person_url = url_for_ids("xref:person_detail", membership.project.slug)
    for concept in concepts:
        # Text, not numbers: a number printed in a template is localized, ten times the cost.
        concept.annotation_count = counts.get(concept.pk, 0)
        concept.count_text = str(concept.annotation_count)
        concept.url = concept_url(concept.pk)
        if concept.originator_id:
            concept.originator_url = person_url(concept.originator_id)
    tree = concept_tree(concepts)
    for concept, depth in tree:
        concept.depth_class = f"depth-{min(depth, 10)}"
    return render(
        request,
        "claims/concept_list.html",
        {"membership": membership, "project": membership.project, "tree": tree},
    )


@require_safe
@project_view()
def claim_lookup(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Suggestions for a claim input (static/js/lookup.js)."""
    claims = Claim.objects.visible_to(membership).only("id", "statement")
    return lookup_response(request.GET.get("q", ""), claims.matching)


def get_claim_for_user(membership: Membership, pk: int) -> Claim:
    """A claim of the member's project: 404 for anything else (other projects, forged ids), 403
    for a member who may not see it yet (a student, before approved evidence backs it)."""
    claim = get_object_or_404(Claim.objects.for_project(membership.project), pk=pk)
    if not can(membership, Action.SEE_UNSUPPORTED_CLAIMS) and (
        not Claim.objects.visible_to(membership).filter(pk=claim.pk).exists()
    ):
        raise PermissionDenied
    return claim


def get_concept_for_user(membership: Membership, pk: int) -> Concept:
    """A concept of the member's project; 404 for anything else (other projects, forged ids)."""
    return get_object_or_404(Concept.objects.for_project(membership.project), pk=pk)


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def claim_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    claim = Claim(project=membership.project, created_by=request.user)
    return _claim_form(request, membership, claim)


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def claim_edit(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    return _claim_form(request, membership, get_claim_for_user(membership, pk))


def _claim_form(request: HttpRequest, membership: Membership, claim: Claim) -> HttpResponse:
    project = membership.project
    creating = claim.pk is None
    heading = "New claim" if creating else "Edit claim"
    data = request.POST if request.method == "POST" else None
    initial_relations = None
    relations_in = []
    if not creating:
        relations_in = claim.relations_in.select_related("source")
    # Rows come from the saved relations on GET only (see library.views._source_form).
    if data is None and not creating:
        initial_relations = [
            {"kind": r.kind, "target": reference_label(r.target)}
            for r in claim.relations_out.select_related("target")
        ]
    form = ClaimForm(data, instance=claim)
    relations = RelationFormSet(
        data,
        initial=initial_relations,
        prefix="relations",
        claim=claim,
        form_kwargs={"project": project},
    )
    conflict, found = None, []
    if data is not None and all_valid([form, relations]):

        def save() -> None:
            form.save()
            relations.save(claim)

        try:
            save_edit(claim, form, by=request.user, save=save)
        except StaleEdit as stale:
            conflict = stale.current
            found = differences(form, conflict) + _relation_differences(conflict, relations)
            rebase(form, conflict)
        except IntegrityError:
            form.add_error(None, SAVE_FAILED)
            if creating:
                claim.pk = None
        else:
            messages.success(request, "Saved the claim.")
            return redirect("xref:claim_detail", project.slug, claim.pk)
    return render(
        request,
        "claims/claim_form.html",
        {
            "membership": membership,
            "project": project,
            "claim": claim,
            "creating": creating,
            "heading": heading,
            "form": form,
            "relations": relations,
            "relations_in": relations_in,
            "conflict": conflict,
            "differences": found,
        },
    )


def _relation_differences(current: Claim, relations: RelationFormSet) -> list[Difference]:
    yours = sorted(f"{kind} #{target.pk} {target}" for kind, target in relations.relations())
    saved = sorted(
        f"{r.kind} #{r.target_id} {r.target}"
        for r in current.relations_out.select_related("target")
    )
    if yours == saved:
        return []
    return [Difference("Related claims", "; ".join(yours), "; ".join(saved))]


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def claim_delete(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    claim = get_claim_for_user(membership, pk)
    if request.method != "POST":
        references = claim.references()
    elif not (references := delete_if_unreferenced(claim)):
        messages.success(request, f"Deleted the claim “{claim.statement}”.")
        return redirect("claims:claim_list", membership.project.slug)
    return render(
        request,
        "claims/claim_confirm_delete.html",
        {
            "membership": membership,
            "project": membership.project,
            "claim": claim,
            "references": references,
        },
        status=409 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def concept_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _concept_form(request, membership, Concept(project=membership.project))


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def concept_edit(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    return _concept_form(request, membership, get_concept_for_user(membership, pk))


def _concept_form(request: HttpRequest, membership: Membership, concept: Concept) -> HttpResponse:
    project = membership.project
    creating = concept.pk is None
    heading = "New concept" if creating else f"Edit “{concept.name}”"
    data = request.POST if request.method == "POST" else None
    form = ConceptForm(data, instance=concept, project=project)
    conflict, found = None, []
    if form.is_valid():
        try:
            save_edit(concept, form, by=request.user, save=form.save)
        except StaleEdit as stale:
            conflict = stale.current
            found = differences(form, conflict)
            rebase(form, conflict)
        except IntegrityError:
            form.add_error(None, SAVE_FAILED)
            if creating:
                concept.pk = None
        else:
            messages.success(request, f"Saved “{concept.name}”.")
            return redirect("xref:concept_detail", project.slug, concept.pk)
    return render(
        request,
        "claims/concept_form.html",
        {
            "membership": membership,
            "project": project,
            "concept": concept,
            "creating": creating,
            "heading": heading,
            "form": form,
            "conflict": conflict,
            "differences": found,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def concept_delete(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    concept = get_concept_for_user(membership, pk)
    if request.method != "POST":
        references = concept.references()
    elif not (references := delete_if_unreferenced(concept)):
        messages.success(request, f"Deleted the concept “{concept.name}”.")
        return redirect("claims:concept_list", membership.project.slug)
    return render(
        request,
        "claims/concept_confirm_delete.html",
        {
            "membership": membership,
            "project": membership.project,
            "concept": concept,
            "references": references,
        },
        status=409 if request.method == "POST" else 200,
    )

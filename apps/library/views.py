from django.contrib import messages
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
from apps.accounts.policy import Action, project_view
from apps.accounts.references import lookup_response, reference_label
from apps.library.forms import ContributorFormSet, IdentifierFormSet, SourceForm
from apps.library.models import Source
from apps.people.models import Person

PAGE_SIZE = 50


@require_safe
@project_view()
def source_lookup(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Suggestions for a source (cited work) input (static/js/lookup.js)."""
    sources = Source.objects.for_project(membership.project).only("id", "title")
    return lookup_response(request.GET.get("q", ""), sources.matching)


def get_source_for_user(membership: Membership, pk: int) -> Source:
    """A source of the member's project; 404 for anything else (other projects, forged ids)."""
    return get_object_or_404(
        Source.objects.for_project(membership.project).defer("full_text"), pk=pk
    )


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def source_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _source_form(request, membership, Source(project=membership.project))


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def source_edit(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    return _source_form(request, membership, get_source_for_user(membership, pk))


def _source_form(request: HttpRequest, membership: Membership, source: Source) -> HttpResponse:
    project = membership.project
    creating = source.pk is None
    heading = "New source" if creating else f"Edit “{source.title}”"
    data = request.POST if request.method == "POST" else None
    initial_identifiers = initial_contributors = None
    # Rows come from the saved lists on GET only: on POST, blank extra rows must compare with
    # blank, or a typed row equal to a saved one would count as unchanged and be skipped.
    if data is None and not creating:
        initial_identifiers = [
            {"scheme": i.scheme, "value": i.value} for i in source.identifiers.all()
        ]
        initial_contributors = [
            {"person": reference_label(c.person), "role": c.role}
            for c in source.contributors.select_related("person").order_by("role", "position")
        ]
    form = SourceForm(data, instance=source, project=project)
    identifiers = IdentifierFormSet(data, initial=initial_identifiers, prefix="identifiers")
    contributors = ContributorFormSet(
        data,
        initial=initial_contributors,
        prefix="contributors",
        form_kwargs={"project": project},
    )
    conflict, found = None, []
    if data is not None and all_valid([form, identifiers, contributors]):
        added: list[Person] = []

        def save() -> None:
            form.save()
            identifiers.save(source)
            added.extend(contributors.save(source, by=request.user))

        try:
            save_edit(source, form, by=request.user, save=save)
        except StaleEdit as stale:
            conflict = stale.current
            found = differences(form, conflict) + _list_differences(
                conflict, identifiers, contributors
            )
            rebase(form, conflict)
        except IntegrityError:
            form.add_error(None, SAVE_FAILED)
            if creating:
                source.pk = None
        else:
            messages.success(request, f"Saved “{source.title}”.")
            if added:
                names = ", ".join(person.display_name for person in added)
                messages.info(request, f"Added to the people: {names}.")
            return redirect("xref:source_detail", project.slug, source.pk)
    return render(
        request,
        "library/source_form.html",
        {
            "membership": membership,
            "project": project,
            "source": source,
            "creating": creating,
            "heading": heading,
            "form": form,
            "identifiers": identifiers,
            "contributors": contributors,
            "conflict": conflict,
            "differences": found,
        },
    )


def _list_differences(
    current: Source, identifiers: IdentifierFormSet, contributors: ContributorFormSet
) -> list[Difference]:
    """The identifiers and contributors, where the user's lists and the saved ones differ."""
    found = []
    yours = sorted(f"{scheme} {value}" for scheme, value in identifiers.identifiers())
    saved = sorted(f"{i.scheme} {i.value}" for i in current.identifiers.all())
    if yours != saved:
        found.append(Difference("Identifiers", "; ".join(yours), "; ".join(saved)))
    # Positions count within a role, so lists are compared role by role (a stable sort).
    yours = sorted(
        (
            (str(getattr(person, "text", person)), role)
            for person, role in contributors.contributors()
        ),
        key=lambda row: row[1],
    )
    saved = [
        (str(c.person), c.role)
        for c in current.contributors.select_related("person").order_by("role", "position")
    ]
    if yours != saved:
        found.append(
            Difference(
                "Contributors",
                "; ".join(f"{name} ({role})" for name, role in yours),
                "; ".join(f"{name} ({role})" for name, role in saved),
            )
        )
    return found


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def source_delete(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    source = get_source_for_user(membership, pk)
    if request.method != "POST":
        references = source.references()
    elif not (references := delete_if_unreferenced(source)):
        messages.success(request, f"Deleted “{source.title}”.")
        return redirect("xref:source_list", membership.project.slug)
    return render(
        request,
        "library/source_confirm_delete.html",
        {
            "membership": membership,
            "project": membership.project,
            "source": source,
            "references": references,
        },
        status=409 if request.method == "POST" else 200,
    )

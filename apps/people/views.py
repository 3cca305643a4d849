from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
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
from apps.accounts.references import lookup_response
from apps.people.filters import PersonFilter
from apps.people.forms import PersonForm
from apps.people.models import Person

PAGE_SIZE = 50


def get_person_for_user(membership: Membership, pk: int) -> Person:
    """A person of the member's project; 404 for anything else (other projects, forged ids)."""
    return get_object_or_404(Person.objects.for_project(membership.project), pk=pk)


@require_safe
@project_view()
def person_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    people = Person.objects.for_project(membership.project).with_list_data()
    filterset = PersonFilter(request.GET, queryset=people)
    results = filterset.qs if filterset.is_valid() else people.none()
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "people/person_list.html",
        {
            "membership": membership,
            "project": membership.project,
            "filter": filterset,
            "page": page,
        },
    )


@require_safe
@project_view()
def person_lookup(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Suggestions for a person input (static/js/lookup.js)."""
    people = Person.objects.for_project(membership.project).only("id", "display_name")
    return lookup_response(request.GET.get("q", ""), people.matching)


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def person_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _person_form(request, membership, Person(project=membership.project))


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def person_edit(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    return _person_form(request, membership, get_person_for_user(membership, pk))


def _person_form(request: HttpRequest, membership: Membership, person: Person) -> HttpResponse:
    creating = person.pk is None
    heading = "New person" if creating else f"Edit {person.display_name}"
    data = request.POST if request.method == "POST" else None
    form = PersonForm(data, instance=person, project=membership.project)
    conflict, found = None, []
    if form.is_valid():
        try:
            save_edit(person, form, by=request.user, save=form.save)
        except StaleEdit as stale:
            conflict = stale.current
            found = differences(form, conflict) + _variant_differences(form, conflict)
            rebase(form, conflict)
        except IntegrityError:
            form.add_error(None, SAVE_FAILED)
            if creating:
                person.pk = None
        else:
            messages.success(request, f"Saved {person.display_name}.")
            return redirect("xref:person_detail", membership.project.slug, person.pk)
    return render(
        request,
        "people/person_form.html",
        {
            "membership": membership,
            "project": membership.project,
            "person": person,
            "creating": creating,
            "heading": heading,
            "form": form,
            "conflict": conflict,
            "differences": found,
        },
    )


def _variant_differences(form: PersonForm, current: Person) -> list[Difference]:
    yours = form.cleaned_data["variants"]
    saved = [variant.name for variant in current.variants.all()]
    if sorted(yours) == sorted(saved):
        return []
    return [Difference("Other spellings", "; ".join(yours), "; ".join(saved))]


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.EDIT_LIBRARY)
def person_delete(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    person = get_person_for_user(membership, pk)
    if request.method != "POST":
        references = person.references()
    elif not (references := delete_if_unreferenced(person)):
        messages.success(request, f"Deleted {person.display_name}.")
        return redirect("people:person_list", membership.project.slug)
    return render(
        request,
        "people/person_confirm_delete.html",
        {
            "membership": membership,
            "project": membership.project,
            "person": person,
            "references": references,
        },
        status=409 if request.method == "POST" else 200,
    )

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.accounts.forms import AddMemberForm, ProjectCreateForm, ProjectSettingsForm, RoleForm
from apps.accounts.models import Membership, Project, ProjectError, Role
from apps.accounts.navigation import redirect_back
from apps.accounts.policy import SCOPE_SESSION_KEY, Action, Scope, project_view

MEMBERS_PAGE_SIZE = 100


@require_safe
@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("project").order_by("project__name")
    return render(
        request,
        "accounts/project_list.html",
        {
            "memberships": memberships,
            "can_create_projects": request.user.can_create_projects(),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def project_create(request: HttpRequest) -> HttpResponse:
    if not request.user.can_create_projects():
        raise PermissionDenied
    if request.method != "POST":
        form = ProjectCreateForm()
    else:
        form = ProjectCreateForm(request.POST)
        if form.is_valid():
            try:
                project = Project.objects.create_with_supervisor(request.user, **form.cleaned_data)
            except ProjectError as error:
                form.add_error("slug", str(error))
            else:
                messages.success(
                    request,
                    f"“{project.name}” is ready and you are its supervisor. Add your team here.",
                )
                return redirect("accounts:member_list", project.slug)
    return render(request, "accounts/project_create.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Action.MANAGE)
def project_edit(request: HttpRequest, membership: Membership) -> HttpResponse:
    # The form edits a copy: a refused edit must not rename the project in the page header.
    form = ProjectSettingsForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(membership.project)
    )
    if form.is_valid():
        form.save()
        messages.success(request, "Project settings saved.")
        return redirect("accounts:project_edit", membership.project.slug)
    return render(
        request,
        "accounts/project_edit.html",
        {"membership": membership, "project": membership.project, "form": form},
    )


def get_membership_for_user(membership: Membership, pk: int) -> Membership:
    """Another membership of the member's project (404 for any other id); the caller's
    project_view has checked the right to manage members."""
    member = (
        Membership.objects.for_project(membership.project)
        .select_related("user")
        .filter(pk=pk)
        .first()
    )
    if member is None:
        raise Http404("No such member in this project.")
    return member


@require_safe
@project_view()
def member_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    return render_member_list(request, membership, AddMemberForm())


def render_member_list(
    request: HttpRequest, membership: Membership, add_form: AddMemberForm
) -> HttpResponse:
    members = Membership.objects.for_project(membership.project).with_list_data()
    page = Paginator(members, MEMBERS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/member_list.html",
        {
            "membership": membership,
            "project": membership.project,
            "page": page,
            "add_form": add_form,
            "roles": Role.choices,
        },
    )


@require_POST
@project_view(Action.MANAGE)
def member_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = AddMemberForm(request.POST, by=request.user)
    if not form.is_valid():
        return render_member_list(request, membership, form)
    user, role = form.cleaned_data["who"], form.cleaned_data["role"]
    try:
        membership.project.add_member(user, role=role)
    except ProjectError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{user.username} joined the project as {Role(role).label}.")
    return redirect("accounts:member_list", membership.project.slug)


@require_POST
@project_view(Action.MANAGE)
def member_role(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    member = get_membership_for_user(membership, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: supervisor, analyst or student.")
        return redirect("accounts:member_list", membership.project.slug)
    role = form.cleaned_data["role"]
    try:
        member.change_role(role)
    except ProjectError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{member.user.username} is now {Role(role).label}.")
    return redirect("accounts:member_list", membership.project.slug)


@require_POST
@project_view(Action.MANAGE)
def member_remove(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    member = get_membership_for_user(membership, pk)
    if member.pk == membership.pk:
        return leave(request, membership)
    try:
        member.remove()
    except ProjectError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{member.user.username} is no longer a member.")
    return redirect("accounts:member_list", membership.project.slug)


@require_POST
@project_view()
def member_leave(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Any member may leave, except the last supervisor."""
    return leave(request, membership)


def leave(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        membership.remove()
    except ProjectError as error:
        messages.error(request, str(error))
        return redirect("accounts:member_list", membership.project.slug)
    messages.success(request, f"You left “{membership.project.name}”.")
    return redirect("accounts:project_list")


@require_POST
@project_view(Action.ANNOTATE)
def set_scope(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Remember whether this member's lists show everything they may see or approved work only."""
    try:
        scope = Scope(request.POST.get("scope", ""))
    except ValueError:
        messages.error(request, "Choose what to show: everything you may see, or approved work.")
        scope = None
    if scope is not None:
        chosen = request.session.get(SCOPE_SESSION_KEY, {})
        chosen[membership.project.slug] = scope.value
        request.session[SCOPE_SESSION_KEY] = chosen
    return redirect_back(request, membership.project.get_absolute_url())

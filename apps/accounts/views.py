import copy

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.accounts import leaving, mail
from apps.accounts.forms import (
    AddMemberForm,
    HandoverForm,
    InviteForm,
    ProfileForm,
    ProjectCreateForm,
    ProjectSettingsForm,
    QueuedPasswordResetForm,
    RoleForm,
    SignUpForm,
)
from apps.accounts.models import (
    Invitation,
    InvitationError,
    Membership,
    Project,
    ProjectError,
    Role,
    User,
)
from apps.accounts.navigation import redirect_back
from apps.accounts.policy import SCOPE_SESSION_KEY, Action, Scope, project_view
from apps.accounts.throttling import client_address

MEMBERS_PAGE_SIZE = 100
# Pending invitations shown on the members page (the oldest beyond this are counted, not listed).
INVITATIONS_SHOWN = 100


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
    request: HttpRequest,
    membership: Membership,
    add_form: AddMemberForm,
    invite_form: InviteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    members = Membership.objects.for_project(membership.project).with_list_data()
    page = Paginator(members, MEMBERS_PAGE_SIZE).get_page(request.GET.get("page"))
    invitations = None
    if membership.is_supervisor:
        invitations = list(
            Invitation.objects.for_project(membership.project)
            .pending()
            .with_list_data()[:INVITATIONS_SHOWN]
        )
    return render(
        request,
        "accounts/member_list.html",
        {
            "membership": membership,
            "project": membership.project,
            "page": page,
            "add_form": add_form,
            "invite_form": invite_form or InviteForm(),
            "invitations": invitations,
            "invitations_shown": INVITATIONS_SHOWN,
            "roles": Role.choices,
        },
        status=status,
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
    """Remove a member. One who still holds open work others wait for (apps.accounts.leaving:
    a place in an open double-coding assignment) is removed only once the supervisor chose
    what happens to it: another analyst takes it over, or it is dropped; both in one step."""
    member = get_membership_for_user(membership, pk)
    if member.pk == membership.pk:
        return leave(request, membership)
    work = leaving.open_work(member)
    form = None
    if work:
        asked = "handover" in request.POST or "replacement" in request.POST
        form = HandoverForm(request.POST if asked else None, member=member)
        if not asked or not form.is_valid():
            return render_member_remove(request, membership, member, work, form)
    try:
        with transaction.atomic():
            done = (
                leaving.settle(
                    member, replacement=form.cleaned_data["replacement"], by=request.user
                )
                if form is not None
                else []
            )
            member.remove()
    except ProjectError as error:
        if form is None:
            messages.error(request, str(error))
            return redirect("accounts:member_list", membership.project.slug)
        form.add_error(None, str(error))
        return render_member_remove(request, membership, member, work, form)
    messages.success(request, " ".join([f"{member.user.username} is no longer a member.", *done]))
    return redirect("accounts:member_list", membership.project.slug)


def render_member_remove(
    request: HttpRequest,
    membership: Membership,
    member: Membership,
    work: list[str],
    form: HandoverForm,
) -> HttpResponse:
    """The choice for a member's open work: asked first (200), or again with why (400)."""
    return render(
        request,
        "accounts/member_remove.html",
        {
            "membership": membership,
            "project": membership.project,
            "member": member,
            "work": work,
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )


@require_POST
@project_view()
def member_leave(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Any member may leave, except the last supervisor."""
    return leave(request, membership)


def leave(request: HttpRequest, membership: Membership) -> HttpResponse:
    # Open work others wait for is handed over by a supervisor removing the member (who
    # chooses who takes it over), never left behind by leaving.
    work = leaving.open_work(membership)
    if work:
        messages.error(
            request,
            " ".join(
                [
                    "You still hold work others wait for:",
                    *work,
                    "Finish it, or ask a supervisor to remove you: they choose who takes it over.",
                ]
            ),
        )
        return redirect("accounts:member_list", membership.project.slug)
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


# --- Invitations ------------------------------------------------------------------------------


def get_invitation_for_user(membership: Membership, pk: int) -> Invitation:
    """A pending invitation of the member's project (404 for any other id); the caller's
    project_view has checked the right to manage members."""
    invitation = Invitation.objects.for_project(membership.project).pending().filter(pk=pk).first()
    if invitation is None:
        raise Http404("No such pending invitation in this project.")
    return invitation


def send_invitation(request: HttpRequest, invitation: Invitation) -> bool:
    """Email the invitation's current link; False when the mail server refused it (the
    invitation stays saved, and the supervisor is told and can send it again)."""
    link = request.build_absolute_uri(
        reverse("accounts:invitation_accept", args=[invitation.make_token()])
    )
    context = {
        "invitation": invitation,
        "project": invitation.project,
        "inviter": request.user,
        "link": link,
        "days": settings.INVITATION_MAX_AGE_DAYS,
    }
    return mail.send("invitation_email", context, invitation.email)


def report_sending(request: HttpRequest, invitation: Invitation, sent: bool, verb: str) -> None:
    if sent:
        messages.success(
            request,
            f"Invitation {verb} to {invitation.email} as {invitation.get_role_display()}; "
            f"the link works for {settings.INVITATION_MAX_AGE_DAYS} days.",
        )
    else:
        messages.error(
            request,
            f"The invitation for {invitation.email} is saved, but the email could not be sent. "
            "Try “Send again” later, or tell the site's administrator.",
        )


@require_POST
@project_view(Action.MANAGE)
def member_invite(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return render_member_list(request, membership, AddMemberForm(), form)
    email = form.cleaned_data["email"]
    try:
        with transaction.atomic():
            invitation = membership.project.invite(
                email, role=form.cleaned_data["role"], by=request.user
            )
            mail.spend("invitation", sender=request.user.pk, recipient=email)
    except ProjectError as error:
        form.add_error("email", str(error))
        return render_member_list(request, membership, AddMemberForm(), form)
    except mail.MailRefused as error:
        form.add_error("email", str(error))
        return render_member_list(request, membership, AddMemberForm(), form, status=429)
    report_sending(request, invitation, send_invitation(request, invitation), "sent")
    return redirect("accounts:member_list", membership.project.slug)


@require_POST
@project_view(Action.MANAGE)
def invitation_resend(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    invitation = get_invitation_for_user(membership, pk)
    try:
        mail.spend("invitation", sender=request.user.pk, recipient=invitation.email)
        invitation.send_again()
    except (ProjectError, mail.MailRefused) as error:
        messages.error(request, str(error))
    else:
        report_sending(request, invitation, send_invitation(request, invitation), "sent again")
    return redirect("accounts:member_list", membership.project.slug)


@require_POST
@project_view(Action.MANAGE)
def invitation_revoke(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    invitation = get_invitation_for_user(membership, pk)
    try:
        invitation.revoke()
    except ProjectError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The invitation for {invitation.email} is withdrawn.")
    return redirect("accounts:member_list", membership.project.slug)


# Longer than any link we sign; longer ones are refused before the signature is checked.
MAX_TOKEN_LENGTH = 400


@login_not_required  # the invited person may have no account yet
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Follow an invitation: sign up (or, signed in, confirm) and join the project."""
    try:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvitationError("This invitation link is not valid.", status=404)
        invitation = Invitation.from_token(token)
    except InvitationError as error:
        return invitation_refused(request, error)
    if request.user.is_authenticated:
        if (refusal := invitation.refusal_for(request.user)) is not None:
            return invitation_refused(request, refusal)
        if request.method != "POST":
            return render(request, "accounts/invitation_accept.html", {"invitation": invitation})
        return join(request, invitation, request.user)
    form = SignUpForm(request.POST if request.method == "POST" else None, email=invitation.email)
    if form.is_valid():
        try:
            with transaction.atomic():
                user = form.save(commit=False)
                user.email = invitation.email
                user.save()
                invitation.accept(user)
        except IntegrityError:
            # Someone took the username between the form's check and this insert.
            form.add_error("username", "That username is taken; choose another.")
        except InvitationError as error:
            return invitation_refused(request, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome, {user}: you joined “{invitation.project.name}” as "
                f"{invitation.get_role_display()}.",
            )
            return redirect(invitation.project.get_absolute_url())
    return render(
        request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form}
    )


def join(request: HttpRequest, invitation: Invitation, user) -> HttpResponse:
    try:
        joined = invitation.accept(user)
    except InvitationError as error:
        return invitation_refused(request, error)
    project = invitation.project
    if joined is None:
        messages.info(
            request, f"You already are a member of “{project.name}”; your role is unchanged."
        )
    else:
        messages.success(
            request, f"You joined “{project.name}” as {invitation.get_role_display()}."
        )
    return redirect(project.get_absolute_url())


def invitation_refused(request: HttpRequest, error: InvitationError) -> HttpResponse:
    return render(
        request, "accounts/invitation_refused.html", {"reason": str(error)}, status=error.status
    )


# --- The member's own account -----------------------------------------------------------------


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view; a new password set from the mailed link also lifts a sign-in lockout of
    the account (the lockout message offers the reset as a way out, and only the mailbox's
    owner can follow the link)."""

    def form_valid(self, form):
        from axes.utils import reset as reset_sign_in_failures

        response = super().form_valid(form)
        reset_sign_in_failures(username=form.user.get_username())
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's view, with the mails it sends limited per client and per address typed (the
    same answer whether an account has the address or not: the count is of requests), and
    sent from the job queue (QueuedPasswordResetForm)."""

    form_class = QueuedPasswordResetForm

    def form_valid(self, form):
        try:
            mail.spend(
                "password_reset",
                client=client_address(self.request),
                recipient=form.cleaned_data["email"],
            )
        except mail.MailRefused as error:
            form.add_error(None, str(error))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The member's name, and their address: a new address takes effect only once the link
    mailed to it is opened, so nobody can claim an address (and the invitations sent to it)
    that they cannot read."""
    user = request.user
    # The form edits a copy: a refused change must not show in the page header.
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=copy.copy(user))
    if form.is_valid():
        new_email = form.cleaned_data["email"]
        asks_new_address = "email" in form.changed_data and new_email
        if asks_new_address:
            try:
                mail.spend("email_change", sender=user.pk, recipient=new_email)
            except mail.MailRefused as error:
                form.add_error("email", str(error))
                return render(request, "accounts/profile.html", {"form": form}, status=429)
            form.instance.email = user.email
        form.save()
        if not asks_new_address:
            messages.success(request, "Your profile is saved.")
        elif send_email_confirmation(request, form.instance, new_email):
            messages.success(
                request,
                f"Your profile is saved. We sent a link to {new_email}: your address changes "
                f"when you open it (within {settings.EMAIL_CHANGE_MAX_AGE_DAYS} days). Until "
                f"then mail goes to {user.email or 'no address'}.",
            )
        else:
            messages.error(
                request,
                f"Your profile is saved, but the link to confirm {new_email} could not be "
                "sent, so your address is unchanged. Try again later.",
            )
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


def send_email_confirmation(request: HttpRequest, user, new_email: str) -> bool:
    link = request.build_absolute_uri(
        reverse("accounts:email_confirm", args=[mail.email_change_token(user, new_email)])
    )
    context = {
        "user": user,
        "new_email": new_email,
        "link": link,
        "days": settings.EMAIL_CHANGE_MAX_AGE_DAYS,
    }
    return mail.send("email_change", context, new_email)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Open the mailed link (signed in to the account that asked), then confirm: the address
    changes, and the old one is told."""
    try:
        if len(token) > MAX_TOKEN_LENGTH:
            raise mail.EmailChangeError("This confirmation link is not valid.", status=404)
        new_email = mail.email_change_from_token(token, request.user)
    except mail.EmailChangeError as error:
        return render(
            request,
            "accounts/email_confirm.html",
            {"refusal": str(error)},
            status=error.status,
        )
    if request.method != "POST":
        return render(request, "accounts/email_confirm.html", {"new_email": new_email})
    user = request.user
    old_email = user.email
    with transaction.atomic():
        # Two tabs confirming at once: the row lock makes the second see the new address,
        # so the link works once.
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.email != old_email:
            return render(
                request,
                "accounts/email_confirm.html",
                {"refusal": "This confirmation link was already used."},
                status=410,
            )
        locked.email = new_email
        locked.save(update_fields=["email"])
    if old_email:
        mail.send(
            "email_changed",
            {"user": locked, "old_email": old_email, "new_email": new_email},
            old_email,
        )
    messages.success(request, f"Your email address is now {new_email}.")
    return redirect("accounts:profile")

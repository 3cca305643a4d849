from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.template.loader import render_to_string

from apps.accounts import mail
from apps.accounts.models import Project, Role, User


class AddMemberForm(forms.Form):
    """Add someone the supervisor already works with, by username or email.

    Only accounts that share a project with the supervisor can be named here: anyone else is
    invited by email. So the form never tells whether an account exists — a stranger's
    username, an unknown one and a deactivated one get the same answer — and a supervisor
    cannot probe the site's list of users. Naming a colleague tells nothing new.
    """

    who = forms.CharField(
        label="Username or email",
        max_length=254,
        help_text="Someone you already work with in another project. If several of them share "
        "an email address, give the username. Anyone else: invite them by email.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANALYST)

    def __init__(self, *args, by: User | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.by = by

    def colleagues(self):
        """Active accounts that are members of a project the supervisor is a member of."""
        if self.by is None:
            return User.objects.none()
        return User.objects.filter(
            is_active=True, memberships__project__memberships__user=self.by
        ).distinct()

    def clean_who(self) -> User:
        """The one colleague the text names, by username or else by email address."""
        text = self.cleaned_data["who"].strip()
        unknown = forms.ValidationError(
            f"None of the people you work with in your projects is “{text}”. To bring in "
            "someone else, invite them by email."
        )
        active = self.colleagues()
        user = active.filter(username=text).first()
        if user is None:
            # Usernames are case-sensitive, but nobody remembers how a colleague capitalised
            # theirs; accept another case when it names only one account.
            same_but_case = list(active.filter(username__iexact=text)[:2])
            user = same_but_case[0] if len(same_but_case) == 1 else None
        if user is not None:
            return user
        if "@" not in text:
            raise unknown
        by_email = list(active.filter(email__iexact=text)[:2])
        if not by_email:
            raise unknown
        if len(by_email) > 1:
            raise forms.ValidationError(
                f"Several accounts use the email “{text}”; give the username of the one you mean."
            )
        return by_email[0]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ProjectCreateForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "slug", "description"]
        labels = {"slug": "Address"}
        help_texts = {
            "slug": "The project's address, /p/<address>/: lower-case letters, digits and "
            "hyphens. People bookmark it, so choose one that can stay.",
        }

    def clean_slug(self) -> str:
        # Addresses are matched exactly, so store them in the one case people will type.
        slug = self.cleaned_data["slug"].lower()
        if Project.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"The address “{slug}” is already taken; choose another.")
        return slug

    def validate_unique(self) -> None:
        # clean_slug already checked, with a clearer message than the model's.
        pass


class ProjectSettingsForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description", "students_see_history", "allow_self_approval"]
        labels = {
            "students_see_history": "Students may see the review history",
            "allow_self_approval": "Allow a supervisor to approve their own work",
        }
        help_texts = {
            "students_see_history": "Of approved annotations, from their approval on: never "
            "the wording or the reviewers' comments before it.",
            "allow_self_approval": "Off (the rule): nobody decides on their own work; another "
            "supervisor must. On, for a project with a single supervisor: a supervisor may "
            "approve their own annotation, recorded in its history as a self-approval and "
            "shown on its page. Never a rejection or a request for changes.",
        }


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="They get a link to join; with it they create an account or sign in to theirs.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.STUDENT)

    def __init__(self, *args, **kwargs) -> None:
        # The members page also has the add form, with fields of the same names.
        kwargs.setdefault("auto_id", "invite_%s")
        super().__init__(*args, **kwargs)


class SignUpForm(UserCreationForm):
    """A new account from an invitation: the address is the invitation's, so not asked."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name"]
        labels = {"first_name": "Given name", "last_name": "Family name"}
        help_texts = {
            "username": "What you sign in with: letters, digits and @ . + - _ only.",
        }

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The similarity validator compares the password with the address too.
        self.instance.email = email

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        # Usernames are case-sensitive, but two that differ only in case would confuse people.
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken; choose another.")
        return username


class ProfileForm(forms.ModelForm):
    """The member's own name and address. Changing the address asks for the password (whoever
    controls the address can reset the password); the view then mails the new address a link,
    and only that link changes it."""

    current_password = forms.CharField(
        label="Current password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed only to change your email address.",
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email"]
        labels = {"first_name": "Given name", "last_name": "Family name", "email": "Email"}
        help_texts = {
            "first_name": "Your name as the other members see it: given name and family name.",
            "email": "Invitations and password resets are sent here. A new address takes "
            "effect when you open the link we mail to it.",
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        if "email" in self.changed_data and self.instance.has_usable_password():
            password = cleaned.get("current_password") or ""
            if not self.instance.check_password(password):
                self.add_error(
                    "current_password", "Give your current password to change your email address."
                )
        return cleaned


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's form, with the mail queued for the job runner instead of sent in the request:
    talking to a mail server takes long enough to show, by the time the page takes, whether
    an account has the address typed."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, **kw
    ) -> None:
        subject = render_to_string(subject_template_name, context)
        mail.send_later(subject, render_to_string(email_template_name, context), to_email)


class HandoverForm(forms.Form):
    """What happens to a removed member's open work (apps.accounts.leaving)."""

    handover = forms.ChoiceField(
        choices=[
            ("reassign", "Another analyst takes over their open work"),
            ("drop", "Drop their open work: they leave the sample, and the report says so"),
        ],
        widget=forms.RadioSelect,
        label="Their open work",
        error_messages={"required": "Choose what happens to their open work."},
    )
    replacement = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Analyst who takes over",
        empty_label="Choose an analyst…",
        error_messages={"invalid_choice": "Choose an analyst of this project."},
    )

    def __init__(self, *args, member, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["replacement"].queryset = (
            User.objects.filter(
                memberships__project_id=member.project_id, memberships__role=Role.ANALYST
            )
            .exclude(pk=member.user_id)
            .order_by("username")
        )
        self.fields["replacement"].label_from_instance = lambda user: user.username

    def clean(self):
        data = super().clean()
        if data.get("handover") == "reassign" and not data.get("replacement"):
            self.add_error("replacement", "Choose the analyst who takes over.")
        if data.get("handover") == "drop":
            data["replacement"] = None
        return data

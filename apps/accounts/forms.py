from __future__ import annotations

from django import forms

from apps.accounts.models import Project, Role, User


class AddMemberForm(forms.Form):
    who = forms.CharField(
        label="Username or email",
        max_length=254,
        help_text="Someone who already has an account. If several accounts share an email "
        "address, give the username.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANALYST)

    def clean_who(self) -> User:
        """The one active user the text names, by username or else by email address."""
        text = self.cleaned_data["who"].strip()
        active = User.objects.filter(is_active=True)
        user = active.filter(username=text).first()
        if user is None:
            # Usernames are case-sensitive, but nobody remembers how a colleague capitalised
            # theirs; accept another case when it names only one account.
            same_but_case = list(active.filter(username__iexact=text)[:2])
            user = same_but_case[0] if len(same_but_case) == 1 else None
        if user is not None:
            return user
        if "@" not in text:
            raise forms.ValidationError(f"Nobody has the username “{text}”.")
        by_email = list(active.filter(email__iexact=text)[:2])
        if not by_email:
            raise forms.ValidationError(f"Nobody has the username or email “{text}”.")
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
        fields = ["name", "description", "students_see_history"]
        labels = {"students_see_history": "Students may see the review history"}

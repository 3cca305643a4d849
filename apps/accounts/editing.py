"""Optimistic concurrency for everything the team edits.

An edit form carries the version it was loaded with. Saving locks the row, and if someone saved
a newer version meanwhile the edit is refused (StaleEdit) and the form shows, field by field,
what the user typed next to what is saved now. Nothing is silently overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError


class StaleEdit(Exception):
    """Someone saved a newer version since the form was loaded."""

    def __init__(self, current: models.Model) -> None:
        super().__init__("This was changed by someone else since you opened it.")
        self.current = current


class Versioned(models.Model):
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        abstract = True

    @contextmanager
    def editing(self, *, by: Any, loaded_version: int) -> Iterator[Versioned]:
        """Save inside this block; raises StaleEdit when a newer version was saved meanwhile.

        Everything saved inside (the row, its formsets) commits or rolls back together. The
        block receives the row as it is now, locked, to re-check what may have changed.
        """
        with transaction.atomic():
            if hasattr(self, "library_version"):
                # The project's version first, as every writer does (apps.accounts.sync).
                from apps.accounts.sync import bump

                bump(self.project_id)
            current = type(self).objects.select_for_update().get(pk=self.pk)
            if current.version != loaded_version:
                raise StaleEdit(current)
            self.version = current.version + 1
            self.updated_by = by
            yield current


class VersionedForm(forms.ModelForm):
    """A model form that carries, hidden, the version of the row it was loaded with."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version
            self.fields["loaded_version"].required = True


@dataclass
class Difference:
    label: str
    yours: Any
    saved: Any


def differences(form: forms.ModelForm, current: models.Model) -> list[Difference]:
    """The fields where the user's submission and the newer saved version disagree."""
    found = []
    for name, field in form.fields.items():
        if name == "loaded_version" or name not in form.cleaned_data or not hasattr(current, name):
            continue
        yours = form.cleaned_data[name]
        saved = getattr(current, name)
        if isinstance(saved, models.Manager):
            continue
        if (yours or "") != (saved or ""):
            found.append(Difference(label=str(field.label or name), yours=yours, saved=saved))
    return found


SAVE_FAILED = (
    "Not saved: another change to the project conflicted with this one (someone may have "
    "just used the same name or identifier). Check the form and save again."
)


def save_edit(
    instance: Versioned, form: forms.Form, *, by: Any, save: Callable[[], object]
) -> None:
    """Run `save` (the form and its formsets) in one transaction: a new row records who made
    it; an existing one is saved only if nobody saved a newer version (else StaleEdit)."""
    if instance.pk is None:
        instance.updated_by = by
        with transaction.atomic():
            save()
    else:
        with instance.editing(by=by, loaded_version=form.cleaned_data["loaded_version"]):
            save()


def rebase(form: forms.Form, current: Versioned) -> None:
    """After a refused edit the form keeps what the user typed but now carries the newer
    version: saving again, after comparing, is a deliberate overwrite."""
    form.data = form.data.copy()
    form.data[form.add_prefix("loaded_version")] = current.version


def delete_if_unreferenced(row: models.Model) -> list[str]:
    """Delete `row` unless something still refers to it; return what does (empty: deleted).

    `row.references()` says what refers to it in words; the database's RESTRICT/PROTECT keys
    are the last guard, for a link made between the check and the delete.
    """
    references = row.references()
    if references:
        return references
    try:
        row.delete()
    except (RestrictedError, ProtectedError):
        return row.references() or ["other records of this project"]
    return []

"""Naming an existing row in a form by typing: "#12", a name, a title, a citation key.

Forms link annotations to claims, people and works, sources to contributors, claims to claims.
Projects hold thousands of each, too many for a <select>, so a link is typed. A typed reference
resolves to exactly one row of the project or fails with the closest candidates, which the
error lists as "#id label" for the user to copy. With JavaScript on, the input gets suggestions
in that same form from the lookup view (static/js/lookup.js); nothing depends on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db import models
from django.http import JsonResponse

_ID = re.compile(r"^\s*#(\d{1,18})\b")
MAX_CANDIDATES = 6
# Each typed word becomes a condition; past a dozen they add nothing but query size.
MAX_QUERY_WORDS = 12


def query_words(text: str) -> list[str]:
    """The words of a typed search, at most MAX_QUERY_WORDS of them."""
    return text.split()[:MAX_QUERY_WORDS]


@dataclass
class Resolution:
    match: models.Model | None = None
    candidates: list[models.Model] = field(default_factory=list)


@dataclass
class NewReference:
    """The user asked for a new row with this text (a claim statement, a person's name)."""

    text: str


def referenced_id(text: str) -> int | None:
    match = _ID.match(text)
    return int(match.group(1)) if match else None


def reference_label(obj: models.Model) -> str:
    return f"#{obj.pk} {obj}"


def bind_reference(
    field: forms.Field, resolver: Callable[[str], Resolution], lookup_url: str
) -> None:
    """Point a form instance's ReferenceField at its project's rows and lookup view."""
    field.resolver = resolver
    field.widget.attrs["data-lookup"] = lookup_url


class ReferenceField(forms.CharField):
    """A text input that cleans to one row of a project (or a NewReference).

    `resolver` is bound per form instance to the project's QuerySet method, e.g.
    `Person.objects.for_project(project).resolve_reference`.
    """

    def __init__(self, *, what: str, allow_new: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)
        self.what = what
        self.allow_new = allow_new
        self.resolver: Callable[[str], Resolution] | None = None
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_reference(self, text: str, *, create: bool = False) -> Any:
        if not text:
            return None
        assert self.resolver is not None, "bind the field's resolver to the project"
        resolution = self.resolver(text)
        if resolution.match is not None:
            return resolution.match
        if create and self.allow_new and referenced_id(text) is None:
            return NewReference(text.strip())
        if len(resolution.candidates) == 1:
            # Part of a name or statement that fits one record only: that record is meant.
            return resolution.candidates[0]
        if resolution.candidates:
            listed = "; ".join(reference_label(c) for c in resolution.candidates).rstrip(".")
            message = f"Several {self.what}s could be meant — type one as “#number”: {listed}."
            if referenced_id(text) is None and self.allow_new:
                message += f" Or tick “new” to add a new {self.what}."
        elif referenced_id(text) is not None:
            message = f"There is no {self.what} {text.split()[0]} in this project."
        else:
            message = f"No {self.what} matches “{text}”."
            if self.allow_new:
                message += f" Tick “new” to add it as a new {self.what}."
        raise forms.ValidationError(message, code="unresolved")


LOOKUP_LIMIT = 10
MAX_LOOKUP_QUERY = 200


def lookup_response(text: str, search: Callable[[str], Any]) -> JsonResponse:
    """Suggestions for a reference input, as {"results": [{"value": "#12 …", "label": …}]}."""
    text = text.strip()[:MAX_LOOKUP_QUERY]
    rows = list(search(text)[:LOOKUP_LIMIT]) if text else []
    return JsonResponse(
        {"results": [{"value": reference_label(row), "label": str(row)} for row in rows]}
    )


# The widest integer a primary key may hold on any of our databases (a signed 64-bit integer).
MAX_PK = 2**63 - 1


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A multiple choice of rows whose posted ids beyond the database's integer range are
    refused as invalid, as any other bad id: `pk__in` with such a number fails in the
    database driver (an OverflowError on SQLite), where `pk=` is already answered as "no row"."""

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple) else []:
            try:
                number = int(str(pk).strip())
            except ValueError:
                continue  # not a number: Django refuses it as an invalid choice
            if not -MAX_PK <= number <= MAX_PK:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": str(pk)[:30]},
                )
        return super()._check_values(value)


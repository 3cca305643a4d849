"""What the model admins of the project share.

Django's autocomplete widgets look up the chosen ids they are given to show their labels; an
id of the wrong type (a form posted with `user=abc`) makes that lookup raise while the page is
drawn again with the form's errors, and the admin answers 500 instead of "Select a valid
choice". The widgets here leave out such ids before the lookup, so the form's own error shows.
"""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models

# The largest value a 64-bit integer column holds; bigger ids are nobody's.
LARGEST_ID = 2**63 - 1


class ValidChoicesOnly:
    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        target = remote.model._meta.get_field(
            getattr(remote, "field_name", None) or remote.model._meta.pk.name
        )
        return super().optgroups(name, [v for v in value if can_be(target, v)], attr)


def can_be(field: models.Field, value) -> bool:
    if value in (None, ""):
        return False
    try:
        python = field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return not isinstance(python, int) or abs(python) <= LARGEST_ID


class Select(ValidChoicesOnly, AutocompleteSelect):
    pass


class SelectMultiple(ValidChoicesOnly, AutocompleteSelectMultiple):
    pass


class ForgivingAutocomplete:
    """Mix into a ModelAdmin or an inline that has autocomplete_fields."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = Select(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ForgivingLookups:
    """Mix into a ModelAdmin whose list filters by a field the database checks itself (an IP
    address column on PostgreSQL): a filter value it cannot take (`?ip_address=abc`) shows the
    list unfiltered with the admin's own "invalid lookup" notice, as other bad filters do,
    instead of a 500 when the query is run."""

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except ValueError as error:
            raise IncorrectLookupParameters(error) from error

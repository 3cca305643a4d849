from django import forms

from apps.search.models import Kind
from apps.search.query import Query, parse_query
from apps.search.results import CANDIDATES, PAGE_SIZE


class SearchForm(forms.Form):
    """The search box and the kind of results to list; the facets are SearchFilter's."""

    # Never refused: parse_query cuts what is too long and explains what it could not use.
    q = forms.CharField(required=False, strip=False, label="Search this project")
    kind = forms.TypedChoiceField(
        choices=Kind.choices, required=False, coerce=Kind, empty_value=None
    )
    page = forms.IntegerField(
        min_value=1,
        max_value=-(-CANDIDATES // PAGE_SIZE),
        required=False,
        error_messages={"max_value": "Results go no further than page %(limit_value)s."},
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        cleaned["query"] = parse_query(cleaned.get("q") or "")
        return cleaned

    @property
    def query(self) -> Query:
        return self.cleaned_data["query"]

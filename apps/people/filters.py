import django_filters
from django import forms
from django.db.models import QuerySet

from apps.people.models import Person, PersonKind
from apps.people.names import search_tokens


class PersonFilterForm(forms.Form):
    def clean_q(self) -> str:
        query = self.cleaned_data.get("q", "")
        if query and not search_tokens(query):
            raise forms.ValidationError("Type at least one letter of a name.")
        return query


class PersonFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Name",
        method="filter_name",
        max_length=200,
        help_text="Any spelling: al-Suri, as-Suri, Suri and Sūrī find the same person.",
    )
    kind = django_filters.ChoiceFilter(
        choices=PersonKind.choices, empty_label="People and organisations"
    )

    class Meta:
        model = Person
        fields: list[str] = []
        form = PersonFilterForm

    def filter_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.matching(value)

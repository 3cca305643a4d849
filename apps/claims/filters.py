import django_filters
from django.db.models import QuerySet

from apps.claims.models import Claim, ClaimKind


class ClaimFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Statement contains", method="filter_words", max_length=200)
    kind = django_filters.ChoiceFilter(choices=ClaimKind.choices, empty_label="Any kind")

    class Meta:
        model = Claim
        fields: list[str] = []

    def filter_words(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.matching(value)

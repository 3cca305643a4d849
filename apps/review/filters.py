import django_filters
from django.db.models import QuerySet

from apps.accounts.models import Membership, Role, User
from apps.claims.models import Concept
from apps.library.models import Source


class QueueFilter(django_filters.FilterSet):
    analyst = django_filters.ModelChoiceFilter(
        field_name="author", queryset=User.objects.none(), empty_label="Anyone", label="Analyst"
    )
    source = django_filters.CharFilter(
        label="Source",
        method="filter_source",
        max_length=200,
        help_text="Words of the title or its citation key.",
    )
    concept = django_filters.ModelChoiceFilter(
        field_name="concepts",
        queryset=Concept.objects.none(),
        empty_label="Any concept",
        label="Concept",
    )

    def __init__(self, data, *args, membership: Membership, **kwargs):
        super().__init__(data, *args, **kwargs)
        project = membership.project
        self.project = project
        self.filters["analyst"].queryset = User.objects.filter(
            memberships__project=project, memberships__role__in=[Role.ANALYST, Role.SUPERVISOR]
        ).order_by("username")
        self.filters["concept"].queryset = Concept.objects.for_project(project).only("id", "name")

    def filter_source(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        sources = Source.objects.for_project(self.project).matching(value).values("pk")
        return queryset.filter(source__in=sources)

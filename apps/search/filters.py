import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet

from apps.accounts.models import Membership, User
from apps.annotations.models import Annotation, Mention, Status
from apps.claims.models import Concept
from apps.library.models import SourceType
from apps.people.models import Person
from apps.search.models import Document, Kind


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class SearchFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("year_min"), cleaned.get("year_max")
        if low is not None and high is not None and low > high:
            self.add_error("year_max", "The end year is before the start year.")
        return cleaned


class SearchFilter(django_filters.FilterSet):
    """The facets beside the results: they narrow the documents searched.

    Source type and years narrow passages (by their source) and sources; concept, person
    cited, review status and analyst narrow passages. Results of other kinds have none of
    these, so a chosen facet leaves them out.
    """

    type = django_filters.ChoiceFilter(
        field_name="csl_type", label="Source type", choices=SourceType.choices
    )
    year_min = YearFilter(
        field_name="year", lookup_expr="gte", label="From year", min_value=-9999, max_value=9999
    )
    year_max = YearFilter(
        field_name="year", lookup_expr="lte", label="To year", min_value=-9999, max_value=9999
    )
    concept = django_filters.ModelChoiceFilter(
        label="Concept", queryset=Concept.objects.none(), method="filter_concept"
    )
    person = django_filters.ModelChoiceFilter(
        label="Person cited", queryset=Person.objects.none(), method="filter_person"
    )
    status = django_filters.ChoiceFilter(
        label="Review status", choices=Status.choices, method="filter_status"
    )
    analyst = django_filters.ModelChoiceFilter(
        label="Analyst", queryset=User.objects.none(), method="filter_analyst"
    )

    class Meta:
        model = Document
        fields: list[str] = []
        form = SearchFilterForm

    def __init__(self, data, *args, membership: Membership, **kwargs):
        super().__init__(data, *args, **kwargs)
        project = membership.project
        self.filters["concept"].queryset = Concept.objects.for_project(project).only("id", "name")
        self.filters["person"].queryset = Person.objects.for_project(project)
        authors = Annotation.objects.filter(project=project, author=OuterRef("pk"))
        self.filters["analyst"].queryset = User.objects.filter(Exists(authors))
        for name in ("year_min", "year_max"):
            self.filters[name].field.widget.attrs.update({"inputmode": "numeric", "size": 6})
        if not self.may_see_statuses(membership):
            del self.filters["status"]

    @staticmethod
    def may_see_statuses(membership: Membership) -> bool:
        """Students, and anyone looking at approved work only, see one status."""
        return membership.may.annotate and not membership.approved_only

    def filter_concept(self, queryset: QuerySet, name: str, value: Concept) -> QuerySet:
        coded = Annotation.concepts.through.objects.filter(
            annotation_id=OuterRef("object_id"), concept=value
        )
        return queryset.filter(Exists(coded), kind=Kind.PASSAGE)

    def filter_person(self, queryset: QuerySet, name: str, value: Person) -> QuerySet:
        cites = Mention.objects.filter(annotation_id=OuterRef("object_id"), person=value)
        return queryset.filter(Exists(cites), kind=Kind.PASSAGE)

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(kind=Kind.PASSAGE, status=value)

    def filter_analyst(self, queryset: QuerySet, name: str, value: User) -> QuerySet:
        return queryset.filter(kind=Kind.PASSAGE, author=value)

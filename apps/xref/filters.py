import django_filters
from django import forms
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from apps.accounts.models import Membership
from apps.accounts.references import query_words
from apps.annotations.models import Annotation, Mention
from apps.claims.models import Concept
from apps.library.models import Contributor, ContributorRole, Source, SourceType
from apps.people.models import Person
from apps.people.names import search_tokens

# A name matching more people than this is too vague to filter by all of them.
MAX_PEOPLE = 500


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class SourceFilterForm(forms.Form):
    def clean_person(self) -> str:
        person = self.cleaned_data.get("person", "")
        if person and not search_tokens(person):
            raise forms.ValidationError("Type at least one letter of a name.")
        return person

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("year_min"), cleaned.get("year_max")
        if low is not None and high is not None and low > high:
            self.add_error("year_max", "The end year is before the start year.")
        return cleaned


class SourceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Title contains", method="filter_title", max_length=200)
    type = django_filters.ChoiceFilter(
        field_name="csl_type", label="Type", choices=SourceType.choices, empty_label="Any type"
    )
    year_min = YearFilter(
        field_name="issued_year", lookup_expr="gte", label="From year", min_value=0, max_value=9999
    )
    year_max = YearFilter(
        field_name="issued_year", lookup_expr="lte", label="To year", min_value=0, max_value=9999
    )
    person = django_filters.CharFilter(
        label="Person",
        max_length=200,
        method="filter_person",
        help_text="Authors, editors or people it cites; any spelling.",
    )
    concept = django_filters.ModelChoiceFilter(
        label="Concept",
        queryset=Concept.objects.none(),
        method="filter_concept",
        empty_label="Any concept",
    )

    sort = django_filters.ChoiceFilter(
        label="Sort by",
        choices=[
            ("author", "First author"),
            ("year", "Year, newest first"),
            ("year-asc", "Year, oldest first"),
            ("added", "Recently added"),
        ],
        empty_label="Title",
        method="sort_by",
    )

    class Meta:
        model = Source
        fields: list[str] = []
        form = SourceFilterForm

    def __init__(self, data, *args, membership: Membership, **kwargs):
        self.membership = membership
        super().__init__(data, *args, **kwargs)
        self.filters["concept"].queryset = Concept.objects.for_project(membership.project).only(
            "id", "name"
        )
        for name in ("year_min", "year_max"):
            self.filters[name].field.widget.attrs.update({"inputmode": "numeric", "size": 6})

    def filter_title(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in query_words(value):
            queryset = queryset.filter(title__icontains=word)
        return queryset

    def filter_person(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The matching people are fetched first: a name matches few of them, and a list of ids
        # lets the database start from their mentions instead of from every visible annotation.
        people = list(
            Person.objects.for_project(self.membership.project)
            .matching(value)
            .values_list("pk", flat=True)[:MAX_PEOPLE]
        )
        authored = Source.objects.filter(contributors__person__in=people).values("pk")
        citing = (
            Mention.objects.visible_to(self.membership)
            .filter(person__in=people)
            .values("annotation__source_id")
        )
        return queryset.filter(Q(pk__in=authored) | Q(pk__in=citing))

    def sort_by(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Another order than the title's; ties, and sources without a year or a contributor,
        follow by title. Filters run first, so the order applies to what they kept."""
        if value == "author":
            # The first author's sort key (family name first), or for an edited book without
            # authors its first editor's; one index lookup per source of the filtered list.
            first = (
                Contributor.objects.filter(source=OuterRef("pk"))
                .order_by(
                    Case(
                        When(role=ContributorRole.AUTHOR, then=Value(0)),
                        default=Value(1),
                        output_field=IntegerField(),
                    ),
                    "position",
                )
                .values("person__sort_key")[:1]
            )
            return queryset.alias(first_author=Subquery(first)).order_by(
                F("first_author").asc(nulls_last=True), "title", "pk"
            )
        if value == "year":
            return queryset.order_by(F("issued_year").desc(nulls_last=True), "title", "pk")
        if value == "year-asc":
            return queryset.order_by(F("issued_year").asc(nulls_last=True), "title", "pk")
        return queryset.order_by("-pk")

    def filter_concept(self, queryset: QuerySet, name: str, value: Concept) -> QuerySet:
        coded = Annotation.objects.visible_to(self.membership).filter(concepts=value)
        return queryset.filter(pk__in=coded.values("source_id"))

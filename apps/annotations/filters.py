import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet

from apps.accounts.models import Membership
from apps.accounts.references import query_words
from apps.annotations.models import Annotation, Evidence, Mention, Status
from apps.claims.models import Claim, Concept
from apps.library.models import SOURCE_TEXTS, Source
from apps.people.models import Person


class AnnotationFilter(django_filters.FilterSet):
    """Passages by source, concept, person cited, claim, status and words of the quote.

    Source, person and claim are ids: links from the matrix, the map and other pages set them;
    the page names what they are.
    """

    q = django_filters.CharFilter(label="Quote contains", method="filter_words", max_length=200)
    source = django_filters.ModelChoiceFilter(
        queryset=Source.objects.none(), widget=forms.HiddenInput
    )
    concept = django_filters.ModelChoiceFilter(
        queryset=Concept.objects.none(), field_name="concepts", empty_label="Any concept"
    )
    person = django_filters.ModelChoiceFilter(
        queryset=Person.objects.none(), method="filter_person", widget=forms.HiddenInput
    )
    claim = django_filters.ModelChoiceFilter(
        queryset=Claim.objects.none(), method="filter_claim", widget=forms.HiddenInput
    )
    status = django_filters.ChoiceFilter(choices=Status.choices, empty_label="Any status")

    def __init__(self, data, *args, membership: Membership, **kwargs):
        super().__init__(data, *args, **kwargs)
        project = membership.project
        self.filters["source"].queryset = Source.objects.for_project(project).defer(*SOURCE_TEXTS)
        self.filters["concept"].queryset = Concept.objects.for_project(project).only("id", "name")
        self.filters["person"].queryset = Person.objects.for_project(project)
        self.filters["claim"].queryset = Claim.objects.visible_to(membership)
        if not membership.may.annotate:
            # Students see approved passages only: a status choice would mean nothing.
            del self.filters["status"]

    def filter_words(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in query_words(value):
            queryset = queryset.filter(quote__icontains=word)
        return queryset

    def filter_person(self, queryset: QuerySet, name: str, value: Person) -> QuerySet:
        cites = Mention.objects.filter(annotation=OuterRef("pk"), person=value)
        return queryset.filter(Exists(cites))

    def filter_claim(self, queryset: QuerySet, name: str, value: Claim) -> QuerySet:
        backs = Evidence.objects.filter(annotation=OuterRef("pk"), claim=value)
        return queryset.filter(Exists(backs))

    class Meta:
        model = Annotation
        fields: list[str] = []

from django import forms

from apps.accounts.models import Membership
from apps.accounts.policy import Scope
from apps.claims.models import Concept, concept_tree
from apps.library.models import SourceType
from apps.xref.matrix import (
    DEFAULT_COLUMNS,
    MAX_COLUMNS,
    MIN_COLUMNS,
    Axis,
    ColumnOrder,
    MatrixQuery,
    RowOrder,
    subtree,
)

ROWS_PER_PAGE = (50, 100, 200)


class MatrixForm(forms.Form):
    """The matrix's query string: axes, filters, orders, how many columns, which page.

    Missing parameters take their defaults (so the form is always bound and shows them);
    present ones must parse, or the page shows the error instead of a matrix it was not asked
    for.
    """

    rows = forms.ChoiceField(choices=[("sources", "Sources")], widget=forms.HiddenInput)
    cols = forms.ChoiceField(label="Columns", choices=Axis.choices, widget=forms.HiddenInput)
    scope = forms.ChoiceField(
        label="Passages",
        choices=[(Scope.APPROVED, "Approved only"), (Scope.VISIBLE, "Everything I may see")],
    )
    type = forms.ChoiceField(
        label="Source type", choices=[("", "Any type"), *SourceType.choices], required=False
    )
    year_min = forms.IntegerField(label="From year", min_value=0, max_value=9999, required=False)
    year_max = forms.IntegerField(label="To year", min_value=0, max_value=9999, required=False)
    concept = forms.ChoiceField(
        label="Coded with",
        required=False,
        help_text="This concept or a narrower one.",
    )
    sort = forms.ChoiceField(label="Sort rows", choices=RowOrder.choices)
    col_sort = forms.ChoiceField(label="Sort columns", choices=ColumnOrder.choices)
    limit = forms.IntegerField(
        label="Columns shown",
        min_value=MIN_COLUMNS,
        max_value=MAX_COLUMNS,
        help_text=f"{MIN_COLUMNS} to {MAX_COLUMNS}, most used first.",
    )
    per_page = forms.TypedChoiceField(
        label="Rows per page", coerce=int, choices=[(n, str(n)) for n in ROWS_PER_PAGE]
    )
    page = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, *, membership: Membership, concepts: list[Concept]) -> None:
        self.membership = membership
        self.concepts = {concept.pk: concept for concept in concepts}
        data = data.copy()
        for name, value in self.defaults(membership).items():
            if not data.get(name):
                data[name] = value
        super().__init__(data)
        self.fields["concept"].choices = [("", "Any concept")] + [
            (str(concept.pk), f"{'– ' * depth}{concept.name}")
            for concept, depth in concept_tree(concepts)
        ]
        for name in ("year_min", "year_max", "limit"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "size": 6})

    @staticmethod
    def defaults(membership: Membership) -> dict[str, object]:
        # Members who may see unapproved work start from their project-wide choice of scope.
        approved = not membership.may.annotate or membership.approved_only
        return {
            "rows": "sources",
            "cols": Axis.CONCEPTS,
            "scope": Scope.APPROVED if approved else Scope.VISIBLE,
            "sort": RowOrder.MOST,
            "col_sort": ColumnOrder.MOST,
            "limit": DEFAULT_COLUMNS,
            "per_page": ROWS_PER_PAGE[0],
            "page": 1,
        }

    def clean_concept(self) -> Concept | None:
        value = self.cleaned_data["concept"]
        return self.concepts[int(value)] if value else None

    def clean(self) -> dict:
        cleaned = super().clean()
        low, high = cleaned.get("year_min"), cleaned.get("year_max")
        if low is not None and high is not None and low > high:
            self.add_error("year_max", "The end year is before the start year.")
        return cleaned

    @property
    def approved_only(self) -> bool:
        # Students only ever count approved passages, whatever a shared link says.
        return self.cleaned_data["scope"] == Scope.APPROVED or not self.membership.may.annotate

    def query(self) -> MatrixQuery:
        data = self.cleaned_data
        concept = data["concept"]
        return MatrixQuery(
            axis=Axis(data["cols"]),
            approved_only=self.approved_only,
            source_type=data["type"],
            year_min=data["year_min"],
            year_max=data["year_max"],
            concepts=subtree(self.concepts.values(), concept.pk) if concept else None,
            row_order=data["sort"],
            column_order=data["col_sort"],
            limit=data["limit"],
        )

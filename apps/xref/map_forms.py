"""The network map's query string: which nodes and links, which review status, which concept,
how many nodes. The page, its GEXF and its GraphML read the same form."""

from django import forms
from django.http import QueryDict

from apps.accounts.models import Membership
from apps.accounts.policy import Action, Scope, can
from apps.claims.models import Concept, concept_tree
from apps.xref.graph import DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT, EdgeType, MapSpec, NodeType

SCOPES = [
    (Scope.APPROVED.value, "Approved annotations only"),
    (Scope.VISIBLE.value, "Everything I may see"),
]


class MapForm(forms.Form):
    nodes = forms.MultipleChoiceField(
        label="Nodes",
        choices=NodeType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "There is no node type “%(value)s”."},
    )
    edges = forms.MultipleChoiceField(
        label="Links",
        choices=EdgeType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "There is no link type “%(value)s”."},
    )
    scope = forms.ChoiceField(
        label="Review status",
        choices=SCOPES,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "There is no review status scope “%(value)s”."},
    )
    concept = forms.ModelChoiceField(
        label="Concept",
        queryset=Concept.objects.none(),
        required=False,
        empty_label="Any concept",
        help_text="Only annotations coded with this concept or a narrower one.",
        error_messages={"invalid_choice": "Choose a concept of this project."},
    )
    limit = forms.IntegerField(
        label="At most",
        required=False,
        min_value=MIN_LIMIT,
        max_value=MAX_LIMIT,
        help_text=f"Nodes, {MIN_LIMIT}–{MAX_LIMIT}; the most connected are kept.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": 5}),
    )

    def __init__(self, query: QueryDict, *, membership: Membership) -> None:
        # An absent parameter means everything, the member's project-wide choice of scope and
        # the default size; a form submitted with every box unticked therefore shows
        # everything rather than nothing.
        defaults = {
            "nodes": NodeType.values,
            "edges": EdgeType.values,
            "scope": [
                Scope.APPROVED
                if membership.approved_only or not can(membership, Action.ANNOTATE)
                else Scope.VISIBLE
            ],
            "limit": [str(DEFAULT_LIMIT)],
        }
        data = query.copy()
        for name, default in defaults.items():
            if not [value for value in data.getlist(name) if value]:
                data.setlist(name, default)
        super().__init__(data)
        self.membership = membership
        self.fields["concept"].queryset = Concept.objects.for_project(membership.project).only(
            "id", "name"
        )
        # Students see approved work only, whatever a shared link says; others choose.
        self.may_choose_scope = can(membership, Action.ANNOTATE)
        if not self.may_choose_scope:
            self.fields["scope"].widget = forms.HiddenInput()

    def concept_choices(self) -> list[tuple[str, str]]:
        """The codebook as (value, label), narrower concepts indented under broader ones."""
        concepts = Concept.objects.for_project(self.membership.project).only(
            "id", "name", "parent_id"
        )
        return [(str(c.pk), f"{'– ' * depth}{c.name}") for c, depth in concept_tree(concepts)]

    def spec(self) -> MapSpec:
        """The map asked for; call after is_valid()."""
        data = self.cleaned_data
        return MapSpec(
            node_types=tuple(v for v in NodeType.values if v in data["nodes"]),
            edge_types=tuple(v for v in EdgeType.values if v in data["edges"]),
            scope=data["scope"] if self.may_choose_scope else Scope.APPROVED,
            concept=data["concept"],
            limit=data["limit"] or DEFAULT_LIMIT,
        )

    def error_text(self) -> str:
        """Every error on one line each, for the exports' 400 answers."""
        return "\n".join(
            f"{self.fields[name].label if name in self.fields else 'Map'}: {message}"
            for name, messages in self.errors.items()
            for message in messages
        )

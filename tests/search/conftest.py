import pytest
from django.urls import reverse

from apps.accounts.models import User
from apps.demo.seed import load_seed_review
from apps.search.models import Kind


@pytest.fixture
def seed(db):
    return load_seed_review().project


@pytest.fixture
def search(client_for):
    """`search(user, project, q="…", kind=…)`: the results page's response."""

    def run(user: User, project, **params):
        response = client_for(user).get(reverse("search:search", args=[project.slug]), params)
        assert response.status_code == 200
        return response

    return run


def found(response, kind: Kind) -> list:
    """The rows listed under `kind` on a results page, best first."""
    results = response.context.get("results")
    if results is None or kind not in results.sections:
        return []
    return [hit.item for hit in results.sections[kind].hits]


def counts(response) -> dict:
    results = response.context.get("results")
    return {} if results is None else {k: s.count for k, s in results.sections.items()}


def facet(response, name: str) -> dict[str, int]:
    results = response.context["results"]
    return dict(results.facets.get(name, []))

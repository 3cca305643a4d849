import datetime

import pytest
from django.test import Client

from apps.api.models import ApiToken
from tests.test_access import world as world  # noqa: F401 (the objects every role opens)


@pytest.fixture
def api_for(db):
    """A JSON client: signed in as `user` through the session, or with a token."""

    def make(user=None, *, token: str | None = None) -> Client:
        headers = {"HTTP_ACCEPT": "application/json"}
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        client = Client(**headers)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def token_for(cast):
    """The secret of a new token of `user` for the cast's project (or `project`)."""

    def make(user, scope: str = "read", project=None, days: int = 30) -> str:
        _, secret = ApiToken.issue(
            user=user,
            project=project or cast.project,
            name=f"{user.username}'s script",
            scope=scope,
            lifetime=datetime.timedelta(days=days),
        )
        return secret

    return make

"""Who is calling the API, and as which member of which project.

A script sends `Authorization: Bearer <token>`; a browser page of the site is recognised by its
session, and its writes need the CSRF token as Django's forms do. A token acts for its user in
its own project only (another project's URLs answer 404, as to an outsider) and within its scope.
What the member may do there is the access policy's answer (apps.accounts.policy), the same as
for the pages.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from apps.accounts.models import Membership
from apps.accounts.policy import Action, can, get_membership
from apps.api.models import ApiToken, digest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The actions (of `actions` lists) each token scope may take; a session may take all.
READ_ONLY = frozenset({"view"})
SCOPE_ACTIONS = {
    "read": READ_ONLY,
    "write": READ_ONLY | {"edit", "delete", "submit", "withdraw"},
    "review": READ_ONLY | {"approve", "request_changes", "reject", "reopen", "restore", "withdraw"},
}


class ApiError(Exception):
    """An answer other than success, with the message the client is shown."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        errors: list[dict] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        # For 400: each refused parameter ({"where": "query.cursor", "message": …}).
        self.errors = errors
        # More of the answer: the current object of a 412, the references of a 409.
        self.body: dict = {}


def unauthorised(message: str) -> ApiError:
    return ApiError(401, message, {"WWW-Authenticate": 'Bearer realm="citemap"'})


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = (
            ApiToken.objects.select_related("user", "project")
            .filter(key_digest=digest(token))
            .first()
        )
        if found is None or not found.user.is_active:
            raise unauthorised("This API token is not valid. Make one on your account's page.")
        if found.is_revoked:
            when = timezone.localtime(found.revoked_at).strftime("%Y-%m-%d %H:%M")
            raise unauthorised(f"This API token was revoked on {when}.")
        if found.is_expired:
            when = timezone.localtime(found.expires_at).strftime("%Y-%m-%d %H:%M")
            raise unauthorised(f"This API token expired on {when}. Make a new one.")
        found.note_use()
        request.user = found.user
        request.api_token = found
        return found


class Session(SessionAuth):
    """The signed-in browser; unsafe methods need the CSRF token (ninja checks it)."""

    def __call__(self, request: HttpRequest):
        request.api_token = None
        if not request.user.is_authenticated:
            return None  # signed out: 401, not a complaint about the CSRF token
        return super().__call__(request)


AUTH = [BearerToken(), Session()]


def token_of(request: HttpRequest) -> ApiToken | None:
    return getattr(request, "api_token", None)


def member(request: HttpRequest, slug: str, action: Action = Action.VIEW) -> Membership:
    """The caller's membership in project `slug`: 404 for outsiders (and for a token of another
    project), 403 without the right, or for a write with a token that may only read."""
    token = token_of(request)
    if token is not None and token.project.slug != slug:
        raise ApiError(404, "No such project.")
    membership = get_membership(request.user, slug)
    if not can(membership, action):
        raise PermissionDenied
    if request.method not in SAFE_METHODS and token is not None:
        needed = "review" if action == Action.REVIEW else "write"
        if token.scope != needed:
            raise ApiError(403, f"This token's scope is “{token.scope}”; this needs “{needed}”.")
    return membership


def permitted(request: HttpRequest, actions: list[str]) -> list[str]:
    """`actions` the policy allows, less those the caller's token may not take."""
    token = token_of(request)
    if token is None:
        return actions
    allowed = SCOPE_ACTIONS[token.scope]
    return [action for action in actions if action in allowed]

"""The access policy: who may see and do what in a project.

Every project view, form, template and the API ask this module; nothing else decides. The rules
are DESIGN.md's role table. Outsiders never learn that a project exists (404); members without a
right get 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse

from apps.accounts.models import Membership, Role

if TYPE_CHECKING:
    from apps.accounts.models import User

# The review status an annotation must have before students see it. The status vocabulary
# belongs to the annotations app (a higher app); the policy only needs this one value.
APPROVED = "approved"


class Action(StrEnum):
    VIEW = "view"  # sources, people, concepts, approved annotations, claims with approved evidence
    EDIT_LIBRARY = "edit_library"  # add/edit sources, people, claims, concepts
    ANNOTATE = "annotate"  # create annotations, edit own while draft or changes requested
    SEE_ALL_ANNOTATIONS = "see_all_annotations"  # everyone's drafts and pending work
    SEE_UNSUPPORTED_CLAIMS = "see_unsupported_claims"  # claims without approved evidence
    REVIEW = "review"  # approve / request changes / reject, reopen approved annotations
    MANAGE = "manage"  # members and project settings
    EXPORT = "export"  # bibliography and approved map
    IMPORT = "import"  # bibliography files into the project's sources
    TRANSFER_PROJECT = "transfer_project"  # whole-project export and import (backups)


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.STUDENT: frozenset({Action.VIEW, Action.EXPORT}),
    Role.ANALYST: frozenset(
        {
            Action.VIEW,
            Action.EXPORT,
            Action.EDIT_LIBRARY,
            Action.IMPORT,
            Action.ANNOTATE,
            Action.SEE_UNSUPPORTED_CLAIMS,
        }
    ),
    Role.SUPERVISOR: frozenset(Action),
}


def can(membership: Membership | None, action: Action) -> bool:
    if membership is None:
        return False
    return action in ROLE_ACTIONS[membership.role]


def approved_annotations_q(prefix: str = "") -> Q:
    """Approved and not withdrawn: what everyone, students included, may see of a project."""
    return Q(**{f"{prefix}status": APPROVED, f"{prefix}withdrawn_at__isnull": True})


@dataclass(frozen=True)
class Blindness:
    """A rule of a higher app that hides passages from some members (apps.agreement: while an
    assignment is open, a coder does not see a co-coder's work, nor a supervisor the coders').
    Registered in that app's AppConfig.ready()."""

    # Whether the rule may hide anything from this member now: asked for every list, so it
    # reads only what is loaded with the membership (its role, its project), never the database.
    applies: Callable[[Membership], bool]
    # The passages the member may still see, as a filter (with the prefix of the relation).
    as_filter: Callable[[Membership, str], Q]
    # Whether it hides this one loaded annotation from the member.
    for_one: Callable[[Membership, Any], bool]
    # A part of the keys of caches of what members see, which changes whenever what the rule
    # hides changes other than by an edit or a review decision (those change the keys anyway).
    key: Callable[[Membership], str] = lambda membership: ""


_blindness: list[Blindness] = []


def register_blindness(rule: Blindness) -> None:
    if rule not in _blindness:
        _blindness.append(rule)


def blindness_for(membership: Membership) -> list[Blindness]:
    """The blindness rules that apply to this member now."""
    return [rule for rule in _blindness if rule.applies(membership)]


def unblinded_q(membership: Membership, prefix: str = "") -> Q:
    """The passages no blindness rule hides from this member (as a filter, prefixed)."""
    shown = Q()
    for rule in blindness_for(membership):
        shown &= rule.as_filter(membership, prefix)
    return shown


def blindness_key(membership: Membership) -> str:
    """What the blindness rules that apply to this member hide now, as a part of cache keys."""
    return "".join(f":{rule.key(membership)}" for rule in blindness_for(membership))


def annotates_blind(membership: Membership) -> bool:
    """Members who annotate but do not see everything: coders, whom a co-coder's work is
    hidden from."""
    return can(membership, Action.ANNOTATE) and not can(membership, Action.SEE_ALL_ANNOTATIONS)


def visible_annotations_q(membership: Membership, prefix: str = "") -> Q:
    """The annotations this member may see, as a filter (prefix it to reach them via a relation).

    Supervisors see everything; analysts see approved work and their own; students see approved
    work only, and so does anyone who chose the "approved only" scope. Blindness rules
    (`Blindness`) then hide some passages from coders, and from supervisors while double coding
    is under way. Withdrawn annotations are
    in nobody's lists, and only the member's own project counts, whatever relation leads to the
    annotation. `can_see_annotation` below is the same rule for one loaded row (a page opened
    directly shows what the member may see, whatever the scope of the lists).
    """
    shown = Q(
        **{f"{prefix}withdrawn_at__isnull": True, f"{prefix}project_id": membership.project_id}
    )
    shown &= unblinded_q(membership, prefix)
    if membership.approved_only:
        return shown & approved_annotations_q(prefix)
    if can(membership, Action.SEE_ALL_ANNOTATIONS):
        return shown
    approved = Q(**{f"{prefix}status": APPROVED})
    if can(membership, Action.ANNOTATE):
        return shown & (approved | Q(**{f"{prefix}author_id": membership.user_id}))
    return shown & approved


def visible_tombstones_q(membership: Membership) -> Q:
    """The tombstones (…/deleted/) this member may read: only of objects they could have seen.

    Sources, people and concepts are everybody's. A claim's or annotation's tombstone says
    whether readers of approved work only could see it then (`approved`; for a claim: it had
    approved evidence) and, for annotations, its author. So students (and anyone choosing the
    approved scope) hear only of approved work going away, including work that stopped being
    approved; analysts also of their own annotations; supervisors of everything, except
    "unapproved", which for them is a change of status (the row is still in their lists).
    """
    mine = Q(project_id=membership.project_id)
    everybodys = Q(kind__in=["source", "person", "concept"])
    gone = ~Q(reason="unapproved")
    if membership.approved_only or not can(membership, Action.ANNOTATE):
        return mine & (everybodys | Q(approved=True))
    if can(membership, Action.SEE_ALL_ANNOTATIONS):
        return mine & gone
    own = Q(author_id=membership.user_id)
    claims = Q(kind="claim") & gone
    annotations = Q(kind="annotation") & (
        (gone & (Q(approved=True) | own)) | (Q(reason="unapproved") & ~own)
    )
    return mine & (everybodys | claims | annotations)


def tally_scope(membership: Membership) -> str | None:
    """Which column of the project's tallies counts exactly what this member sees: "approved"
    (students, and anyone reading approved work only), "visible" (supervisors: everything not
    withdrawn), or None when nothing stored does (analysts see approved work plus their own,
    and blindness may hide a co-coder's passages from them; supervisors too while an open
    assignment hides its coders' passages from them), so the count is made live."""
    if blindness_for(membership):
        return None
    if membership.approved_only or not can(membership, Action.ANNOTATE):
        return "approved"
    if can(membership, Action.SEE_ALL_ANNOTATIONS):
        return "visible"
    return None


def can_see_annotation(membership: Membership, annotation: Any) -> bool:
    if annotation.withdrawn_at is not None or annotation.project_id != membership.project_id:
        return False
    if any(rule.for_one(membership, annotation) for rule in blindness_for(membership)):
        return False
    if can(membership, Action.SEE_ALL_ANNOTATIONS):
        return True
    if annotation.status == APPROVED:
        return True
    return can(membership, Action.ANNOTATE) and annotation.author_id == membership.user_id


def can_see_withdrawn(membership: Membership, annotation: Any) -> bool:
    """A withdrawn annotation stays reachable for supervisors (to restore) and its author,
    unless double coding hides it from the supervisor for now."""
    if annotation.author_id == membership.user_id:
        return True
    if not can(membership, Action.REVIEW):
        return False
    return not any(rule.for_one(membership, annotation) for rule in blindness_for(membership))


def can_see_review_history(membership: Membership, annotation: Any) -> bool:
    if can(membership, Action.SEE_ALL_ANNOTATIONS):
        return True
    if annotation.author_id == membership.user_id:
        return True
    return membership.project.students_see_history and can_see_annotation(membership, annotation)


class Permissions:
    """Attribute access to `can()` for templates, which cannot pass arguments."""

    def __init__(self, membership: Membership) -> None:
        self._membership = membership

    def __getattr__(self, name: str) -> bool:
        try:
            action = Action(name)
        except ValueError:
            raise AttributeError(name) from None
        return can(self._membership, action)


class Scope(StrEnum):
    """What lists, counts and maps show to members who may see unapproved work."""

    VISIBLE = "visible"  # everything the member may see
    APPROVED = "approved"  # approved work only, as students see it


SCOPE_SESSION_KEY = "scope"


def apply_scope(request: HttpRequest, membership: Membership) -> None:
    """Narrow `membership` to approved work when the member chose so.

    The choice is kept per project in the session (set_scope); a `scope` query parameter
    overrides it for one request, so a link can say what it shows.
    """
    if not can(membership, Action.ANNOTATE):
        return  # students only ever see approved work
    chosen = request.GET.get("scope") or request.session.get(SCOPE_SESSION_KEY, {}).get(
        membership.project.slug
    )
    membership.approved_only = chosen == Scope.APPROVED


def get_membership(user: User, slug: str) -> Membership:
    """The user's membership in project `slug`, with its project; 404 for anyone else."""
    if not user.is_authenticated:
        raise Http404
    try:
        return Membership.objects.select_related("project", "user").get(
            user=user, project__slug=slug
        )
    except Membership.DoesNotExist:
        raise Http404("No such project.") from None


ProjectView = Callable[..., HttpResponse]


def project_view(action: Action = Action.VIEW) -> Callable[[ProjectView], ProjectView]:
    """Resolve `slug` to the member's Membership, check `action`, pass it on as `membership`.

    Every view under /p/<slug>/ is wrapped in this; a test walks the URL conf to make sure.
    """

    def decorator(view: ProjectView) -> ProjectView:
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = get_membership(request.user, slug)
            if not can(membership, action):
                raise PermissionDenied
            apply_scope(request, membership)
            return view(request, membership, *args, **kwargs)

        wrapper.project_action = action  # type: ignore[attr-defined]
        return wrapper

    return decorator

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import can_see_annotation, can_see_review_history, project_view
from apps.annotations.models import Annotation


def get_annotation_for_user(membership: Membership, pk: int) -> Annotation:
    """404 when the annotation is not in the member's project, 403 when they may not see it."""
    annotation = (
        Annotation.objects.for_project(membership.project).with_list_data().filter(pk=pk).first()
    )
    if annotation is None:
        raise Http404("No such annotation in this project.")
    if not can_see_annotation(membership, annotation):
        raise PermissionDenied
    return annotation


@require_safe
@project_view()
def annotation_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    annotation = get_annotation_for_user(membership, pk)
    history = None
    if can_see_review_history(membership, annotation):
        history = annotation.review_events.select_related("actor")
    return render(
        request,
        "annotations/annotation_detail.html",
        {
            "membership": membership,
            "project": membership.project,
            "annotation": annotation,
            "history": history,
        },
    )

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("project").order_by("project__name")
    return render(request, "accounts/project_list.html", {"memberships": memberships})

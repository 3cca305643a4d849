from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

PREFIX = "/api/"
MESSAGES = {
    400: "Bad request.",
    404: "Not found: no such address in the API.",
    405: "This address does not take that method.",
}


class ApiJsonMiddleware:
    """The API answers in JSON, also the errors no API view wrote: an address that matches no
    route (Django's 404), a method a route does not take (405), a request refused before routing
    (a NUL character: 400), a body over the size limit (413)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        try:
            # Read (and keep) the body now: middleware after this one parses forms from the
            # stream, and the API could then no longer read it.
            request.body  # noqa: B018
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            message = f"The request body is larger than the limit of {limit:,} bytes."
            body = {"detail": message, "errors": [{"where": "body", "message": message}]}
            return JsonResponse(body, status=413)
        response = self.get_response(request)
        if response.status_code < 400 or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        return _as_json(request, response)


def _as_json(request: HttpRequest, response: HttpResponse) -> JsonResponse:
    message = MESSAGES.get(response.status_code, "The request failed.")
    if response.status_code == 405 and response.has_header("Allow"):
        message = f"This address does not take {request.method}; it takes {response['Allow']}."
    elif response.status_code == 400 and not response.streaming and response.content:
        text = response.content.decode(errors="replace")
        if "<" not in text and len(text) < 300:
            message = text if text.endswith(".") else text + "."
    body = {"detail": message}
    if response.status_code == 400:  # as the API's own 400s: what was refused
        body["errors"] = [{"where": "request", "message": message}]
    replacement = JsonResponse(body, status=response.status_code)
    for header in ("Allow", "WWW-Authenticate"):
        if header in response:
            replacement[header] = response[header]
    return replacement

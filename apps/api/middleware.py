import hashlib
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.accounts.throttling import client_address

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
        if (refused := over_the_rate(request)) is not None:
            return refused
        if request.method == "HEAD":
            return head_as_get(request, self.get_response)
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


WINDOW = 60  # seconds


def caller_key(request: HttpRequest) -> tuple[str, str]:
    """Who is counted: the token sent, else the browser's session, else the client's address
    (this runs before authentication: what is counted is what the request carries)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        return "token", hashlib.sha256(header.encode(errors="replace")).hexdigest()[:32]
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if session:
        return "session", hashlib.sha256(session.encode(errors="replace")).hexdigest()[:32]
    return "address", client_address(request) or "unknown"


def over_the_rate(request: HttpRequest) -> JsonResponse | None:
    """429 with Retry-After once a caller has made API_REQUESTS_PER_MINUTE requests within
    the minute; counted in the cache, which every app process shares where it is Redis."""
    limit = settings.API_REQUESTS_PER_MINUTE
    if not limit:
        return None
    now = time.time()
    window = int(now // WINDOW)
    kind, who = caller_key(request)
    key = f"api-rate:{kind}:{who}:{window}"
    cache.add(key, 0, timeout=WINDOW * 2)
    try:
        made = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW * 2)
        made = 1
    if made <= limit:
        return None
    wait = max(1, math.ceil((window + 1) * WINDOW - now))
    whom = {"token": "this token", "session": "your session", "address": "your address"}[kind]
    message = (
        f"Too many requests: at most {limit:,} a minute for {whom}. Try again in {wait} "
        f"second{'s' if wait != 1 else ''}."
    )
    response = JsonResponse({"detail": message}, status=429)
    response["Retry-After"] = str(wait)
    return response


def head_as_get(request: HttpRequest, get_response) -> HttpResponse:
    """HEAD as HTTP says: the headers GET would answer (Content-Length, Link, ETag…), without
    the body. The routes are declared for GET only; a route without GET still answers 405."""
    request.method = "GET"
    response = get_response(request)
    request.method = "HEAD"
    if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
        "application/json"
    ):
        response = _as_json(request, response)
    if response.status_code == 405 or response.streaming:
        return response
    length = len(response.content)
    response.content = b""
    response["Content-Length"] = str(length)
    return response

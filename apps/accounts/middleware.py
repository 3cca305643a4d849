from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


class RejectNullCharactersMiddleware:
    """Refuse query strings and form data that contain NUL characters.

    No field has a use for them, PostgreSQL cannot store them in text, and refusing them here
    means no view can pass one to the database and fail with a server error.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or _contains_nul(request.GET):
            return HttpResponseBadRequest("The request contains a NUL character.")
        if (
            request.method == "POST"
            and request.content_type
            in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            )
            and _contains_nul(request.POST)
        ):
            return HttpResponseBadRequest("The form contains a NUL character.")
        return self.get_response(request)


def _contains_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())

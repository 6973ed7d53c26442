"""Input no field can hold: a request carrying a NUL character is refused with 400 before any view.

PostgreSQL text cannot store NUL (U+0000), so a NUL that reached a query failed in the database
driver as a server error. No real path, query or form value, cookie or JSON string carries one.
"""

import json
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

NUL = "\x00"
API_PREFIX = "/api/"
REFUSAL = (
    "The request contains a NUL character (%00 or \\u0000), which no field accepts. "
    "Nothing was saved."
)


class RefuseNulMiddleware:
    """Answer 400 to a NUL in the path, a query or form value, a cookie or an API JSON body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not carries_nul(request):
            return self.get_response(request)
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"detail": REFUSAL}, status=400)
        return render(request, "400.html", {"reason": REFUSAL}, status=400)


def carries_nul(request: HttpRequest) -> bool:
    """Return whether any part of the request a view may read holds a NUL character."""
    if NUL in request.path or NUL in request.path_info:
        return True
    if _any_nul(request.GET.lists()) or _any_nul(request.COOKIES.items()):
        return True
    if request.path.startswith(API_PREFIX):
        # The API parses a body as JSON whatever its Content-Type says, so it is read as JSON
        # here too; reading it as a form would also use up the stream the API reads after.
        return _json_body_has_nul(request)
    if request.method == "POST":
        if _any_nul(request.POST.lists()):
            return True
        for name, uploads in request.FILES.lists():
            if NUL in name or any(NUL in (upload.name or "") for upload in uploads):
                return True
    return False


def _any_nul(pairs: Iterable[tuple[str, str | list[str]]]) -> bool:
    return any(
        NUL in key
        or any(NUL in value for value in ([values] if isinstance(values, str) else values))
        for key, values in pairs
    )


def _json_body_has_nul(request: HttpRequest) -> bool:
    if not request.body:
        return False
    try:
        document = json.loads(request.body)
    except (ValueError, RecursionError):
        # Not JSON we can read: the API refuses it itself, with its own 400 or 422.
        return False
    # A walk with a stack of our own: a deeply nested document must not exhaust Python's.
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and NUL in value:
            return True
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False

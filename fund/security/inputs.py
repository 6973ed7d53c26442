"""Input no field can hold: a request carrying a NUL character is refused with 400 before any view.

PostgreSQL text cannot store NUL (U+0000), so a NUL that reached a query failed in the database
driver as a server error. No real path, query or form value, cookie or JSON string carries one.
"""

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

NUL = "\x00"
API_PREFIX = "/api/"
REFUSAL = (
    "The request contains a NUL character (%00 or \\u0000), which no field accepts. "
    "Nothing was saved."
)
NOT_A_KEY = "The selection names a record that cannot exist. Nothing was changed."


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


def checked_admin_selections(admin_view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap AdminSite.admin_view so that an action on records whose key cannot exist is a 400.

    Django's admin filters the list by the posted keys as they are, and a key of the wrong type
    ("abc" for a number) raised there, a server error.
    """

    def wrap(view: Callable[..., HttpResponse], cacheable: bool = False) -> Callable[..., Any]:
        wrapped: Callable[..., HttpResponse] = admin_view(view, cacheable)
        model: type[Model] | None = getattr(getattr(view, "__self__", None), "model", None)
        if model is None:
            return wrapped

        @functools.wraps(wrapped)
        def refusing(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            selected = (
                request.POST.getlist(ACTION_CHECKBOX_NAME) if request.method == "POST" else []
            )
            if not all(_is_key(model, value) for value in selected):
                return render(request, "400.html", {"reason": NOT_A_KEY}, status=400)
            response: HttpResponse = wrapped(request, *args, **kwargs)
            return response

        return refusing

    return wrap


def _is_key(model: type[Model], value: str) -> bool:
    field = model._meta.pk
    if field is None:  # an abstract model: no list of records to act on
        return False
    try:
        field.run_validators(field.to_python(value))
    except ValidationError:
        return False
    return True

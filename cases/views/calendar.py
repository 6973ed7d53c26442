"""The coordinator's hearing calendar, served to calendar apps at a secret address."""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from cases.calendar import calendar_for_token


@require_safe
def hearing_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Answer the iCalendar feed of a calendar address; unknown or revoked is a 404."""
    body = calendar_for_token(token)
    if body is None:
        raise Http404("No such calendar.")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response

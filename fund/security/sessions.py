"""The idle timeout: a session ends SESSION_COOKIE_AGE after its last request.

Django can save the session on every request (SESSION_SAVE_EVERY_REQUEST), which costs every page
a database write and a commit. Renewing it at most once a minute instead ends an idle session
between 29 and 30 minutes (of 30) after its last request, for one write a minute.
"""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

RENEWED = "_idle_renewed_at"
RENEW_AFTER_SECONDS = 60


class IdleTimeoutMiddleware:
    """Renew a session's expiry when its last renewal is a minute old or more."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = request.session
        # No session (or one just flushed by signing out): nothing to keep alive.
        if session.is_empty():
            return response
        now = int(time.time())
        renewed = session.get(RENEWED)
        if not isinstance(renewed, int) or now - renewed >= RENEW_AFTER_SECONDS:
            session[RENEWED] = now  # modified: SessionMiddleware saves it with a new expiry
        return response

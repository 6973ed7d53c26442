"""Authentication for the ninja API: bearer tokens for staff tools, sessions for the browser."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from ninja.security import HttpBearer, SessionAuth

from fund.middleware import has_second_factor
from fund.roles import Role, has_role
from fund.tokens import user_for_token


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` as printed by `manage.py issue_api_token`."""

    def authenticate(self, request: HttpRequest, token: str) -> AbstractBaseUser | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


bearer = BearerToken()


class SessionWithSecondFactor(SessionAuth):
    """A browser session, accepted only once its user has enrolled a second factor."""

    def authenticate(self, request: HttpRequest, key: str | None) -> AbstractBaseUser | None:
        user = super().authenticate(request, key)
        if user is None or not has_second_factor(user):
            return None
        return user


session_with_second_factor = SessionWithSecondFactor()


class StaffDocsAccess:
    """The OpenAPI docs are for signed-in staff only."""

    @staticmethod
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            from django.contrib.auth.views import redirect_to_login
            from django.core.exceptions import PermissionDenied

            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *Role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

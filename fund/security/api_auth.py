"""Authentication for the ninja API: bearer tokens for staff tools, sessions for the browser."""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer, SessionAuth
from ninja.security.base import AuthBase

from fund.security.mfa import has_second_factor
from fund.security.roles import Role, has_role
from fund.security.tokens import user_for_token


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` as printed by `manage.py issue_api_token`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


bearer = BearerToken()


class SessionWithSecondFactor(SessionAuth):
    """A browser session, accepted only once its user has enrolled a second factor."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user: User | None = super().authenticate(request, key)
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


# The same credentials as above, admitted only for users holding one of the given roles.
class RoleBearerToken(BearerToken):
    def __init__(self, roles: Iterable[Role]) -> None:
        super().__init__()
        self.roles = tuple(roles)

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return _admit(super().authenticate(request, token), self.roles)


class RoleSessionWithSecondFactor(SessionWithSecondFactor):
    def __init__(self, roles: Iterable[Role]) -> None:
        super().__init__()
        self.roles = tuple(roles)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        return _admit(super().authenticate(request, key), self.roles)


def _admit(user: User | None, roles: tuple[Role, ...]) -> User | None:
    # Unknown credentials fall through to the next method (and finally 401); known staff without
    # the role are refused outright (403).
    if user is not None and not has_role(user, *roles):
        raise AuthorizationError(message="Your role does not allow this.")
    return user


def staff_auth(*roles: Role) -> list[AuthBase]:
    """Return API auth admitting a bearer token or an MFA session of a user holding a role."""
    return [RoleBearerToken(roles), RoleSessionWithSecondFactor(roles)]

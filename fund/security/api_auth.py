"""Authentication for the ninja API: bearer tokens for staff tools, sessions for the browser."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer, SessionAuth
from ninja.security.base import AuthBase

from fund.security.mfa import has_second_factor
from fund.security.roles import STAFF, Permission
from fund.security.tokens import user_for_token


class ApiRequest(HttpRequest):
    """A request that passed API authentication: `auth` is the staff user it belongs to."""

    auth: User


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` as printed by `manage.py issue_api_token`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class SessionWithSecondFactor(SessionAuth):
    """A browser session, accepted only once its user has enrolled a second factor."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user: User | None = super().authenticate(request, key)
        if user is None or not has_second_factor(user):
            return None
        return user


# The same credentials as above, admitted only for users the permission admits.
class PermittedBearerToken(BearerToken):
    def __init__(self, permission: Permission) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return _admit(super().authenticate(request, token), self.permission)


class PermittedSession(SessionWithSecondFactor):
    def __init__(self, permission: Permission) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        return _admit(super().authenticate(request, key), self.permission)


def _admit(user: User | None, permission: Permission) -> User | None:
    # Unknown credentials fall through to the next method (and finally 401); known staff without
    # the permission are refused outright (403).
    if user is not None and not permission.allows(user):
        raise AuthorizationError(message=permission.refusal)
    return user


def staff_auth(permission: Permission = STAFF) -> list[AuthBase]:
    """Return API auth admitting a bearer token or an MFA session the permission admits."""
    return [PermittedBearerToken(permission), PermittedSession(permission)]

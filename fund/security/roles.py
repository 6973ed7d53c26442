"""Staff roles: Django groups created by a migration, checked by views and API operations."""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


class Role(StrEnum):
    COORDINATOR = "coordinator"
    TREASURER = "treasurer"
    AUDITOR = "auditor"
    ADMIN = "admin"


# The legal director is a coordinator who also holds this permission.
VIEW_ALL_CASES = "cases.view_all_cases"


def roles_of(user: User | AnonymousUser) -> frozenset[Role]:
    """Return the roles a user holds (superusers hold admin)."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, "_fund_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(role for role in Role if role.value in names)
        if user.is_superuser:
            cached = cached | {Role.ADMIN}
        user._fund_roles = cached  # type: ignore[attr-defined]  # a per-request cache
    return cached


def has_role(user: User | AnonymousUser, *roles: Role) -> bool:
    """Return whether the user holds any of the given roles."""
    return bool(roles_of(user).intersection(roles))


def role_required(
    *roles: Role,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Restrict a view to signed-in staff holding one of the roles (others get 403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator

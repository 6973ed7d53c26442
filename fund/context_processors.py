"""Template context shared by every page."""

from django.http import HttpRequest

from fund.security.roles import Role, roles_of


def navigation(request: HttpRequest) -> dict[str, object]:
    """Expose the signed-in user's roles so the base layout can show their navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"staff_roles": frozenset()}
    return {"staff_roles": roles_of(user), "Role": Role}

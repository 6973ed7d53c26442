"""Template context shared by every page."""

from django.http import HttpRequest

from fund.security.roles import permissions_of


def navigation(request: HttpRequest) -> dict[str, object]:
    """Expose what the signed-in user may do, by permission name: {% if may.read_ledger %}."""
    user = getattr(request, "user", None)
    if user is None:
        return {"may": {}}
    return {"may": permissions_of(user)}

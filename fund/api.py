"""The ninja API root: /api/v1/. Apps' routers are mounted by dotted path."""

from django.http import HttpRequest
from ninja import NinjaAPI, Schema

from fund.auth import StaffDocsAccess, bearer, session_with_second_factor
from fund.roles import roles_of

STAFF_AUTH = [bearer, session_with_second_factor]

api = NinjaAPI(
    title="Defense Fund API",
    version="1",
    urls_namespace="api",
    docs_decorator=StaffDocsAccess.decorator,
)


class MeOut(Schema):
    username: str
    roles: list[str]


@api.get("/me", response=MeOut, auth=STAFF_AUTH, tags=["staff"])
def me(request: HttpRequest) -> dict[str, object]:
    """Return who the token or session belongs to, and their roles."""
    user = request.auth  # type: ignore[attr-defined]
    return {"username": user.get_username(), "roles": sorted(roles_of(user))}

"""The ninja API root, /api/v1/: each app's router is mounted and its errors mapped by path."""

from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from ninja import NinjaAPI, Schema

from fund.security.api_auth import ApiRequest, staff_auth
from fund.security.roles import STAFF, role_required, roles_of

api = NinjaAPI(
    title="Defense Fund API",
    version="1",
    urls_namespace="api",
    docs_decorator=role_required(STAFF),
)


class MeOut(Schema):
    username: str
    roles: list[str]


@api.get("/me", response=MeOut, auth=staff_auth(STAFF), tags=["staff"])
def me(request: ApiRequest) -> dict[str, object]:
    """Return who the token or session belongs to, and their roles."""
    return {"username": request.auth.get_username(), "roles": sorted(roles_of(request.auth))}


# Each app's errors, named by dotted path (fund imports no other app), and the HTTP status they
# answer with as {"detail": message}. An error takes the status of its most specific listed class.
ERROR_STATUSES: dict[str, int] = {
    "fund.errors.FundError": 400,
    "fund.errors.IdempotencyConflict": 409,
    "fund.errors.AlreadyReversed": 409,
    "fund.errors.NotAllowed": 403,
}
_statuses: dict[type[Exception], int] = {
    import_string(path): code for path, code in ERROR_STATUSES.items()
}


def refuse(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Answer a refused operation with its status and its message, which is safe to show."""
    status = next(_statuses[cls] for cls in type(exc).__mro__ if cls in _statuses)
    return api.create_response(request, {"detail": str(exc)}, status=status)


for _error_class in _statuses:
    api.add_exception_handler(_error_class, refuse)  # type: ignore[arg-type]  # stub wants classes too

api.add_router("/", "fund.ledger.api.router")

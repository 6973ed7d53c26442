"""The ninja API root, /api/v1/: each app's router is mounted and its errors mapped by path."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from ninja import NinjaAPI, Schema

from fund.schemas import answers
from fund.security.api_auth import ApiRequest, staff_auth
from fund.security.roles import STAFF, role_required, roles_of
from fund.security.tokens import user_for_token


def staff_docs(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve the schema and its docs to staff: with a bearer token, or signed in in a browser."""
    for_session = role_required(STAFF)(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return for_session(request, *args, **kwargs)
        user = user_for_token(token.strip())
        if user is None:
            return JsonResponse(
                {"detail": "Unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        if not STAFF.allows(user):
            return JsonResponse({"detail": STAFF.refusal}, status=403)
        request.user = user
        return view(request, *args, **kwargs)

    return wrapper


api = NinjaAPI(
    title="Defense Fund API",
    version="1",
    urls_namespace="api",
    docs_decorator=staff_docs,
)


class MeOut(Schema):
    username: str
    roles: list[str]


@api.get("/me", response=answers(MeOut, 400, 401, 403), auth=staff_auth(STAFF), tags=["staff"])
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
    "donations.errors.DonationError": 400,
    "donations.errors.GiftNotFound": 404,
    "cases.errors.CaseError": 400,
    "cases.errors.CaseNotFound": 404,
    "cases.errors.SelfApproval": 403,
    "cases.errors.DetailsChanged": 409,
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
api.add_router("/", "donations.api.router")
api.add_router("/", "cases.api.router")
api.add_router("/", "fund.reports.api.router")

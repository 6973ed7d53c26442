"""What every app's API shares: the error shapes, the statuses an operation declares, and bounded
pagination.

Every refusal is `{"detail": "why"}` (fund.api maps each app's errors to it once; ninja answers
401, 403 and 404 the same way); a request that fails validation is 422 with ninja's list of
problems. An operation declares each status it can answer with `answers(...)`, so the OpenAPI
schema says what the API really does.
"""

from typing import Any

from ninja import Field, Schema
from ninja.conf import settings
from ninja.pagination import LimitOffsetPagination


class ErrorOut(Schema):
    """A refused request: why, in words safe to show."""

    detail: str = Field(..., description="Why the request was refused.")


class ValidationProblem(Schema):
    """One parameter that did not validate (pydantic's error, as ninja reports it)."""

    type: str = Field(..., description="The kind of problem, e.g. greater_than_equal.")
    loc: list[str | int] = Field(..., description='Where: e.g. ["query", "offset"].')
    msg: str = Field(..., description="What is wrong, in words.")


class ValidationErrorOut(Schema):
    """A request whose parameters did not validate."""

    detail: list[ValidationProblem]


ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,  # refused input or operation (a NUL character, an unknown account, a FundError)
    401: ErrorOut,  # no credentials, or a token that is unknown, revoked or expired
    403: ErrorOut,  # staff without the permission
    404: ErrorOut,  # no such fund, or not one this caller may see
    409: ErrorOut,  # an idempotency key reused with another payload, a second reversal
    422: ValidationErrorOut,  # parameters out of range or of the wrong type
}


def answers(result: Any, *statuses: int) -> dict[int, Any]:
    """Return an operation's responses: `result` with 200, and the error shape of each status."""
    return {200: result, **{status: ERRORS[status] for status in statuses}}


# Far beyond any fund's count of transactions, far below the database's bigint.
MAX_OFFSET = 10**9
MAX_LIMIT = 500


class LimitOffset(LimitOffsetPagination):
    """`limit` and `offset` bounded, so no number reaches the database out of its range (422)."""

    class Input(Schema):
        limit: int = Field(settings.PAGINATION_PER_PAGE, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)

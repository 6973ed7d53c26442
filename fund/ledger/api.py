"""The ledger's API: public goal progress, and read-only books for treasurers and auditors.

Mounted at /api/v1/ by fund.api. Nothing here posts: money moves through the screens and services.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from fund.ledger.dates import BOOK_DAY_PATTERN, FIRST_BOOK_DAY, LAST_BOOK_DAY
from fund.ledger.models import Account, Fund, Posting, Transaction, TransactionKind
from fund.ledger.progress import Progress, fund_progress, get_public_fund
from fund.ledger.queries import (
    TrialBalance,
    get_account,
    get_fund,
    list_accounts,
    list_funds,
    list_transactions,
    trial_balance,
)
from fund.ledger.verify import Verification, verify_funds
from fund.schemas import LimitOffset, answers
from fund.security.api_auth import ApiRequest, staff_auth
from fund.security.roles import LEDGER_READERS

router = Router(tags=["ledger"])
READ_LEDGER = staff_auth(LEDGER_READERS)

_BOOK_DAYS = f"{FIRST_BOOK_DAY:%Y-%m-%d} to {LAST_BOOK_DAY:%Y-%m-%d}"


def book_day(description: str) -> Any:
    """Return the field of an optional date filter: a day the books take (any other is a 422)."""
    return Field(
        ge=FIRST_BOOK_DAY,
        le=LAST_BOOK_DAY,
        description=f"{description} (YYYY-MM-DD, {_BOOK_DAYS}).",
        json_schema_extra={"pattern": BOOK_DAY_PATTERN},
    )


class ProgressOut(Schema):
    """A fund's public figures in minor units of its currency. They add up: available = raised
    - fees + interest + adjustments - spent - in_bonds - committed."""

    fund: str
    currency: str
    goal: int
    raised: int
    spent: int
    in_bonds: int
    available: int
    gifts: int
    cases_supported: int
    gifts_gross: int = Field(..., description="Gifts received, before refunds and disputes.")
    refunds: int
    disputes: int = Field(..., description="Lost to card disputes (disputes won come back).")
    fees: int = Field(..., description="Card processing fees.")
    interest: int = Field(..., description="Interest on bonds returned.")
    adjustments: int = Field(..., description="Opening balances and other adjustments.")
    committed: int = Field(..., description="Set aside for approved payments not yet paid.")


class FundOut(Schema):
    slug: str
    name: str
    currency: str
    goal: int = Field(..., description="Minor units.")
    restricted: bool
    tax_status: str
    is_public: bool
    opened_on: date = Field(..., description="The first day of the fund's books.")
    closed_through: date | None = Field(None, description="The books are closed through this day.")

    @staticmethod
    def resolve_goal(obj: Fund) -> int:
        return obj.goal_cents

    @staticmethod
    def resolve_closed_through(obj: Fund) -> date | None:
        return obj.head.closed_through


class AccountOut(Schema):
    code: str
    name: str
    kind: str
    role: str
    balance: int = Field(..., description="Minor units, debit positive.")

    @staticmethod
    def resolve_balance(obj: Account) -> int:
        return obj.balance_cents


class PostingOut(Schema):
    account: str = Field(..., alias="account.code", description="Account code.")
    amount: int = Field(
        ..., alias="amount_cents", description="Minor units, debit positive, credit negative."
    )
    balance_after: int = Field(..., alias="balance_after_cents")


class TransactionOut(Schema):
    reference: str
    effective_date: date
    kind: str
    memo: str
    reason: str
    source_ref: str
    case_ref: str = Field(..., description="Pseudonymous case reference, if any.")
    recorded_at: datetime
    recorded_by: str | None = Field(None, description="Username of the staff member; null: system.")
    idempotency_key: str
    prev_hash: str
    hash: str
    reverses: str | None = Field(None, description="Reference of the reversed transaction.")
    postings: list[PostingOut]

    @staticmethod
    def resolve_recorded_by(obj: Transaction) -> str | None:
        return obj.recorded_by.get_username() if obj.recorded_by is not None else None

    @staticmethod
    def resolve_reverses(obj: Transaction) -> str | None:
        return obj.reverses.reference if obj.reverses is not None else None

    @staticmethod
    def resolve_postings(obj: Transaction) -> Iterable[Posting]:
        return obj.postings.all()


class TransactionFilter(Schema):
    start: Annotated[date | None, book_day("First effective date")] = None
    end: Annotated[date | None, book_day("Last effective date")] = None
    kind: TransactionKind | None = None
    account: str | None = Field(None, description="Account code, e.g. 1010.")


class TrialBalanceDay(Schema):
    on: Annotated[date | None, book_day("End of this day")] = None


class TrialBalanceRowOut(Schema):
    code: str = Field(..., alias="account.code")
    name: str = Field(..., alias="account.name")
    kind: str = Field(..., alias="account.kind")
    role: str = Field(..., alias="account.role")
    debit: int = Field(..., alias="debit_cents")
    credit: int = Field(..., alias="credit_cents")
    balance: int = Field(..., alias="balance_cents")


class TrialBalanceOut(Schema):
    fund: str = Field(..., alias="fund.slug")
    currency: str = Field(..., alias="fund.currency")
    on: date | None = Field(None, description="End of this day; null for the current balances.")
    rows: list[TrialBalanceRowOut]
    total_debits: int
    total_credits: int


class CountsOut(Schema):
    transactions: int
    postings: int


class ProblemOut(Schema):
    reference: str = Field(..., description="The transaction it concerns; empty for the fund.")
    what: str


class FundVerificationOut(Schema):
    fund: str
    ok: bool
    chain_head: str
    counts: CountsOut
    problem: str = Field(..., description="The first problem found; empty when the books hold.")
    bad_transaction: str = Field(..., description="The first transaction with a problem.")
    problems: list[ProblemOut]
    more_problems: int = Field(..., description="Problems found beyond those listed.")
    seals_checked: int

    @staticmethod
    def resolve_counts(obj: Verification) -> dict[str, int]:
        return {"transactions": obj.transactions, "postings": obj.postings}


class VerificationOut(Schema):
    ok: bool
    funds: list[FundVerificationOut]


@router.get(
    "/funds/{slug}/progress", response=answers(ProgressOut, 400, 404), auth=None, tags=["public"]
)
def progress(request: HttpRequest, slug: str) -> Progress:
    """Return a public fund's goal progress (no sign-in needed)."""
    return fund_progress(get_public_fund(slug))


@router.get("/funds", response=answers(list[FundOut], 400, 401, 403), auth=READ_LEDGER)
def funds(request: ApiRequest) -> QuerySet[Fund]:
    """List every fund, public or not."""
    return list_funds()


@router.get(
    "/funds/{slug}/accounts",
    response=answers(list[AccountOut], 400, 401, 403, 404),
    auth=READ_LEDGER,
)
def accounts(request: ApiRequest, slug: str) -> QuerySet[Account]:
    """List the fund's chart of accounts with current balances."""
    return list_accounts(get_fund(slug))


@router.get(
    "/funds/{slug}/transactions",
    response=answers(list[TransactionOut], 400, 401, 403, 404, 422),
    auth=READ_LEDGER,
)
@paginate(LimitOffset)
def transactions(
    request: ApiRequest, slug: str, filters: Query[TransactionFilter]
) -> QuerySet[Transaction]:
    """List the fund's transactions with their postings, newest first."""
    fund = get_fund(slug)
    if filters.start and filters.end and filters.start > filters.end:
        raise HttpError(400, "start must be on or before end.")
    account = None
    if filters.account:
        try:
            account = get_account(fund, filters.account)
        except Http404:
            raise HttpError(400, f"Fund {fund.slug} has no account {filters.account}.") from None
    return list_transactions(
        fund,
        start=filters.start,
        end=filters.end,
        kind=filters.kind,
        account=account,
        with_postings=True,
    )


@router.get(
    "/funds/{slug}/trial-balance",
    response=answers(TrialBalanceOut, 400, 401, 403, 404, 422),
    auth=READ_LEDGER,
)
def trial_balance_of(request: ApiRequest, slug: str, when: Query[TrialBalanceDay]) -> TrialBalance:
    """Return every account's balance, now or at the end of a day, with total debits and credits."""
    return trial_balance(get_fund(slug), on=when.on)


@router.get(
    "/ledger/verify", response=answers(VerificationOut, 400, 401, 403, 404), auth=READ_LEDGER
)
def verify(request: ApiRequest, fund: str | None = None) -> dict[str, object]:
    """Recompute the hash chain, zero-sums and balances of one fund (by slug) or of all funds."""
    results = verify_funds([get_fund(fund)] if fund else None)
    return {"ok": all(result.ok for result in results), "funds": results}

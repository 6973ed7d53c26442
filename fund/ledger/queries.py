"""Reads of the ledger: balances, figures for the public page, lists for the treasurer screens.

Current balances and progress are O(1) in the size of the ledger: they read stored balances and
counters. Balances as of a date read monthly checkpoints plus the postings of that one month.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fund.ledger.models import (
    Account,
    AccountMonth,
    Fund,
    Period,
    PeriodChange,
    Posting,
    Transaction,
)

Role = Account.Role

CASH_ROLES = frozenset({Role.STRIPE_CLEARING, Role.BANK, Role.UNDEPOSITED})
RAISED_ROLES = frozenset({Role.CONTRIBUTIONS, Role.REFUNDS, Role.DISPUTES})
PROGRAM_ROLES = (Role.ATTORNEY_FEES, Role.FILING_FEES, Role.FAMILY_SUPPORT, Role.OTHER_PROGRAM)
SPENT_ROLES = frozenset({*PROGRAM_ROLES, Role.BOND_FORFEITURE})


# Every figure of the progress read in one round trip: account balances by role, then counters.
PROGRESS_SQL = """
    SELECT role, balance_cents FROM fund_account WHERE fund_id = %(fund)s
    UNION ALL SELECT ':gifts', gift_count FROM fund_ledgerhead WHERE fund_id = %(fund)s
    UNION ALL SELECT ':committed', CAST(coalesce(sum(amount_cents), 0) AS bigint)
        FROM fund_commitment WHERE fund_id = %(fund)s AND released_at IS NULL
    UNION ALL SELECT ':cases', CAST(count(*) AS bigint)
        FROM fund_supportedcase WHERE fund_id = %(fund)s AND payments > 0
"""


@dataclass(frozen=True)
class Progress:
    """A fund's public figures, in minor units (the shape of GET /api/v1/funds/{slug}/progress)."""

    fund: str
    currency: str
    goal: int
    raised: int
    spent: int
    in_bonds: int
    available: int
    gifts: int
    cases_supported: int

    @property
    def raised_percent(self) -> float:
        """Return raised as a percentage of the goal, capped at 100."""
        return min(100.0, 100.0 * self.raised / self.goal) if self.goal else 0.0


@dataclass(frozen=True)
class TrialBalanceRow:
    account: Account
    balance_cents: int

    @property
    def debit_cents(self) -> int:
        return max(self.balance_cents, 0)

    @property
    def credit_cents(self) -> int:
        return max(-self.balance_cents, 0)


@dataclass(frozen=True)
class MonthFlow:
    month: date
    raised_cents: int
    spent_cents: int


def get_fund(slug: str) -> Fund:
    """Return the fund with this slug or raise Http404."""
    return get_object_or_404(Fund, slug=slug)


def get_public_fund(slug: str) -> Fund:
    """Return a fund whose public page is on, or raise Http404."""
    return get_object_or_404(Fund, slug=slug, is_public=True)


def default_fund() -> Fund | None:
    """Return the fund the home page shows: DEFAULT_FUND_SLUG, else the oldest public fund."""
    funds = Fund.objects.filter(is_public=True)
    if settings.DEFAULT_FUND_SLUG:
        return funds.filter(slug=settings.DEFAULT_FUND_SLUG).first()
    return funds.order_by("created_at", "pk").first()


def fund_progress(fund: Fund) -> Progress:
    """Return the fund's goal progress from stored balances and counters, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(PROGRESS_SQL, {"fund": fund.pk})
        figures = dict(cursor.fetchall())
    balance = {role: figures.get(role, 0) for role in Role.values}
    cash = sum(balance[role] for role in CASH_ROLES)
    return Progress(
        fund=fund.slug,
        currency=fund.currency,
        goal=fund.goal_cents,
        # Revenue is a credit (negative) balance; refunds and lost disputes are debits against it.
        raised=-sum(balance[role] for role in RAISED_ROLES),
        spent=sum(balance[role] for role in SPENT_ROLES),
        in_bonds=balance[Role.BOND_DEPOSITS],
        available=cash - figures.get(":committed", 0),
        gifts=figures.get(":gifts", 0),
        cases_supported=figures.get(":cases", 0),
    )


def account_balance(account: Account) -> int:
    """Return the account's current balance in minor units (debit +), read from its stored value."""
    return Account.objects.values_list("balance_cents", flat=True).get(pk=account.pk)


def balances_as_of(fund: Fund, on: date) -> dict[int, int]:
    """Return every account's balance at the end of a day, by account id.

    Sums the monthly checkpoints before that month, then the postings dated in that month up to the
    day: the cost does not grow with the length of the ledger's history.
    """
    month = on.replace(day=1)
    balances = dict.fromkeys(Account.objects.filter(fund=fund).values_list("pk", flat=True), 0)
    for account_id, debits, credits in (
        AccountMonth.objects.filter(account__fund=fund, month__lt=month)
        .values("account")
        .annotate(debits=Sum("debit_cents"), credits=Sum("credit_cents"))
        .values_list("account", "debits", "credits")
    ):
        balances[account_id] += debits - credits
    for account_id, amount in (
        Posting.objects.filter(
            transaction__fund=fund,
            transaction__effective_date__gte=month,
            transaction__effective_date__lte=on,
        )
        .values("account")
        .annotate(amount=Sum("amount_cents"))
        .values_list("account", "amount")
    ):
        balances[account_id] += amount
    return balances


def trial_balance(fund: Fund, on: date | None = None) -> list[TrialBalanceRow]:
    """Return each account with its balance, now or at the end of a day; debits equal credits."""
    accounts = list(Account.objects.filter(fund=fund).order_by("code"))
    if on is None:
        return [TrialBalanceRow(account, account.balance_cents) for account in accounts]
    balances = balances_as_of(fund, on)
    return [TrialBalanceRow(account, balances[account.pk]) for account in accounts]


def monthly_flows(fund: Fund, months: int = 12, until: date | None = None) -> list[MonthFlow]:
    """Return money raised and spent per month for the last `months` months, from checkpoints."""
    end = (until or timezone.localdate()).replace(day=1)
    start_index = end.year * 12 + end.month - 1 - (months - 1)
    first = date(start_index // 12, start_index % 12 + 1, 1)
    raised: dict[date, int] = {}
    spent: dict[date, int] = {}
    for role, month, debits, credits in AccountMonth.objects.filter(
        account__fund=fund,
        account__role__in=[*RAISED_ROLES, *SPENT_ROLES],
        month__gte=first,
        month__lte=end,
    ).values_list("account__role", "month", "debit_cents", "credit_cents"):
        if role in RAISED_ROLES:
            raised[month] = raised.get(month, 0) + credits - debits
        else:
            spent[month] = spent.get(month, 0) + debits - credits
    flows = []
    for index in range(start_index, start_index + months):
        month = date(index // 12, index % 12 + 1, 1)
        flows.append(MonthFlow(month, raised.get(month, 0), spent.get(month, 0)))
    return flows


def spending_by_category(fund: Fund) -> list[tuple[str, int]]:
    """Return what the fund has spent, by program category, largest first."""
    rows = Account.objects.filter(fund=fund, role__in=SPENT_ROLES).values_list(
        "name", "balance_cents"
    )
    return sorted(((name, cents) for name, cents in rows if cents), key=lambda row: -row[1])


def list_accounts(fund: Fund) -> QuerySet[Account]:
    """Return the fund's chart of accounts with their balances."""
    return Account.objects.filter(fund=fund).order_by("code")


def list_transactions(
    fund: Fund,
    *,
    start: date | None = None,
    end: date | None = None,
    kind: str | None = None,
    account: Account | None = None,
) -> QuerySet[Transaction]:
    """Return the fund's transactions, newest first, filtered by date range, kind and account."""
    transactions = Transaction.objects.filter(fund=fund)
    if start:
        transactions = transactions.filter(effective_date__gte=start)
    if end:
        transactions = transactions.filter(effective_date__lte=end)
    if kind:
        transactions = transactions.filter(kind=kind)
    if account is not None:
        transactions = transactions.filter(
            pk__in=Posting.objects.filter(account=account).values("transaction")
        )
    return transactions.select_related("recorded_by", "reverses").order_by("-effective_date", "-id")


def list_account_postings(
    account: Account, *, start: date | None = None, end: date | None = None
) -> QuerySet[Posting]:
    """Return an account's postings, newest first, with their transactions."""
    postings = Posting.objects.filter(account=account)
    if start:
        postings = postings.filter(transaction__effective_date__gte=start)
    if end:
        postings = postings.filter(transaction__effective_date__lte=end)
    return postings.select_related("transaction").order_by("-id")


def has_activity(fund: Fund) -> bool:
    """Return whether anything has been posted to the fund."""
    return Account.objects.filter(fund=fund).filter(~Q(balance_cents=0)).exists()


# Reads for the treasurer screens (fund/staff_views.py).


@dataclass(frozen=True)
class PeriodRow:
    month: date
    is_closed: bool
    debits_cents: int
    has_ended: bool


def list_funds() -> QuerySet[Fund]:
    """Return every fund, by name."""
    return Fund.objects.order_by("name")


def get_account(fund: Fund, code: str) -> Account:
    """Return the fund's account with this code or raise Http404."""
    return get_object_or_404(Account, fund=fund, code=code)


def get_transaction(fund: Fund, reference: str) -> Transaction:
    """Return the fund's transaction with this reference (2026-000042) and its postings, or 404."""
    year, _, number = reference.partition("-")
    if not (len(year) == 4 and year.isdigit() and len(number) >= 6 and number.isdigit()):
        raise Http404("No such transaction.")
    postings = Posting.objects.select_related("account").order_by("id")
    transactions = Transaction.objects.select_related(
        "recorded_by", "reverses", "reversed_by"
    ).prefetch_related(Prefetch("postings", queryset=postings))
    return get_object_or_404(transactions, fund=fund, year=int(year), number=int(number))


def list_ledger_transactions(
    fund: Fund, *, start: date | None = None, end: date | None = None, kind: str | None = None
) -> QuerySet[Transaction]:
    """Return list_transactions() with each transaction's total debits as `debits_cents`."""
    debits = (
        Posting.objects.filter(transaction=OuterRef("pk"), amount_cents__gt=0)
        .values("transaction")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    return list_transactions(fund, start=start, end=end, kind=kind).annotate(
        debits_cents=Subquery(debits)
    )


def list_periods(fund: Fund) -> list[PeriodRow]:
    """Return the months with postings or a period record, newest first, with their state.

    Reads the monthly checkpoints, so the cost grows with the number of months, not of postings.
    """
    volume = dict(
        AccountMonth.objects.filter(account__fund=fund)
        .values("month")
        .annotate(debits=Sum("debit_cents"))
        .values_list("month", "debits")
    )
    closed = dict(Period.objects.filter(fund=fund).values_list("month", "is_closed"))
    today = timezone.localdate()
    this_month = today.replace(day=1)
    return [
        PeriodRow(
            month=month,
            is_closed=closed.get(month, False),
            debits_cents=volume.get(month, 0),
            has_ended=month < this_month,
        )
        for month in sorted(volume.keys() | closed.keys(), reverse=True)
    ]


def list_period_changes(fund: Fund) -> QuerySet[PeriodChange]:
    """Return who closed or reopened the fund's periods, newest first."""
    return (
        PeriodChange.objects.filter(period__fund=fund)
        .select_related("period", "actor")
        .order_by("-at", "-id")
    )

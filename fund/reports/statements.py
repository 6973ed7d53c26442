"""The figures of the two financial statements and of the progress report, from daily balances.

Balances are signed as the ledger keeps them (debits positive, credits negative); the statements
present every figure as a positive amount on its own side: assets and expenses as their debit
balance, net assets and revenue as their credit balance, contra-revenue (refunds, disputes) as
the debit that reduces revenue. Every figure is read at the end of a day by effective date, so a
statement for a past period says what the books said then, whatever was posted since for later days.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth

from fund.ledger.models import Account, AccountDay, Commitment, Fund
from fund.ledger.queries import balances_as_of, list_accounts

Kind = Account.Kind
Role = Account.Role

CASH_ROLES = frozenset({Role.STRIPE_CLEARING, Role.BANK, Role.UNDEPOSITED})
RAISED_ROLES = frozenset({Role.CONTRIBUTIONS, Role.REFUNDS, Role.DISPUTES})
SPENT_ROLES = frozenset(
    {
        Role.ATTORNEY_FEES,
        Role.FILING_FEES,
        Role.FAMILY_SUPPORT,
        Role.OTHER_PROGRAM,
        Role.BOND_FORFEITURE,
    }
)
# The accounts whose balances are the fund's activities (all but assets and net assets).
ACTIVITY_KINDS = frozenset({Kind.REVENUE, Kind.CONTRA_REVENUE, Kind.EXPENSE})


@dataclass(frozen=True)
class Line:
    """One account's figure on a statement, presented positive on its own side."""

    code: str
    name: str
    cents: int


@dataclass(frozen=True)
class FinancialPosition:
    """Assets by account and net assets by restriction at the end of a day; they are equal."""

    on: date
    assets: list[Line]
    total_assets: int
    without_restrictions: int
    with_restrictions: int

    @property
    def total_net_assets(self) -> int:
        return self.without_restrictions + self.with_restrictions


@dataclass(frozen=True)
class Activities:
    """Revenue, contra-revenue and expenses of a period, and how net assets changed in it."""

    revenue: list[Line]
    contra_revenue: list[Line]
    expenses: list[Line]
    # Opening balances and manual adjustments posted straight to net assets in the period.
    direct_to_net_assets: int
    net_assets_before: int
    net_assets_after: int

    @property
    def total_revenue(self) -> int:
        return sum(line.cents for line in self.revenue)

    @property
    def total_contra_revenue(self) -> int:
        return sum(line.cents for line in self.contra_revenue)

    @property
    def net_revenue(self) -> int:
        return self.total_revenue - self.total_contra_revenue

    @property
    def total_expenses(self) -> int:
        return sum(line.cents for line in self.expenses)

    @property
    def change_from_activities(self) -> int:
        return self.net_revenue - self.total_expenses

    @property
    def change_in_net_assets(self) -> int:
        return self.change_from_activities + self.direct_to_net_assets


def presented(account: Account, balance_cents: int) -> int:
    """Return a signed ledger balance as the statements show it: positive on its usual side."""
    if account.kind in (Kind.NET_ASSETS, Kind.REVENUE):
        return -balance_cents
    return balance_cents


def financial_position(fund: Fund, on: date) -> FinancialPosition:
    """Return the fund's statement of financial position at the end of a day (two queries).

    The chart has no liabilities, so net assets are the assets. A donor-restricted fund (its
    `restricted` flag) holds every gift for its purpose: all its net assets are with donor
    restrictions; any other fund's are all without. The chart keeps no split within a fund.
    """
    balances = balances_as_of(fund, on)
    accounts = list(list_accounts(fund))
    assets = [
        Line(account.code, account.name, balances[account.pk])
        for account in accounts
        if account.kind == Kind.ASSET
    ]
    # Net assets are the credit balance of every account but the assets: the net assets account
    # itself plus every revenue, contra-revenue and expense not yet closed into it.
    net_assets = -sum(balances[a.pk] for a in accounts if a.kind != Kind.ASSET)
    return FinancialPosition(
        on=on,
        assets=assets,
        total_assets=sum(line.cents for line in assets),
        without_restrictions=0 if fund.restricted else net_assets,
        with_restrictions=net_assets if fund.restricted else 0,
    )


def activities(fund: Fund, start: date, end: date) -> Activities:
    """Return the fund's statement of activities for a period, both days inclusive."""
    before = balances_as_of(fund, start - timedelta(days=1))
    after = balances_as_of(fund, end)
    accounts = list(list_accounts(fund))

    def lines(kind: str) -> list[Line]:
        return [
            Line(a.code, a.name, presented(a, after[a.pk] - before[a.pk]))
            for a in accounts
            if a.kind == kind
        ]

    def net_assets(balances: dict[int, int]) -> int:
        return -sum(balances[a.pk] for a in accounts if a.kind != Kind.ASSET)

    direct = -sum(after[a.pk] - before[a.pk] for a in accounts if a.kind == Kind.NET_ASSETS)
    return Activities(
        revenue=lines(Kind.REVENUE),
        contra_revenue=lines(Kind.CONTRA_REVENUE),
        expenses=lines(Kind.EXPENSE),
        direct_to_net_assets=direct,
        net_assets_before=net_assets(before),
        net_assets_after=net_assets(after),
    )


@dataclass(frozen=True)
class ProgressAsOf:
    """The fund's progress figures at the end of a day (fund_progress's, but for any day)."""

    goal: int
    raised: int
    spent: int
    in_bonds: int
    committed: int
    available: int


def progress_as_of(fund: Fund, on: date) -> ProgressAsOf:
    """Return goal, raised, spent, in bonds, set aside and available at the end of a day.

    The same figures as fund.ledger.progress.fund_progress, which reads today's stored balances,
    but from the daily balances of that day; money set aside is what was approved by that day and
    not yet released then (by the local date of the approval and the release).
    """
    balances = balances_as_of(fund, on)
    by_role = {account.role: balances[account.pk] for account in list_accounts(fund)}
    committed = (
        Commitment.objects.filter(fund=fund, created_at__date__lte=on)
        .filter(Q(released_at__isnull=True) | Q(released_at__date__gt=on))
        .aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )
    return ProgressAsOf(
        goal=fund.goal_cents,
        raised=-sum(by_role.get(role, 0) for role in RAISED_ROLES),
        spent=sum(by_role.get(role, 0) for role in SPENT_ROLES),
        in_bonds=by_role.get(Role.BOND_DEPOSITS, 0),
        committed=committed,
        available=sum(by_role.get(role, 0) for role in CASH_ROLES) - committed,
    )


@dataclass(frozen=True)
class Month:
    """Money raised and spent in one calendar month (or the part of it inside the period)."""

    month: date
    raised_cents: int
    spent_cents: int


def months_between(fund: Fund, start: date, end: date) -> list[Month]:
    """Return money raised and spent in each month of a period, quiet months included.

    Raised is contributions less refunds and disputes; spent is program payments and forfeited
    bonds, as on the public page. The first and last months count only the period's days.
    """
    raised: dict[date, int] = {}
    spent: dict[date, int] = {}
    rows = (
        AccountDay.objects.filter(
            account__fund=fund,
            account__role__in=[*RAISED_ROLES, *SPENT_ROLES],
            day__gte=start,
            day__lte=end,
        )
        .annotate(month=TruncMonth("day"))
        .values("account__role", "month")
        .annotate(debits=Sum("debit_cents"), credits=Sum("credit_cents"))
        .values_list("account__role", "month", "debits", "credits")
    )
    for role, month, debits, credits in rows:
        if role in RAISED_ROLES:
            raised[month] = raised.get(month, 0) + credits - debits
        else:
            spent[month] = spent.get(month, 0) + debits - credits
    months = []
    index, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    while index <= last:
        month = date(index // 12, index % 12 + 1, 1)
        months.append(Month(month, raised.get(month, 0), spent.get(month, 0)))
        index += 1
    return months

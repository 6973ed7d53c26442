"""The public figures of a fund: goal progress, money in and out by month, spending by category.

The public pages and the public API read through this module only. Every read here is O(1) in the
size of the ledger: stored balances, counters and daily checkpoints, never a scan of postings.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fund.ledger.models import Account, AccountDay, Fund, Seal

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
    """A fund's public figures, in minor units (the shape of GET /api/v1/funds/{slug}/progress).

    They add up: available = raised - fees + interest + adjustments - spent - in_bonds - committed,
    where raised is gifts less refunds and disputes (`figures_add_up` checks it).
    """

    fund: str
    currency: str
    goal: int
    raised: int
    spent: int
    in_bonds: int
    available: int
    gifts: int
    cases_supported: int
    gifts_gross: int
    refunds: int
    disputes: int
    fees: int
    interest: int
    adjustments: int
    committed: int

    def figures_add_up(self) -> bool:
        """Return whether the published figures sum exactly to what is available."""
        return self.available == (
            self.raised
            - self.fees
            + self.interest
            + self.adjustments
            - self.spent
            - self.in_bonds
            - self.committed
        )


@dataclass(frozen=True)
class MonthFlow:
    """Money raised and spent in one month, in minor units."""

    month: date
    raised_cents: int
    spent_cents: int


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
    committed = figures.get(":committed", 0)
    # Revenue is a credit (negative) balance; refunds and lost disputes are debits against it.
    return Progress(
        fund=fund.slug,
        currency=fund.currency,
        goal=fund.goal_cents,
        raised=-sum(balance[role] for role in RAISED_ROLES),
        spent=sum(balance[role] for role in SPENT_ROLES),
        in_bonds=balance[Role.BOND_DEPOSITS],
        available=sum(balance[role] for role in CASH_ROLES) - committed,
        gifts=figures.get(":gifts", 0),
        cases_supported=figures.get(":cases", 0),
        gifts_gross=-balance[Role.CONTRIBUTIONS],
        refunds=balance[Role.REFUNDS],
        disputes=balance[Role.DISPUTES],
        fees=balance[Role.PROCESSING_FEES],
        interest=-balance[Role.INTEREST],
        adjustments=-balance[Role.NET_ASSETS],
        committed=committed,
    )


def monthly_flows(fund: Fund, months: int = 12, until: date | None = None) -> list[MonthFlow]:
    """Return money raised and spent per month for the last `months` months, by effective date."""
    end = (until or timezone.localdate()).replace(day=1)
    start_index = end.year * 12 + end.month - 1 - (months - 1)
    first = date(start_index // 12, start_index % 12 + 1, 1)
    last = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    raised: dict[date, int] = {}
    spent: dict[date, int] = {}
    rows = (
        AccountDay.objects.filter(
            account__fund=fund,
            account__role__in=[*RAISED_ROLES, *SPENT_ROLES],
            day__gte=first,
            day__lt=last,
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


def latest_seal(fund: Fund) -> Seal | None:
    """Return the fund's most recent seal, which its public page shows for anyone to keep."""
    return Seal.objects.filter(fund=fund).order_by("-sealed_at", "-id").first()

"""Every change to the books besides posting itself: funds, reversals, corrections, periods.

Each service checks its actor against the one permission policy (fund.security.roles) before it
changes anything; money reaches the ledger only through fund.ledger.posting.post_transaction.
"""

import calendar
from collections.abc import Sequence
from datetime import date

from django.contrib.auth.models import User
from django.core.validators import slug_re
from django.db import transaction
from django.utils import timezone

from fund import money
from fund.errors import (
    AlreadyReversed,
    FundError,
    IdempotencyConflict,
    InvalidTransaction,
    PeriodError,
)
from fund.ledger.entries import Leg
from fund.ledger.models import (
    Account,
    Commitment,
    Fund,
    LedgerHead,
    Period,
    PeriodChange,
    Transaction,
)
from fund.ledger.posting import post_transaction
from fund.security.roles import (
    FUND_ADMINS,
    LEDGER_WRITERS,
    PERIOD_CLOSERS,
    PERIOD_REOPENERS,
)

Kind = Transaction.Kind
Role = Account.Role

# The per-fund chart of accounts (docs/ledger.md): code, role, kind, and may it go below zero?
CHART: list[tuple[str, Account.Role, Account.Kind, bool]] = [
    ("1000", Role.STRIPE_CLEARING, Account.Kind.ASSET, False),
    ("1010", Role.BANK, Account.Kind.ASSET, True),
    ("1020", Role.UNDEPOSITED, Account.Kind.ASSET, True),
    ("1100", Role.BOND_DEPOSITS, Account.Kind.ASSET, True),
    ("3000", Role.NET_ASSETS, Account.Kind.NET_ASSETS, False),
    ("4000", Role.CONTRIBUTIONS, Account.Kind.REVENUE, False),
    ("4100", Role.REFUNDS, Account.Kind.CONTRA_REVENUE, False),
    ("4110", Role.DISPUTES, Account.Kind.CONTRA_REVENUE, False),
    ("4200", Role.INTEREST, Account.Kind.REVENUE, False),
    ("5000", Role.ATTORNEY_FEES, Account.Kind.EXPENSE, False),
    ("5010", Role.FILING_FEES, Account.Kind.EXPENSE, False),
    ("5020", Role.FAMILY_SUPPORT, Account.Kind.EXPENSE, False),
    ("5090", Role.OTHER_PROGRAM, Account.Kind.EXPENSE, False),
    ("5100", Role.PROCESSING_FEES, Account.Kind.EXPENSE, False),
    ("5200", Role.BOND_FORFEITURE, Account.Kind.EXPENSE, False),
]


def create_fund(
    *,
    actor: User | None,
    name: str,
    slug: str,
    goal_cents: int,
    currency: str = "USD",
    restricted: bool = False,
    tax_status: str = Fund.TaxStatus.LABOR,
    is_public: bool = True,
    public_summary: str = "",
) -> Fund:
    """Create a fund with its ledger head and its chart of accounts (None: the command line)."""
    FUND_ADMINS.check(actor)
    if not name.strip():
        raise FundError("A fund needs a name.")
    if not slug_re.fullmatch(slug):
        raise FundError("A fund's slug is lowercase letters, digits and hyphens, e.g. valley-fund.")
    if Fund.objects.filter(slug=slug).exists():
        raise FundError(f"A fund with the slug {slug!r} already exists.")
    if type(goal_cents) is not int or goal_cents < 0:
        raise FundError("The goal is a whole, non-negative number of cents.")
    money.currency(currency)
    if tax_status not in Fund.TaxStatus.values:
        raise FundError(f"Unknown tax status {tax_status!r}.")
    with transaction.atomic():
        fund = Fund.objects.create(
            name=name,
            slug=slug,
            goal_cents=goal_cents,
            currency=currency.upper(),
            restricted=restricted,
            tax_status=tax_status,
            is_public=is_public,
            public_summary=public_summary,
        )
        LedgerHead.objects.create(fund=fund)
        Account.objects.bulk_create(
            Account(fund=fund, code=code, name=role.label, kind=kind, role=role, no_overdraft=floor)
            for code, role, kind, floor in CHART
        )
    return fund


def reverse_transaction(
    *,
    original: Transaction,
    actor: User | None,
    memo: str,
    effective_date: date | None = None,
    idempotency_key: str | None = None,
) -> Transaction:
    """Post the mirror of a transaction and link it; a transaction is reversed at most once."""
    LEDGER_WRITERS.check(actor)
    if original.kind == Kind.REVERSAL:
        raise InvalidTransaction("A reversal cannot be reversed: post the entry again instead.")
    if Transaction.objects.filter(reverses=original).exists():
        raise AlreadyReversed(f"Transaction {original.reference} is already reversed.")
    legs = [Leg(p.account, -p.amount_cents) for p in original.postings.select_related("account")]
    return post_transaction(
        fund=original.fund,
        legs=legs,
        effective_date=effective_date or timezone.localdate(),
        kind=Kind.REVERSAL,
        memo=memo,
        idempotency_key=idempotency_key or f"reversal:{original.pk}",
        actor=actor,
        source_ref=original.source_ref,
        case_ref=original.case_ref,
        reverses=original,
    )


def record_journal_entry(
    *,
    fund: Fund,
    legs: Sequence[Leg],
    effective_date: date,
    memo: str,
    reason: str,
    actor: User,
    idempotency_key: str,
) -> Transaction:
    """Post a treasurer's manual correction; a memo and a reason are required."""
    LEDGER_WRITERS.check(actor)
    if not reason.strip():
        raise InvalidTransaction("A manual journal entry needs a reason.")
    return post_transaction(
        fund=fund,
        legs=legs,
        effective_date=effective_date,
        kind=Kind.JOURNAL,
        memo=memo,
        reason=reason.strip(),
        idempotency_key=idempotency_key,
        actor=actor,
    )


@transaction.atomic
def close_period(*, fund: Fund, month: date, actor: User, reason: str = "") -> Period:
    """Close a month of the fund's books; transactions dated inside it are then refused."""
    PERIOD_CLOSERS.check(actor)
    month = month.replace(day=1)
    last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    if last_day >= timezone.localdate():
        raise PeriodError(f"{month:%B %Y} has not ended yet.")
    period, _ = Period.objects.select_for_update().get_or_create(fund=fund, month=month)
    if period.is_closed:
        return period
    period.is_closed = True
    period.save(update_fields=["is_closed"])
    PeriodChange.objects.create(
        period=period, action=PeriodChange.Action.CLOSE, actor=actor, reason=reason
    )
    return period


@transaction.atomic
def reopen_period(*, fund: Fund, month: date, actor: User, reason: str) -> Period:
    """Reopen a closed month. Needs an admin and a reason; the change is logged."""
    PERIOD_REOPENERS.check(actor)
    if not reason.strip():
        raise PeriodError("Reopening a period needs a reason.")
    try:
        period = Period.objects.select_for_update().get(fund=fund, month=month.replace(day=1))
    except Period.DoesNotExist:
        raise PeriodError(f"{month:%B %Y} is not closed.") from None
    if not period.is_closed:
        return period
    period.is_closed = False
    period.save(update_fields=["is_closed"])
    PeriodChange.objects.create(
        period=period, action=PeriodChange.Action.REOPEN, actor=actor, reason=reason.strip()
    )
    return period


def record_commitment(
    *, fund: Fund, amount_cents: int, source_ref: str, actor: User | None
) -> Commitment:
    """Set money aside for an approved payment, so it no longer counts as available."""
    LEDGER_WRITERS.check(actor)
    if amount_cents <= 0:
        raise InvalidTransaction("A commitment must be a positive amount.")
    commitment, created = Commitment.objects.get_or_create(
        source_ref=source_ref, defaults={"fund": fund, "amount_cents": amount_cents}
    )
    if not created and (commitment.fund_id != fund.pk or commitment.amount_cents != amount_cents):
        raise IdempotencyConflict(f"Commitment {source_ref} exists with other values.")
    return commitment


def release_commitment(*, source_ref: str, actor: User | None) -> None:
    """Release the commitment made for a payment that was paid, rejected or voided."""
    LEDGER_WRITERS.check(actor)
    Commitment.objects.filter(source_ref=source_ref, released_at__isnull=True).update(
        released_at=timezone.now()
    )

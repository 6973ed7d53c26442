"""Every write to the ledger: funds and their chart, transactions, reversals, periods, commitments.

Only this module creates Transaction and Posting rows. On PostgreSQL one posting is one call of the
`fund_post()` database function (one round trip under the fund's lock); the database also enforces
the invariants on every other path. On SQLite (the demo) the same steps run here in Python.
"""

import calendar
import contextlib
import re
import time
from collections.abc import Sequence
from datetime import date, datetime

from django.contrib.auth.models import User
from django.core.validators import slug_re
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from fund.errors import (
    AlreadyReversed,
    FundError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransaction,
    NotAllowed,
    PeriodClosed,
    PeriodError,
    UnbalancedTransaction,
)
from fund.ledger.entries import Entry
from fund.ledger.entries import Leg as Leg  # part of this module's interface: callers build legs
from fund.ledger.models import (
    Account,
    Commitment,
    Fund,
    LedgerHead,
    Period,
    PeriodChange,
    Transaction,
)
from fund.ledger.posting_sqlite import post_portable

Kind = Transaction.Kind
Role = Account.Role

# The per-fund chart of accounts (ARCHITECTURE.md §5): code, role, kind, may it go below zero?
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

GIFT_KINDS = frozenset({Kind.GIFT_ONLINE, Kind.GIFT_OFFLINE})
# Payments that help a worker's case: they count the case as supported.
CASE_KINDS = frozenset({Kind.DISBURSEMENT, Kind.BOND_POSTED})
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
MAX_ATTEMPTS = 4
FUND_POST_SQL = "SELECT * FROM fund_post(" + ", ".join(["%s"] * 18) + ")"  # noqa: S608


def create_fund(
    *,
    name: str,
    slug: str,
    goal_cents: int,
    currency: str = "USD",
    restricted: bool = False,
    tax_status: str = Fund.TaxStatus.LABOR,
    is_public: bool = True,
    public_summary: str = "",
) -> Fund:
    """Create a fund with its ledger head and its chart of accounts."""
    if not name.strip():
        raise FundError("A fund needs a name.")
    if not slug_re.fullmatch(slug):
        raise FundError("A fund's slug is lowercase letters, digits and hyphens, e.g. valley-fund.")
    if Fund.objects.filter(slug=slug).exists():
        raise FundError(f"A fund with the slug {slug!r} already exists.")
    if type(goal_cents) is not int or goal_cents < 0:
        raise FundError("The goal is a whole, non-negative number of cents.")
    if not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise FundError("The currency is a three-letter ISO code, e.g. USD.")
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


def post_transaction(
    *,
    fund: Fund,
    legs: Sequence[Leg],
    effective_date: date,
    kind: str,
    memo: str,
    idempotency_key: str,
    actor: User | None,
    source_ref: str = "",
    case_ref: str = "",
    reason: str = "",
    reverses: Transaction | None = None,
) -> Transaction:
    """Post a balanced transaction to the fund's ledger and return it.

    Idempotent: a replay of the same key with the same payload returns the first transaction; the
    same key with another payload raises IdempotencyConflict. Locks the fund's ledger head and the
    touched accounts (in account-id order), and retries deadlocks and serialization failures when
    it runs in its own transaction. Raises InsufficientFunds, PeriodClosed, AlreadyReversed or
    InvalidTransaction with a message fit to show.
    """
    ordered = _validate(
        fund=fund,
        legs=legs,
        effective_date=effective_date,
        kind=kind,
        memo=memo,
        key=idempotency_key,
        reason=reason,
    )
    entry = Entry(
        fund=fund,
        legs=tuple(ordered),
        effective_date=effective_date,
        kind=kind,
        memo=memo,
        reason=reason,
        source_ref=source_ref,
        case_ref=case_ref,
        key=idempotency_key,
        actor=actor,
        reverses=reverses,
        gift_delta=_gift_delta(kind, reverses),
        case_delta=_case_delta(kind, reverses, case_ref),
    )
    payload_hash = entry.payload_hash()
    on_postgres = connection.vendor == "postgresql"
    post = _post_postgres if on_postgres else post_portable
    in_outer_transaction = connection.in_atomic_block
    # On PostgreSQL fund_post() is one statement, so on its own it is one database transaction:
    # no BEGIN/COMMIT round trips. Inside a caller's transaction, a savepoint keeps it usable.
    atomic = (
        contextlib.nullcontext if on_postgres and not in_outer_transaction else transaction.atomic
    )
    for attempt in range(1, MAX_ATTEMPTS + 1):
        recorded_at = timezone.now()
        try:
            with atomic():
                return post(
                    entry,
                    payload_hash=payload_hash,
                    recorded_at=recorded_at,
                    digest=entry.digest(recorded_at),
                )
        except DatabaseError as error:
            sqlstate = getattr(error.__cause__, "sqlstate", None)
            if (
                sqlstate in RETRYABLE_SQLSTATES
                and not in_outer_transaction
                and attempt < MAX_ATTEMPTS
            ):
                time.sleep(0.005 * 2**attempt)
                continue
            refusal = _ledger_refusal(error, ordered, effective_date)
            if refusal is None:
                raise
            raise refusal from error
    raise AssertionError("unreachable")  # pragma: no cover


def reverse_transaction(
    *,
    original: Transaction,
    actor: User | None,
    memo: str,
    effective_date: date | None = None,
    idempotency_key: str | None = None,
) -> Transaction:
    """Post the mirror of a transaction and link it; a transaction is reversed at most once."""
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
    from fund.security.roles import Role, has_role

    if not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only an admin can reopen a closed period.")
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


def record_commitment(*, fund: Fund, amount_cents: int, source_ref: str) -> Commitment:
    """Set money aside for an approved payment, so it no longer counts as available."""
    if amount_cents <= 0:
        raise InvalidTransaction("A commitment must be a positive amount.")
    commitment, created = Commitment.objects.get_or_create(
        source_ref=source_ref, defaults={"fund": fund, "amount_cents": amount_cents}
    )
    if not created and (commitment.fund_id != fund.pk or commitment.amount_cents != amount_cents):
        raise IdempotencyConflict(f"Commitment {source_ref} exists with other values.")
    return commitment


def release_commitment(*, source_ref: str) -> None:
    """Release the commitment made for a payment that was paid, rejected or voided."""
    Commitment.objects.filter(source_ref=source_ref, released_at__isnull=True).update(
        released_at=timezone.now()
    )


def _validate(
    *,
    fund: Fund,
    legs: Sequence[Leg],
    effective_date: date,
    kind: str,
    memo: str,
    key: str,
    reason: str,
) -> list[Leg]:
    if kind not in Kind.values:
        raise InvalidTransaction(f"Unknown transaction kind {kind!r}.")
    if not isinstance(effective_date, date) or isinstance(effective_date, datetime):
        raise InvalidTransaction("The effective date must be a date.")
    if not memo.strip() or len(memo) > 500 or len(reason) > 500:
        raise InvalidTransaction("A memo of 1 to 500 characters is required.")
    if not key or len(key) > 200:
        raise InvalidTransaction("An idempotency key of 1 to 200 characters is required.")
    if len(legs) < 2:
        raise UnbalancedTransaction("A transaction needs at least two legs.")
    for leg in legs:
        if type(leg.amount_cents) is not int:
            raise InvalidTransaction("Amounts are whole numbers of cents.")
        if leg.amount_cents == 0:
            raise InvalidTransaction("A leg cannot be zero.")
        if leg.account.fund_id != fund.pk:
            raise InvalidTransaction(f"Account {leg.account.code} belongs to another fund.")
    total = sum(leg.amount_cents for leg in legs)
    if total != 0:
        raise UnbalancedTransaction(f"Debits and credits differ by {total} cents.")
    # One lock order for every writer: by account id.
    return sorted(legs, key=lambda leg: leg.account.pk)


def _gift_delta(kind: str, reverses: Transaction | None) -> int:
    if kind in GIFT_KINDS:
        return 1
    if reverses is not None and reverses.kind in GIFT_KINDS:
        return -1
    return 0


def _case_delta(kind: str, reverses: Transaction | None, case_ref: str) -> int:
    if not case_ref:
        return 0
    if kind in CASE_KINDS:
        return 1
    if reverses is not None and reverses.kind in CASE_KINDS:
        return -1
    return 0


def _post_postgres(
    entry: Entry, *, payload_hash: str, recorded_at: datetime, digest: str
) -> Transaction:
    with connection.cursor() as cursor:
        cursor.execute(
            FUND_POST_SQL,
            [
                entry.fund.pk,
                entry.key,
                payload_hash,
                entry.effective_date,
                str(entry.kind),
                entry.memo,
                entry.reason,
                entry.source_ref,
                entry.case_ref,
                entry.actor.pk if entry.actor else None,
                entry.reverses.pk if entry.reverses else None,
                recorded_at,
                digest,
                [leg.account.pk for leg in entry.legs],
                [leg.amount_cents for leg in entry.legs],
                entry.gift_delta,
                entry.case_delta,
                connection.in_atomic_block,
            ],
        )
        (row,) = cursor.fetchall()
        by_column = dict(zip((column.name for column in cursor.description), row, strict=True))
    fields = Transaction._meta.concrete_fields
    return Transaction.from_db(
        connection.alias, [f.attname for f in fields], [by_column[f.column] for f in fields]
    )


def _ledger_refusal(
    error: DatabaseError, legs: Sequence[Leg], effective_date: date
) -> FundError | None:
    """Translate the database's refusal of a posting into a FundError fit to show, if it is one."""
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None)
    # SQLite names the constraint only in its message.
    if constraint == "fund_account_no_overdraft" or "fund_account_no_overdraft" in str(error):
        drawn = sorted(
            {leg.account.name for leg in legs if leg.account.no_overdraft and leg.amount_cents < 0}
        )
        return InsufficientFunds(f"Insufficient funds in {' or '.join(drawn) or 'the account'}.")
    refusals: dict[str | None, FundError] = {
        "DF001": IdempotencyConflict("Idempotency key reused with a different payload."),
        "DF002": PeriodClosed(
            f"{effective_date:%B %Y} is closed: date the transaction in an open period."
        ),
        "DF003": AlreadyReversed("The transaction is already reversed."),
        "DF004": UnbalancedTransaction("Debits and credits do not balance."),
        "DF005": InsufficientFunds(
            "Insufficient funds: the donor-restricted fund would go negative."
        ),
        "DF007": InvalidTransaction("An account does not belong to the transaction's fund."),
    }
    if sqlstate in refusals:
        return refusals[sqlstate]
    if isinstance(error, IntegrityError) and constraint and "reverses" in constraint:
        return AlreadyReversed("The transaction is already reversed.")
    return None

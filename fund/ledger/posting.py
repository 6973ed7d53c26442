"""THE one door for money: post a balanced transaction to a fund's ledger.

Only this module creates Transaction and Posting rows. On PostgreSQL one posting is one call of the
`fund_post()` database function (one round trip under the fund's lock), and the database enforces
the ledger's invariants on every other path too. On SQLite (the demo) `posting_sqlite` runs the
same steps in Python.
"""

import contextlib
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import NamedTuple

from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from fund.errors import (
    AlreadyReversed,
    FundError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransaction,
    PeriodClosed,
    UnbalancedTransaction,
)
from fund.ledger.chain import content_digest
from fund.ledger.entries import Entry, Leg
from fund.ledger.models import Fund, Transaction
from fund.ledger.posting_sqlite import post_sqlite
from fund.security.roles import LEDGER_WRITERS

Kind = Transaction.Kind

GIFT_KINDS = frozenset({Kind.GIFT_ONLINE, Kind.GIFT_OFFLINE})
# Payments that help a worker's case: they count the case as supported.
CASE_KINDS = frozenset({Kind.DISBURSEMENT, Kind.BOND_POSTED})
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
MAX_ATTEMPTS = 4


class FundPostArgs(NamedTuple):
    """fund_post()'s parameters (migration 0005), by their SQL names without `p_`, in order."""

    fund: int
    key: str
    payload_hash: str
    effective: date
    kind: str
    memo: str
    reason: str
    source_ref: str
    case_ref: str
    recorded_by: int | None
    reverses: int | None
    recorded_at: datetime
    digest: str
    accounts: list[int]
    amounts: list[int]
    gift_delta: int
    case_delta: int
    check_now: bool


# Named notation: PostgreSQL refuses the call if a name above is not one of fund_post()'s.
FUND_POST_SQL = (
    "SELECT * FROM fund_post("  # noqa: S608  (names from the tuple above, values as parameters)
    + ", ".join(f"p_{name} => %s" for name in FundPostArgs._fields)
    + ")"
)


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
    """Post a balanced transaction to the fund's ledger and return it; `actor` None is the system.

    Idempotent: the same key and payload returns the first transaction, another payload raises
    IdempotencyConflict. Locks the fund's head, then its accounts in id order; retries deadlocks
    in its own transaction. Refusals are FundErrors with a message fit to show.
    """
    LEDGER_WRITERS.check(actor)
    _check_fields(kind=kind, effective_date=effective_date, memo=memo, reason=reason)
    entry = Entry(
        fund=fund,
        legs=_checked_legs(fund, legs),
        effective_date=effective_date,
        kind=kind,
        memo=memo,
        reason=reason,
        source_ref=source_ref,
        case_ref=case_ref,
        idempotency_key=_checked_key(idempotency_key),
        recorded_by=actor,
        reverses=reverses,
        recorded_at=timezone.now(),
    )
    in_outer_transaction = connection.in_atomic_block
    for attempt in range(1, MAX_ATTEMPTS + 1):
        entry = replace(entry, recorded_at=timezone.now())
        try:
            with _atomic(in_outer_transaction):
                return _post(entry)
        except DatabaseError as error:
            if _retryable(error) and not in_outer_transaction and attempt < MAX_ATTEMPTS:
                time.sleep(0.005 * 2**attempt)
                continue
            refusal = _ledger_refusal(error, entry)
            if refusal is None:
                raise
            raise refusal from error
    raise AssertionError("unreachable")  # pragma: no cover


def fund_post_args(entry: Entry) -> FundPostArgs:
    """Return fund_post()'s arguments for an entry: its fields, digest and counter changes."""
    gift_delta, case_delta = _counter_deltas(entry)
    return FundPostArgs(
        fund=entry.fund_id,
        key=entry.idempotency_key,
        payload_hash=entry.payload_hash(),
        effective=entry.effective_date,
        kind=str(entry.kind),
        memo=entry.memo,
        reason=entry.reason,
        source_ref=entry.source_ref,
        case_ref=entry.case_ref,
        recorded_by=entry.recorded_by_id,
        reverses=entry.reverses_id,
        recorded_at=entry.recorded_at,
        digest=content_digest(entry, entry.leg_amounts()),
        accounts=[leg.account.pk for leg in entry.legs],
        amounts=[leg.amount_cents for leg in entry.legs],
        gift_delta=gift_delta,
        case_delta=case_delta,
        check_now=connection.in_atomic_block,
    )


def _post(entry: Entry) -> Transaction:
    args = fund_post_args(entry)
    if connection.vendor != "postgresql":
        return post_sqlite(entry, args)
    with connection.cursor() as cursor:
        cursor.execute(FUND_POST_SQL, list(args))
        (row,) = cursor.fetchall()
        by_column = dict(zip((column.name for column in cursor.description), row, strict=True))
    fields = Transaction._meta.concrete_fields
    return Transaction.from_db(
        connection.alias, [f.attname for f in fields], [by_column[f.column] for f in fields]
    )


def _atomic(in_outer_transaction: bool) -> contextlib.AbstractContextManager[object]:
    # On PostgreSQL fund_post() is one statement, so on its own it is one database transaction:
    # no BEGIN/COMMIT round trips. Inside a caller's transaction, a savepoint keeps it usable.
    if connection.vendor == "postgresql" and not in_outer_transaction:
        return contextlib.nullcontext()
    return transaction.atomic()


def _check_fields(*, kind: str, effective_date: date, memo: str, reason: str) -> None:
    if kind not in Kind.values:
        raise InvalidTransaction(f"Unknown transaction kind {kind!r}.")
    if not isinstance(effective_date, date) or isinstance(effective_date, datetime):
        raise InvalidTransaction("The effective date must be a date.")
    if not memo.strip() or len(memo) > 500 or len(reason) > 500:
        raise InvalidTransaction("A memo of 1 to 500 characters is required.")


def _checked_key(key: str) -> str:
    if not key or len(key) > 200:
        raise InvalidTransaction("An idempotency key of 1 to 200 characters is required.")
    return key


def _checked_legs(fund: Fund, legs: Sequence[Leg]) -> tuple[Leg, ...]:
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
    return tuple(sorted(legs, key=lambda leg: leg.account.pk))


def _counter_deltas(entry: Entry) -> tuple[int, int]:
    """Return how the entry moves the fund's gift count and its case's payment count."""
    undone = entry.reverses.kind if entry.reverses is not None else None
    gift = 1 if entry.kind in GIFT_KINDS else -1 if undone in GIFT_KINDS else 0
    case = 1 if entry.kind in CASE_KINDS else -1 if undone in CASE_KINDS else 0
    if not entry.case_ref:
        case = 0
    return gift, case


def _retryable(error: DatabaseError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES


def _ledger_refusal(error: DatabaseError, entry: Entry) -> FundError | None:
    """Translate the database's refusal of a posting into a FundError fit to show, if it is one."""
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None)
    # SQLite names the constraint only in its message.
    if constraint == "fund_account_no_overdraft" or "fund_account_no_overdraft" in str(error):
        drawn = sorted(
            {
                leg.account.name
                for leg in entry.legs
                if leg.account.no_overdraft and leg.amount_cents < 0
            }
        )
        return InsufficientFunds(f"Insufficient funds in {' or '.join(drawn) or 'the account'}.")
    refusals: dict[str | None, FundError] = {
        "DF001": IdempotencyConflict("Idempotency key reused with a different payload."),
        "DF002": PeriodClosed(
            f"{entry.effective_date:%B %Y} is closed: date the transaction in an open period."
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

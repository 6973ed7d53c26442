"""THE one door for money: post a balanced transaction to a fund's ledger.

Only the database function `fund_post()` (fund/migrations/0008_ledger_integrity.py) creates
Transaction and Posting rows: the app's own database role may insert them no other way. It locks
the fund, checks the entry, numbers it, takes the recording time, computes the digest and the hash
chain, and inserts it, in one round trip. This module checks what it can first, so that a person
gets a clear message, and turns the database's refusals into the same FundErrors.
"""

import contextlib
import re
import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple

import psycopg
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction

from fund import money
from fund.errors import (
    AlreadyReversed,
    BooksClosed,
    FundError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransaction,
    NotAllowed,
    UnbalancedTransaction,
)
from fund.ledger.dates import OUTSIDE_THE_BOOKS, in_the_books
from fund.ledger.entries import Entry, Leg
from fund.ledger.models import Fund, Transaction
from fund.security.roles import LEDGER_WRITERS

Kind = Transaction.Kind

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
MAX_ATTEMPTS = 4
# The database refuses larger legs too; a balance that would overflow is refused as out of range.
MAX_LEG_CENTS = 10**15
TEXT_LIMITS = {"memo": 500, "reason": 500, "source_ref": 100, "case_ref": 20}
# Idempotency keys the system makes begin with one of these and a colon ("reversal:1234"); a key a
# person or API client supplies is kept apart under "journal:<their id>:" (supplied_key), and may
# hold no colon, so it can never take a system key's form.
SYSTEM_KEY_NAMESPACES = (
    "reversal",
    "stripe",
    "disbursement",
    "bond",
    "refund",
    "demo",
    "gift",
    "deposit",
)
SUPPLIED_KEY = re.compile(r"[A-Za-z0-9._-]{1,100}")


class FundPostArgs(NamedTuple):
    """fund_post()'s parameters in order, named as its SQL parameters without `p_`."""

    fund: int
    idempotency_key: str
    effective_date: date
    kind: str
    memo: str
    reason: str
    source_ref: str
    case_ref: str
    recorded_by: int | None
    reverses: int | None
    accounts: list[int]
    amounts: list[int]
    check_now: bool


# Named notation: PostgreSQL refuses the call if a name above is not one of fund_post()'s.
FUND_POST_SQL = (
    "SELECT * FROM fund_post("  # noqa: S608  (names from the tuple above, values as parameters)
    + ", ".join(f"p_{name} => %s" for name in FundPostArgs._fields)
    + ")"
)

# What the database says when it refuses a posting (SQLSTATE), and the error that says it here.
REFUSALS: dict[str, type[FundError]] = {
    "DF001": IdempotencyConflict,
    "DF002": BooksClosed,
    "DF003": AlreadyReversed,
    "DF004": UnbalancedTransaction,
    "DF005": InsufficientFunds,
    "DF007": InvalidTransaction,
    "DF010": InvalidTransaction,
    "DF011": InvalidTransaction,
    "DF012": NotAllowed,
    "DF013": InvalidTransaction,
    "22001": InvalidTransaction,  # a value longer than its column
    "22003": InvalidTransaction,  # a number out of range, e.g. a balance that would overflow
    "22021": InvalidTransaction,  # text that is not UTF-8
}


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
    IdempotencyConflict. The database locks the fund, then its accounts in id order; deadlocks are
    retried in a transaction of our own. Refusals are FundErrors with a message fit to show.
    """
    LEDGER_WRITERS.check(actor)
    entry = Entry(
        fund=fund,
        legs=_checked_legs(fund, legs),
        effective_date=_checked_date(effective_date),
        kind=_checked_kind(kind),
        memo=_checked_text("memo", memo, required=True),
        reason=_checked_text("reason", reason),
        source_ref=_checked_text("source_ref", source_ref),
        case_ref=_checked_text("case_ref", case_ref),
        idempotency_key=_checked_key(idempotency_key),
        recorded_by=actor,
        reverses=reverses,
    )
    in_outer_transaction = connection.in_atomic_block
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with _atomic(in_outer_transaction):
                return _post(entry)
        except DatabaseError as error:
            retryable = _sqlstate(error) in RETRYABLE_SQLSTATES and not in_outer_transaction
            if retryable and attempt < MAX_ATTEMPTS:
                time.sleep(0.005 * 2**attempt)
                continue
            refusal = ledger_refusal(error, currency=fund.currency)
            if refusal is None:
                raise
            raise refusal from error
    raise AssertionError("unreachable")  # pragma: no cover


def supplied_key(key: str, *, supplier: User) -> str:
    """Return the ledger's idempotency key for a key a person or API client supplied.

    In a namespace of its own and of that person, so it can neither block a system key (a journal
    entry keyed "reversal:100" would stop transaction 100 from ever being reversed) nor another
    person's entries.
    """
    if not isinstance(key, str) or not SUPPLIED_KEY.fullmatch(key):
        raise InvalidTransaction("An idempotency key is 1 to 100 letters, digits, '.', '_' or '-'.")
    return f"journal:{supplier.pk}:{key}"


def fund_post_args(entry: Entry) -> FundPostArgs:
    """Return fund_post()'s arguments for an entry."""
    return FundPostArgs(
        fund=entry.fund_id,
        idempotency_key=entry.idempotency_key,
        effective_date=entry.effective_date,
        kind=str(entry.kind),
        memo=entry.memo,
        reason=entry.reason,
        source_ref=entry.source_ref,
        case_ref=entry.case_ref,
        recorded_by=entry.recorded_by_id,
        reverses=entry.reverses_id,
        accounts=[leg.account.pk for leg in entry.legs],
        amounts=[leg.amount_cents for leg in entry.legs],
        check_now=connection.in_atomic_block,
    )


def ledger_refusal(error: DatabaseError, *, currency: str) -> FundError | None:
    """Return the FundError for a refusal by the database, with its message; None if it is not one.

    fund_post() checks every rule itself and raises a DFnnn code with a message written to be shown
    (fund/migrations/0008_ledger_integrity.py). The tables' constraints stay as a backstop: should
    one ever fire first, it is refused by name rather than as a server error.
    """
    cause = error.__cause__
    if not isinstance(cause, psycopg.Error):
        return None
    diag, state = cause.diag, cause.sqlstate or ""
    if state == "DF008":
        # DETAIL is "account name|day|cents short", so the amount is shown in the fund's currency.
        name, day, short = (diag.message_detail or "").split("|")
        amount = money.format_amount(int(short), currency)
        return InsufficientFunds(
            f"Insufficient funds: {name} would be {amount} short at the end of {day}."
        )
    if state.startswith("23"):
        rule = diag.constraint_name or diag.message_primary
        return InvalidTransaction(f"The entry breaks the rule {rule}.")
    refusal = REFUSALS.get(state)
    return refusal(diag.message_primary) if refusal is not None else None


def _post(entry: Entry) -> Transaction:
    with connection.cursor() as cursor:
        cursor.execute(FUND_POST_SQL, list(fund_post_args(entry)))
        (row,) = cursor.fetchall()
        by_column = dict(zip((column.name for column in cursor.description), row, strict=True))
    fields = Transaction._meta.concrete_fields
    return Transaction.from_db(
        connection.alias, [f.attname for f in fields], [by_column[f.column] for f in fields]
    )


def _atomic(in_outer_transaction: bool) -> contextlib.AbstractContextManager[object]:
    # fund_post() is one statement, so on its own it is one database transaction: no BEGIN/COMMIT
    # round trips. Inside a caller's transaction, a savepoint keeps that transaction usable.
    if not in_outer_transaction:
        return contextlib.nullcontext()
    return transaction.atomic()


def _sqlstate(error: DatabaseError) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def _checked_kind(kind: str) -> str:
    if kind not in Kind.values:
        raise InvalidTransaction(f"Unknown transaction kind {kind!r}.")
    return str(kind)


def _checked_date(effective_date: date) -> date:
    if not isinstance(effective_date, date) or isinstance(effective_date, datetime):
        raise InvalidTransaction("The effective date must be a date.")
    if not in_the_books(effective_date):
        raise InvalidTransaction(OUTSIDE_THE_BOOKS)
    return effective_date


def _checked_text(name: str, value: str, *, required: bool = False) -> str:
    limit = TEXT_LIMITS[name]
    label = name.replace("_", " ")
    if not isinstance(value, str):
        raise InvalidTransaction(f"The {label} must be text.")
    if required and not value.strip():
        raise InvalidTransaction(f"A {label} of 1 to {limit} characters is required.")
    if len(value) > limit:
        raise InvalidTransaction(f"The {label} is longer than {limit} characters.")
    _refuse_unstorable(label, value)
    return value


def _checked_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > 200:
        raise InvalidTransaction("An idempotency key of 1 to 200 characters is required.")
    _refuse_unstorable("idempotency key", key)
    return key


def _refuse_unstorable(label: str, value: str) -> None:
    # PostgreSQL text holds neither NUL nor lone surrogates; say so rather than fail in the driver.
    if "\x00" in value:
        raise InvalidTransaction(f"The {label} contains a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidTransaction(f"The {label} is not valid text.") from None


def _checked_legs(fund: Fund, legs: Sequence[Leg]) -> tuple[Leg, ...]:
    if len(legs) < 2:
        raise UnbalancedTransaction("A transaction needs at least two legs.")
    for leg in legs:
        if type(leg.amount_cents) is not int:
            raise InvalidTransaction("Amounts are whole numbers of cents.")
        if leg.amount_cents == 0:
            raise InvalidTransaction("A leg cannot be zero.")
        if abs(leg.amount_cents) > MAX_LEG_CENTS:
            raise InvalidTransaction("An amount is out of range.")
        if abs(leg.amount_cents) > money.max_amount(fund.currency):
            amount = money.format_amount(abs(leg.amount_cents), fund.currency)
            cap = money.format_amount(money.max_amount(fund.currency), fund.currency)
            raise InvalidTransaction(
                f"A leg of {amount} is above the largest amount accepted, {cap} (MAX_AMOUNT)."
            )
        if leg.account.fund_id != fund.pk:
            raise InvalidTransaction(f"Account {leg.account.code} belongs to another fund.")
    total = sum(leg.amount_cents for leg in legs)
    if total != 0:
        raise UnbalancedTransaction(f"Debits and credits differ by {total} cents.")
    # One lock order for every writer: by account id (fund_post() refuses any other order).
    return tuple(sorted(legs, key=lambda leg: (leg.account.pk, leg.amount_cents)))

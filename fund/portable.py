"""The posting service's steps for SQLite (the demo), which has no fund_post() function.

SQLite serialises writers with its database lock; the checks PostgreSQL makes in triggers are
made here.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F

from fund.chain import chain_hash
from fund.errors import AlreadyReversed, IdempotencyConflict, InsufficientFunds, PeriodClosed
from fund.models import (
    Account,
    AccountMonth,
    Fund,
    LedgerHead,
    Period,
    Posting,
    SupportedCase,
    Transaction,
)

if TYPE_CHECKING:
    from fund.services import Leg


def post_portable(
    *,
    fund: Fund,
    legs: Sequence["Leg"],
    effective_date: date,
    kind: str,
    memo: str,
    reason: str,
    source_ref: str,
    case_ref: str,
    key: str,
    payload_hash: str,
    actor: AbstractBaseUser | None,
    reverses: Transaction | None,
    recorded_at: datetime,
    digest: str,
    gift_delta: int,
    case_delta: int,
) -> Transaction:
    """The steps of fund_post(), for SQLite, which serialises writers with its database lock."""
    head = LedgerHead.objects.select_for_update().get(fund=fund)
    existing = Transaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.payload_hash != payload_hash:
            raise IdempotencyConflict("Idempotency key reused with a different payload.")
        return existing
    if reverses is not None and Transaction.objects.filter(reverses=reverses).exists():
        raise AlreadyReversed(f"Transaction {reverses.reference} is already reversed.")
    month = effective_date.replace(day=1)
    if Period.objects.filter(fund=fund, month=month, is_closed=True).exists():
        raise PeriodClosed(f"{month:%B %Y} is closed: date the transaction in an open period.")
    year = effective_date.year
    last = (
        Transaction.objects.filter(fund=fund, year=year)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
        or 0
    )
    number = last + 1
    txn = Transaction.objects.create(
        fund=fund,
        year=year,
        number=number,
        effective_date=effective_date,
        recorded_at=recorded_at,
        kind=kind,
        memo=memo,
        reason=reason,
        source_ref=source_ref,
        case_ref=case_ref,
        idempotency_key=key,
        payload_hash=payload_hash,
        recorded_by=actor,
        reverses=reverses,
        prev_hash=head.chain_head,
        hash=chain_hash(prev_hash=head.chain_head, year=year, number=number, digest=digest),
    )
    for leg in legs:
        Account.objects.filter(pk=leg.account.pk).update(
            balance_cents=F("balance_cents") + leg.amount_cents
        )
        account = Account.objects.get(pk=leg.account.pk)
        if account.no_overdraft and account.balance_cents < 0:
            raise InsufficientFunds(f"Insufficient funds in {account.name}.")
        Posting.objects.create(
            transaction=txn,
            account=account,
            amount_cents=leg.amount_cents,
            balance_after_cents=account.balance_cents,
        )
        checkpoint, _ = AccountMonth.objects.get_or_create(account=account, month=month)
        AccountMonth.objects.filter(pk=checkpoint.pk).update(
            debit_cents=F("debit_cents") + max(leg.amount_cents, 0),
            credit_cents=F("credit_cents") + max(-leg.amount_cents, 0),
        )
    if fund.restricted:
        assets = sum(
            Account.objects.filter(fund=fund, kind=Account.Kind.ASSET).values_list(
                "balance_cents", flat=True
            )
        )
        if assets < 0:
            raise InsufficientFunds(f"Insufficient funds: {fund.name} is donor-restricted.")
    LedgerHead.objects.filter(pk=head.pk).update(
        chain_head=txn.hash, gift_count=F("gift_count") + gift_delta
    )
    if case_delta:
        supported, _ = SupportedCase.objects.get_or_create(fund=fund, case_ref=case_ref)
        SupportedCase.objects.filter(pk=supported.pk).update(payments=F("payments") + case_delta)
    return txn

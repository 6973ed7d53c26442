"""The posting service's steps for SQLite (the demo), which has no fund_post() function.

SQLite serialises writers with its database lock; the checks PostgreSQL makes in triggers are
made here.
"""

from typing import TYPE_CHECKING

from django.db.models import F

from fund.errors import AlreadyReversed, IdempotencyConflict, InsufficientFunds, PeriodClosed
from fund.ledger.chain import chain_hash
from fund.ledger.entries import Entry
from fund.ledger.models import (
    Account,
    AccountMonth,
    LedgerHead,
    Period,
    Posting,
    SupportedCase,
    Transaction,
)

if TYPE_CHECKING:
    from fund.ledger.posting import FundPostArgs


def post_sqlite(entry: Entry, args: "FundPostArgs") -> Transaction:
    """The steps of fund_post(), for SQLite, which serialises writers with its database lock."""
    head = LedgerHead.objects.select_for_update().get(fund=entry.fund)
    existing = Transaction.objects.filter(idempotency_key=entry.idempotency_key).first()
    if existing is not None:
        if existing.payload_hash != args.payload_hash:
            raise IdempotencyConflict("Idempotency key reused with a different payload.")
        return existing
    if entry.reverses is not None and Transaction.objects.filter(reverses=entry.reverses).exists():
        raise AlreadyReversed(f"Transaction {entry.reverses.reference} is already reversed.")
    month = entry.effective_date.replace(day=1)
    if Period.objects.filter(fund=entry.fund, month=month, is_closed=True).exists():
        raise PeriodClosed(f"{month:%B %Y} is closed: date the transaction in an open period.")
    year = entry.effective_date.year
    last = (
        Transaction.objects.filter(fund=entry.fund, year=year)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
        or 0
    )
    number = last + 1
    txn = Transaction.objects.create(
        fund=entry.fund,
        year=year,
        number=number,
        effective_date=entry.effective_date,
        recorded_at=entry.recorded_at,
        kind=entry.kind,
        memo=entry.memo,
        reason=entry.reason,
        source_ref=entry.source_ref,
        case_ref=entry.case_ref,
        idempotency_key=entry.idempotency_key,
        payload_hash=args.payload_hash,
        recorded_by=entry.recorded_by,
        reverses=entry.reverses,
        prev_hash=head.chain_head,
        hash=chain_hash(prev_hash=head.chain_head, year=year, number=number, digest=args.digest),
    )
    for leg in entry.legs:
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
    if entry.fund.restricted:
        assets = sum(
            Account.objects.filter(fund=entry.fund, kind=Account.Kind.ASSET).values_list(
                "balance_cents", flat=True
            )
        )
        if assets < 0:
            raise InsufficientFunds(f"Insufficient funds: {entry.fund.name} is donor-restricted.")
    LedgerHead.objects.filter(pk=head.pk).update(
        chain_head=txn.hash, gift_count=F("gift_count") + args.gift_delta
    )
    if args.case_delta:
        supported, _ = SupportedCase.objects.get_or_create(fund=entry.fund, case_ref=entry.case_ref)
        SupportedCase.objects.filter(pk=supported.pk).update(
            payments=F("payments") + args.case_delta
        )
    return txn

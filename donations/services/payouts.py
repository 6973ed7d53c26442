"""Payouts: Stripe paying its balance out to the bank (Stripe clearing → Bank), and back again if
the bank refuses it.

A Stripe account pays out for one fund: the one named in the payout's `metadata.fund`, or else
DEFAULT_FUND_SLUG (docs/donations.md). Whether a payout matches the ledger is checked afterwards,
by a task that reads its balance transactions (donations.services.reconciliation).
"""

from datetime import UTC, date, datetime
from typing import Any

from django.utils import timezone

from donations.errors import DonationError
from donations.models import Payout
from donations.services.common import day_of, fund_named, lock
from fund.ledger.entries import Leg
from fund.ledger.models import Account, Fund, Transaction
from fund.ledger.posting import post_transaction
from fund.ledger.queries import account_for, open_day
from fund.ledger.services import reverse_transaction
from fund.tasks import enqueue_on_commit

Role = Account.Role
Object = dict[str, Any]


def arrival_day(payout: Object) -> date:
    """Return the day a payout reaches the bank.

    Stripe gives `arrival_date` as midnight UTC of that day, not a moment: read in the fund's zone
    it would be the evening before west of UTC (a payout of the 1st booked in the last month).
    """
    if payout.get("arrival_date"):
        return datetime.fromtimestamp(int(payout["arrival_date"]), tz=UTC).date()
    return day_of(int(payout["created"]))


def _fund_of(payout: Object) -> Fund:
    """Return the fund a payout is for, refusing one in another currency than the fund keeps."""
    fund = fund_named(payout.get("metadata") or {})
    currency = str(payout.get("currency") or "").upper()
    if currency != fund.currency:
        raise DonationError(
            f"Payout {payout['id']} is in {currency or 'no currency'}; fund {fund.slug} keeps "
            f"{fund.currency}."
        )
    return fund


def record_payout_paid(payout: Object) -> Payout:
    """Book a paid payout once, and have it reconciled after commit."""
    lock(f"payout:{payout['id']}")
    record = Payout.objects.select_for_update().filter(stripe_payout=payout["id"]).first()
    if record is None:
        record = Payout.objects.create(
            fund=_fund_of(payout),
            stripe_payout=payout["id"],
            amount_cents=int(payout["amount"]),
            arrival_date=arrival_day(payout),
        )
    if record.transaction_id is not None or record.status == Payout.Status.FAILED:
        return record
    record.transaction = post_transaction(
        fund=record.fund,
        legs=[
            Leg(account_for(record.fund, Role.BANK), record.amount_cents),
            Leg(account_for(record.fund, Role.STRIPE_CLEARING), -record.amount_cents),
        ],
        effective_date=open_day(record.fund, record.arrival_date),
        kind=Transaction.Kind.PAYOUT,
        memo="Stripe payout",
        idempotency_key=f"stripe:payout:{payout['id']}",
        actor=None,
        source_ref=payout["id"][:100],
    )
    record.save(update_fields=["transaction"])
    _after_commit_reconcile(record)
    return record


def record_payout_failed(payout: Object) -> Payout:
    """Mark a payout failed; if it was booked as paid, reverse that: the money is back at Stripe."""
    lock(f"payout:{payout['id']}")
    record = Payout.objects.select_for_update().filter(stripe_payout=payout["id"]).first()
    if record is None:
        record = Payout.objects.create(
            fund=_fund_of(payout),
            stripe_payout=payout["id"],
            amount_cents=int(payout["amount"]),
            arrival_date=arrival_day(payout),
            status=Payout.Status.FAILED,
        )
        return record
    if record.transaction is not None and record.failed_transaction_id is None:
        record.failed_transaction = reverse_transaction(
            original=record.transaction,
            actor=None,
            memo="Stripe payout failed: the bank returned it",
            effective_date=open_day(record.fund, timezone.localdate()),
            by_workflow=True,
        )
    record.status = Payout.Status.FAILED
    record.save(update_fields=["status", "failed_transaction"])
    return record


def _after_commit_reconcile(record: Payout) -> None:
    from donations.tasks import reconcile_payout

    payout_id = record.pk
    enqueue_on_commit(reconcile_payout, payout_id)

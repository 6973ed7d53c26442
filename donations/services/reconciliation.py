"""Payout reconciliation: does what Stripe paid out match what the ledger booked?

For each balance transaction of a payout (Stripe's line items: a charge, a refund, a dispute's
withdrawal or reinstatement, a fee of Stripe's own), the ledger must hold the matching entry, and
the lines must add up to the payout. Each difference is a short line of ids and amounts (never
donor data) that a treasurer can look up at Stripe and in the books, and correct with a journal
entry if the ledger is the one that is wrong.
"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from donations.models import Dispute, Gift, Payout
from fund import money

Object = dict[str, Any]
# Balance transaction types that are line items of the payout and not the payout itself.
PAYOUT_TYPES = frozenset(
    {"payout", "payout_cancel", "payout_failure", "payout_minimum_balance_hold"}
)


def reconcile(payout: Payout, balance_transactions: Iterable[Object]) -> str:
    """Check a payout against the ledger, record the outcome and return it. Safe to run again."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().select_related("fund").get(pk=payout.pk)
        currency = payout.fund.currency
        differences: list[str] = []
        net = 0
        for line in balance_transactions:
            if line.get("type") in PAYOUT_TYPES:
                continue
            net += int(line["net"])
            differences += _line_differences(line, currency)
        if net != payout.amount_cents:
            differences.append(
                f"payout {payout.stripe_payout}: {_money(payout.amount_cents, currency)} paid out, "
                f"its transactions net {_money(net, currency)}"
            )
        payout.differences = differences
        payout.reconciliation = (
            Payout.Reconciliation.MISMATCHED if differences else Payout.Reconciliation.MATCHED
        )
        payout.checked_at = timezone.now()
        payout.save(update_fields=["differences", "reconciliation", "checked_at"])
        return str(payout.reconciliation)


def _line_differences(line: Object, currency: str) -> list[str]:
    kind = line.get("type")
    source = line.get("source")
    source_id = source.get("id") if isinstance(source, dict) else source
    amount, fee = int(line["amount"]), int(line.get("fee") or 0)
    line_currency = str(line.get("currency") or currency).upper()
    if line_currency != currency:
        return [f"{line['id']} ({kind}) is in {line_currency}; the fund keeps {currency}"]
    if kind in ("charge", "payment"):
        return _charge_differences(str(source_id), source, amount, fee, currency)
    if kind in ("refund", "payment_refund"):
        return _refund_differences(str(source_id), source, -amount, currency)
    if kind == "adjustment" and isinstance(source, dict) and source.get("object") == "dispute":
        return _dispute_differences(source, amount, currency)
    # Stripe's own fees, adjustments of other kinds: nothing in the books matches them by id.
    return [
        f"{line['id']} ({kind}): {_money(amount, currency)}, fee {_money(fee, currency)}, "
        "has no matching entry in the ledger"
    ]


def _charge_differences(
    charge: str, source: object, amount: int, fee: int, currency: str
) -> list[str]:
    intent = source.get("payment_intent") if isinstance(source, dict) else None
    gift = _gift_of(charge, intent)
    if gift is None or gift.transaction_id is None:
        return [f"{charge}: Stripe received {_money(amount, currency)}; the ledger has no gift"]
    found = []
    if gift.amount_cents != amount:
        found.append(
            f"{charge}: Stripe received {_money(amount, currency)}, the ledger booked "
            f"{_money(gift.amount_cents, currency)} (gift #{gift.pk})"
        )
    if gift.fee_cents != fee:
        found.append(
            f"{charge}: Stripe's fee {_money(fee, currency)}, the ledger's "
            f"{_money(gift.fee_cents, currency)} (gift #{gift.pk})"
        )
    return found


def _refund_differences(refund: str, source: object, amount: int, currency: str) -> list[str]:
    charge = source.get("charge") if isinstance(source, dict) else None
    intent = source.get("payment_intent") if isinstance(source, dict) else None
    gift = _gift_of(str(charge or ""), intent)
    if gift is None or gift.refunded_cents < amount:
        booked = 0 if gift is None else gift.refunded_cents
        return [
            f"{refund}: Stripe refunded {_money(amount, currency)} of {charge}; the ledger's "
            f"refunds of that gift total {_money(booked, currency)}"
        ]
    return []


def _dispute_differences(dispute: Object, amount: int, currency: str) -> list[str]:
    record = Dispute.objects.filter(stripe_dispute=dispute.get("id")).first()
    booked = (
        None if record is None else (record.withdrawn_id if amount < 0 else record.reinstated_id)
    )
    if booked is None:
        what = "withdrew" if amount < 0 else "reinstated"
        return [
            f"{dispute.get('id')}: Stripe {what} {_money(abs(amount), currency)} for a dispute; "
            "the ledger has no such entry"
        ]
    return []


def _gift_of(charge: str, intent: object) -> Gift | None:
    match = Q(stripe_charge=charge) if charge else Q(pk__in=[])
    if isinstance(intent, str) and intent:
        match |= Q(stripe_payment_intent=intent)
    return Gift.objects.filter(match).first()


def _money(cents: int, currency: str) -> str:
    return money.format_amount(cents, currency)

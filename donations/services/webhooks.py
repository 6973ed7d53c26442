"""Stripe's webhook events: each stored once and applied in the same database transaction.

A duplicate (Stripe retries, and sometimes delivers twice at once) finds the event already stored
and changes nothing. If applying fails, nothing is stored either, so the event applies when
Stripe delivers it again. Types we do not handle are stored and otherwise ignored.
"""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from donations.models import Gift, StripeEvent
from donations.services import online, payouts

logger = logging.getLogger(__name__)
Object = dict[str, Any]


def _checkout_failed(session: Object, _: Object) -> None:
    online.record_checkout_failed(session, Gift.Status.FAILED)


def _checkout_expired(session: Object, _: Object) -> None:
    online.record_checkout_failed(session, Gift.Status.EXPIRED)


def _dispute(dispute: Object, event: Object) -> None:
    online.record_dispute(dispute, event_type=str(event["type"]))


def _payment_succeeded(intent: Object, event: Object) -> None:
    metadata = intent.get("metadata") or {}
    if not metadata and str(intent.get("description") or "").startswith("Subscription"):
        # Stripe Billing's own payment of a monthly gift's invoice: invoice.paid books it.
        return
    online.record_payment(
        payment_intent=intent["id"],
        amount_cents=int(intent["amount_received"]),
        currency=intent["currency"],
        metadata=metadata,
        paid_at=int(event.get("created") or intent["created"]),
        customer={"email": intent.get("receipt_email")},
    )


# Each handler gets the event's object and the event itself (its type, when it happened).
HANDLERS: dict[str, Callable[[Object, Object], object]] = {
    # A gift is dated when it was paid (the event's time), not when its Checkout was opened.
    "checkout.session.completed": lambda obj, event: online.record_checkout_completed(
        obj, paid_at=int(event.get("created") or 0)
    ),
    "checkout.session.async_payment_succeeded": lambda obj, event: online.record_checkout_completed(
        obj, paid_at=int(event.get("created") or 0)
    ),
    "checkout.session.async_payment_failed": _checkout_failed,
    "checkout.session.expired": _checkout_expired,
    "payment_intent.succeeded": _payment_succeeded,
    # A refund is booked on the day Stripe made it (the event's), even when the event comes late.
    "charge.refunded": lambda obj, event: online.record_refunded_total(
        obj, refunded_at=int(event.get("created") or 0)
    ),
    "charge.dispute.created": _dispute,
    "charge.dispute.funds_withdrawn": _dispute,
    "charge.dispute.funds_reinstated": _dispute,
    "charge.dispute.closed": _dispute,
    "invoice.paid": lambda obj, _: online.record_invoice_paid(obj, payment_intent=None),
    "invoice.payment_failed": lambda obj, _: online.record_invoice_failed(obj),
    "customer.subscription.updated": lambda obj, _: online.record_subscription_change(
        obj, deleted=False
    ),
    "customer.subscription.deleted": lambda obj, _: online.record_subscription_change(
        obj, deleted=True
    ),
    "payout.paid": lambda obj, _: payouts.record_payout_paid(obj),
    "payout.failed": lambda obj, _: payouts.record_payout_failed(obj),
}


@transaction.atomic
def receive_stripe_event(event: Object) -> bool:
    """Store a verified event once and apply it; return False if it had been received before.

    Raises whatever applying it raised, with nothing stored, so Stripe delivers it again.
    """
    obj = (event.get("data") or {}).get("object") or {}
    stored = StripeEvent(
        event_id=str(event["id"]),
        type=str(event.get("type") or "")[:100],
        object_id=str(obj.get("id") or "")[:255],
        body=json.dumps(event, separators=(",", ":")),
        created=datetime.fromtimestamp(int(event.get("created") or 0), tz=UTC),
    )
    # ON CONFLICT DO NOTHING: a repeat waits here for the first delivery's transaction, then
    # stores nothing (or, if that one rolled back, stores and applies the event itself).
    StripeEvent.objects.bulk_create([stored], ignore_conflicts=True)
    if not StripeEvent.objects.filter(row_key=stored.row_key).exists():
        return False  # delivered before
    handler = HANDLERS.get(str(event.get("type")))
    if handler is not None:
        handler(obj, event)
    logger.info("stripe event %s (%s) applied", event["id"], event.get("type"))
    return True

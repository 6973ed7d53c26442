"""DEMO MODE ONLY: Stripe's side of a payment, played locally (`make demo`, no Stripe account).

When a donor "pays" on the demo checkout page, or cancels a monthly gift on the demo manage page,
this builds the events Stripe would send (shaped as the pinned API version's), signs each with the
first webhook secret exactly as Stripe signs, and hands it to our own webhook view in-process: the
signature is verified and the event stored and applied by the very code that takes Stripe's. It is
called in-process rather than over HTTP so that it works under the demo's one runserver whatever
address the site is reached at. Nothing here runs unless `donations.stripe.demo_mode()`.
"""

import calendar
import io
import json
import time
from datetime import date
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest

from donations import stripe as gateway
from donations.errors import DonationError
from donations.models import Gift, Payout, RecurringGift, Refund
from donations.views.webhook import stripe_webhook
from fund.ledger.models import Fund

Object = dict[str, Any]
# The demo's test cards, as Stripe's test mode knows them.
CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"


def pending_gift(session_id: str) -> Gift | None:
    """Return the gift of a demo Checkout Session, or None (no such session, or not the demo)."""
    if not gateway.demo_mode() or not session_id.startswith(gateway.DEMO_SESSION_PREFIX):
        return None
    return (
        Gift.objects.select_related("fund", "donor")
        .filter(stripe_checkout_session=session_id)
        .first()
    )


def pay(gift: Gift, *, at: int | None = None) -> None:
    """Deliver what Stripe sends when the donor pays: the completed Checkout (and the invoice).

    `at` is when (a Unix time; now if None: seed_demo pays on days of the demo year). Event and
    object ids are derived from the gift, so paying twice delivers duplicates, which the webhook
    ignores.
    """
    ref = gift.row_key.hex
    created = int(time.time()) if at is None else at
    metadata = {"fund": gift.fund.slug, "donation": str(gift.row_key)}
    email = gift.donor.email
    session: Object = {
        "id": gift.stripe_checkout_session,
        "object": "checkout.session",
        "amount_subtotal": gift.amount_cents,
        "amount_total": gift.amount_cents,
        "client_reference_id": str(gift.row_key),
        "created": created,
        "currency": gift.fund.currency.lower(),
        "customer": None,
        "customer_details": {"email": email, "name": gift.donor.name or None},
        "customer_email": email,
        "livemode": False,
        "locale": gift.language,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": f"pi_demo_{ref}",
        "payment_status": "paid",
        "status": "complete",
        "submit_type": "donate",
        "subscription": None,
    }
    if gift.recurring_id is None:
        deliver(_event(f"evt_demo_{ref}_completed", "checkout.session.completed", session, created))
        return
    subscription, customer = f"sub_demo_{ref}", f"cus_demo_{ref}"
    session |= {
        "mode": "subscription",
        "payment_intent": None,
        "submit_type": None,
        "subscription": subscription,
        "customer": customer,
    }
    deliver(_event(f"evt_demo_{ref}_completed", "checkout.session.completed", session, created))
    now = created
    invoice: Object = {
        "id": f"in_demo_{ref}_1",
        "object": "invoice",
        "amount_due": gift.amount_cents,
        "amount_paid": gift.amount_cents,
        "billing_reason": "subscription_create",
        "created": now,
        "currency": gift.fund.currency.lower(),
        "customer": customer,
        "customer_email": email,
        "customer_name": gift.donor.name or None,
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": subscription, "metadata": metadata},
        },
        "status": "paid",
        "status_transitions": {"paid_at": now},
    }
    deliver(_event(f"evt_demo_{ref}_invoice_1", "invoice.paid", invoice, created))


def cancel(recurring: RecurringGift) -> None:
    """Deliver what Stripe sends when a monthly gift is cancelled in its Billing Portal."""
    if not gateway.demo_mode() or not recurring.stripe_subscription:
        raise DonationError("This monthly gift has not started yet, so there is nothing to cancel.")
    subscription: Object = {
        "id": recurring.stripe_subscription,
        "object": "subscription",
        "canceled_at": int(time.time()),
        "customer": recurring.stripe_customer or None,
        "items": {
            "object": "list",
            "data": [
                {"object": "subscription_item", "price": {"unit_amount": recurring.amount_cents}}
            ],
        },
        "livemode": False,
        "metadata": {"fund": recurring.fund.slug},
        "status": "canceled",
    }
    event_id = f"evt_demo_{recurring.stripe_subscription}_deleted"
    deliver(_event(event_id, "customer.subscription.deleted", subscription))


def refund(gift: Gift, *, at: int) -> None:
    """Deliver what Stripe sends when a gift is refunded in full at `at` (a Unix time)."""
    charge: Object = {
        "id": f"ch_demo_{gift.row_key.hex}",
        "object": "charge",
        "amount": gift.amount_cents,
        "amount_refunded": gift.amount_cents,
        "created": at,
        "currency": gift.fund.currency.lower(),
        "livemode": False,
        "metadata": {"fund": gift.fund.slug, "donation": str(gift.row_key)},
        "paid": True,
        "payment_intent": gift.stripe_payment_intent,
        "refunded": True,
        "status": "succeeded",
    }
    deliver(_event(f"evt_demo_{gift.row_key.hex}_refunded", "charge.refunded", charge, at))


def pay_out(fund: Fund, *, payout_id: str, amount_cents: int, on: int, arrives: date) -> None:
    """Deliver what Stripe sends when it pays a fund's Stripe balance into the bank."""
    payout: Object = {
        "id": payout_id,
        "object": "payout",
        "amount": amount_cents,
        "arrival_date": calendar.timegm(arrives.timetuple()),  # midnight UTC, as Stripe sends it
        "automatic": True,
        "created": on,
        "currency": fund.currency.lower(),
        "livemode": False,
        "metadata": {"fund": fund.slug},
        "method": "standard",
        "status": "paid",
        "type": "bank_account",
    }
    deliver(_event(f"evt_demo_{payout_id}_paid", "payout.paid", payout, on))


def payout_lines(payout: Payout) -> list[Object]:
    """Return the balance transactions Stripe would list for a demo payout: the card gifts and
    refunds of its fund since the fund's previous payout, through the payout's day."""
    earlier = (
        Payout.objects.filter(fund=payout.fund, arrival_date__lt=payout.arrival_date)
        .order_by("-arrival_date")
        .values_list("arrival_date", flat=True)
        .first()
    )
    gifts = Gift.objects.filter(
        fund=payout.fund, method=Gift.Method.CARD, transaction__isnull=False
    ).filter(received_on__lte=payout.arrival_date)
    refunds = Refund.objects.filter(gift__fund=payout.fund).filter(
        transaction__effective_date__lte=payout.arrival_date
    )
    if earlier is not None:
        gifts = gifts.filter(received_on__gt=earlier)
        refunds = refunds.filter(transaction__effective_date__gt=earlier)
    lines = [
        {
            "id": f"txn_demo_{gift.row_key.hex}",
            "type": "charge",
            "amount": gift.amount_cents,
            "fee": gift.fee_cents,
            "net": gift.amount_cents - gift.fee_cents,
            "source": {
                "id": gift.stripe_charge or f"ch_demo_{gift.row_key.hex}",
                "object": "charge",
                "payment_intent": gift.stripe_payment_intent,
            },
        }
        for gift in gifts.order_by("pk")
    ]
    lines += [
        {
            "id": f"txn_demo_refund_{refund.pk}",
            "type": "refund",
            "amount": -refund.amount_cents,
            "fee": 0,
            "net": -refund.amount_cents,
            "source": {
                "id": f"re_demo_{refund.pk}",
                "object": "refund",
                "charge": refund.gift.stripe_charge,
                "payment_intent": refund.gift.stripe_payment_intent,
            },
        }
        for refund in refunds.select_related("gift").order_by("pk")
    ]
    return lines


def _event(event_id: str, type_: str, obj: Object, created: int | None = None) -> Object:
    return {
        "id": event_id,
        "object": "event",
        "api_version": gateway.API_VERSION,
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def deliver(event: Object) -> None:
    """Post an event to our webhook as Stripe would: the raw JSON body, signed."""
    body = json.dumps(event, separators=(",", ":")).encode()
    signature = gateway.signature_header(body, settings.STRIPE_WEBHOOK_SECRETS[0])
    request = WSGIRequest(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/stripe/webhook/",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_STRIPE_SIGNATURE": signature,
        }
    )
    response = stripe_webhook(request)
    if response.status_code != 200:
        raise DonationError(f"The demo's webhook event {event['id']} was refused.")

"""Stripe objects and webhook events for tests, built on Stripe's own example objects.

Each builder starts from the published example of its resource (fixtures/stripe_objects.json) and
sets what the test needs, so field names and nesting are Stripe's, not our memory of them.
"""

import calendar
import copy
import itertools
import json
import time
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import stripe
from django.utils import timezone

FIXTURES = Path(__file__).parent / "fixtures" / "stripe_objects.json"
WEBHOOK_SECRET = "whsec_test_only_secret_for_the_suite"
_ids = itertools.count(1)

Object = dict[str, Any]


@cache
def _examples() -> dict[str, Object]:
    return json.loads(FIXTURES.read_text())["resources"]


def example(resource: str, **fields: Any) -> Object:
    """Return a copy of Stripe's example of a resource with these fields set."""
    found = copy.deepcopy(_examples()[resource])
    found.update(fields)
    return found


def new_id(prefix: str) -> str:
    """Return a fresh Stripe-looking id, e.g. pi_test_0007."""
    return f"{prefix}_test_{next(_ids):04d}"


def now() -> int:
    return int(time.time())


def event(type_: str, obj: Object, *, id_: str | None = None, created: int | None = None) -> Object:
    """Return a webhook event of this type carrying the object."""
    return example(
        "event",
        id=id_ or new_id("evt"),
        type=type_,
        created=created or now(),
        api_version="2026-10-28.endive",
        data={"object": obj},
        livemode=False,
    )


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """Return the Stripe-Signature header Stripe sends with the body, signed as Stripe signs."""
    timestamp = now() if at is None else at
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body.decode()}", secret)
    return f"t={timestamp},v1={signature}"


def post_event(client: Any, evt: Object, *, secret: str = WEBHOOK_SECRET, at: int | None = None):
    """POST the event to the webhook endpoint, signed, and return the response."""
    body = json.dumps(evt).encode()
    return client.post(
        "/stripe/webhook/",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": signed(body, secret, at)},
    )


# The objects the donation flows are about


def checkout_session(
    *,
    amount: int,
    metadata: Object,
    payment_intent: str | None = None,
    mode: str = "payment",
    payment_status: str = "paid",
    subscription: str | None = None,
    email: str = "ana@example.org",
    name: str = "Ana Flores",
    id_: str | None = None,
) -> Object:
    session = example(
        "checkout.session",
        id=id_ or new_id("cs"),
        amount_total=amount,
        amount_subtotal=amount,
        currency="usd",
        metadata=metadata,
        mode=mode,
        payment_status=payment_status,
        status="complete",
        payment_intent=payment_intent if mode == "payment" else None,
        subscription=subscription,
        submit_type="donate" if mode == "payment" else None,
        created=now(),
    )
    session["customer_details"].update(email=email, name=name)
    return session


def payment_intent(*, amount: int, metadata: Object, id_: str | None = None, **fields: Any):
    return example(
        "payment_intent",
        id=id_ or new_id("pi"),
        amount=amount,
        amount_received=amount,
        currency="usd",
        metadata=metadata,
        status="succeeded",
        created=now(),
        **fields,
    )


def charge(
    *,
    amount: int,
    payment_intent: str,
    refunded: int = 0,
    metadata: Object | None = None,
    id_: str | None = None,
    customer: str | None = None,
) -> Object:
    return example(
        "charge",
        id=id_ or new_id("ch"),
        amount=amount,
        amount_captured=amount,
        amount_refunded=refunded,
        refunded=refunded >= amount,
        currency="usd",
        payment_intent=payment_intent,
        metadata=metadata or {},
        customer=customer,
        created=now(),
    )


def balance_transaction(*, amount: int, fee: int, source: str, type_: str = "charge", **fields):
    return example(
        "balance_transaction",
        id=new_id("txn"),
        amount=amount,
        fee=fee,
        net=amount - fee,
        source=source,
        type=type_,
        reporting_category=type_,
        created=now(),
        **fields,
    )


def dispute(
    *,
    charge_id: str,
    payment_intent: str,
    amount: int,
    status: str = "needs_response",
    movements: list[Object] | None = None,
    id_: str | None = None,
) -> Object:
    return example(
        "dispute",
        id=id_ or new_id("dp"),
        charge=charge_id,
        payment_intent=payment_intent,
        amount=amount,
        currency="usd",
        status=status,
        balance_transactions=movements or [],
        created=now(),
    )


def subscription(*, id_: str, status: str, metadata: Object, amount: int = 2_500) -> Object:
    sub = example("subscription", id=id_, status=status, metadata=metadata, created=now())
    sub["items"] = {"object": "list", "data": [{"price": {"unit_amount": amount}}]}
    return sub


def invoice(
    *,
    subscription_id: str,
    amount: int,
    metadata: Object,
    status: str = "paid",
    email: str = "ana@example.org",
    customer: str = "cus_test_ana",
    id_: str | None = None,
) -> Object:
    found = example(
        "invoice",
        id=id_ or new_id("in"),
        amount_paid=amount if status == "paid" else 0,
        amount_due=amount,
        currency="usd",
        status=status,
        customer=customer,
        customer_email=email,
        customer_name="Ana Flores",
        created=now(),
        status_transitions={"paid_at": now() if status == "paid" else None},
    )
    found["parent"] = {
        "type": "subscription_details",
        "quote_details": None,
        "subscription_details": {"subscription": subscription_id, "metadata": metadata},
    }
    return found


def arrival(day: date) -> int:
    """Return a payout's `arrival_date` for a day as Stripe sends it: midnight UTC of that day."""
    return calendar.timegm(day.timetuple())


def payout(
    *,
    amount: int,
    status: str = "paid",
    metadata: Object | None = None,
    id_=None,
    arrives: date | None = None,
):
    return example(
        "payout",
        id=id_ or new_id("po"),
        amount=amount,
        currency="usd",
        status=status,
        metadata=metadata or {},
        arrival_date=arrival(arrives or timezone.localdate()),
        created=now(),
    )

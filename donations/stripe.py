"""The one module that talks to Stripe (the only one importing `stripe`).

A `StripeClient` with the API version pinned, an idempotency key on every write, network errors
retried with backoff by the client, and `STRIPE_API_BASE` pointing it elsewhere (a local test
double). Answers come back as plain dicts shaped as Stripe's JSON, so the rest of the app reads
one shape whether an object came from the API or inside a webhook event.

Demo mode (`STRIPE_DEMO`: DEBUG on and no STRIPE_SECRET_KEY) calls no one: Checkout is a local page
(donations.views.demo_checkout, which plays Stripe's side with donations.demo_stripe) and fees come
from `demo_fee`.
"""

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import stripe
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

# stripe-python 16.1's own version: its types describe exactly these payloads.
API_VERSION = "2026-10-28.endive"
SIGNATURE_TOLERANCE = 300  # seconds, as Stripe's libraries default to
NETWORK_RETRIES = 3
# Stripe's standard US card pricing, for the "cover the fee" estimate and the demo's stand-in.
FEE_PERCENT_TENTHS = 29  # 2.9 %
FEE_FIXED_CENTS = 30

Object = dict[str, Any]


class StripeError(Exception):
    """Stripe could not be reached or refused a request; the message is safe to log."""


class BadSignature(Exception):
    """A webhook body whose signature is missing, stale, wrong or for another secret."""


@dataclass(frozen=True)
class CheckoutRequest:
    """What a hosted Checkout Session is made of (amounts in minor units)."""

    donation: str  # our gift's row_key: metadata.donation, and the idempotency key
    fund_slug: str
    fund_name: str
    currency: str
    amount_cents: int
    monthly: bool
    email: str
    locale: str
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class Checkout:
    session_id: str
    url: str


def demo_mode() -> bool:
    """Return whether Stripe is played by local pages (the demo), not called."""
    return bool(settings.STRIPE_DEMO)


def online_giving() -> bool:
    """Return whether donors can give online: a Stripe key is set, or the demo plays Stripe."""
    return demo_mode() or bool(settings.STRIPE_SECRET_KEY)


@cache
def _client(api_key: str, base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        stripe_version=API_VERSION,
        base_addresses={"api": base} if base else {},
        max_network_retries=NETWORK_RETRIES,
    )


def client() -> stripe.StripeClient:
    """Return the configured client (one per key and base address)."""
    if not settings.STRIPE_SECRET_KEY:
        raise StripeError("STRIPE_SECRET_KEY is not set: online giving is off.")
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def _plain(found: Any) -> Object:
    # StripeObject → the JSON Stripe sent, so every caller reads dicts.
    plain: Object = json.loads(str(found)) if not isinstance(found, dict) else found
    return plain


def _call(what: str, request: Any, *args: Any, **kwargs: Any) -> Object:
    try:
        return _plain(request(*args, **kwargs))
    except stripe.StripeError as error:
        # Stripe's own message names objects and parameters, never card numbers.
        raise StripeError(f"Stripe refused to {what}: {error.user_message or error}") from None


def estimated_fee(amount_cents: int) -> int:
    """Return Stripe's likely fee on a card gift, rounded up to the cent (an estimate)."""
    return -(-amount_cents * FEE_PERCENT_TENTHS // 1000) + FEE_FIXED_CENTS


def cover_for(amount_cents: int) -> int:
    """Return what to add to a gift so the fund gets all of it after Stripe's fee on the total."""
    total = -(-(amount_cents + FEE_FIXED_CENTS) * 1000 // (1000 - FEE_PERCENT_TENTHS))
    while total - estimated_fee(total) < amount_cents:
        total += 1
    while total > amount_cents and total - 1 - estimated_fee(total - 1) >= amount_cents:
        total -= 1
    return total - amount_cents


demo_fee = estimated_fee


def create_checkout_session(request: CheckoutRequest) -> Checkout:
    """Create the hosted Checkout Session the donor is sent to."""
    if demo_mode():
        return _demo_checkout(request)
    metadata = {"fund": request.fund_slug, "donation": request.donation}
    price_data: Object = {
        "currency": request.currency.lower(),
        "unit_amount": request.amount_cents,
        # In the donor's language (the page's), as the rest of Checkout is (`locale`).
        "product_data": {"name": gettext("Gift to %(fund)s") % {"fund": request.fund_name}},
    }
    params: Object = {
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "customer_email": request.email,
        "client_reference_id": request.donation,
        "locale": request.locale,
        "metadata": metadata,
        "line_items": [{"quantity": 1, "price_data": price_data}],
    }
    if request.monthly:
        price_data["recurring"] = {"interval": "month"}
        params |= {"mode": "subscription", "subscription_data": {"metadata": metadata}}
    else:
        params |= {
            "mode": "payment",
            "submit_type": "donate",
            "payment_intent_data": {"metadata": metadata},
        }
    session = _call(
        "start a checkout",
        client().v1.checkout.sessions.create,
        params,
        {"idempotency_key": f"checkout:{request.donation}"},
    )
    return Checkout(session_id=session["id"], url=session["url"])


# DEMO MODE ONLY: no Stripe. The "hosted page" is our own /give/demo-checkout/<session>/, which
# takes a test card number and delivers the events Stripe would send (donations.demo_stripe).
DEMO_SESSION_PREFIX = "cs_demo_"


def _demo_checkout(request: CheckoutRequest) -> Checkout:
    session_id = f"{DEMO_SESSION_PREFIX}{request.donation.replace('-', '')}"
    return Checkout(
        session_id=session_id, url=reverse("donations_demo_checkout", args=[session_id])
    )


@dataclass(frozen=True)
class Fee:
    """Stripe's fee on a charge, from the charge's balance transaction."""

    balance_transaction: str
    fee_cents: int
    charge: str


def fee_of_payment_intent(payment_intent: str) -> Fee | None:
    """Return the fee on a payment's charge; None until Stripe knows it."""
    intent = _call(
        "read a payment",
        client().v1.payment_intents.retrieve,
        payment_intent,
        {"expand": ["latest_charge.balance_transaction"]},
    )
    charge = intent.get("latest_charge")
    transaction = charge.get("balance_transaction") if isinstance(charge, dict) else None
    if not isinstance(charge, dict) or not isinstance(transaction, dict):
        return None
    return Fee(transaction["id"], int(transaction["fee"]), str(charge["id"]))


def payment_intent_of_invoice(invoice: str) -> str | None:
    """Return the payment intent that paid an invoice (a monthly gift), if there is one."""
    payments = _call(
        "read an invoice's payments",
        client().v1.invoice_payments.list,
        {"invoice": invoice, "status": "paid"},
    )
    for payment in payments.get("data", []):
        intent = (payment.get("payment") or {}).get("payment_intent")
        if intent:
            return str(intent)
    return None


def payout_balance_transactions(payout: str) -> list[Object]:
    """Return every balance transaction a payout paid out, each with its source object expanded
    (the charge, refund or dispute), paging through all of them."""
    found: list[Object] = []
    params: Object = {"payout": payout, "limit": 100, "expand": ["data.source"]}
    while True:
        page = _call("list a payout's transactions", client().v1.balance_transactions.list, params)
        found += page.get("data", [])
        if not page.get("has_more") or not page.get("data"):
            return found
        params = {**params, "starting_after": page["data"][-1]["id"]}


def billing_portal_url(customer: str, return_url: str) -> str:
    """Return a Billing Portal session where a donor manages their monthly gift."""
    session = _call(
        "open the billing portal",
        client().v1.billing_portal.sessions.create,
        {"customer": customer, "return_url": return_url},
        {"idempotency_key": f"portal:{customer}:{int(time.time()) // 60}"},
    )
    return str(session["url"])


def events_since(created_gte: int, types: Sequence[str]) -> Iterator[Object]:
    """Yield Stripe's events created at or after a Unix time, oldest first (for stripe_sync)."""
    params: Object = {"created": {"gte": created_gte}, "types": list(types), "limit": 100}
    pages: list[list[Object]] = []
    while True:
        page = _call("list events", client().v1.events.list, params)
        pages.append(page.get("data", []))
        if not page.get("has_more") or not page.get("data"):
            break
        params = {**params, "starting_after": page["data"][-1]["id"]}
    # Stripe lists newest first; apply in the order they happened.
    for page_events in reversed(pages):
        yield from reversed(page_events)


def verified_event(body: bytes, signature: str | None, secrets: Sequence[str]) -> Object:
    """Return the event a webhook body holds if one of the secrets signed it within 300 s."""
    try:
        body.decode()
    except UnicodeDecodeError:
        raise BadSignature("The body is not UTF-8 text, so Stripe did not sign it.") from None
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(
                body, signature, secret, tolerance=SIGNATURE_TOLERANCE
            )
        except stripe.SignatureVerificationError:
            continue
        try:
            event: Object = json.loads(body)
        except ValueError:
            raise BadSignature("The signed body is not JSON.") from None
        if not isinstance(event, dict) or event.get("object") != "event":
            raise BadSignature("The signed body is not a Stripe event.")
        return event
    raise BadSignature("No webhook secret signed this body (or the signature is stale).")


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """Return the Stripe-Signature header Stripe would send with this body (demo mode, tests)."""
    at = int(time.time()) if timestamp is None else timestamp
    signed = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", secret)
    return f"t={at},v1={signed}"

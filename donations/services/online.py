"""Online gifts: starting a Checkout, and booking what Stripe reports, each dollar exactly once.

Every function that books money is safe to call twice and in any order: it locks the Stripe
object it is about (an advisory lock on its id, so two events about one payment queue up), returns
early if the work is done, and posts with an idempotency key in the `stripe:` namespace made of
Stripe's ids, so a repeated event finds the transaction it already made. A gift's status only
moves forward (Gift.RANK). Stripe is never called from here: fees are fetched by a task after
commit.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from donations.errors import DonationError
from donations.models import Dispute, Donor, Gift, RecurringGift, Refund
from donations.services.common import day_of, fund_named, lock
from donations.services.donors import organisation_donor, person_donor
from fund.ledger.entries import Leg
from fund.ledger.models import Account, Fund, Transaction
from fund.ledger.posting import post_transaction
from fund.ledger.queries import account_for, accounts_for, open_day
from fund.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)
Kind = Transaction.Kind
Role = Account.Role
Object = dict[str, Any]
# A monthly gift's payment is booked before its payment intent is known (invoices no longer name
# it); until the fee task finds it, the gift stands under this prefix and its invoice id.
INVOICE_PAYMENT = "invoice:"


@dataclass(frozen=True)
class GiftRequest:
    """What a donor typed on the donation page, checked by its form."""

    fund: Fund
    amount_cents: int
    cover_fee_cents: int
    monthly: bool
    email: str
    name: str
    address: str
    employer: str
    anonymous: bool
    tribute: str
    tribute_name: str
    organisation: str
    list_as_supporter: bool
    language: str


@transaction.atomic
def start_online_gift(request: GiftRequest) -> Gift:
    """Record a gift the donor is about to pay on Stripe's Checkout page (status pending).

    The donor is found by e-mail (or created). Nothing reaches the ledger until Stripe says the
    gift is paid; the success page alone never marks it paid.
    """
    if request.organisation.strip():
        # Given for a union local or another organisation: the gift is the organisation's, and
        # the address typed gets its receipt.
        donor = organisation_donor(
            name=request.organisation,
            email=request.email,
            address=request.address,
            list_as_supporter=request.list_as_supporter,
        )
    else:
        donor = person_donor(
            email=request.email,
            name=request.name,
            address=request.address,
            employer=request.employer,
            language=request.language,
        )
    recurring = None
    if request.monthly:
        recurring = RecurringGift.objects.create(
            fund=request.fund, donor=donor, amount_cents=request.amount_cents
        )
    return Gift.objects.create(
        fund=request.fund,
        donor=donor,
        method=Gift.Method.CARD,
        frequency=Gift.Frequency.MONTHLY if request.monthly else Gift.Frequency.ONCE,
        amount_cents=request.amount_cents,
        cover_fee_cents=request.cover_fee_cents,
        anonymous=request.anonymous,
        tribute=request.tribute,
        tribute_name=request.tribute_name.strip() if request.tribute else "",
        language=request.language,
        recurring=recurring,
    )


def attach_checkout(*, gift: Gift, session_id: str) -> None:
    """Remember which Checkout Session a pending gift is paid through."""
    Gift.objects.filter(pk=gift.pk, stripe_checkout_session__isnull=True).update(
        stripe_checkout_session=session_id
    )


# What Stripe reports. Each runs inside the webhook's transaction.


def record_checkout_completed(session: Object, *, paid_at: int = 0) -> Gift | None:
    """Book a completed Checkout: a one-time gift once paid; a monthly gift starts its plan.

    `paid_at` is when the money came (the event's time): a bank debit started on 29 December and
    settled on 3 January is a gift of January, not of the day its Checkout was opened.
    """
    if session.get("mode") == "subscription":
        _start_subscription(session)
        return None
    if session.get("payment_status") != "paid":
        return None  # a bank debit that settles later: async_payment_succeeded books it
    return record_payment(
        payment_intent=session["payment_intent"],
        amount_cents=int(session["amount_total"]),
        currency=session["currency"],
        metadata=session.get("metadata") or {},
        paid_at=paid_at or int(session["created"]),
        checkout_session=session["id"],
        customer=session.get("customer_details") or {},
    )


def record_checkout_failed(session: Object, status: str) -> None:
    """Mark a pending gift's checkout failed or expired (never a gift already paid)."""
    gift = Gift.objects.select_for_update().filter(stripe_checkout_session=session["id"]).first()
    if gift is None:
        donation = (session.get("metadata") or {}).get("donation")
        gift = _gift_by_donation(donation)
    if gift is not None:
        _advance(gift, status)


def record_payment(
    *,
    payment_intent: str,
    amount_cents: int,
    currency: str,
    metadata: Object,
    paid_at: int,
    checkout_session: str | None = None,
    invoice: str | None = None,
    recurring: RecurringGift | None = None,
    customer: Object | None = None,
) -> Gift:
    """Book a paid online gift's gross (Stripe clearing ← Contributions) once, and return it.

    A gift started on the donation page is found by its id in the metadata; one made elsewhere (a
    Payment Link, the dashboard) is recorded now, to the fund in `metadata.fund` or else
    DEFAULT_FUND_SLUG. The fee is booked when Stripe's balance transaction is known (a task).
    """
    lock(f"payment:{payment_intent}")
    gift = _find_gift(payment_intent, invoice, metadata.get("donation"), checkout_session)
    if gift is None:
        # Saved below, once booked: one INSERT with its transaction, not an INSERT then UPDATE.
        gift = _outside_gift(
            metadata, amount_cents, currency, customer or {}, recurring, payment_intent
        )
    fields = []
    known = gift.stripe_payment_intent
    if not known or (
        known.startswith(INVOICE_PAYMENT) and not payment_intent.startswith(INVOICE_PAYMENT)
    ):
        # Never replace a payment intent already found with the stand-in of an invoice.
        gift.stripe_payment_intent = payment_intent
        fields.append("stripe_payment_intent")
    if invoice:
        gift.stripe_invoice = invoice
        fields.append("stripe_invoice")
    if checkout_session and not gift.stripe_checkout_session:
        gift.stripe_checkout_session = checkout_session
        fields.append("stripe_checkout_session")
    if gift.transaction_id is not None:
        if fields:
            gift.save(update_fields=fields)
        return gift
    fund = gift.fund
    if currency.upper() != fund.currency:
        raise DonationError(
            f"Payment {payment_intent} is in {currency.upper()}; fund {fund.slug} keeps "
            f"{fund.currency}."
        )
    if amount_cents != gift.amount_cents:
        # What was charged is what the fund received, whatever the page asked for.
        logger.warning(
            "payment %s charged %s, not the %s asked",
            payment_intent,
            amount_cents,
            gift.amount_cents,
        )
        gift.amount_cents = amount_cents
        gift.cover_fee_cents = min(gift.cover_fee_cents, amount_cents - 1)
    paid_on = day_of(paid_at)
    booked_on = open_day(fund, paid_on, head=fund.head)
    memo = "Online gift" if booked_on == paid_on else f"Online gift of {paid_on:%Y-%m-%d}"
    clearing, contributions = accounts_for(fund, Role.STRIPE_CLEARING, Role.CONTRIBUTIONS)
    gift.transaction = post_transaction(
        fund=fund,
        legs=[Leg(clearing, amount_cents), Leg(contributions, -amount_cents)],
        effective_date=booked_on,
        kind=Kind.GIFT_ONLINE,
        memo=memo,
        idempotency_key=f"stripe:gift:{invoice or payment_intent}",
        actor=None,
        source_ref=(invoice or payment_intent)[:100],
    )
    gift.received_on = paid_on
    fields += ["transaction", "received_on", "amount_cents", "cover_fee_cents"]
    if _moves_forward(gift, Gift.Status.PAID):
        gift.status = Gift.Status.PAID
        fields.append("status")
    if gift.pk is None:
        gift.save()
    else:
        gift.save(update_fields=fields)
    _after_commit_paid(gift)
    return gift


def link_payment_intent(*, gift: Gift, payment_intent: str) -> None:
    """Name the payment intent of a monthly gift's payment, once the fee task has found it."""
    Gift.objects.filter(pk=gift.pk, stripe_payment_intent__startswith=INVOICE_PAYMENT).update(
        stripe_payment_intent=payment_intent
    )


def record_fee(
    *, gift: Gift, balance_transaction: str, fee_cents: int, charge: str | None = None
) -> None:
    """Book Stripe's actual fee on a gift (Processing fees ← Stripe clearing), once; note the
    charge it was taken on, which payouts name."""
    with transaction.atomic():
        gift = Gift.objects.select_for_update().get(pk=gift.pk)
        if charge and not gift.stripe_charge:
            gift.stripe_charge = charge
            gift.save(update_fields=["stripe_charge"])
        if gift.fee_transaction_id is not None or fee_cents <= 0:
            return
        booked_on = open_day(gift.fund, gift.received_on or timezone.localdate())
        gift.fee_transaction = post_transaction(
            fund=gift.fund,
            legs=[
                Leg(account_for(gift.fund, Role.PROCESSING_FEES), fee_cents),
                Leg(account_for(gift.fund, Role.STRIPE_CLEARING), -fee_cents),
            ],
            effective_date=booked_on,
            kind=Kind.STRIPE_FEE,
            memo="Stripe fee",
            idempotency_key=f"stripe:fee:{balance_transaction}",
            actor=None,
            source_ref=balance_transaction[:100],
        )
        gift.fee_cents = fee_cents
        gift.save(update_fields=["fee_transaction", "fee_cents"])


def record_refunded_total(charge: Object, *, refunded_at: int = 0) -> Gift:
    """Book what a charge's refunds add up to beyond what is booked (Refunds ← Stripe clearing),
    on the day of `refunded_at` (a Unix time; today if 0), or the first open day after it.

    Stripe reports the charge's running total, so a late or repeated event with a smaller total
    books nothing, and a refund that arrives before the payment books the payment first.
    """
    gift = _gift_of_charge(charge)
    total = int(charge["amount_refunded"])
    if total <= gift.refunded_cents:
        return gift
    step = total - gift.refunded_cents
    txn = post_transaction(
        fund=gift.fund,
        legs=[
            Leg(account_for(gift.fund, Role.REFUNDS), step),
            Leg(account_for(gift.fund, Role.STRIPE_CLEARING), -step),
        ],
        effective_date=open_day(gift.fund, day_of(refunded_at)),
        kind=Kind.REFUND,
        memo="Refund of an online gift",
        idempotency_key=f"stripe:refund:{charge['id']}:{total}",
        actor=None,
        source_ref=charge["id"][:100],
    )
    Refund.objects.create(
        gift=gift, stripe_refund=f"{charge['id']}:{total}", amount_cents=step, transaction=txn
    )
    gift.refunded_cents = total
    gift.save(update_fields=["refunded_cents"])
    whole = total >= gift.amount_cents
    _advance(gift, Gift.Status.REFUNDED if whole else Gift.Status.PARTIALLY_REFUNDED)
    return gift


def record_dispute(dispute: Object, *, event_type: str) -> None:
    """Open, book the withdrawal of, book the reinstatement of, or close a card dispute.

    A dispute carries its own amount and metadata, not the payment's: one that arrives before its
    payment is booked is refused (DonationError, so the webhook answers 500 and Stripe delivers
    it again), never booked as a payment of the disputed amount from an unknown donor.
    """
    gift = _booked_gift_of_charge(
        {
            "id": dispute["charge"],
            "payment_intent": dispute.get("payment_intent"),
            "amount": dispute["amount"],
        }
    )
    if gift is None:
        raise DonationError(
            f"Dispute {dispute['id']}: the payment of charge {dispute['charge']} is not booked "
            "yet; the dispute applies when Stripe delivers it again."
        )
    record, _ = Dispute.objects.get_or_create(
        stripe_dispute=dispute["id"], defaults={"gift": gift, "amount_cents": dispute["amount"]}
    )
    record = Dispute.objects.select_for_update().get(pk=record.pk)
    movements = [bt for bt in dispute.get("balance_transactions") or [] if isinstance(bt, dict)]
    withdrawn = [bt for bt in movements if int(bt["amount"]) < 0]
    reinstated = [bt for bt in movements if int(bt["amount"]) > 0]
    if record.withdrawn_id is None and withdrawn:
        record.withdrawn = _book_dispute_money(gift, withdrawn[0], Kind.DISPUTE)
        gift.disputed_cents += -int(withdrawn[0]["amount"])
        gift.save(update_fields=["disputed_cents"])
    if record.reinstated_id is None and reinstated:
        record.reinstated = _book_dispute_money(gift, reinstated[0], Kind.DISPUTE_WON)
        gift.disputed_cents -= int(reinstated[0]["amount"])
        gift.save(update_fields=["disputed_cents"])
    if event_type == "charge.dispute.closed" or dispute.get("status") in ("won", "lost"):
        record.status = (
            Dispute.Status.WON
            if dispute.get("status") == "won"
            else (Dispute.Status.LOST if dispute.get("status") == "lost" else record.status)
        )
    record.save(update_fields=["withdrawn", "reinstated", "status"])


def _book_dispute_money(gift: Gift, movement: Object, kind: str) -> Transaction:
    # Withdrawn: the disputed amount (Disputes) and Stripe's dispute fee (Processing fees) leave
    # Stripe clearing. Reinstated: the amount comes back, and any fee Stripe returns with it.
    amount, fee = abs(int(movement["amount"])), int(movement.get("fee") or 0)
    clearing = account_for(gift.fund, Role.STRIPE_CLEARING)
    disputes = account_for(gift.fund, Role.DISPUTES)
    fees = account_for(gift.fund, Role.PROCESSING_FEES)
    if kind == Kind.DISPUTE:
        legs = [Leg(disputes, amount), Leg(clearing, -(amount + fee))]
        legs += [Leg(fees, fee)] if fee else []
        memo = "Card dispute: funds withdrawn"
    else:
        # A fee Stripe returns with a won dispute is a negative fee: it credits Processing fees.
        legs = [Leg(clearing, amount - fee), Leg(disputes, -amount)]
        legs += [Leg(fees, fee)] if fee else []
        memo = "Card dispute won: funds reinstated"
    return post_transaction(
        fund=gift.fund,
        legs=legs,
        effective_date=open_day(gift.fund, day_of(movement.get("created") or 0)),
        kind=kind,
        memo=memo,
        idempotency_key=f"stripe:dispute:{movement['id']}",
        actor=None,
        source_ref=str(movement["id"])[:100],
    )


# Monthly gifts


def _start_subscription(session: Object) -> None:
    subscription = session.get("subscription")
    if not subscription:
        return
    recurring = _recurring(
        str(subscription),
        session.get("metadata") or {},
        session.get("customer_details") or {},
        int(session.get("amount_total") or 0),
    )
    fields = []
    if session.get("customer") and not recurring.stripe_customer:
        recurring.stripe_customer = str(session["customer"])
        fields.append("stripe_customer")
    if recurring.status == RecurringGift.Status.INCOMPLETE:
        recurring.status = RecurringGift.Status.ACTIVE
        fields.append("status")
    if fields:
        recurring.save(update_fields=fields)


def record_invoice_paid(invoice: Object, *, payment_intent: str | None) -> Gift | None:
    """Book a paid invoice of a monthly gift as a gift of its own."""
    subscription = _subscription_of(invoice)
    if subscription is None or int(invoice.get("amount_paid") or 0) <= 0:
        return None
    metadata = _subscription_metadata(invoice)
    customer = {"email": invoice.get("customer_email"), "name": invoice.get("customer_name")}
    recurring = _recurring(subscription, metadata, customer, int(invoice["amount_paid"]))
    if invoice.get("customer") and not recurring.stripe_customer:
        recurring.stripe_customer = str(invoice["customer"])
        recurring.save(update_fields=["stripe_customer"])
    if recurring.status in (RecurringGift.Status.INCOMPLETE, RecurringGift.Status.PAST_DUE):
        recurring.status = RecurringGift.Status.ACTIVE
        recurring.save(update_fields=["status"])
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at") or invoice["created"]
    return record_payment(
        # The invoice does not name its payment intent; the fee task finds it (INVOICE_PAYMENT).
        payment_intent=payment_intent or f"{INVOICE_PAYMENT}{invoice['id']}",
        amount_cents=int(invoice["amount_paid"]),
        currency=invoice["currency"],
        metadata=metadata,
        paid_at=int(paid_at),
        invoice=invoice["id"],
        recurring=recurring,
        customer=customer,
    )


def record_invoice_failed(invoice: Object) -> RecurringGift | None:
    """Mark a monthly gift past due after a failed payment (the donor is e-mailed)."""
    subscription = _subscription_of(invoice)
    if subscription is None:
        return None
    customer = {"email": invoice.get("customer_email"), "name": invoice.get("customer_name")}
    recurring = _recurring(
        subscription, _subscription_metadata(invoice), customer, int(invoice.get("amount_due") or 0)
    )
    if recurring.status in (RecurringGift.Status.ACTIVE, RecurringGift.Status.INCOMPLETE):
        recurring.status = RecurringGift.Status.PAST_DUE
        recurring.save(update_fields=["status"])
        _after_commit_failed(recurring)
    return recurring


def record_subscription_change(subscription: Object, *, deleted: bool) -> None:
    """Follow a monthly gift's state; a cancelled one stays cancelled whatever arrives later."""
    recurring = _recurring(
        str(subscription["id"]), subscription.get("metadata") or {}, {}, _plan_amount(subscription)
    )
    if recurring.status == RecurringGift.Status.CANCELED:
        return
    state = "canceled" if deleted else str(subscription.get("status") or "")
    mapped = {
        "active": RecurringGift.Status.ACTIVE,
        "trialing": RecurringGift.Status.ACTIVE,
        "past_due": RecurringGift.Status.PAST_DUE,
        "unpaid": RecurringGift.Status.PAST_DUE,
        "canceled": RecurringGift.Status.CANCELED,
        "incomplete_expired": RecurringGift.Status.CANCELED,
    }.get(state)
    if mapped is None or mapped == recurring.status:
        return
    recurring.status = mapped
    recurring.canceled_at = timezone.now() if mapped == RecurringGift.Status.CANCELED else None
    recurring.save(update_fields=["status", "canceled_at"])


# Finding things


def _gift_by_donation(donation: object) -> Gift | None:
    if not isinstance(donation, str) or not donation:
        return None
    try:
        return Gift.objects.select_for_update().filter(row_key=donation).first()
    except (ValueError, TypeError):
        return None  # not a UUID: someone else's metadata


def _find_gift(
    payment_intent: str, invoice: str | None, donation: object, checkout: str | None
) -> Gift | None:
    # The fund and its ledger head come along: booking the gift needs both.
    gifts = Gift.objects.select_for_update(of=("self",)).select_related("fund__head")
    if invoice:
        return gifts.filter(stripe_invoice=invoice).first() or _first_invoice_gift(donation)
    wanted = Q(stripe_payment_intent=payment_intent)
    if checkout:
        wanted |= Q(stripe_checkout_session=checkout)
    # One query for both ids; the gift the payment intent names wins over the checkout's.
    found = sorted(
        gifts.filter(wanted)[:2], key=lambda g: g.stripe_payment_intent != payment_intent
    )
    return found[0] if found else _gift_by_donation(donation)


def _first_invoice_gift(donation: object) -> Gift | None:
    # The donation page's gift row stands for the first payment of a monthly gift; the later
    # invoices, with the same metadata, are gifts of their own.
    gift = _gift_by_donation(donation)
    return gift if gift is not None and gift.stripe_invoice is None else None


def _plan_amount(subscription: Object) -> int:
    items = (subscription.get("items") or {}).get("data") or []
    price = (items[0].get("price") or {}) if items else {}
    return int(price.get("unit_amount") or 0)


def _outside_gift(
    metadata: Object,
    amount_cents: int,
    currency: str,
    customer: Object,
    recurring: RecurringGift | None,
    payment_intent: str,
) -> Gift:
    # A gift that did not start on our page, not saved yet: record_payment saves it once booked.
    fund = recurring.fund if recurring is not None else fund_named(metadata)
    email = str(customer.get("email") or "")
    donor = (
        recurring.donor
        if recurring is not None
        else person_donor(email=email, name=str(customer.get("name") or ""))
        if email
        else None
    )
    if donor is None:
        donor = _unknown_donor(payment_intent)
    return Gift(
        fund=fund,
        donor=donor,
        method=Gift.Method.CARD,
        frequency=Gift.Frequency.MONTHLY if recurring is not None else Gift.Frequency.ONCE,
        amount_cents=amount_cents,
        recurring=recurring,
        language=donor.language,
    )


def _unknown_donor(payment_intent: str) -> Donor:
    # A payment whose events named no e-mail address (a dashboard charge): the gift is booked all
    # the same, to a donor standing for "someone", one per payment so no two are merged.
    return Donor.objects.create(
        kind=Donor.Kind.ORGANISATION,
        organisation=f"Unknown donor (payment {payment_intent})"[:200],
        organisation_key=f"unknown:{payment_intent}"[:200],
    )


def _booked_gift_of_charge(charge: Object) -> Gift | None:
    """Return the gift a charge paid, locked, if its payment is booked; else None."""
    intent = charge.get("payment_intent") or f"charge:{charge['id']}"
    lock(f"payment:{intent}")
    gift = (
        Gift.objects.select_for_update().filter(stripe_payment_intent=intent).first()
        or Gift.objects.select_for_update().filter(stripe_charge=charge["id"]).first()
        or _invoice_gift_of_charge(charge)
    )
    if gift is None or gift.transaction_id is None:
        return None
    if gift.stripe_charge != charge["id"]:
        gift.stripe_charge = charge["id"]
        gift.save(update_fields=["stripe_charge"])
    return gift


def _gift_of_charge(charge: Object) -> Gift:
    intent = charge.get("payment_intent") or f"charge:{charge['id']}"
    gift = _booked_gift_of_charge(charge)
    if gift is None:
        # A refund that arrived before the payment: the charge carries the payment's amount and
        # metadata, so the payment is booked first.
        gift = record_payment(
            payment_intent=str(intent),
            amount_cents=int(charge["amount"]),
            currency=charge["currency"],
            metadata=charge.get("metadata") or {},
            paid_at=int(charge.get("created") or 0),
            customer=charge.get("billing_details") or {},
        )
        if gift.stripe_charge != charge["id"]:
            gift.stripe_charge = charge["id"]
            gift.save(update_fields=["stripe_charge"])
    return gift


def _invoice_gift_of_charge(charge: Object) -> Gift | None:
    # A monthly gift's charge refunded or disputed before the fee task linked it to its payment:
    # the booked invoice gift of the same customer and amount whose payment is not known yet.
    customer = charge.get("customer")
    if not customer:
        return None
    candidates = Gift.objects.select_for_update().filter(
        recurring__stripe_customer=customer,
        stripe_payment_intent__startswith=INVOICE_PAYMENT,
        stripe_charge__isnull=True,
        amount_cents=int(charge["amount"]),
        transaction__isnull=False,
    )
    gift = candidates.order_by("-received_on", "-pk").first()
    if gift is not None and charge.get("payment_intent"):
        gift.stripe_payment_intent = str(charge["payment_intent"])
        gift.save(update_fields=["stripe_payment_intent"])
    return gift


def _recurring(
    subscription: str, metadata: Object, customer: Object, amount_cents: int
) -> RecurringGift:
    lock(f"subscription:{subscription}")
    recurring = (
        RecurringGift.objects.select_for_update().filter(stripe_subscription=subscription).first()
    )
    if recurring is not None:
        return recurring
    gift = _gift_by_donation(metadata.get("donation"))
    if gift is not None and gift.recurring_id is not None:
        recurring = RecurringGift.objects.select_for_update().get(pk=gift.recurring_id)
        recurring.stripe_subscription = subscription
        recurring.save(update_fields=["stripe_subscription"])
        return recurring
    # A monthly gift not started on our page, or whose first event is a late one.
    email = str(customer.get("email") or "")
    donor = (
        person_donor(email=email, name=str(customer.get("name") or ""))
        if email
        else (_unknown_donor(f"subscription {subscription}"))
    )
    return RecurringGift.objects.create(
        fund=fund_named(metadata),
        donor=donor,
        amount_cents=max(amount_cents, 1),
        stripe_subscription=subscription,
        status=RecurringGift.Status.INCOMPLETE,
    )


def _subscription_of(invoice: Object) -> str | None:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    found = details.get("subscription") or invoice.get("subscription")
    return str(found) if found else None


def _subscription_metadata(invoice: Object) -> Object:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("metadata") or invoice.get("metadata") or {}


def _moves_forward(gift: Gift, status: str) -> bool:
    return Gift.RANK[Gift.Status(status)] > Gift.RANK[Gift.Status(gift.status)]


def _advance(gift: Gift, status: str) -> None:
    if _moves_forward(gift, status):
        gift.status = status
        gift.save(update_fields=["status"])


def _after_commit_paid(gift: Gift) -> None:
    from donations.services.receipts import queue_receipt
    from donations.tasks import fetch_gift_fee

    enqueue_on_commit(fetch_gift_fee, gift.pk)
    queue_receipt(gift)


def _after_commit_failed(recurring: RecurringGift) -> None:
    from donations.tasks import tell_donor_payment_failed

    enqueue_on_commit(tell_donor_payment_failed, recurring.pk)

"""DEMO DATA ONLY: the demo year's incoming money, recorded as donations (`manage.py seed_demo`).

fund.demo.ledger plays the year and asks this for each online gift, refund, payout and union
local's check. Each is recorded the way real money is: online gifts, the refund and the payouts
as the events Stripe would send, signed and posted to our own webhook (donations.demo_stripe),
their fees by the fee task's demo stand-in, each payout reconciled against the demo's balance
transactions; checks as a treasurer records them, deposited the next day, some toward a union
local's pledge. So the treasurer screens (gifts, donors, deposits, pledges, payouts) show the
year, and the ledger's totals are those of `fund.demo.ledger.LedgerMoney` to the cent.

Every person here is invented; their addresses are at example.org, which never receives mail.
Their receipts are marked sent without being sent: the demo's worker would otherwise render and
"send" hundreds of PDFs when `make demo` starts.
"""

import random
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from donations import demo_stripe
from donations import stripe as gateway
from donations.models import Donor, Gift, Payout, Pledge
from donations.services.donors import organisation_donor
from donations.services.offline import (
    DonorDetails,
    record_deposit,
    record_offline_gift,
    return_offline_gift,
)
from donations.services.offline import record_pledge as record_pledge_service
from donations.services.online import GiftRequest, attach_checkout, start_online_gift
from donations.tasks import fetch_gift_fee, reconcile_payout
from fund.demo.ledger import RETURNED_AFTER, DemoBooks
from fund.ledger.models import Fund

FIRST_NAMES = [
    "Ana", "Luis", "Maria", "Jose", "Rosa", "Omar", "Fatima", "Hodan", "Abdi", "Mei",
    "Tran", "Grace", "Samuel", "Lucia", "Pedro", "Nadia", "Kofi", "Elena", "Ruth", "Diego",
]  # fmt: skip
LAST_NAMES = [
    "Alvarez", "Nguyen", "Hassan", "Okafor", "Garcia", "Chen", "Mohamed", "Rivera", "Smith",
    "Lopez", "Ali", "Kim", "Torres", "Warsame", "Ortiz", "Baker", "Reyes", "Osei",
]  # fmt: skip
EMPLOYERS = ["Valley General Hospital", "County Transit", "Harbor Foods", ""]
# Local 399 pledged at its February meeting; its checks count toward the pledge.
PLEDGE = ("Local 399", 1_000_000, date(2026, 3, 31))
# The locals that asked to be listed on the fund page as supporters (the fund lists them).
LISTED_SUPPORTERS = frozenset({"Local 11", "Local 1877"})


class DonationsMoney:
    """Records the demo year's incoming money as donations (fund.demo.ledger.DemoMoney)."""

    gift_key_prefix = "stripe:"

    def __init__(self) -> None:
        if not gateway.demo_mode():
            raise ImproperlyConfigured(
                "The demo's gifts are paid through the demo's own Checkout: seed_demo needs demo "
                "mode (DEBUG=1 and no STRIPE_SECRET_KEY, or STRIPE_DEMO=1)."
            )
        self.pledge: Pledge | None = None

    def online_gift(self, books: DemoBooks, day: date, cents: int) -> None:
        """A card gift paid on `day`, and Stripe's fee on it."""
        gift = _paid_gift(books.fund, day, cents, books.count + 1)
        books.recorded(postings=2, clearing=cents - gift.fee_cents)

    def refunded_gift(self, books: DemoBooks, day: date, cents: int) -> None:
        """A card gift paid on `day` and refunded in full the same day (Stripe keeps its fee)."""
        gift = _paid_gift(books.fund, day, cents, books.count + 1)
        demo_stripe.refund(gift, at=_at(day, 17))
        books.recorded(postings=3, clearing=-gift.fee_cents)

    def payout(self, books: DemoBooks, day: date) -> None:
        """Stripe pays everything in Stripe clearing into the bank on `day` (then reconciled)."""
        payout_id = f"po_demo_{books.fund.slug}_{books.count + 1}"
        demo_stripe.pay_out(
            books.fund,
            payout_id=payout_id,
            amount_cents=books.clearing,
            on=_at(day, 18),
            arrives=day,
        )
        reconcile_payout.call(Payout.objects.get(stripe_payout=payout_id).pk)
        books.recorded(postings=1, bank=books.clearing, clearing=-books.clearing)

    def union_check(self, books: DemoBooks, day: date, local: str, cents: int) -> None:
        """A union local's check received on `day`, deposited the next day."""
        number = books.count + 1
        pledge = self._pledge(books) if local == PLEDGE[0] and day >= date(2026, 2, 1) else None
        organisation = DonorDetails(kind=Donor.Kind.ORGANISATION, organisation=local)
        if local in LISTED_SUPPORTERS:
            with transaction.atomic():
                organisation_donor(name=local, list_as_supporter=True)
        gift = record_offline_gift(
            actor=books.treasurer,
            fund=books.fund,
            method=Gift.Method.CHECK,
            amount_cents=cents,
            received_on=day,
            donor=None if pledge else organisation,
            reference=str(4000 + number),
            pledge=pledge,
            idempotency_key=f"demo-{books.fund.slug}-check-{number}",
        )
        record_deposit(
            actor=books.treasurer,
            fund=books.fund,
            gift_ids=[gift.pk],
            deposited_on=day + timedelta(days=1),
            reference=f"Slip {number}",
            idempotency_key=f"demo-{books.fund.slug}-deposit-{number}",
        )
        books.recorded(postings=2, bank=cents)

    def returned_check(self, books: DemoBooks, day: date, local: str, cents: int) -> None:
        """A union local's check deposited, then returned unpaid by the bank: the treasurer takes
        it back from its gift's page."""
        self.union_check(books, day, local, cents)
        gift = Gift.objects.filter(fund=books.fund, method=Gift.Method.CHECK).latest("pk")
        return_offline_gift(
            actor=books.treasurer, gift=gift, returned_on=day + RETURNED_AFTER, reason="bounced"
        )
        books.recorded(postings=1, bank=-cents)

    def _pledge(self, books: DemoBooks) -> Pledge:
        if self.pledge is None:
            organisation, cents, due_on = PLEDGE
            self.pledge = record_pledge_service(
                actor=books.treasurer,
                fund=books.fund,
                organisation=organisation,
                amount_cents=cents,
                due_on=due_on,
                note="Pledged at the February membership meeting",
                idempotency_key=f"demo-{books.fund.slug}-pledge",
            )
        return self.pledge


def _paid_gift(fund: Fund, day: date, cents: int, number: int) -> Gift:
    # A gift started on the donation page by an invented donor, then paid through the demo's
    # Checkout on `day`; seeding again finds it by its Checkout Session and books nothing new.
    session = f"{gateway.DEMO_SESSION_PREFIX}seed_{fund.slug}_{number}"
    gift = Gift.objects.filter(stripe_checkout_session=session).first()
    if gift is None:
        with transaction.atomic():
            gift = start_online_gift(_invented_request(fund, cents, number))
            attach_checkout(gift=gift, session_id=session)
            gift.stripe_checkout_session = session
            gift.receipt_sent_at = timezone.make_aware(datetime.combine(day, time(12, 5)))
            gift.save(update_fields=["receipt_sent_at"])
    # The webhook books the gift, and the fee task the demo's stand-in fee. The task is run here
    # rather than left to a worker so that the fee is booked on the gift's day, before the
    # seed closes the month (the one queued on commit then finds the fee booked).
    demo_stripe.pay(gift, at=_at(day, 12))
    fetch_gift_fee.call(gift.pk)
    gift.refresh_from_db()
    return gift


def _invented_request(fund: Fund, cents: int, number: int) -> GiftRequest:
    # Gifts come from a circle of 150 invented people, so most donors give more than once.
    rng = random.Random(number)  # noqa: S311  (invented donors, not security)
    person = random.Random(rng.randrange(150))  # noqa: S311
    first, last = person.choice(FIRST_NAMES), person.choice(LAST_NAMES)
    tribute = rng.random() < 0.05
    return GiftRequest(
        fund=fund,
        amount_cents=cents,
        cover_fee_cents=0,
        monthly=False,
        email=f"{first}.{last}.{person.randrange(100)}@example.org".lower(),
        name=f"{first} {last}",
        address="",
        employer=person.choice(EMPLOYERS),
        anonymous=rng.random() < 0.15,
        tribute=Gift.Tribute.MEMORY if tribute else "",
        tribute_name=f"{rng.choice(FIRST_NAMES)} {last}" if tribute else "",
        organisation="",
        list_as_supporter=False,
        language="es" if rng.random() < 0.25 else "en",
    )


def _at(day: date, hour: int) -> int:
    return int(timezone.make_aware(datetime.combine(day, time(hour))).timestamp())

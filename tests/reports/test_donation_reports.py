"""The donations app's reports (gifts register with pledges, Stripe reconciliation), from gifts
made through the signed webhook and the treasurer's forms, with totals equal to the ledger's."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.db.models import Sum

from donations.models import Donor, Gift, Payout, Pledge
from donations.reports import GIFTS, REPORTS, STRIPE_RECONCILIATION
from donations.services.offline import (
    DonorDetails,
    record_deposit,
    record_offline_gift,
    record_pledge,
)
from fund.models import Account, Posting, Transaction
from fund.reports.registry import Period, Row, Style, catalogue
from tests.donations import conftest as donation_fixtures
from tests.donations import stripe_objects as so
from tests.donations.conftest import completed, page_gift
from tests.donations.test_offline import received_day
from tests.fund.conftest import today

pytestmark = pytest.mark.django_db

Role = Account.Role
Kind = Transaction.Kind
HEADING, SUBTOTAL, LINE = Style.HEADING, Style.SUBTOTAL, Style.LINE
LOCAL_26 = "Teamsters Local 26"
# The donations tests' Stripe double and signed-webhook sender, for these tests too.
stripe_api = donation_fixtures.stripe_api
deliver = donation_fixtures.deliver


@dataclass
class DonationBooks:
    """The donations scenario's gifts, pledges and payouts."""

    online: list[Gift]
    offline: list[Gift]
    pledges: list[Pledge]
    payouts: list[Payout]


def period_of_the_books() -> Period:
    return Period(date(2026, 1, 1), max(date(2026, 12, 31), today()))


def online_gift(stripe_api, deliver, fund, cents, fee, email):
    """A gift paid through the donation page, its fee booked from Stripe's balance transaction."""
    gift = page_gift(fund, cents, email=email)
    evt = completed(gift)
    stripe_api.set_fee(evt["data"]["object"]["payment_intent"], amount=cents, fee=fee)
    deliver(evt)
    gift.refresh_from_db()
    return gift


def charge_line(gift: Gift, fee: int):
    source = so.charge(
        amount=gift.amount_cents, payment_intent=gift.stripe_payment_intent, id_=gift.stripe_charge
    )
    return so.balance_transaction(amount=gift.amount_cents, fee=fee, source=source)


def offline(fund, actor, cents, method, donor=None, **extra) -> Gift:
    return record_offline_gift(
        actor=actor,
        fund=fund,
        method=method,
        amount_cents=cents,
        received_on=extra.pop("on", received_day()),
        donor=donor,
        reference=extra.pop("reference", "2001" if method == "check" else ""),
        idempotency_key=str(uuid.uuid4()),
        **extra,
    )


def seed_donations(fund, settings, stripe_api, deliver, treasurer, *, person=None):
    """Online gifts (a fee each, a refund, a lost dispute), a matched payout, a mismatched one,
    one the bank returns; offline gifts (a check toward a pledge, anonymous cash, an ACH) and a
    deposit; three pledges. `person` is the ACH donor (the privacy test plants a canary)."""
    settings.DEFAULT_FUND_SLUG = fund.slug
    first = online_gift(stripe_api, deliver, fund, 10_000, 320, "ana@example.org")
    second = online_gift(stripe_api, deliver, fund, 5_000, 175, "bo@example.org")
    matched = so.payout(amount=9_680 + 4_825)
    stripe_api.payout_transactions[matched["id"]] = [
        charge_line(first, 320),
        charge_line(second, 175),
        so.balance_transaction(amount=-14_505, fee=0, source=matched["id"], type_="payout"),
    ]
    deliver(so.event("payout.paid", matched))

    deliver(
        so.event(
            "charge.refunded",
            so.charge(amount=5_000, payment_intent=second.stripe_payment_intent, refunded=5_000),
        )
    )
    third = online_gift(stripe_api, deliver, fund, 8_000, 262, "cy@example.org")
    withdrawal = so.balance_transaction(amount=-8_000, fee=1_500, source="dp", type_="adjustment")
    dispute = so.dispute(
        charge_id=third.stripe_charge,
        payment_intent=third.stripe_payment_intent,
        amount=8_000,
        movements=[withdrawal],
    )
    deliver(
        so.event("charge.dispute.funds_withdrawn", dispute),
        so.event("charge.dispute.closed", {**dispute, "status": "lost"}),
    )
    stranger = so.charge(amount=2_000, payment_intent="pi_test_elsewhere", id_="ch_test_stranger")
    differing = so.payout(amount=2_000)
    stripe_api.payout_transactions[differing["id"]] = [
        so.balance_transaction(amount=2_000, fee=0, source=stranger)
    ]
    deliver(so.event("payout.paid", differing))
    returned = so.payout(amount=700)
    stripe_api.payout_transactions[returned["id"]] = []
    deliver(
        so.event("payout.paid", returned),
        so.event("payout.failed", {**returned, "status": "failed"}),
    )

    def pledge(cents, due_on):
        return record_pledge(
            actor=treasurer,
            fund=fund,
            organisation=LOCAL_26,
            amount_cents=cents,
            due_on=due_on,
            idempotency_key=str(uuid.uuid4()),
        )

    pledges = [
        pledge(20_000, today() - timedelta(days=40)),
        pledge(100_000, today() - timedelta(days=30)),
        pledge(50_000, today() + timedelta(days=400)),
    ]
    toward_first = offline(fund, treasurer, 20_000, "check", pledge=pledges[0], reference="2001")
    toward_second = offline(fund, treasurer, 25_000, "check", pledge=pledges[1], reference="2002")
    cash = offline(
        fund,
        treasurer,
        4_000,
        "cash",
        DonorDetails(kind=Donor.Kind.PERSON, email="dee@example.org", name="Dee Donante"),
        anonymous=True,
    )
    details = person or {"email": "eve@example.org", "name": "Eve Donante"}
    ach = offline(fund, treasurer, 50_000, "ach", DonorDetails(kind=Donor.Kind.PERSON, **details))
    record_deposit(
        actor=treasurer,
        fund=fund,
        gift_ids=[toward_first.pk, toward_second.pk, cash.pk],
        deposited_on=received_day() + timedelta(days=5),
        idempotency_key=str(uuid.uuid4()),
    )
    payouts = list(Payout.objects.order_by("pk"))
    for gift in (first, second, third):
        gift.refresh_from_db()
    return DonationBooks(
        [first, second, third], [toward_first, toward_second, cash, ach], pledges, payouts
    )


@pytest.fixture
def books(fund, settings, stripe_api, deliver, treasurer) -> DonationBooks:
    return seed_donations(fund, settings, stripe_api, deliver, treasurer)


def postings(fund, *, role, kind=None, period=None) -> int:
    """Sum the ledger's postings to an account in the period straight from the Posting rows."""
    period = period or period_of_the_books()
    found = Posting.objects.filter(
        account__fund=fund, account__role=role, effective_date__range=(period.start, period.end)
    )
    if kind:
        found = found.filter(transaction__kind=kind)
    return found.aggregate(cents=Sum("amount_cents"))["cents"] or 0


def rows(report, fund, period=None) -> list[Row]:
    period = period or period_of_the_books()
    found = list(report.rows(fund, period))
    assert report.count(fund, period) == len(found)
    assert all(len(row.values) == len(report.columns) for row in found)
    return found


def totals(report, fund, period=None) -> dict[str, int]:
    period = period or period_of_the_books()
    return {total.label: total.cents for total in report.totals(fund, period)}


def test_the_donations_reports_are_in_the_catalogue():
    assert [report.kind for report in REPORTS] == ["gifts", "stripe-reconciliation"]
    assert catalogue()["gifts"] is REPORTS[0]
    assert catalogue()["stripe-reconciliation"] is REPORTS[1]


# Gifts register


def test_the_gifts_register_lists_every_gift_booked_with_donors_as_an_auditor_may_see_them(
    fund, books
):
    first, second, third = books.online
    check_1, check_2, cash, ach = books.offline
    found = rows(GIFTS, fund)
    gifts = found[1 : found.index(next(row for row in found if row.style == SUBTOTAL))]

    def line(gift, donor, method, status, fee=0, refunded=0, disputed=0):
        booked = gift.transaction.effective_date
        cents = gift.amount_cents
        net = cents - fee - refunded - disputed
        return (f"Gift #{gift.pk}", booked, donor, method, status, cents, fee, refunded,
                disputed, net)  # fmt: skip

    assert [row.values for row in gifts] == [
        line(check_1, LOCAL_26, "Check", "Paid"),
        line(check_2, LOCAL_26, "Check", "Paid"),
        line(cash, "Anonymous", "Cash", "Paid"),
        line(ach, f"Donor #{ach.donor_id}", "ACH transfer", "Paid"),
        line(first, f"Donor #{first.donor_id}", "Online (card)", "Paid", fee=320),
        line(second, f"Donor #{second.donor_id}", "Online (card)", "Refunded", 175, 5_000),
        line(third, f"Donor #{third.donor_id}", "Online (card)", "Paid", 262, disputed=8_000),
    ]
    assert found[len(gifts) + 1] == Row(
        ("Gifts", None, None, None, None, 122_000, 757, 5_000, 8_000, 108_243), SUBTOTAL
    )


def test_the_gifts_register_totals_equal_the_ledgers_contributions(fund, books):
    contributions = -postings(fund, role=Role.CONTRIBUTIONS)

    found = totals(GIFTS, fund)

    assert contributions == 10_000 + 5_000 + 8_000 + 20_000 + 25_000 + 4_000 + 50_000
    assert found["Gifts booked in the period (gross)"] == contributions
    assert found["Contributions in the ledger for the period"] == contributions
    assert found["Fees on these gifts"] == postings(
        fund, role=Role.PROCESSING_FEES, kind=Kind.STRIPE_FEE
    )
    assert found["Refunded of these gifts"] == postings(fund, role=Role.REFUNDS)
    assert found["Disputed of these gifts (not reinstated)"] == postings(fund, role=Role.DISPUTES)


def test_pledges_show_what_was_received_toward_each_and_which_are_overdue(fund, books):
    met, short, later = books.pledges
    found = rows(GIFTS, fund)
    heading = found.index(
        Row(
            (f"Pledges, and received by {period_of_the_books().end.isoformat()}", *(None,) * 9),
            HEADING,
        )
    )

    assert [row.values for row in found[heading + 1 :]] == [
        (f"Pledge #{met.pk}", met.due_on, LOCAL_26, None, "Received in full", 20_000, None,
         None, None, 20_000),
        (f"Pledge #{short.pk}", short.due_on, LOCAL_26, None, "Overdue", 100_000, None, None,
         None, 25_000),
        (f"Pledge #{later.pk}", later.due_on, LOCAL_26, None, "Open", 50_000, None, None, None,
         0),
        ("Pledges", None, None, None, None, 170_000, None, None, None, 45_000),
    ]  # fmt: skip
    found_totals = totals(GIFTS, fund)
    assert found_totals["Pledged"] == 170_000
    assert (
        found_totals[f"Received toward pledges by {period_of_the_books().end.isoformat()}"]
        == 45_000
    )
    assert (
        found_totals[f"Still to come on pledges after {period_of_the_books().end.isoformat()}"]
        == 125_000
    )


def test_a_period_before_the_gifts_lists_none_and_totals_zero(fund, books):
    before = Period(date(2025, 1, 1), date(2025, 12, 31))

    found = rows(GIFTS, fund, before)

    assert [row.style for row in found[:2]] == [HEADING, SUBTOTAL]
    assert totals(GIFTS, fund, before)["Gifts booked in the period (gross)"] == 0


# Stripe reconciliation


def test_the_reconciliation_walks_stripe_clearing_from_gross_to_payouts_as_the_ledger_did(
    fund, books
):
    opening_day = (period_of_the_books().start - timedelta(days=1)).isoformat()
    clearing = postings(fund, role=Role.STRIPE_CLEARING)

    found = rows(STRIPE_RECONCILIATION, fund)

    walk = [(row.values[0], row.values[4]) for row in found[1:12]]
    assert walk == [
        (f"Balance at Stripe on {opening_day}", 0),
        ("Online gifts (gross)", -postings(fund, role=Role.CONTRIBUTIONS, kind=Kind.GIFT_ONLINE)),
        ("Stripe fees", -postings(fund, role=Role.PROCESSING_FEES, kind=Kind.STRIPE_FEE)),
        ("Refunds", -postings(fund, role=Role.REFUNDS)),
        ("Disputes: funds withdrawn", -postings(fund, role=Role.DISPUTES, kind=Kind.DISPUTE)),
        ("Disputes: funds reinstated", 0),
        ("Dispute fees", -postings(fund, role=Role.PROCESSING_FEES, kind=Kind.DISPUTE)),
        ("Payouts to the bank", -postings(fund, role=Role.BANK, kind=Kind.PAYOUT)),
        ("Payouts returned by the bank", -postings(fund, role=Role.BANK, kind=Kind.REVERSAL)),
        ("Other entries (journal, reversals)", 0),
        (f"Balance at Stripe on {period_of_the_books().end.isoformat()}", clearing),
    ]
    assert [cents for _, cents in walk[1:-1]] == [
        23_000, -757, -5_000, -8_000, 0, -1_500, -(14_505 + 2_000 + 700), 700, 0
    ]  # fmt: skip
    assert found[11].style == SUBTOTAL


def test_each_payout_is_listed_with_its_reconciliation_and_every_difference(fund, books):
    matched, differing, returned = books.payouts
    found = rows(STRIPE_RECONCILIATION, fund)
    start = found.index(Row(("Payouts arriving in the period", *(None,) * 4), HEADING))

    assert [row.values for row in found[start + 1 :]] == [
        (f"Payout #{matched.pk}", today(), matched.stripe_payout, "Paid; matches the ledger",
         14_505),
        (f"Payout #{differing.pk}", today(), differing.stripe_payout,
         "Paid; differs from the ledger", 2_000),
        ("Difference: ch_test_stranger: Stripe received $20.00; the ledger has no gift", None,
         differing.stripe_payout, None, None),
        (f"Payout #{returned.pk}", today(), returned.stripe_payout,
         "Failed: returned by the bank", 700),
        (f"Difference: payout {returned.stripe_payout}: $7.00 paid out, its transactions net "
         "$0.00", None, returned.stripe_payout, None, None),
        ("Paid out to the bank; 2 differ from the ledger, 0 not checked", None, None, None,
         16_505),
    ]  # fmt: skip


def test_the_reconciliation_totals_equal_the_ledgers_balances_and_bank_postings(fund, books):
    end = period_of_the_books().end.isoformat()
    found = totals(STRIPE_RECONCILIATION, fund)

    assert found[f"Balance at Stripe on {end}"] == postings(fund, role=Role.STRIPE_CLEARING)
    assert found["Payouts Stripe reported paid in the period"] == postings(
        fund, role=Role.BANK, kind=Kind.PAYOUT
    ) + postings(fund, role=Role.BANK, kind=Kind.REVERSAL)
    assert found["Payouts Stripe reported paid in the period"] == 16_505
    steps = [label for label, _ in list(found.items())[1:-2]]
    assert sum(found[label] for label in steps) == found[f"Balance at Stripe on {end}"]

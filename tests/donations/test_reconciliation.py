"""Payouts: booked to the bank once, reversed if the bank returns them, and checked line by line
against the ledger."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from donations.models import Payout, StripeEvent
from fund.ledger.models import Transaction
from fund.ledger.verify import verify_fund
from tests.donations import stripe_objects as so
from tests.donations.conftest import Role, balances, completed, page_gift

pytestmark = pytest.mark.django_db
Kind = Transaction.Kind


def paid_gift(stripe_api, deliver, fund, cents, fee, email):
    """A gift paid online and its fee booked; returns (gift, its charge id)."""
    gift = page_gift(fund, cents, email=email)
    evt = completed(gift)
    pi = evt["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=cents, fee=fee)
    deliver(evt)
    gift.refresh_from_db()
    return gift, gift.stripe_charge


def lines_of(stripe_api, gifts):
    """The payout's balance transactions at Stripe for these (gift, charge, fee) triples."""
    lines = []
    for gift, charge, fee in gifts:
        source = so.charge(
            amount=gift.amount_cents, payment_intent=gift.stripe_payment_intent, id_=charge
        )
        lines.append(so.balance_transaction(amount=gift.amount_cents, fee=fee, source=source))
    return lines


@pytest.fixture
def two_gifts(fund, stripe_api, deliver):
    first, first_charge = paid_gift(stripe_api, deliver, fund, 10_000, 320, "ana@example.org")
    second, second_charge = paid_gift(stripe_api, deliver, fund, 5_000, 175, "bo@example.org")
    return [(first, first_charge, 320), (second, second_charge, 175)]


def test_a_paid_payout_moves_the_money_to_the_bank_and_matches_the_ledger(
    fund, stripe_api, deliver, two_gifts
):
    payout = so.payout(amount=10_000 - 320 + 5_000 - 175)
    stripe_api.payout_transactions[payout["id"]] = [
        *lines_of(stripe_api, two_gifts),
        so.balance_transaction(
            amount=-payout["amount"], fee=0, source=payout["id"], type_="payout"
        ),
    ]

    deliver(so.event("payout.paid", payout), so.event("payout.paid", payout))

    record = Payout.objects.get()
    assert (record.reconciliation, record.differences) == ("matched", [])
    assert balances(fund)[Role.BANK] == 14_505
    assert Role.STRIPE_CLEARING not in balances(fund)
    assert Transaction.objects.filter(kind=Kind.PAYOUT).count() == 1
    (listing,) = stripe_api.calls("GET", "/v1/balance_transactions")
    assert (listing.param("payout"), listing.param("expand[0]")) == (payout["id"], "data.source")
    assert verify_fund(fund).ok


def test_a_payout_is_booked_on_the_day_stripe_says_it_arrives(fund, stripe_api, deliver):
    # Stripe's arrival_date is midnight UTC of the day: 4 pm the day before in Los Angeles.
    payout = so.payout(amount=2_500, arrives=date(2026, 7, 1))
    assert payout["arrival_date"] == 1_782_864_000
    stripe_api.payout_transactions[payout["id"]] = []

    deliver(so.event("payout.paid", payout))

    record = Payout.objects.get()
    assert record.arrival_date == date(2026, 7, 1)
    assert record.transaction.effective_date == date(2026, 7, 1)


def test_a_payout_in_another_currency_than_the_funds_is_a_500_and_books_nothing(
    fund, stripe_api, two_gifts
):
    # €90.00 is not $90.00: booking it as dollars would overstate the bank.
    payout = {**so.payout(amount=9_000), "currency": "eur"}
    stripe_api.payout_transactions[payout["id"]] = []
    client = Client(raise_request_exception=False)

    assert so.post_event(client, so.event("payout.paid", payout)).status_code == 500

    assert not Payout.objects.exists()
    assert not StripeEvent.objects.filter(type="payout.paid").exists()
    assert Role.BANK not in balances(fund)


def test_a_payout_line_in_another_currency_is_a_difference(fund, stripe_api, deliver, two_gifts):
    lines = lines_of(stripe_api, two_gifts)
    lines[1] = {**lines[1], "currency": "cad"}
    payout = so.payout(amount=sum(line["net"] for line in lines))
    stripe_api.payout_transactions[payout["id"]] = lines

    deliver(so.event("payout.paid", payout))

    record = Payout.objects.get()
    assert record.reconciliation == "mismatched"
    assert record.differences == [f"{lines[1]['id']} (charge) is in CAD; the fund keeps USD"]


def test_a_payout_that_differs_from_the_ledger_is_flagged_with_each_difference(
    fund, stripe_api, deliver, two_gifts, client, treasurer
):
    (first, first_charge, _), (second, second_charge, _) = two_gifts
    lines = lines_of(stripe_api, [(first, first_charge, 330), (second, second_charge, 175)])
    stranger = so.charge(amount=2_000, payment_intent="pi_test_elsewhere", id_="ch_test_stranger")
    lines.append(so.balance_transaction(amount=2_000, fee=88, source=stranger))
    refund = so.example(
        "refund",
        id="re_test_1",
        charge=second_charge,
        amount=1_000,
        payment_intent=second.stripe_payment_intent,
    )
    lines.append(so.balance_transaction(amount=-1_000, fee=0, source=refund, type_="refund"))
    payout = so.payout(amount=sum(line["net"] for line in lines))
    stripe_api.payout_transactions[payout["id"]] = lines

    deliver(so.event("payout.paid", payout))

    record = Payout.objects.get()
    assert record.reconciliation == "mismatched"
    assert record.differences == [
        f"{first_charge}: Stripe's fee $3.30, the ledger's $3.20 (gift #{first.pk})",
        "ch_test_stranger: Stripe received $20.00; the ledger has no gift",
        f"re_test_1: Stripe refunded $10.00 of {second_charge}; the ledger's refunds of that "
        "gift total $0.00",
    ]
    client.force_login(treasurer)
    listing = client.get(reverse("donations_payouts")).content.decode()
    assert "3 differences" in listing
    detail = client.get(reverse("donations_payout", args=[record.pk])).content.decode()
    assert "ch_test_stranger: Stripe received $20.00; the ledger has no gift" in detail


def test_a_payout_the_bank_returns_is_reversed_in_the_ledger(fund, stripe_api, deliver, two_gifts):
    payout = so.payout(amount=14_505)
    stripe_api.payout_transactions[payout["id"]] = []

    deliver(so.event("payout.paid", payout))
    deliver(so.event("payout.failed", {**payout, "status": "failed"}))

    record = Payout.objects.get()
    assert record.status == "failed"
    assert Role.BANK not in balances(fund)
    assert balances(fund)[Role.STRIPE_CLEARING] == 14_505
    assert record.failed_transaction.reverses_id == record.transaction_id


def test_auditors_see_payouts_but_only_treasurers_may_check_them_again(
    fund, stripe_api, deliver, two_gifts, client, auditor, treasurer, outsider
):
    payout = so.payout(amount=100)
    stripe_api.payout_transactions[payout["id"]] = []
    deliver(so.event("payout.paid", payout))
    record = Payout.objects.get()
    recheck = reverse("donations_payout_recheck", args=[record.pk])

    client.force_login(auditor)
    assert client.get(reverse("donations_payout", args=[record.pk])).status_code == 200
    assert client.post(recheck).status_code == 403
    client.force_login(outsider)
    assert client.get(reverse("donations_payouts")).status_code == 403
    client.force_login(treasurer)
    assert client.post(recheck).status_code == 302


# Catching up


def test_stripe_sync_applies_missed_events_once(
    fund, stripe_api, django_capture_on_commit_callbacks
):
    gifts = [page_gift(fund, 1_000 * n, email=f"d{n}@example.org") for n in (1, 2)]
    events = [completed(gift) for gift in gifts]
    for evt in events:
        pi = evt["data"]["object"]["payment_intent"]
        stripe_api.set_fee(pi, amount=evt["data"]["object"]["amount_total"], fee=50)
    stripe_api.events = list(reversed(events))  # Stripe lists newest first

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("stripe_sync", "--since", "2026-11-01", stdout=out)
    again = io.StringIO()
    call_command("stripe_sync", "--since", "2026-11-01", stdout=again)

    assert out.getvalue().strip() == "Stripe events since 2026-11-01: 2 applied."
    assert again.getvalue().strip() == "Stripe events since 2026-11-01: 2 already received."
    assert balances(fund)[Role.CONTRIBUTIONS] == -3_000
    (listing, *_) = stripe_api.calls("GET", "/v1/events")
    assert listing.param("types[0]") == "charge.dispute.closed"


def test_stripe_sync_says_when_the_day_is_older_than_stripe_keeps_events(fund, stripe_api):
    today = timezone.localdate()
    old, recent = today - timedelta(days=40), today - timedelta(days=5)
    warned, quiet = io.StringIO(), io.StringIO()

    call_command("stripe_sync", "--since", old.isoformat(), stdout=io.StringIO(), stderr=warned)
    call_command("stripe_sync", "--since", recent.isoformat(), stdout=io.StringIO(), stderr=quiet)

    kept_from = today - timedelta(days=30)
    assert warned.getvalue().strip() == (
        f"Stripe lists only the last 30 days' events: anything before {kept_from:%Y-%m-%d} "
        "cannot be fetched; check its dashboard for those."
    )
    assert quiet.getvalue() == ""


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--since", "yesterday"], 2, "is not a day like 2026-11-01"),
        (["--since", "2026-11-01"], 1, "Stripe refused"),
    ],
)
def test_stripe_sync_refuses_a_bad_day_or_an_unreachable_stripe_in_one_line(
    fund, stripe_api, args, code, message
):
    stripe_api.fail_next = [400]
    with pytest.raises(CommandError, match=message) as refused:
        call_command("stripe_sync", *args, stdout=io.StringIO())
    assert refused.value.returncode == code
    assert "\n" not in str(refused.value)

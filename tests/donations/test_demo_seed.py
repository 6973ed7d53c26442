"""The demo year's money as donations: the same books as the ledger alone, on the treasurer's
screens, and seeding twice changes nothing."""

import pytest
from django.core import mail
from django.urls import reverse

from donations.demo import LISTED_SUPPORTERS, DonationsMoney
from donations.models import Deposit, Donor, Gift, Payout, Pledge, Refund, StripeEvent
from donations.templatetags.donations import supporters
from fund.demo.ledger import LedgerMoney, seed_fund
from fund.ledger.models import Transaction
from fund.ledger.progress import fund_progress, monthly_flows
from fund.ledger.verify import verify_fund
from fund.security.roles import StaffRole
from tests.conftest import make_staff, run
from tests.donations.conftest import balances


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    settings.STRIPE_DEMO = True
    settings.STRIPE_SECRET_KEY = ""


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Gift, Donor, Payout, Deposit, Pledge, Refund, StripeEvent, Transaction)
    }


# Each service commits, as in `make demo`: one long transaction would keep every version of the
# busy account rows.
@pytest.mark.django_db(transaction=True)
def test_the_demo_years_gifts_are_donations_with_the_books_of_the_ledger_alone(
    demo, django_user_model, client
):
    treasurer = make_staff(django_user_model, "demo-treasurer", StaffRole.TREASURER)
    ledger_only = seed_fund(treasurer=treasurer, money=LedgerMoney(), slug="ledger-only")
    fund = seed_fund(treasurer=treasurer, money=DonationsMoney())

    progress = fund_progress(fund)
    assert progress.raised == 10_703_000  # $107,030, as the demo has always raised
    # The refunded card gift ($100) and Local 5's check that bounced ($750), each taken back.
    assert (progress.gifts_gross, progress.refunds) == (10_788_000, 85_000)
    assert balances(fund) == balances(ledger_only)
    assert monthly_flows(fund, until=fund.head.closed_through) == monthly_flows(
        ledger_only, until=ledger_only.head.closed_through
    )
    assert verify_fund(fund).ok
    assert "OK valley-defense:" in run("verify_ledger")  # CommandError (exit 1) on a problem

    gifts = Gift.objects.filter(fund=fund)
    card = gifts.filter(method=Gift.Method.CARD)
    assert card.filter(status=Gift.Status.PAID, fee_transaction__isnull=False).count() > 300
    assert card.filter(status=Gift.Status.REFUNDED).count() == 1
    assert not gifts.filter(status=Gift.Status.PENDING).exists()
    assert Donor.objects.filter(kind=Donor.Kind.PERSON).count() < card.count() / 2  # regulars
    checks = gifts.filter(method=Gift.Method.CHECK)
    assert checks.count() == Deposit.objects.filter(fund=fund).count() > 20
    assert not checks.filter(deposit__isnull=True).exists()
    (bounced,) = checks.filter(status=Gift.Status.REFUNDED)
    assert (bounced.donor.organisation, bounced.refunded_cents) == ("Local 5", 75_000)
    pledge = Pledge.objects.get(fund=fund)
    assert pledge.gifts.exists()
    payouts = Payout.objects.filter(fund=fund)
    assert payouts.count() > 40
    assert set(payouts.values_list("reconciliation", flat=True)) == {"matched"}
    assert mail.outbox == []  # invented donors at example.org are never written to
    # The locals that asked to be listed are the fund's supporters; nobody else is.
    assert set(supporters(fund)) == LISTED_SUPPORTERS

    before = counts()
    seed_fund(treasurer=treasurer, money=DonationsMoney())
    assert counts() == before

    client.force_login(treasurer)
    pledges = client.get(reverse("donations_pledges"))
    assert "Local 399" in pledges.content.decode()
    reconciliation = client.get(reverse("donations_payouts"))
    assert reconciliation.content.decode().count("Matches") >= 20


def test_the_demo_books_its_gifts_only_through_the_demo_checkout(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.STRIPE_DEMO = False
    with pytest.raises(ImproperlyConfigured, match="seed_demo needs demo mode"):
        DonationsMoney()


@pytest.mark.django_db(transaction=True)
def test_a_demo_seeded_by_the_ledger_alone_is_not_seeded_again_as_donations(
    demo, django_user_model
):
    # A volunteer's var/pg/ from before the demo's gifts were donations: seeding it again would
    # book the year twice under other keys.
    treasurer = make_staff(django_user_model, "demo-treasurer", StaffRole.TREASURER)
    fund = seed_fund(treasurer=treasurer, money=LedgerMoney())
    count = Transaction.objects.count()

    with pytest.raises(ValueError, match="seeded by an older version of the demo"):
        seed_fund(treasurer=treasurer, money=DonationsMoney())

    assert Transaction.objects.count() == count
    assert not Gift.objects.filter(fund=fund).exists()

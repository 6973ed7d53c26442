"""A monthly gift's failed payment: the donor is told, once, in their language, with the link to
update the card, and the subject names no one."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from donations.links import recurring_of
from donations.models import RecurringGift
from donations.services.notices import send_payment_failed_notice
from tests.donations import stripe_objects as so
from tests.donations.test_receipts import FUND_NAME, deliver, donation

pytestmark = pytest.mark.django_db
__all__ = ["deliver"]  # the fixture, shared with the receipts' tests


@pytest.fixture
def monthly_gift(fund, deliver):
    """A monthly gift whose plan started; returns a maker of its invoices."""

    def start(*, language="en", email="ana@example.org"):
        gift = donation(fund, 2_500, monthly=True, language=language, email=email)
        sub_id = so.new_id("sub")
        session = so.checkout_session(
            amount=2_500,
            metadata={"fund": fund.slug, "donation": str(gift.row_key)},
            mode="subscription",
            subscription=sub_id,
            email=email,
        )
        session["customer"] = "cus_test_ana"
        deliver(so.event("checkout.session.completed", session))

        def invoice(status):
            return so.event(
                f"invoice.{'paid' if status == 'paid' else 'payment_failed'}",
                so.invoice(
                    subscription_id=sub_id,
                    amount=2_500,
                    metadata={"fund": fund.slug, "donation": str(gift.row_key)},
                    status=status,
                    email=email,
                ),
            )

        return RecurringGift.objects.get(stripe_subscription=sub_id), invoice

    return start


def test_a_failed_payment_emails_the_donor_the_link_to_update_the_card(
    monthly_gift, deliver, settings
):
    settings.SITE_URL = "https://give.example.org"
    recurring, invoice = monthly_gift()

    deliver(invoice("open"))

    (message,) = mail.outbox
    assert message.to == ["ana@example.org"]
    assert message.subject == f"Your monthly gift to {FUND_NAME} did not go through"
    assert "Ana" not in message.subject
    assert message.body.startswith(
        f"This month's payment of your monthly gift of $25.00 to {FUND_NAME} did not go through."
    )
    (url,) = re.findall(r"https://give\.example\.org/\S+", message.body)
    token = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    assert recurring_of(token) == recurring
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.PAST_DUE


def test_a_second_failure_while_past_due_sends_no_second_notice(monthly_gift, deliver):
    _, invoice = monthly_gift()

    deliver(invoice("open"), invoice("open"))

    assert len(mail.outbox) == 1


def test_a_donor_is_told_again_after_paying_and_failing_anew(monthly_gift, deliver):
    _, invoice = monthly_gift()

    deliver(invoice("open"), invoice("paid"), invoice("open"))

    failed = [m for m in mail.outbox if "did not go through" in m.subject]
    assert len(failed) == 2


def test_no_notice_once_the_gift_is_paid_again_before_the_worker_runs(monthly_gift, deliver):
    recurring, invoice = monthly_gift()
    deliver(invoice("paid"))

    assert send_payment_failed_notice(recurring) is False
    assert not [m for m in mail.outbox if "did not go through" in m.subject]


def test_a_spanish_donor_is_told_in_spanish(monthly_gift, deliver):
    _, invoice = monthly_gift(language="es", email="lucia@example.org")

    deliver(invoice("open"))

    (message,) = mail.outbox
    assert message.subject == f"Tu donación mensual a {FUND_NAME} no se pudo cobrar"
    assert message.body.startswith(
        f"El pago de este mes de tu donación mensual de $25.00 a {FUND_NAME} no se pudo cobrar."
    )

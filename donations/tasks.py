"""Background work for donations: each task loads by id and calls the gateway and one service.

Arguments are ids only: task rows are stored until a worker runs them, and must name no one.
"""

import logging
from datetime import timedelta
from typing import Any

from django.tasks import Task, default_task_backend, task
from django.utils import timezone

from donations import stripe as gateway
from donations.models import Donor, Gift, Payout, RecurringGift
from donations.services import online
from fund.ledger.models import Fund

logger = logging.getLogger(__name__)
RETRIES = 8  # 2, 4, 8 … 256 minutes: Stripe usually knows a fee within seconds


def retry_later(task_: Task[Any, Any], attempt: int, *args: object) -> bool:
    """Run the task again later, waiting longer each time; False when it has tried enough."""
    if attempt >= RETRIES or not default_task_backend.supports_defer:
        logger.warning("%s gave up after %s attempts for %s", task_.name, attempt, args)
        return False
    later = timezone.now() + timedelta(minutes=2**attempt)
    task_.using(run_after=later).enqueue(*args, attempt + 1)
    return True


@task()
def fetch_gift_fee(gift_id: int, attempt: int = 1) -> bool:
    """Book Stripe's actual fee on a paid online gift; retried later until Stripe knows it.

    In demo mode the fee is the local stand-in for Stripe's balance transaction.
    """
    gift = Gift.objects.select_related("fund").get(pk=gift_id)
    if gift.fee_transaction_id is not None or gift.stripe_payment_intent is None:
        return True
    if gateway.demo_mode():
        online.record_fee(
            gift=gift,
            balance_transaction=f"txn_demo_{gift.row_key.hex}",
            fee_cents=gateway.demo_fee(gift.amount_cents),
        )
        return True
    try:
        fee = _fee_of(gift)
    except gateway.StripeError as error:
        logger.warning("fee of gift #%s not fetched: %s", gift_id, error)
        fee = None
    if fee is None:
        retry_later(fetch_gift_fee, attempt, gift_id)
        return False
    online.record_fee(
        gift=gift,
        balance_transaction=fee.balance_transaction,
        fee_cents=fee.fee_cents,
        charge=fee.charge,
    )
    return True


def _fee_of(gift: Gift) -> gateway.Fee | None:
    intent = str(gift.stripe_payment_intent)
    if intent.startswith(online.INVOICE_PAYMENT):
        found = gateway.payment_intent_of_invoice(intent.removeprefix(online.INVOICE_PAYMENT))
        if found is None:
            return None
        online.link_payment_intent(gift=gift, payment_intent=found)
        intent = found
    return gateway.fee_of_payment_intent(intent)


@task()
def tell_donor_payment_failed(recurring_id: int) -> bool:
    """E-mail the donor that a monthly gift's payment failed, with the link to fix it."""
    from donations.services.notices import send_payment_failed_notice

    return send_payment_failed_notice(RecurringGift.objects.get(pk=recurring_id))


@task()
def send_gift_receipt(gift_id: int, attempt: int = 1) -> bool:
    """E-mail the donor a paid gift's receipt with its PDF, once; retried later if mail fails."""
    from donations.services.receipts import send_receipt

    try:
        return send_receipt(gift=Gift.objects.get(pk=gift_id))
    except OSError as error:  # smtplib's errors; their text may hold the address: not logged
        logger.warning("receipt of gift #%s not sent: %s", gift_id, type(error).__name__)
        retry_later(send_gift_receipt, attempt, gift_id)
        return False


@task()
def send_annual_statement(donor_id: int, year: int, fund_id: int | None = None) -> bool:
    """E-mail a donor the statement of a year's gifts (to one fund, if named), once a year."""
    from donations.services.receipts import send_statement

    fund = Fund.objects.get(pk=fund_id) if fund_id is not None else None
    return send_statement(donor=Donor.objects.get(pk=donor_id), year=year, fund=fund)


@task()
def reconcile_payout(payout_id: int) -> str:
    """Compare a payout's balance transactions at Stripe with the ledger; return the outcome.

    In demo mode the balance transactions are the local stand-in's.
    """
    from donations.services.reconciliation import reconcile

    payout = Payout.objects.select_related("fund").get(pk=payout_id)
    if gateway.demo_mode():
        from donations.demo_stripe import payout_lines

        return reconcile(payout, payout_lines(payout))
    return reconcile(payout, gateway.payout_balance_transactions(payout.stripe_payout))

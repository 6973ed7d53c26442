"""Voiding a paid disbursement on the screens: a treasurer opens it from the approvals screen or
the case page, gives a reason, and the ledger posts the payment's reversal; the reason stays
encrypted on the disbursement. The ledger's own Reverse sends the treasurer here instead."""

from datetime import date

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Disbursement, Payee
from cases.reports import DISBURSEMENTS
from cases.services.cases import change_status, open_case
from cases.services.disbursements import (
    approve_disbursement,
    pay_disbursement,
    request_disbursement,
)
from cases.services.payees import create_payee
from fund.ledger.progress import fund_progress
from fund.ledger.verify import verify_fund
from fund.models import Transaction
from fund.reports.registry import Period, Style

pytestmark = pytest.mark.django_db

Status = Disbursement.Status
Kind = Transaction.Kind
IN_BANK = 1_000_000  # $10,000.00
REASON = "Check lost in the mail; Zyxwvut Canaryname's attorney never got it"


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def case(coordinator) -> Case:
    opened = open_case(actor=coordinator, legal_name="Zyxwvut Canaryname")
    return change_status(actor=coordinator, case=opened.case, to=Case.Status.DETAINED)


@pytest.fixture
def attorney(coordinator) -> Payee:
    return create_payee(
        actor=coordinator, kind=Payee.Kind.ATTORNEY, name="Ana Abogada", firm="Valley Law"
    )


def requested(coordinator, case, fund, attorney, key="v-1", cents=150_000) -> Disbursement:
    return request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category="attorney_fee",
        payee=attorney,
        amount_cents=cents,
        memo="Retainer",
        idempotency_key=key,
    )


@pytest.fixture
def paid(coordinator, treasurer, case, fund, attorney) -> Disbursement:
    """$1,500.00 for the attorney, approved and paid by check 1042 today."""
    approved = approve_disbursement(
        actor=treasurer, disbursement=requested(coordinator, case, fund, attorney)
    )
    return pay_disbursement(
        actor=treasurer,
        disbursement=approved,
        method="check",
        reference="1042",
        paid_on=timezone.localdate(),
    )


def void_url(disbursement: Disbursement) -> str:
    return reverse("cases_disbursement_void", args=[disbursement.pk])


def test_a_treasurer_voids_a_paid_disbursement_with_a_reason(client, treasurer, paid, fund, case):
    spent = fund_progress(fund).spent
    client.force_login(treasurer)

    queue = page(client.get(reverse("cases_approvals")))
    case_page = page(client.get(reverse("cases_case_detail", args=[case.ref])))
    shown = client.get(void_url(paid))
    response = client.post(void_url(paid), {"reason": REASON})

    assert f'href="{void_url(paid)}"' in queue
    assert f'href="{void_url(paid)}"' in case_page
    assert shown.status_code == 200
    for fact in (case.ref, "Ana Abogada", "Valley Law", "$1,500.00", "1042"):
        assert fact in page(shown)
    assert timezone.localdate().isoformat() in page(shown)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases_case_detail", args=[case.ref]) + "#money"
    paid.refresh_from_db()
    reversal = paid.void_transaction
    assert (paid.status, paid.reason) == (Status.VOIDED, REASON)
    assert (reversal.kind, reversal.reverses_id) == (Kind.REVERSAL, paid.transaction_id)
    assert reversal.memo == f"Void of disbursement #{paid.pk}"
    assert reversal.recorded_by == treasurer
    assert fund_progress(fund).spent == spent - 150_000
    landed = page(client.get(response["Location"]))
    assert (
        f"Voided the payment of $1,500.00 for {case.ref} (disbursement #{paid.pk}): ledger entry "
        f"{reversal.reference} reverses it." in landed
    )
    assert f'href="{void_url(paid)}"' not in page(client.get(reverse("cases_approvals")))
    assert verify_fund(fund).ok


def test_the_register_shows_the_void_and_the_reason_is_nowhere_in_clear(
    client, treasurer, paid, fund
):
    client.force_login(treasurer)

    client.post(void_url(paid), {"reason": REASON})

    paid.refresh_from_db()
    today = timezone.localdate()
    rows = list(DISBURSEMENTS.rows(fund, Period(date(today.year, 1, 1), today)))
    lines = [row.values for row in rows if row.style == Style.LINE]
    void_line = next(values for values in lines if paid.void_transaction.reference in values)
    assert void_line[-1] == -150_000
    assert f"Void of {paid.transaction.reference}" in void_line
    assert f"Paid, voided {today.isoformat()}" in next(
        values for values in lines if paid.transaction.reference in values
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM cases_disbursement WHERE id = %s", [paid.pk])
        (stored,) = cursor.fetchone()
    assert "Canaryname" not in stored
    assert not Transaction.objects.filter(memo__contains="Canaryname").exists()
    assert not Transaction.objects.filter(reason__contains="Canaryname").exists()


def test_a_void_needs_a_reason_and_without_one_changes_nothing(client, treasurer, paid, fund):
    client.force_login(treasurer)
    before = Transaction.objects.count()

    response = client.post(void_url(paid), {"reason": "  "})

    assert response.status_code == 400
    assert "Say why the payment is voided." in page(response)
    assert "Nothing was voided." in page(response)
    paid.refresh_from_db()
    assert (paid.status, paid.void_transaction) == (Status.PAID, None)
    assert Transaction.objects.count() == before


def test_voiding_twice_says_so_and_reverses_once(client, treasurer, other_treasurer, paid, fund):
    client.force_login(treasurer)
    client.post(void_url(paid), {"reason": "Sent twice"})
    client.force_login(other_treasurer)

    again = client.post(void_url(paid), {"reason": "Sent twice"})
    landed = page(client.get(again["Location"]))
    shown = page(client.get(void_url(paid)))

    paid.refresh_from_db()
    reversal = paid.void_transaction
    assert again.status_code == 302
    assert (
        f"Disbursement #{paid.pk} for {paid.case.ref} was already voided by ledger entry "
        f"{reversal.reference}: nothing more was reversed." in landed
    )
    assert Transaction.objects.filter(kind=Kind.REVERSAL).count() == 1
    assert reversal.recorded_by == treasurer
    assert "This payment is voided: nothing more can be reversed." in shown
    assert 'name="reason"' not in shown
    assert verify_fund(fund).ok


def test_only_a_paid_disbursement_is_voided_and_the_refusal_is_shown(
    client, treasurer, coordinator, case, fund, attorney
):
    waiting = requested(coordinator, case, fund, attorney, key="v-2", cents=5_000)
    client.force_login(treasurer)

    shown = page(client.get(void_url(waiting)))
    response = client.post(void_url(waiting), {"reason": "Wrong case"})

    assert "Only a paid disbursement can be voided: this one is requested." in shown
    assert 'name="reason"' not in shown
    assert response.status_code == 400
    assert (
        f"Disbursement #{waiting.pk} is requested: only a paid disbursement can be voided."
        in page(response)
    )
    waiting.refresh_from_db()
    assert waiting.status == Status.REQUESTED


@pytest.mark.parametrize("persona", ["coordinator", "auditor", "admin_user", "outsider"])
def test_only_a_treasurer_opens_or_voids(request, client, paid, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(void_url(paid)).status_code == 403
    assert client.post(void_url(paid), {"reason": "No"}).status_code == 403
    paid.refresh_from_db()
    assert paid.status == Status.PAID


def test_a_coordinator_sees_no_void_link_on_the_case_page(client, coordinator, paid, case):
    client.force_login(coordinator)

    shown = page(client.get(reverse("cases_case_detail", args=[case.ref])))

    assert void_url(paid) not in shown


def test_a_disbursement_that_does_not_exist_is_404(client, treasurer, paid):
    client.force_login(treasurer)
    missing = reverse("cases_disbursement_void", args=[paid.pk + 1000])

    assert client.get(missing).status_code == 404
    assert client.post(missing, {"reason": "No"}).status_code == 404


def test_the_ledger_sends_the_treasurer_to_the_disbursement_and_the_void_then_works(
    client, treasurer, paid, fund
):
    client.force_login(treasurer)
    payment = paid.transaction
    ledger_reverse = reverse("ledger_reverse", args=[fund.slug, payment.reference])

    refused = client.post(ledger_reverse, {"memo": "Sent twice"})

    assert refused.status_code == 400
    assert "Void it from the disbursement: the ledger alone would leave it marked paid." in page(
        refused
    )
    assert not Transaction.objects.filter(kind=Kind.REVERSAL).exists()
    paid.refresh_from_db()
    assert paid.status == Status.PAID

    assert client.post(void_url(paid), {"reason": "Sent twice"}).status_code == 302
    paid.refresh_from_db()
    assert paid.status == Status.VOIDED
    assert Transaction.objects.get(kind=Kind.REVERSAL).reverses == payment
    # Voided, the payment's page says it is reversed and offers nothing more.
    after = client.post(ledger_reverse, {"memo": "Once more"})
    assert f"Transaction {payment.reference} is already reversed." in page(after)
    assert verify_fund(fund).ok

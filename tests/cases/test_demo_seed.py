"""The demo year's case money as cases: the same books as the ledger alone, on the coordinator's and
the treasurer's screens, and seeding twice changes nothing."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from cases.demo import CasesDemo
from cases.models import (
    Approval,
    Assignment,
    Bond,
    Case,
    Disbursement,
    Document,
    Facility,
    Hearing,
    Payee,
    TimelineEntry,
)
from cases.services.cases import validate_a_number
from cases.services.disbursements import approval_state
from donations.demo import DonationsMoney
from fund.demo.ledger import CLOSED_THROUGH, LedgerCases, LedgerMoney, seed_fund
from fund.demo.staff import seed_staff
from fund.ledger.models import Commitment
from fund.ledger.progress import fund_progress, monthly_flows
from fund.ledger.verify import verify_fund
from fund.models import Transaction
from fund.security.roles import StaffRole
from tests.conftest import run
from tests.donations.conftest import balances


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    settings.STRIPE_DEMO = True
    settings.STRIPE_SECRET_KEY = ""


@pytest.fixture
def demo_staff(demo):
    # The roles' groups come from a migration, which a transactional test's flush takes away.
    for role in StaffRole:
        Group.objects.get_or_create(name=role.value)
    seed_staff()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Case,
            Assignment,
            TimelineEntry,
            Payee,
            Disbursement,
            Approval,
            Bond,
            Hearing,
            Facility,
            Document,
            Commitment,
            Transaction,
        )
    }


# Each service commits, as in `make demo`: one long transaction would keep every version of the
# busy account rows.
@pytest.mark.django_db(transaction=True)
def test_the_demo_years_case_money_is_cases_with_the_books_of_the_ledger_alone(demo_staff):
    treasurer = User.objects.get(username="treasurer")
    coordinator = User.objects.get(username="coordinator")
    ledger_only = seed_fund(
        treasurer=treasurer, money=LedgerMoney(), cases=LedgerCases(), slug="ledger-only"
    )
    fund = seed_fund(treasurer=treasurer, money=DonationsMoney(), cases=CasesDemo())

    progress, alone = fund_progress(fund), fund_progress(ledger_only)
    assert (progress.spent, progress.in_bonds) == (5_523_000, 1_250_000)
    assert progress.committed == alone.committed == 250_000
    assert progress.available == alone.available
    assert progress.cases_supported == alone.cases_supported == Case.objects.count() > 5
    assert balances(fund) == balances(ledger_only)
    assert monthly_flows(fund, until=fund.head.closed_through) == monthly_flows(
        ledger_only, until=ledger_only.head.closed_through
    )
    assert verify_fund(fund).ok
    assert verify_fund(ledger_only).ok
    assert "OK valley-defense:" in run("verify_ledger")  # CommandError (exit 1) on a problem

    # Every case is the demo coordinator's, its person invented and its A-number never real.
    cases = Case.objects.order_by("number")
    assert all(list(case.coordinators.all()) == [coordinator] for case in cases)
    assert all(case.a_number.startswith("A000") for case in cases)
    assert all(validate_a_number(case.a_number) == case.a_number for case in cases)
    assert {c.status for c in cases} >= {
        "closed",
        "released",
        "detained",
        "bond_set",
        "transferred",
    }
    # One person was moved to another facility, and their phone number corrected.
    moved = cases.get(status=Case.Status.TRANSFERRED)
    assert moved.facility != moved.detained_at
    corrected = moved.timeline.get(kind=TimelineEntry.Kind.DETAILS)
    assert corrected.text == "Corrected: phone."

    # Paid through the maker-checker path, on the demo's days.
    disbursements = Disbursement.objects.filter(fund=fund)
    paid = disbursements.filter(status=Disbursement.Status.PAID)
    assert not paid.exclude(requested_by=coordinator).exists()
    assert not paid.exclude(approvals__approver=treasurer).exists()
    assert sum(paid.values_list("amount_cents", flat=True)) == progress.spent
    assert all(
        d.paid_on == d.transaction.effective_date for d in paid.select_related("transaction")
    )
    assert not Transaction.objects.filter(
        fund=fund, kind=Transaction.Kind.DISBURSEMENT, idempotency_key__startswith="demo:"
    ).exists()

    # The approved, unpaid retainer is set aside; one small request waits for a treasurer.
    approved = disbursements.get(status=Disbursement.Status.APPROVED)
    assert approved.amount_cents == 250_000
    assert Commitment.objects.get(fund=fund, released_at__isnull=True).source_ref == (
        approved.commitment_ref
    )
    waiting = disbursements.get(status=Disbursement.Status.REQUESTED)
    assert approval_state(waiting) == "Waiting for a treasurer's approval."
    assert not waiting.approvals.exists()

    # The March bond came back with $12.40 interest and its case closed; October's is still out.
    refunded = Bond.objects.get(fund=fund, status=Bond.Status.REFUNDED)
    assert (refunded.amount_cents, refunded.interest_cents) == (800_000, 1_240)
    assert refunded.case.status == Case.Status.CLOSED
    out = Bond.objects.get(fund=fund, status=Bond.Status.POSTED)
    assert out.amount_cents == 1_250_000
    assert str(out.posted_on) == "2026-10-22"

    # Two mistakes put right: a filing fee paid twice, with its invoice on the case, and the
    # October bond entered twice; each voided with its reason, reversed on the first open day.
    voided = disbursements.get(status=Disbursement.Status.VOIDED)
    assert voided.case == out.case
    assert voided.document.kind == Document.Kind.INVOICE
    assert voided.document.case == out.case
    assert voided.reason.startswith("Paid twice")
    again = Bond.objects.get(fund=fund, status=Bond.Status.VOIDED)
    assert (again.case, again.amount_cents) == (out.case, out.amount_cents)
    assert again.closed_transaction.reverses == again.posted_transaction
    assert again.closed_on == voided.void_transaction.effective_date > CLOSED_THROUGH
    assert out.case.status == Case.Status.RELEASED

    # Every open case has a hearing in the coming weeks.
    today = timezone.localdate()
    for case in cases.exclude(status=Case.Status.CLOSED):
        hearing = case.hearings.get()
        assert today < timezone.localdate(hearing.at) <= today + timedelta(weeks=7)
        assert hearing.court.startswith("Example Immigration Court")

    before = counts()
    seed_fund(treasurer=treasurer, money=DonationsMoney(), cases=CasesDemo())
    assert counts() == before
    assert fund_progress(fund) == progress


@pytest.mark.django_db
def test_the_demo_cases_need_the_demo_staff():
    with pytest.raises(ImproperlyConfigured, match="seed them first"):
        CasesDemo()


@pytest.mark.django_db(transaction=True)
def test_a_demo_whose_case_payments_were_posted_to_the_ledger_is_not_seeded_again_as_cases(
    demo_staff,
):
    # A volunteer's var/pg/ from before the demo's case payments were cases: seeding it again
    # would pay for the year's cases twice under other keys.
    treasurer = User.objects.get(username="treasurer")
    seed_fund(treasurer=treasurer, money=LedgerMoney(), cases=LedgerCases())
    count = Transaction.objects.count()

    with pytest.raises(ValueError, match="seeded by an older version of the demo"):
        seed_fund(treasurer=treasurer, money=LedgerMoney(), cases=CasesDemo())

    assert Transaction.objects.count() == count
    assert not Case.objects.exists()

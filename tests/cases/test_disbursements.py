"""Disbursements: a coordinator requests money for a case, treasurers other than the requester
approve it (two above the threshold), a treasurer pays it through the ledger or rejects it, and a
payment is voided only by a reversal. Maker-checker holds in the database too."""

import threading
from contextlib import contextmanager
from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from cases.errors import CaseError, CaseNotFound, SelfApproval, TransitionRefused
from cases.models import (
    Approval,
    Assignment,
    Case,
    Disbursement,
    DisbursementEvent,
    Payee,
    TimelineEntry,
)
from cases.services import disbursements as service
from cases.services.disbursements import (
    approve_disbursement,
    disbursement_for_user,
    pay_disbursement,
    reject_disbursement,
    request_disbursement,
    void_disbursement,
)
from cases.services.payees import create_payee, set_w9_received
from fund.errors import IdempotencyConflict, InsufficientFunds, InvalidTransaction, NotAllowed
from fund.ledger.entries import Leg
from fund.ledger.posting import post_transaction
from fund.ledger.progress import fund_progress
from fund.ledger.queries import account_for
from fund.ledger.verify import verify_fund
from fund.models import Account, Commitment, SupportedCase, Transaction
from fund.security.roles import StaffRole
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

Role = Account.Role
Status = Disbursement.Status
CANARY_NAME = "Canary Quetzal Marroquín"
CANARY_MEMO = "Retainer for Canary Quetzal Marroquín's bond hearing"
REF = "C-2026-0042"
GIFT_ON = date(2026, 3, 10)
PAID_ON = date(2026, 4, 1)
IN_BANK = 1_000_000  # $10,000.00


@pytest.fixture
def case(coordinator) -> Case:
    """A detained worker's case, assigned to the coordinator."""
    case = Case.objects.create(
        ref=REF, year=2026, number=42, legal_name=CANARY_NAME, status=Case.Status.DETAINED
    )
    Assignment.objects.create(case=case, coordinator=coordinator)
    return case


@pytest.fixture
def attorney(coordinator) -> Payee:
    return create_payee(
        actor=coordinator,
        kind=Payee.Kind.ATTORNEY,
        name="Ana Abogada",
        firm="Valley Immigration Law",
        bar_number="CA-123456",
    )


def ask(actor, case, fund, payee, cents, *, key="req-1", category="attorney_fee", memo=""):
    return request_disbursement(
        actor=actor,
        case=case,
        fund=fund,
        category=category,
        payee=payee,
        amount_cents=cents,
        memo=memo or CANARY_MEMO,
        idempotency_key=key,
    )


def pay(actor, disbursement, *, reference="1042", on=PAID_ON):
    return pay_disbursement(
        actor=actor, disbursement=disbursement, method="check", reference=reference, paid_on=on
    )


def balances(fund) -> dict[str, int]:
    return dict(Account.objects.filter(fund=fund).values_list("role", "balance_cents"))


def timeline(case) -> list[str]:
    return [entry.text for entry in TimelineEntry.objects.filter(case=case).order_by("at", "pk")]


def fresh(disbursement) -> Disbursement:
    return Disbursement.objects.get(pk=disbursement.pk)


def open_commitments(fund) -> list[tuple[str, int]]:
    return list(
        Commitment.objects.filter(fund=fund, released_at__isnull=True).values_list(
            "source_ref", "amount_cents"
        )
    )


@contextmanager
def refused_with(error: type[Exception], message: str):
    """Expect the error, with exactly this message."""
    with pytest.raises(error) as caught:
        yield
    assert str(caught.value) == message


def sqlstate(error: BaseException) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


# The whole way: request → approve → pay


def test_request_approve_pay_books_the_exact_ledger_entry(
    fund, case, attorney, coordinator, treasurer
):
    requested = ask(coordinator, case, fund, attorney, 150_000)

    assert requested.status == Status.REQUESTED
    assert requested.approvals_needed == 1
    assert requested.requested_by == coordinator
    assert fund_progress(fund).committed == 0

    approved = approve_disbursement(actor=treasurer, disbursement=requested)

    assert approved.status == Status.APPROVED
    assert approved.decided_by == treasurer
    assert open_commitments(fund) == [(f"disbursement:{requested.pk}", 150_000)]
    progress = fund_progress(fund)
    assert (progress.committed, progress.available, progress.spent) == (150_000, 850_000, 0)
    assert Transaction.objects.filter(kind=Transaction.Kind.DISBURSEMENT).count() == 0

    paid = pay(treasurer, approved)

    assert paid.status == Status.PAID
    assert (paid.method, paid.reference, paid.paid_on) == ("check", "1042", PAID_ON)
    txn = Transaction.objects.get(kind=Transaction.Kind.DISBURSEMENT)
    assert paid.transaction == txn
    assert txn.effective_date == PAID_ON
    assert txn.case_ref == REF
    assert txn.idempotency_key == f"disbursement:{paid.pk}:paid"
    assert txn.source_ref == "1042"
    assert txn.memo == f"Attorney fee, disbursement #{paid.pk}"
    assert txn.recorded_by == treasurer
    assert sorted(txn.postings.values_list("account__role", "amount_cents")) == [
        (Role.ATTORNEY_FEES, 150_000),
        (Role.BANK, -150_000),
    ]
    assert balances(fund)[Role.BANK] == IN_BANK - 150_000
    assert balances(fund)[Role.ATTORNEY_FEES] == 150_000
    progress = fund_progress(fund)
    assert (progress.committed, progress.available, progress.spent) == (0, 850_000, 150_000)
    assert progress.cases_supported == 1
    assert SupportedCase.objects.get(fund=fund, case_ref=REF).payments == 1
    assert open_commitments(fund) == []
    assert timeline(case) == [
        "Requested $1,500.00 for Attorney fee",
        "Approved $1,500.00",
        "Paid $1,500.00 by check 1042 (ledger 2026-000002)",
    ]
    assert verify_fund(fund).ok


def test_the_ledger_never_sees_the_person_or_the_memo(fund, case, attorney, coordinator, treasurer):
    paid = pay(
        treasurer,
        approve_disbursement(
            actor=treasurer, disbursement=ask(coordinator, case, fund, attorney, 150_000)
        ),
    )

    txn = paid.transaction
    seen = " ".join([txn.memo, txn.reason, txn.source_ref, txn.case_ref, txn.idempotency_key])
    assert "Canary" not in seen
    assert "Abogada" not in seen
    assert all("Canary" not in text for text in timeline(case))


def test_each_category_is_booked_to_its_expense_account(
    fund, case, attorney, coordinator, treasurer
):
    expected = {
        "attorney_fee": Role.ATTORNEY_FEES,
        "filing_fee": Role.FILING_FEES,
        "family_support": Role.FAMILY_SUPPORT,
        "travel": Role.OTHER_PROGRAM,
        "commissary": Role.OTHER_PROGRAM,
        "other": Role.OTHER_PROGRAM,
    }
    for index, category in enumerate(expected):
        requested = ask(
            coordinator, case, fund, attorney, 1_000 + index, key=f"req-{index}", category=category
        )
        pay(treasurer, approve_disbursement(actor=treasurer, disbursement=requested))

    by_role = balances(fund)
    assert by_role[Role.ATTORNEY_FEES] == 1_000
    assert by_role[Role.FILING_FEES] == 1_001
    assert by_role[Role.FAMILY_SUPPORT] == 1_002
    assert by_role[Role.OTHER_PROGRAM] == 1_003 + 1_004 + 1_005
    assert by_role[Role.BANK] == IN_BANK - 6_015
    assert verify_fund(fund).ok


def test_paying_twice_posts_one_transaction(fund, case, attorney, coordinator, treasurer):
    approved = approve_disbursement(
        actor=treasurer, disbursement=ask(coordinator, case, fund, attorney, 150_000)
    )

    first = pay(treasurer, approved)
    second = pay(treasurer, approved, reference="9999")

    assert second.pk == first.pk
    assert second.transaction == first.transaction
    assert second.reference == "1042"
    assert Transaction.objects.filter(kind=Transaction.Kind.DISBURSEMENT).count() == 1
    assert balances(fund)[Role.BANK] == IN_BANK - 150_000


# Maker-checker


@pytest.fixture
def dual(django_user_model, case):
    """A coordinator who is also a treasurer, working the case."""
    user = make_staff(
        django_user_model, "dana", StaffRole.COORDINATOR, StaffRole.TREASURER, mfa=False
    )
    Assignment.objects.create(case=case, coordinator=user)
    return user


def test_the_requester_cannot_approve_their_own_request(fund, case, attorney, dual):
    requested = ask(dual, case, fund, attorney, 150_000)

    with pytest.raises(SelfApproval) as refused:
        approve_disbursement(actor=dual, disbursement=requested)

    assert str(refused.value) == (
        "You requested this disbursement, so another treasurer must approve it."
    )
    assert Approval.objects.count() == 0
    assert fresh(requested).status == Status.REQUESTED
    assert open_commitments(fund) == []


def test_the_requester_cannot_pay_their_own_request(fund, case, attorney, dual, treasurer):
    requested = ask(dual, case, fund, attorney, 150_000)
    approve_disbursement(actor=treasurer, disbursement=requested)

    with pytest.raises(SelfApproval) as refused:
        pay(dual, requested)

    assert str(refused.value) == (
        "You requested this disbursement, so another treasurer must pay it."
    )
    assert fresh(requested).status == Status.APPROVED
    assert not Transaction.objects.filter(kind=Transaction.Kind.DISBURSEMENT).exists()
    assert balances(fund)[Role.BANK] == IN_BANK
    assert pay(treasurer, requested).status == Status.PAID


def test_the_database_refuses_a_payment_recorded_by_the_requester(
    fund, case, attorney, dual, treasurer
):
    requested = ask(dual, case, fund, attorney, 150_000)
    approve_disbursement(actor=treasurer, disbursement=requested)
    by_requester = post_transaction(
        fund=fund,
        legs=[
            Leg(account_for(fund, Role.ATTORNEY_FEES), 150_000),
            Leg(account_for(fund, Role.BANK), -150_000),
        ],
        effective_date=PAID_ON,
        kind=Transaction.Kind.DISBURSEMENT,
        memo="Paid around the service",
        idempotency_key="around-the-service",
        actor=dual,
    )

    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        Disbursement.objects.filter(pk=requested.pk).update(
            status=Status.PAID, transaction=by_requester
        )

    assert sqlstate(refused.value) == "DF106"
    assert fresh(requested).status == Status.APPROVED


def test_the_database_refuses_the_requesters_approval_through_the_orm(
    fund, case, attorney, coordinator
):
    requested = ask(coordinator, case, fund, attorney, 150_000)

    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        Approval.objects.create(disbursement=requested, approver=coordinator)

    assert sqlstate(refused.value) == "DF101"
    assert Approval.objects.count() == 0


def test_the_database_refuses_the_requesters_approval_through_raw_sql(
    fund, case, attorney, coordinator
):
    requested = ask(coordinator, case, fund, attorney, 150_000)

    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as sql:
        sql.execute(
            "INSERT INTO cases_approval (disbursement_id, approver_id, at) VALUES (%s, %s, now())",
            [requested.pk, coordinator.pk],
        )

    assert sqlstate(refused.value) == "DF101"
    assert Approval.objects.count() == 0


def test_the_database_refuses_approved_with_too_few_approvals(
    fund, case, attorney, coordinator, treasurer
):
    one = ask(coordinator, case, fund, attorney, 150_000, key="one")
    two = ask(coordinator, case, fund, attorney, 600_000, key="two")
    approve_disbursement(actor=treasurer, disbursement=two)

    for disbursement in (one, two):
        with pytest.raises(DatabaseError) as refused, transaction.atomic():
            Disbursement.objects.filter(pk=disbursement.pk).update(status=Status.APPROVED)
        assert sqlstate(refused.value) == "DF103"
        assert fresh(disbursement).status == Status.REQUESTED

    row = fresh(one)
    row.status = Status.APPROVED
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        row.save(update_fields=["status"])
    assert sqlstate(refused.value) == "DF103"


def test_the_database_refuses_changing_the_amount_or_requester(
    fund, case, attorney, coordinator, treasurer
):
    requested = ask(coordinator, case, fund, attorney, 150_000)

    for change in ({"amount_cents": 1}, {"requested_by": treasurer}, {"approvals_needed": 2}):
        with pytest.raises(DatabaseError) as refused, transaction.atomic():
            Disbursement.objects.filter(pk=requested.pk).update(**change)
        assert sqlstate(refused.value) == "DF102"


def test_the_database_refuses_a_new_row_that_skips_the_request_and_deleting_an_approval(
    fund, case, attorney, coordinator, treasurer
):
    requested = ask(coordinator, case, fund, attorney, 150_000)
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as sql:
        sql.execute(
            "INSERT INTO cases_disbursement (row_key, case_id, fund_id, category, payee_id, "
            "amount_cents, memo, status, requested_by_id, requested_at, approvals_needed, reason, "
            "method, reference) SELECT gen_random_uuid(), case_id, fund_id, category, payee_id, "
            "amount_cents, memo, 'approved', requested_by_id, now(), 1, '', '', '' "
            "FROM cases_disbursement WHERE id = %s",
            [requested.pk],
        )
    assert sqlstate(refused.value) == "DF104"

    approve_disbursement(actor=treasurer, disbursement=requested)
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        Approval.objects.filter(disbursement=requested).delete()
    assert sqlstate(refused.value) == "DF105"
    assert Approval.objects.filter(disbursement=requested).count() == 1


def test_above_the_threshold_two_different_treasurers_must_approve(
    fund, case, attorney, coordinator, treasurer, other_treasurer
):
    requested = ask(coordinator, case, fund, attorney, 500_001)
    assert requested.approvals_needed == 2
    assert service.approval_state(requested) == "Waiting for the approvals of two treasurers."

    once = approve_disbursement(actor=treasurer, disbursement=requested)

    assert once.status == Status.REQUESTED
    assert fresh(once).status == Status.REQUESTED
    assert service.approval_state(once) == (
        "Approved by one treasurer: it stays requested, waiting for a second treasurer's approval."
    )
    assert open_commitments(fund) == []
    assert fund_progress(fund).available == IN_BANK

    with pytest.raises(CaseError) as refused:
        approve_disbursement(actor=treasurer, disbursement=requested)
    assert str(refused.value) == (
        "You have already approved this disbursement: a second, different treasurer must "
        "approve it."
    )
    assert Approval.objects.filter(disbursement=requested).count() == 1

    twice = approve_disbursement(actor=other_treasurer, disbursement=requested)

    assert twice.status == Status.APPROVED
    assert twice.decided_by == other_treasurer
    assert set(twice.approvals.values_list("approver__username", flat=True)) == {"tess", "omar"}
    assert open_commitments(fund) == [(f"disbursement:{requested.pk}", 500_001)]
    assert fund_progress(fund).available == IN_BANK - 500_001
    assert service.approval_state(twice) == "Approved: $5,000.01 is set aside until it is paid."
    assert timeline(case) == [
        "Requested $5,000.01 for Attorney fee (two treasurers must approve)",
        "First of two approvals of $5,000.01",
        "Approved $5,000.01",
    ]


def test_at_the_threshold_one_approval_is_enough(fund, case, attorney, coordinator, treasurer):
    requested = ask(coordinator, case, fund, attorney, 500_000)

    assert requested.approvals_needed == 1
    assert approve_disbursement(actor=treasurer, disbursement=requested).status == Status.APPROVED


def test_the_threshold_is_a_setting(settings, fund, case, attorney, coordinator):
    settings.DISBURSEMENT_TWO_APPROVALS_ABOVE = 1_000

    assert ask(coordinator, case, fund, attorney, 100_000, key="a").approvals_needed == 1
    assert ask(coordinator, case, fund, attorney, 100_001, key="b").approvals_needed == 2


def test_an_approved_request_cannot_be_approved_again(
    fund, case, attorney, coordinator, treasurer, other_treasurer
):
    approved = approve_disbursement(
        actor=treasurer, disbursement=ask(coordinator, case, fund, attorney, 150_000)
    )

    with pytest.raises(TransitionRefused) as refused:
        approve_disbursement(actor=other_treasurer, disbursement=approved)

    assert str(refused.value) == (
        f"Disbursement #{approved.pk} is approved: only a requested disbursement can be approved."
    )
    assert Approval.objects.count() == 1


# Rejection


def test_a_rejection_needs_a_reason(fund, case, attorney, coordinator, treasurer):
    requested = ask(coordinator, case, fund, attorney, 150_000)

    with pytest.raises(CaseError) as refused:
        reject_disbursement(actor=treasurer, disbursement=requested, reason="   ")

    assert str(refused.value) == "Say why the disbursement is rejected."
    assert fresh(requested).status == Status.REQUESTED
    assert len(timeline(case)) == 1


def test_rejecting_a_request_records_who_and_why(fund, case, attorney, coordinator, treasurer):
    requested = ask(coordinator, case, fund, attorney, 150_000)

    rejected = reject_disbursement(
        actor=treasurer, disbursement=requested, reason="  No retainer on file  "
    )

    assert rejected.status == Status.REJECTED
    assert (rejected.decided_by, rejected.reason) == (treasurer, "No retainer on file")
    assert timeline(case)[-1] == "Rejected $1,500.00: No retainer on file"
    with pytest.raises(TransitionRefused) as refused:
        approve_disbursement(actor=treasurer, disbursement=rejected)
    assert str(refused.value) == (
        f"Disbursement #{rejected.pk} is rejected: only a requested disbursement can be approved."
    )


def test_rejecting_an_approved_request_releases_its_money(
    fund, case, attorney, coordinator, treasurer
):
    approved = approve_disbursement(
        actor=treasurer, disbursement=ask(coordinator, case, fund, attorney, 150_000)
    )
    assert fund_progress(fund).committed == 150_000

    reject_disbursement(actor=treasurer, disbursement=approved, reason="Attorney withdrew")

    assert fresh(approved).status == Status.REJECTED
    assert open_commitments(fund) == []
    assert fund_progress(fund).available == IN_BANK
    with pytest.raises(TransitionRefused) as refused:
        pay(treasurer, approved)
    assert str(refused.value) == (
        f"Disbursement #{approved.pk} is rejected: only an approved disbursement can be paid."
    )


def test_a_paid_disbursement_cannot_be_rejected(fund, case, attorney, coordinator, treasurer):
    paid = pay(
        treasurer,
        approve_disbursement(
            actor=treasurer, disbursement=ask(coordinator, case, fund, attorney, 150_000)
        ),
    )

    with pytest.raises(TransitionRefused) as refused:
        reject_disbursement(actor=treasurer, disbursement=paid, reason="Too late")

    assert str(refused.value) == (
        f"Disbursement #{paid.pk} is paid: only a requested or approved disbursement can be "
        "rejected."
    )
    assert fresh(paid).status == Status.PAID


# When the bank cannot cover it


def test_a_payment_the_bank_cannot_cover_is_refused_and_changes_nothing(
    fund, case, attorney, coordinator, treasurer, other_treasurer
):
    requested = ask(coordinator, case, fund, attorney, IN_BANK + 1)
    approve_disbursement(actor=treasurer, disbursement=requested)
    approved = approve_disbursement(actor=other_treasurer, disbursement=requested)
    before = (balances(fund), timeline(case), open_commitments(fund))

    with pytest.raises(InsufficientFunds) as refused:
        pay(treasurer, approved)

    assert str(refused.value) == (
        "Insufficient funds: Bank would be $0.01 short at the end of 2026-04-01."
    )
    after = fresh(approved)
    assert (after.status, after.transaction, after.method, after.reference) == (
        Status.APPROVED,
        None,
        "",
        "",
    )
    assert (balances(fund), timeline(case), open_commitments(fund)) == before
    assert open_commitments(fund) == [(f"disbursement:{approved.pk}", IN_BANK + 1)]
    assert verify_fund(fund).ok


def in_threads(count, work):
    """Run work(index) in `count` threads at once, each on its own database connection."""
    start = threading.Barrier(count)
    outcomes: dict[int, object] = {}

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = work(index)
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [outcomes[index] for index in range(count)]


@pytest.mark.django_db(transaction=True)
def test_two_payments_that_together_would_overdraw_the_bank_exactly_one_succeeds(
    fund, case, attorney, coordinator, treasurer, other_treasurer
):
    # $10,000.00 in the bank; $6,000.00 and $4,500.00 approved: $10,500.00 together.
    big = ask(coordinator, case, fund, attorney, 600_000, key="big")
    small = ask(coordinator, case, fund, attorney, 450_000, key="small")
    approve_disbursement(actor=treasurer, disbursement=big)
    approve_disbursement(actor=other_treasurer, disbursement=big)
    approve_disbursement(actor=treasurer, disbursement=small)
    payers = [(big, treasurer), (small, other_treasurer)]

    outcomes = in_threads(2, lambda index: pay(payers[index][1], payers[index][0]))

    paid = [o for o in outcomes if isinstance(o, Disbursement)]
    refused = [o for o in outcomes if not isinstance(o, Disbursement)]
    assert len(paid) == 1
    assert len(refused) == 1
    assert isinstance(refused[0], InsufficientFunds)
    # Whichever is paid first, the other is $500.00 short.
    assert str(refused[0]) == (
        "Insufficient funds: Bank would be $500.00 short at the end of 2026-04-01."
    )
    winner = fresh(paid[0])
    loser = fresh(small if winner.pk == big.pk else big)
    assert winner.status == Status.PAID
    assert (loser.status, loser.transaction, loser.reference) == (Status.APPROVED, None, "")
    assert open_commitments(fund) == [(f"disbursement:{loser.pk}", loser.amount_cents)]
    assert Transaction.objects.filter(kind=Transaction.Kind.DISBURSEMENT).count() == 1
    assert winner.transaction.case_ref == REF
    assert balances(fund)[Role.BANK] == IN_BANK - winner.amount_cents
    assert balances(fund)[Role.ATTORNEY_FEES] == winner.amount_cents
    assert sum(text.startswith("Paid ") for text in timeline(case)) == 1
    assert verify_fund(fund).ok


@pytest.mark.django_db(transaction=True)
def test_one_request_paid_twice_at_once_is_paid_once(
    fund, case, attorney, coordinator, treasurer, other_treasurer
):
    approved = approve_disbursement(
        actor=treasurer, disbursement=ask(coordinator, case, fund, attorney, 150_000)
    )
    payers = [treasurer, other_treasurer]

    outcomes = in_threads(2, lambda index: pay(payers[index], approved, reference=f"10{index}"))

    assert all(isinstance(o, Disbursement) for o in outcomes)
    assert {o.pk for o in outcomes} == {approved.pk}
    assert len({o.transaction_id for o in outcomes}) == 1
    assert Transaction.objects.filter(kind=Transaction.Kind.DISBURSEMENT).count() == 1
    assert balances(fund)[Role.BANK] == IN_BANK - 150_000
    assert sum(text.startswith("Paid ") for text in timeline(case)) == 1
    assert SupportedCase.objects.get(fund=fund, case_ref=REF).payments == 1
    assert verify_fund(fund).ok


# Voiding


def test_a_paid_disbursement_is_voided_by_a_reversal(fund, case, attorney, coordinator, treasurer):
    paid = pay(
        treasurer,
        approve_disbursement(
            actor=treasurer, disbursement=ask(coordinator, case, fund, attorney, 150_000)
        ),
    )

    voided = void_disbursement(actor=treasurer, disbursement=paid, reason="Check lost in the mail")

    assert voided.status == Status.VOIDED
    assert voided.reason == "Check lost in the mail"
    reversal = voided.void_transaction
    assert reversal.kind == Transaction.Kind.REVERSAL
    assert reversal.reverses == paid.transaction
    assert reversal.memo == f"Void of disbursement #{paid.pk}"  # the reason may name the person
    assert reversal.case_ref == REF
    assert sorted(reversal.postings.values_list("account__role", "amount_cents")) == [
        (Role.ATTORNEY_FEES, -150_000),
        (Role.BANK, 150_000),
    ]
    assert balances(fund)[Role.BANK] == IN_BANK
    assert balances(fund)[Role.ATTORNEY_FEES] == 0
    progress = fund_progress(fund)
    assert (progress.spent, progress.available, progress.cases_supported) == (0, IN_BANK, 0)
    assert timeline(case)[-1] == "Voided the payment of $1,500.00: Check lost in the mail"
    again = void_disbursement(actor=treasurer, disbursement=paid, reason="Again")
    assert again.void_transaction == reversal
    assert Transaction.objects.filter(kind=Transaction.Kind.REVERSAL).count() == 1
    assert verify_fund(fund).ok


def test_only_a_paid_disbursement_can_be_voided_and_only_with_a_reason(
    fund, case, attorney, coordinator, treasurer
):
    approved = approve_disbursement(
        actor=treasurer, disbursement=ask(coordinator, case, fund, attorney, 150_000)
    )

    with pytest.raises(TransitionRefused) as refused:
        void_disbursement(actor=treasurer, disbursement=approved, reason="Wrong case")
    assert str(refused.value) == (
        f"Disbursement #{approved.pk} is approved: only a paid disbursement can be voided."
    )

    paid = pay(treasurer, approved)
    with pytest.raises(CaseError) as refused:
        void_disbursement(actor=treasurer, disbursement=paid, reason="")
    assert str(refused.value) == "Say why the payment is voided."
    assert fresh(paid).status == Status.PAID
    assert Transaction.objects.filter(kind=Transaction.Kind.REVERSAL).count() == 0


# Who may do what


def test_a_coordinator_cannot_approve_reject_pay_or_void(
    fund, case, attorney, coordinator, treasurer
):
    requested = ask(coordinator, case, fund, attorney, 150_000)
    refusal = "Only a treasurer can approve, reject, pay or void a disbursement."

    with pytest.raises(NotAllowed, match=refusal):
        approve_disbursement(actor=coordinator, disbursement=requested)
    with pytest.raises(NotAllowed, match=refusal):
        reject_disbursement(actor=coordinator, disbursement=requested, reason="No")
    approved = approve_disbursement(actor=treasurer, disbursement=requested)
    with pytest.raises(NotAllowed, match=refusal):
        pay(coordinator, approved)
    paid = pay(treasurer, approved)
    with pytest.raises(NotAllowed, match=refusal):
        void_disbursement(actor=coordinator, disbursement=paid, reason="No")

    assert fresh(paid).status == Status.PAID
    assert Approval.objects.filter(approver=coordinator).count() == 0


def test_an_auditor_can_do_none_of_it(fund, case, attorney, coordinator, treasurer, auditor):
    requested = ask(coordinator, case, fund, attorney, 150_000)

    with refused_with(NotAllowed, "Only legal coordinators can open and work cases."):
        ask(auditor, case, fund, attorney, 150_000, key="auditor")
    for attempt in (
        lambda: approve_disbursement(actor=auditor, disbursement=requested),
        lambda: reject_disbursement(actor=auditor, disbursement=requested, reason="No"),
        lambda: pay(auditor, requested),
        lambda: void_disbursement(actor=auditor, disbursement=requested, reason="No"),
    ):
        with pytest.raises(NotAllowed):
            attempt()
    with pytest.raises(NotAllowed):
        create_payee(actor=auditor, kind=Payee.Kind.COURT, name="Immigration court")

    assert Disbursement.objects.count() == 1
    assert fresh(requested).status == Status.REQUESTED


def test_a_treasurer_cannot_request_money(fund, case, attorney, treasurer):
    with refused_with(NotAllowed, "Only legal coordinators can open and work cases."):
        ask(treasurer, case, fund, attorney, 150_000)

    assert Disbursement.objects.count() == 0


def test_an_unassigned_coordinator_cannot_request_on_a_case_not_theirs(
    fund, case, attorney, other_coordinator
):
    with refused_with(CaseNotFound, "No such case."):
        ask(other_coordinator, case, fund, attorney, 150_000)

    assert Disbursement.objects.count() == 0
    assert timeline(case) == []


def test_a_legal_director_may_request_on_any_case(fund, case, attorney, legal_director):
    assert ask(legal_director, case, fund, attorney, 150_000).requested_by == legal_director


def test_a_disbursement_is_found_only_within_the_users_cases(
    fund,
    case,
    attorney,
    coordinator,
    other_coordinator,
    legal_director,
    treasurer,
    auditor,
    admin_user,
    outsider,
):
    requested = ask(coordinator, case, fund, attorney, 150_000)

    for user in (coordinator, legal_director, treasurer, auditor, admin_user):
        assert disbursement_for_user(user, requested.pk) == requested
    for user in (other_coordinator, outsider):
        with refused_with(CaseNotFound, "No such disbursement."):
            disbursement_for_user(user, requested.pk)
    with pytest.raises(CaseNotFound):
        disbursement_for_user(coordinator, requested.pk + 1000)
    with pytest.raises(CaseNotFound):
        disbursement_for_user(coordinator, str(requested.pk))  # type: ignore[arg-type]


# Requests: idempotency and what is refused


def test_the_same_request_twice_makes_one_request(fund, case, attorney, coordinator):
    first = ask(coordinator, case, fund, attorney, 150_000)
    second = ask(coordinator, case, fund, attorney, 150_000)

    assert second.pk == first.pk
    assert Disbursement.objects.count() == 1
    assert first.request_key == f"journal:{coordinator.pk}:req-1"
    assert timeline(case) == ["Requested $1,500.00 for Attorney fee"]


def test_the_same_key_with_other_values_is_refused(fund, case, attorney, coordinator):
    ask(coordinator, case, fund, attorney, 150_000)

    for other in (
        {"cents": 150_001},
        {"cents": 150_000, "category": "filing_fee"},
        {"cents": 150_000, "memo": "Another memo"},
    ):
        cents = other.pop("cents")
        with pytest.raises(IdempotencyConflict) as refused:
            ask(coordinator, case, fund, attorney, cents, **other)
        assert str(refused.value) == service.REUSED_KEY

    assert Disbursement.objects.count() == 1


def test_two_coordinators_keys_never_collide(fund, case, attorney, coordinator, legal_director):
    mine = ask(coordinator, case, fund, attorney, 150_000, key="same")
    theirs = ask(legal_director, case, fund, attorney, 150_000, key="same")

    assert mine.pk != theirs.pk


@pytest.mark.parametrize(
    ("cents", "message"),
    [
        (0, "Enter an amount above zero."),
        (-100, "Enter an amount above zero."),
        (1.5, "Enter an amount above zero."),
        (True, "Enter an amount above zero."),
        (1_000_000_001, "Enter at most $10,000,000.00, the largest amount accepted."),
    ],
)
def test_a_request_outside_the_amounts_accepted_is_refused(
    fund, case, attorney, coordinator, cents, message
):
    with pytest.raises(CaseError) as refused:
        ask(coordinator, case, fund, attorney, cents)

    assert str(refused.value) == message
    assert Disbursement.objects.count() == 0


def test_the_largest_amount_accepted_may_be_requested(fund, case, attorney, coordinator):
    assert ask(coordinator, case, fund, attorney, 1_000_000_000).approvals_needed == 2


def test_a_closed_case_takes_no_requests(fund, case, attorney, coordinator):
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED, closed_on=date(2026, 5, 1))

    with pytest.raises(CaseError) as refused:
        ask(coordinator, case, fund, attorney, 150_000)

    assert str(refused.value) == f"Case {REF} is closed: it takes no new requests."
    assert Disbursement.objects.count() == 0


def test_an_unknown_category_or_method_is_refused(fund, case, attorney, coordinator, treasurer):
    with pytest.raises(CaseError) as refused:
        ask(coordinator, case, fund, attorney, 150_000, category="bail")
    assert str(refused.value) == (
        "A disbursement is one of: Attorney fee, Filing fee, Family support, Travel, Commissary, "
        "Other."
    )

    approved = approve_disbursement(
        actor=treasurer, disbursement=ask(coordinator, case, fund, attorney, 150_000)
    )
    with pytest.raises(CaseError) as refused:
        pay_disbursement(
            actor=treasurer, disbursement=approved, method="cash", reference="1", paid_on=PAID_ON
        )
    assert str(refused.value) == "A disbursement is paid by Check, ACH, Wire."
    with pytest.raises(CaseError) as refused:
        pay(treasurer, approved, reference="  ")
    assert str(refused.value) == "Enter the check number, ACH trace or wire reference."
    assert fresh(approved).status == Status.APPROVED


# History


def test_the_history_of_disbursements_keeps_no_memo(fund, case, attorney, coordinator, treasurer):
    requested = ask(coordinator, case, fund, attorney, 150_000)
    approve_disbursement(actor=treasurer, disbursement=requested)

    fields = {field.name for field in DisbursementEvent._meta.fields}
    assert "memo" not in fields
    assert {"status", "amount_cents", "requested_by"} <= fields
    with connection.cursor() as cursor:
        columns = [
            column.name
            for column in connection.introspection.get_table_description(
                cursor, DisbursementEvent._meta.db_table
            )
        ]
        cursor.execute(f"SELECT * FROM {DisbursementEvent._meta.db_table}")
        rows = cursor.fetchall()
    assert "memo" not in columns
    assert len(rows) == 2  # the insert and the approval
    assert "Canary" not in repr(rows)


# Payees


def test_a_coordinator_adds_a_payee_and_a_treasurer_records_its_w9(coordinator, treasurer):
    payee = create_payee(
        actor=coordinator,
        kind=Payee.Kind.FAMILY,
        name="  Rosa Marroquín  ",
        contact="555-0100",
    )

    stored = Payee.objects.get(pk=payee.pk)
    assert (stored.kind, stored.name, stored.contact, stored.w9_received) == (
        "family",
        "Rosa Marroquín",
        "555-0100",
        False,
    )
    assert str(stored) == f"Payee #{payee.pk}"
    with refused_with(NotAllowed, "Only a treasurer can record a payee's W-9."):
        set_w9_received(actor=coordinator, payee=payee, received=True)

    assert set_w9_received(actor=treasurer, payee=payee, received=True).w9_received is True
    assert Payee.objects.get(pk=payee.pk).w9_received is True


def test_a_treasurer_may_add_a_payee_with_its_w9(treasurer, coordinator):
    court = create_payee(
        actor=treasurer, kind=Payee.Kind.ICE, name="ICE Bond Unit", w9_received=True
    )
    assert court.w9_received is True

    with refused_with(NotAllowed, "Only a treasurer can record a payee's W-9."):
        create_payee(actor=coordinator, kind=Payee.Kind.COURT, name="Court", w9_received=True)
    assert Payee.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "   "}, "A payee needs a name."),
        ({"name": "x" * 201}, "The payee's name is longer than 200 characters."),
        ({"name": "A", "firm": "f" * 201}, "The payee's firm is longer than 200 characters."),
        (
            {"name": "A", "bar_number": "1" * 51},
            "The payee's bar number is longer than 50 characters.",
        ),
        ({"name": "A", "contact": "c" * 501}, "The payee's contact is longer than 500 characters."),
        (
            {"name": "A", "kind": "bank"},
            "A payee is one of: Attorney, Family member, Court, ICE (bonds), Other.",
        ),
    ],
)
def test_a_payee_outside_the_rules_is_refused(coordinator, values, message):
    values = {"kind": Payee.Kind.ATTORNEY} | values
    with pytest.raises(CaseError) as refused:
        create_payee(actor=coordinator, **values)

    assert str(refused.value) == message
    assert Payee.objects.count() == 0


def test_a_request_needs_a_payee_a_short_memo_and_a_well_formed_key(
    fund, case, attorney, coordinator
):
    with refused_with(CaseError, "Choose who is to be paid."):
        ask(coordinator, case, fund, None, 150_000)
    with refused_with(CaseError, "The memo is longer than 1000 characters."):
        ask(coordinator, case, fund, attorney, 150_000, memo="m" * 1001)
    with refused_with(
        InvalidTransaction, "An idempotency key is 1 to 100 letters, digits, '.', '_' or '-'."
    ):
        ask(coordinator, case, fund, attorney, 150_000, key="journal:1:x")

    assert Disbursement.objects.count() == 0

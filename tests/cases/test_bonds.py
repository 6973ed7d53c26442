"""Immigration bonds: posted → cancelled → refunded, posted → breached → forfeited, to the cent."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection

from cases.errors import CaseError, CaseNotFound, TransitionRefused
from cases.models import Assignment, Bond, BondEvent, Case, TimelineEntry
from cases.queries import (
    BOND_AGING_BUCKETS,
    BondAgingBucket,
    bond_aging,
    bond_aging_bucket,
    outstanding_bonds,
)
from cases.services.bonds import (
    cancel_bond,
    forfeit_bond,
    post_bond,
    record_bond_breach,
    record_bond_refund,
)
from fund.errors import IdempotencyConflict, InsufficientFunds, NotAllowed
from fund.ledger.entries import Leg
from fund.ledger.posting import post_transaction
from fund.ledger.progress import fund_progress
from fund.ledger.services import create_fund
from fund.ledger.verify import verify_fund
from fund.models import Account, Fund, Transaction

Role = Account.Role
Kind = Transaction.Kind
GIFT_DAY = date(2025, 1, 2)
AS_OF = date(2026, 6, 30)
BANK_CENTS = 10_000_000  # $100,000.00
OBLIGOR = "Canary Obligor Zyxw"
YOUNG, MID, OLD, OLDEST = (label for label, _ in BOND_AGING_BUCKETS)
RECEIPT = "EAZ-RECEIPT-77"


@pytest.fixture
def fund(db) -> Fund:
    fund = create_fund(
        actor=None,
        opened_on=date(2024, 1, 1),
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=15_000_000,
    )
    post_transaction(
        fund=fund,
        legs=[
            Leg(account(fund, Role.BANK), BANK_CENTS),
            Leg(account(fund, Role.CONTRIBUTIONS), -BANK_CENTS),
        ],
        effective_date=GIFT_DAY,
        kind=Kind.GIFT_OFFLINE,
        memo="Checks from the locals",
        idempotency_key="gift:bonds-test",
        actor=None,
    )
    return fund


@pytest.fixture
def case(db, coordinator) -> Case:
    case = make_case(1, status=Case.Status.BOND_SET)
    Assignment.objects.create(case=case, coordinator=coordinator)
    return case


def make_case(number: int, *, status: str = Case.Status.DETAINED) -> Case:
    return Case.objects.create(
        ref=f"C-2026-{number:04d}",
        year=2026,
        number=number,
        status=status,
        legal_name=f"Canary Person {number}",
    )


def account(fund: Fund, role: str) -> Account:
    return Account.objects.get(fund=fund, role=role)


def balances(fund: Fund) -> dict[str, int]:
    """Return the non-zero balances by role, debits positive."""
    return {a.role: a.balance_cents for a in Account.objects.filter(fund=fund) if a.balance_cents}


def written() -> tuple[int, int, int, int]:
    """Count what a refused call must leave as it was."""
    return (
        Transaction.objects.count(),
        Bond.objects.count(),
        TimelineEntry.objects.count(),
        BondEvent.objects.count(),
    )


def post(actor, case, fund, cents, *, on=AS_OF, key="b1", **extra) -> Bond:
    fields = {"obligor_name": OBLIGOR, "obligor_attested": True} | extra
    return post_bond(
        actor=actor,
        case=case,
        fund=fund,
        amount_cents=cents,
        posted_on=on,
        idempotency_key=key,
        **fields,
    )


def test_a_bond_posted_cancelled_and_refunded_with_interest(fund, case, coordinator, treasurer):
    bond = post(
        coordinator,
        case,
        fund,
        750_000,
        on=date(2026, 2, 1),
        obligor_relationship="Sister",
        obligor_contact="555-0100",
        receipt_number=RECEIPT,
    )

    assert bond.status == Bond.Status.POSTED
    assert bond.recorded_by == coordinator
    assert balances(fund) == {
        Role.BANK: BANK_CENTS - 750_000,
        Role.BOND_DEPOSITS: 750_000,
        Role.CONTRIBUTIONS: -BANK_CENTS,
    }
    assert fund_progress(fund).in_bonds == 750_000
    assert fund_progress(fund).available == BANK_CENTS - 750_000
    posted = bond.posted_transaction
    assert (posted.kind, posted.case_ref, posted.effective_date) == (
        Kind.BOND_POSTED,
        "C-2026-0001",
        date(2026, 2, 1),
    )
    # A coordinator's bond is a system posting; the bond says who recorded it.
    assert posted.recorded_by_id is None
    assert OBLIGOR not in posted.memo
    case.refresh_from_db()
    assert case.status == Case.Status.BOND_POSTED
    entries = [(e.kind, e.text) for e in TimelineEntry.objects.filter(case=case).order_by("pk")]
    assert entries == [
        ("bond", "Bond of $7,500.00 posted on 2026-02-01."),
        ("status", "Status changed from bond set to bond posted."),
    ]

    bond = cancel_bond(actor=coordinator, bond=bond, cancelled_on=date(2026, 5, 1))
    assert (bond.status, bond.cancelled_on) == (Bond.Status.CANCELLED, date(2026, 5, 1))
    assert fund_progress(fund).in_bonds == 750_000  # no money moves until the refund arrives
    assert [b.status for b in outstanding_bonds(fund, AS_OF)] == ["cancelled"]

    bond = record_bond_refund(
        actor=treasurer,
        bond=bond,
        principal_cents=750_000,
        interest_cents=1_234,
        received_on=date(2026, 6, 1),
    )

    assert bond.status == Bond.Status.REFUNDED
    assert (bond.interest_cents, bond.closed_on) == (1_234, date(2026, 6, 1))
    assert balances(fund) == {
        Role.BANK: BANK_CENTS + 1_234,
        Role.CONTRIBUTIONS: -BANK_CENTS,
        Role.INTEREST: -1_234,
    }
    refund = bond.closed_transaction
    assert refund is not None
    assert (refund.kind, refund.case_ref, refund.recorded_by_id) == (
        Kind.BOND_REFUNDED,
        "C-2026-0001",
        treasurer.pk,
    )
    progress = fund_progress(fund)
    assert (progress.in_bonds, progress.interest, progress.spent) == (0, 1_234, 0)
    assert progress.figures_add_up()
    assert outstanding_bonds(fund, AS_OF) == []
    # As of a day before the refund, the money was still out.
    assert [b.case_ref for b in outstanding_bonds(fund, date(2026, 5, 31))] == ["C-2026-0001"]
    assert verify_fund(fund).ok


def test_a_bond_posted_breached_and_forfeited_is_a_loss(fund, case, coordinator, treasurer):
    bond = post(coordinator, case, fund, 1_500_000, on=date(2026, 1, 15))
    bond = record_bond_breach(actor=coordinator, bond=bond, breached_on=date(2026, 4, 2))
    assert (bond.status, bond.breached_on) == (Bond.Status.BREACHED, date(2026, 4, 2))
    assert fund_progress(fund).in_bonds == 1_500_000
    assert [(b.status, b.amount_cents) for b in outstanding_bonds(fund, AS_OF)] == [
        ("breached", 1_500_000)
    ]

    bond = forfeit_bond(actor=treasurer, bond=bond, forfeited_on=date(2026, 4, 20))

    assert (bond.status, bond.closed_on) == (Bond.Status.FORFEITED, date(2026, 4, 20))
    assert bond.closed_transaction is not None
    assert bond.closed_transaction.kind == Kind.BOND_FORFEITED
    assert balances(fund) == {
        Role.BANK: BANK_CENTS - 1_500_000,
        Role.CONTRIBUTIONS: -BANK_CENTS,
        Role.BOND_FORFEITURE: 1_500_000,
    }
    progress = fund_progress(fund)
    assert (progress.in_bonds, progress.spent) == (0, 1_500_000)
    assert progress.available == BANK_CENTS - 1_500_000
    assert progress.figures_add_up()
    assert outstanding_bonds(fund, AS_OF) == []
    assert verify_fund(fund).ok


def test_outstanding_bonds_age_into_their_buckets(fund, coordinator, treasurer):
    cases = [make_case(n) for n in (1, 2, 3, 4, 5)]
    for days, c in zip((10, 100, 200, 400), cases, strict=False):
        post(
            treasurer,
            c,
            fund,
            100_000 * (days // 10),
            on=AS_OF - timedelta(days=days),
            key=f"k{days}",
        )
    refunded = post(treasurer, cases[4], fund, 50_000, on=AS_OF - timedelta(days=30), key="k30")
    cancel_bond(actor=treasurer, bond=refunded, cancelled_on=AS_OF - timedelta(days=20))
    record_bond_refund(
        actor=treasurer,
        bond=refunded,
        principal_cents=50_000,
        interest_cents=0,
        received_on=AS_OF - timedelta(days=5),
    )

    rows = outstanding_bonds(fund, AS_OF)

    assert [(b.case_ref, b.amount_cents, b.days_out, b.bucket) for b in rows] == [
        ("C-2026-0004", 4_000_000, 400, OLDEST),
        ("C-2026-0003", 2_000_000, 200, OLD),
        ("C-2026-0002", 1_000_000, 100, MID),
        ("C-2026-0001", 100_000, 10, YOUNG),
    ]
    assert rows[0].posted_on == AS_OF - timedelta(days=400)
    assert bond_aging(fund, AS_OF) == [
        BondAgingBucket(YOUNG, 1, 100_000),
        BondAgingBucket(MID, 1, 1_000_000),
        BondAgingBucket(OLD, 1, 2_000_000),
        BondAgingBucket(OLDEST, 1, 4_000_000),
    ]
    assert sum(b.amount_cents for b in rows) == fund_progress(fund).in_bonds == 7_100_000
    # Buckets' edges: 90 days is still young, 91 is not; a bond posted after the day is not out,
    # and one refunded after it still was.
    on_edge = outstanding_bonds(fund, AS_OF - timedelta(days=10))
    assert [(b.days_out, b.bucket) for b in on_edge] == [
        (390, OLDEST),
        (190, OLD),
        (90, YOUNG),
        (20, YOUNG),
        (0, YOUNG),
    ]
    assert [b.days_out for b in outstanding_bonds(fund, AS_OF - timedelta(days=11))] == [
        389,
        189,
        89,
        19,
    ]
    assert bond_aging(fund, date(2025, 1, 1)) == [
        BondAgingBucket(label, 0, 0) for label in (YOUNG, MID, OLD, OLDEST)
    ]
    assert verify_fund(fund).ok


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, YOUNG),
        (90, YOUNG),
        (91, MID),
        (180, MID),
        (181, OLD),
        (365, OLD),
        (366, OLDEST),
        (4000, OLDEST),
    ],
)
def test_aging_buckets_have_these_edges(days, bucket):
    assert bond_aging_bucket(days) == bucket


def test_aging_buckets_are_labelled_as_the_screen_prints_them():
    dash = "\N{EN DASH}"
    labels = [YOUNG, MID, OLD, OLDEST]
    assert labels == [f"0{dash}90", f"91{dash}180", f"181{dash}365", "> 365"]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("posted", "A bond that is posted can be cancelled or breached."),
        ("cancelled", "A bond that is cancelled can be refunded."),
        ("breached", "A bond that is breached can be forfeited."),
        ("refunded", "A bond that is refunded is closed: nothing more can be done with it."),
        ("forfeited", "A bond that is forfeited is closed: nothing more can be done with it."),
    ],
)
def test_illegal_steps_are_refused_naming_the_allowed_ones(fund, case, treasurer, status, message):
    bond = post(treasurer, case, fund, 200_000, on=date(2026, 1, 5))
    day = date(2026, 3, 1)
    if status in ("cancelled", "refunded"):
        bond = cancel_bond(actor=treasurer, bond=bond, cancelled_on=day)
    if status == "refunded":
        bond = record_bond_refund(
            actor=treasurer, bond=bond, principal_cents=200_000, interest_cents=0, received_on=day
        )
    if status in ("breached", "forfeited"):
        bond = record_bond_breach(actor=treasurer, bond=bond, breached_on=day)
    if status == "forfeited":
        bond = forfeit_bond(actor=treasurer, bond=bond, forfeited_on=day)
    steps = {
        "cancelled": lambda: cancel_bond(actor=treasurer, bond=bond, cancelled_on=day),
        "breached": lambda: record_bond_breach(actor=treasurer, bond=bond, breached_on=day),
        "forfeited": lambda: forfeit_bond(actor=treasurer, bond=bond, forfeited_on=day),
        "refunded": lambda: record_bond_refund(
            actor=treasurer, bond=bond, principal_cents=200_000, interest_cents=0, received_on=day
        ),
    }
    allowed = {
        "posted": {"cancelled", "breached"},
        "cancelled": {"refunded"},
        "breached": {"forfeited"},
    }.get(status, set())
    before, ledger = written(), balances(fund)

    for step, call in steps.items():
        if step in allowed or step == status:
            continue
        with pytest.raises(TransitionRefused) as refused:
            call()
        assert str(refused.value) == message

    assert written() == before
    assert balances(fund) == ledger
    assert Bond.objects.get(pk=bond.pk).status == status


@pytest.mark.parametrize(
    "change",
    [
        {"on": date(2026, 1, 9)},
        {"receipt_number": "EAZ-9"},
        {"obligor_name": "Someone Else"},
        {"obligor_contact": "555-0199"},
    ],
)
def test_one_key_with_other_bond_details_is_refused(fund, case, treasurer, change):
    bond = post(treasurer, case, fund, 200_000, on=date(2026, 1, 5), receipt_number="EAZ-1")
    asked = {"on": date(2026, 1, 5), "receipt_number": "EAZ-1", **change}

    with pytest.raises(IdempotencyConflict, match="already used for another bond"):
        post(treasurer, case, fund, 200_000, **asked)

    assert Bond.objects.get() == bond
    assert Bond.objects.get().posted_on == date(2026, 1, 5)


def test_repeating_a_step_returns_the_bond_without_writing_again(fund, case, treasurer):
    bond = post(treasurer, case, fund, 200_000, on=date(2026, 1, 5))
    again = post(treasurer, case, fund, 200_000, on=date(2026, 1, 5))
    assert again.pk == bond.pk
    with pytest.raises(IdempotencyConflict, match="already used for another bond"):
        post(treasurer, case, fund, 300_000)
    bond = cancel_bond(actor=treasurer, bond=bond, cancelled_on=date(2026, 2, 1))
    refund = {"principal_cents": 200_000, "interest_cents": 5, "received_on": date(2026, 3, 1)}
    bond = record_bond_refund(actor=treasurer, bond=bond, **refund)
    before = written()

    assert record_bond_refund(actor=treasurer, bond=bond, **refund).pk == bond.pk
    assert post(treasurer, case, fund, 200_000, on=date(2026, 1, 5)).pk == bond.pk

    assert written() == before
    assert Transaction.objects.filter(kind=Kind.BOND_POSTED).count() == 1
    assert verify_fund(fund).ok


def test_a_refund_must_return_the_bonds_principal(fund, case, treasurer):
    bond = post(treasurer, case, fund, 200_000, on=date(2026, 1, 5))
    bond = cancel_bond(actor=treasurer, bond=bond, cancelled_on=date(2026, 2, 1))
    before = written()

    with pytest.raises(CaseError) as refused:
        record_bond_refund(
            actor=treasurer,
            bond=bond,
            principal_cents=210_000,
            interest_cents=0,
            received_on=date(2026, 3, 1),
        )

    assert str(refused.value) == (
        "The principal refunded must be the bond's amount, $2,000.00; "
        "record any difference as interest."
    )
    with pytest.raises(CaseError, match="interest must be zero or a positive"):
        record_bond_refund(
            actor=treasurer,
            bond=bond,
            principal_cents=200_000,
            interest_cents=-1,
            received_on=date(2026, 3, 1),
        )
    with pytest.raises(CaseError, match="cannot be refunded before it was posted, on 2026-01-05"):
        record_bond_refund(
            actor=treasurer,
            bond=bond,
            principal_cents=200_000,
            interest_cents=0,
            received_on=date(2026, 1, 4),
        )
    assert written() == before


def test_only_a_treasurer_records_money_coming_back_or_lost(fund, case, coordinator, treasurer):
    bond = post(coordinator, case, fund, 200_000, on=date(2026, 1, 5))
    cancelled = cancel_bond(actor=coordinator, bond=bond, cancelled_on=date(2026, 2, 1))
    before = written()

    with pytest.raises(NotAllowed, match=r"Only a treasurer can post to the ledger\."):
        record_bond_refund(
            actor=coordinator,
            bond=cancelled,
            principal_cents=200_000,
            interest_cents=0,
            received_on=date(2026, 3, 1),
        )
    with pytest.raises(NotAllowed, match=r"Only a treasurer can post to the ledger\."):
        forfeit_bond(actor=coordinator, bond=cancelled, forfeited_on=date(2026, 3, 1))

    assert written() == before


def test_an_obligor_who_has_not_attested_is_refused(fund, case, coordinator):
    before = written()

    with pytest.raises(CaseError) as refused:
        post(coordinator, case, fund, 200_000, obligor_attested=False)

    assert str(refused.value) == (
        "The obligor must attest being a US citizen or lawful permanent resident: "
        "ICE accepts no other obligor."
    )
    assert OBLIGOR not in str(refused.value)
    assert written() == before
    assert Case.objects.get(pk=case.pk).status == Case.Status.BOND_SET


@pytest.mark.parametrize(
    ("cents", "message"),
    [
        (0, "A bond's amount must be a positive number of cents."),
        (-5, "A bond's amount must be a positive number of cents."),
        (10**14, "A bond's amount can be at most"),
    ],
)
def test_a_bond_amount_out_of_range_is_refused(fund, case, coordinator, cents, message):
    before = written()
    with pytest.raises(CaseError, match=message):
        post(coordinator, case, fund, cents)
    assert written() == before


def test_a_bond_the_bank_cannot_cover_is_refused_and_nothing_is_written(fund, case, coordinator):
    before, ledger = written(), balances(fund)

    with pytest.raises(InsufficientFunds) as refused:
        post(coordinator, case, fund, BANK_CENTS + 1)

    assert str(refused.value) == (
        "Insufficient funds: Bank would be $0.01 short at the end of 2026-06-30."
    )
    assert written() == before
    assert balances(fund) == ledger
    assert Case.objects.get(pk=case.pk).status == Case.Status.BOND_SET
    assert verify_fund(fund).ok


def test_an_unassigned_coordinator_gets_case_not_found(
    fund, case, coordinator, other_coordinator, treasurer
):
    with pytest.raises(CaseNotFound):
        post(other_coordinator, case, fund, 200_000)
    bond = post(treasurer, case, fund, 200_000, on=date(2026, 1, 5))
    before = written()

    with pytest.raises(CaseNotFound):
        cancel_bond(actor=other_coordinator, bond=bond, cancelled_on=date(2026, 2, 1))
    with pytest.raises(CaseNotFound):
        record_bond_breach(actor=other_coordinator, bond=bond, breached_on=date(2026, 2, 1))

    assert written() == before


def test_a_legal_director_records_a_bond_on_any_case(fund, case, legal_director):
    bond = post(legal_director, case, fund, 200_000)
    assert bond.recorded_by == legal_director


@pytest.mark.parametrize("persona", ["auditor", "outsider", "admin_user"])
def test_those_who_do_not_record_bonds_are_not_allowed(fund, case, persona, request):
    actor = request.getfixturevalue(persona)
    before = written()

    with pytest.raises(
        NotAllowed, match=r"Only legal coordinators and treasurers can record bonds\."
    ):
        post(actor, case, fund, 200_000)

    assert written() == before


def test_a_bond_is_not_posted_for_a_removed_case(fund, treasurer):
    closed = make_case(7, status=Case.Status.REMOVED)
    with pytest.raises(CaseError, match="Case C-2026-0007 is removed: a bond cannot be posted"):
        post(treasurer, closed, fund, 200_000)


def test_a_detained_case_moves_through_bond_set_to_bond_posted(fund, treasurer):
    detained = make_case(2)
    post(treasurer, detained, fund, 100_000, key="d")

    assert Case.objects.get(pk=detained.pk).status == Case.Status.BOND_POSTED
    statuses = TimelineEntry.objects.filter(case=detained, kind="status").order_by("pk")
    assert [e.text for e in statuses] == [
        "Status changed from detained to bond set.",
        "Status changed from bond set to bond posted.",
    ]


def test_a_released_case_keeps_its_status_when_a_bond_is_recorded(fund, treasurer):
    released = make_case(3, status=Case.Status.RELEASED)
    post(treasurer, released, fund, 100_000, key="r")
    assert Case.objects.get(pk=released.pk).status == Case.Status.RELEASED
    assert not TimelineEntry.objects.filter(case=released, kind="status").exists()


def test_bond_history_keeps_no_obligor_or_receipt(fund, case, coordinator):
    bond = post(coordinator, case, fund, 200_000, receipt_number=RECEIPT)
    cancel_bond(actor=coordinator, bond=bond, cancelled_on=AS_OF)

    columns = {f.name for f in BondEvent._meta.get_fields()}
    for private in (
        "obligor_name",
        "obligor_relationship",
        "obligor_contact",
        "receipt_number",
    ):
        assert private not in columns
    assert BondEvent.objects.filter(pgh_obj=bond).count() == 2
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {BondEvent._meta.db_table}")
        history = repr(cursor.fetchall())
    assert OBLIGOR not in history
    assert RECEIPT not in history


def test_the_obligor_is_encrypted_and_reads_back_through_the_model(fund, case, coordinator):
    bond = post(
        coordinator,
        case,
        fund,
        200_000,
        obligor_relationship="Brother",
        obligor_contact="555-0199",
        receipt_number=RECEIPT,
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obligor_name, obligor_relationship, obligor_contact, receipt_number"
            " FROM cases_bond WHERE id = %s",
            [bond.pk],
        )
        stored = cursor.fetchone()
    assert all(value and value not in (OBLIGOR, "Brother", "555-0199", RECEIPT) for value in stored)
    assert OBLIGOR not in repr(stored)
    again = Bond.objects.get(pk=bond.pk)
    assert (
        again.obligor_name,
        again.obligor_relationship,
        again.obligor_contact,
        again.receipt_number,
        again.obligor_attested,
    ) == (OBLIGOR, "Brother", "555-0199", RECEIPT, True)
    assert OBLIGOR not in str(again)
    timeline = " ".join(e.text for e in TimelineEntry.objects.filter(case=case))
    assert OBLIGOR not in timeline
    assert RECEIPT not in timeline


def test_a_treasurers_bond_is_posted_in_the_treasurers_name(fund, case, treasurer):
    bond = post(treasurer, case, fund, 200_000)
    assert bond.posted_transaction.recorded_by_id == treasurer.pk
    assert bond.posted_transaction.source_ref == f"bond:{bond.row_key}"


def run_together(*calls):
    """Run the calls at once in threads; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except BaseException as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_a_bond_recorded_twice_at_once_is_one_bond(fund, case, coordinator):
    results = run_together(*[lambda: post(coordinator, case, fund, 300_000, key="twice")] * 4)

    assert all(isinstance(r, Bond) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Transaction.objects.filter(kind=Kind.BOND_POSTED).count() == 1
    assert fund_progress(fund).in_bonds == 300_000
    assert verify_fund(fund).ok


@pytest.mark.django_db(transaction=True)
def test_two_bonds_at_once_that_together_overdraw_the_bank_one_is_refused(fund, coordinator):
    first, second = make_case(11), make_case(12)
    for c in (first, second):
        Assignment.objects.create(case=c, coordinator=coordinator)
    cents = BANK_CENTS * 6 // 10

    results = run_together(
        lambda: post(coordinator, first, fund, cents, key="a"),
        lambda: post(coordinator, second, fund, cents, key="b"),
    )

    assert sorted(type(r).__name__ for r in results) == ["Bond", "InsufficientFunds"]
    assert Bond.objects.count() == 1
    assert fund_progress(fund).in_bonds == cents
    assert balances(fund)[Role.BANK] == BANK_CENTS - cents
    assert verify_fund(fund).ok

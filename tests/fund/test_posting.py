"""The posting service: balanced, idempotent, numbered, chained, refusing what it must."""

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from fund.errors import (
    AlreadyReversed,
    BooksClosed,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransaction,
    OwnedByWorkflow,
    UnbalancedTransaction,
)
from fund.ledger.entries import Leg
from fund.ledger.posting import ledger_refusal, post_transaction
from fund.ledger.queries import account_balance
from fund.ledger.services import close_books, create_fund, reverse_transaction
from fund.ledger.verify import verify_fund
from fund.models import Posting, Transaction
from tests.fund.conftest import DAY, OPENED, Kind, Role, account, give_check, pay_attorney, post

pytestmark = pytest.mark.django_db


def test_a_gift_moves_both_accounts_and_records_balances_after(fund):
    txn = give_check(fund, 12_345, key="gift-1")

    assert account_balance(account(fund, Role.BANK)) == 12_345
    assert account_balance(account(fund, Role.CONTRIBUTIONS)) == -12_345
    legs = {p.account.role: (p.amount_cents, p.balance_after_cents) for p in txn.postings.all()}
    assert legs == {Role.BANK: (12_345, 12_345), Role.CONTRIBUTIONS: (-12_345, -12_345)}


def test_transactions_are_numbered_without_gaps_per_fund_and_year(fund):
    first = give_check(fund, 100, key="a", on=date(2025, 12, 31))
    second = give_check(fund, 100, key="b", on=date(2026, 1, 1))
    third = give_check(fund, 100, key="c", on=date(2026, 1, 2))

    assert [t.reference for t in (first, second, third)] == [
        "2025-000001",
        "2026-000001",
        "2026-000002",
    ]


def test_each_transaction_links_to_the_previous_hash(fund):
    first = give_check(fund, 100, key="a")
    second = give_check(fund, 200, key="b")

    assert second.prev_hash == first.hash
    assert first.hash != second.hash
    assert verify_fund(fund).chain_head == second.hash


def test_unbalanced_legs_are_refused_by_the_service(fund):
    with pytest.raises(UnbalancedTransaction, match="differ by 1 cents"):
        post_transaction(
            fund=fund,
            legs=[Leg(account(fund, Role.BANK), 101), Leg(account(fund, Role.CONTRIBUTIONS), -100)],
            effective_date=DAY,
            kind=Kind.GIFT_OFFLINE,
            memo="check",
            idempotency_key="bad",
            actor=None,
        )
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [(0, "cannot be zero"), (10.5, "whole numbers of cents"), (True, "whole numbers of cents")],
)
def test_legs_must_be_nonzero_integer_cents(fund, amount, message):
    with pytest.raises(InvalidTransaction, match=message):
        post_transaction(
            fund=fund,
            legs=[
                Leg(account(fund, Role.BANK), amount),
                Leg(account(fund, Role.CONTRIBUTIONS), -amount),
            ],
            effective_date=DAY,
            kind=Kind.GIFT_OFFLINE,
            memo="check",
            idempotency_key="bad",
            actor=None,
        )


def test_a_leg_on_another_funds_account_is_refused(fund):
    other = create_fund(actor=None, opened_on=OPENED, name="Other", slug="other", goal_cents=0)
    with pytest.raises(InvalidTransaction, match="another fund"):
        post_transaction(
            fund=fund,
            legs=[
                Leg(account(other, Role.BANK), 100),
                Leg(account(fund, Role.CONTRIBUTIONS), -100),
            ],
            effective_date=DAY,
            kind=Kind.GIFT_OFFLINE,
            memo="check",
            idempotency_key="bad",
            actor=None,
        )


def test_replaying_a_key_returns_the_first_transaction(fund):
    first = give_check(fund, 5_000, key="check-1001")
    again = give_check(fund, 5_000, key="check-1001")

    assert again.pk == first.pk
    assert Transaction.objects.count() == 1
    assert account_balance(account(fund, Role.BANK)) == 5_000


def test_reusing_a_key_with_another_payload_is_refused(fund):
    give_check(fund, 5_000, key="check-1001")
    with pytest.raises(IdempotencyConflict):
        give_check(fund, 5_001, key="check-1001")
    assert account_balance(account(fund, Role.BANK)) == 5_000


def test_paying_more_than_the_bank_holds_is_refused(fund):
    give_check(fund, 10_000, key="gift")
    with pytest.raises(
        InsufficientFunds,
        match=r"^Insufficient funds: Bank would be \$0\.01 short at the end of 2026-03-10\.$",
    ):
        pay_attorney(fund, 10_001, key="pay")

    assert account_balance(account(fund, Role.BANK)) == 10_000
    assert Transaction.objects.count() == 1


def test_an_overdraft_is_named_in_the_funds_own_currency(db):
    euros = create_fund(
        actor=None, opened_on=OPENED, name="Fonds", slug="fonds", goal_cents=0, currency="EUR"
    )
    with pytest.raises(InsufficientFunds) as refused:
        pay_attorney(euros, 250, key="pay")
    assert (
        str(refused.value) == f"Insufficient funds: Bank would be €2.50 short at the end of {DAY}."
    )


def test_the_databases_own_message_is_what_the_person_reads(fund):
    give_check(fund, 5_000, key="check-1001")
    with pytest.raises(IdempotencyConflict) as refused:
        give_check(fund, 5_001, key="check-1001")
    # The message alone: no DETAIL, CONTEXT or SQL from the server.
    assert str(refused.value) == "This idempotency key was already used for another entry."


def _refusal_of(sql):
    with (
        pytest.raises(DatabaseError) as raised,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    return ledger_refusal(raised.value, currency="USD")


def test_a_table_constraint_firing_first_is_refused_by_its_name():
    refusal = _refusal_of(
        "DO $$ BEGIN RAISE check_violation USING CONSTRAINT = 'fund_account_no_overdraft'; END $$"
    )
    assert isinstance(refusal, InvalidTransaction)
    assert str(refusal) == "The entry breaks the rule fund_account_no_overdraft."


def test_other_database_errors_are_not_taken_for_refusals():
    assert _refusal_of("SELECT 1 / 0") is None
    closed = _refusal_of("DO $$ BEGIN RAISE 'Closed.' USING ERRCODE = 'DF002'; END $$")
    assert isinstance(closed, BooksClosed)
    assert str(closed) == "Closed."


def test_stripe_clearing_may_go_negative_like_stripes_own_balance(fund):
    post(fund, Role.PROCESSING_FEES, Role.STRIPE_CLEARING, 30, kind=Kind.STRIPE_FEE, key="fee")
    assert account_balance(account(fund, Role.STRIPE_CLEARING)) == -30


def test_a_restricted_fund_never_goes_negative(db):
    restricted = create_fund(
        actor=None, opened_on=OPENED, name="Bond Fund", slug="bonds", goal_cents=0, restricted=True
    )
    with pytest.raises(InsufficientFunds, match="donor-restricted"):
        post(
            restricted,
            Role.PROCESSING_FEES,
            Role.STRIPE_CLEARING,
            30,
            kind=Kind.STRIPE_FEE,
            key="f",
        )
    assert not Transaction.objects.exists()


def test_a_reversal_nets_to_zero_and_a_second_one_is_refused(fund, treasurer):
    give_check(fund, 50_000, key="gift")
    payment = pay_attorney(fund, 20_000, key="pay")

    # The test stands in for the disbursement's workflow, which alone reverses its payment.
    reversal = reverse_transaction(
        original=payment, actor=treasurer, memo="paid twice by mistake", by_workflow=True
    )

    assert reversal.reverses_id == payment.pk
    assert account_balance(account(fund, Role.BANK)) == 50_000
    assert account_balance(account(fund, Role.ATTORNEY_FEES)) == 0
    with pytest.raises(AlreadyReversed):
        reverse_transaction(original=payment, actor=treasurer, memo="again")
    assert Transaction.objects.filter(reverses=payment).count() == 1


# What another app keeps a record of (a disbursement, a bond, a Stripe object) is reversed by that
# app's service only; what has no such record is reversed from the ledger.
REVERSED_BY_THEIR_WORKFLOW = {
    Kind.DISBURSEMENT,
    Kind.BOND_POSTED,
    Kind.BOND_REFUNDED,
    Kind.BOND_FORFEITED,
    Kind.GIFT_ONLINE,
    Kind.STRIPE_FEE,
    Kind.REFUND,
    Kind.DISPUTE,
    Kind.DISPUTE_WON,
    Kind.PAYOUT,
    Kind.GIFT_OFFLINE,
    Kind.DEPOSIT,
}
REVERSED_FROM_THE_LEDGER = {Kind.JOURNAL, Kind.OPENING_BALANCE}


def test_every_kind_but_a_reversal_is_either_the_ledgers_to_reverse_or_a_workflows():
    assert REVERSED_BY_THEIR_WORKFLOW | REVERSED_FROM_THE_LEDGER | {Kind.REVERSAL} == set(Kind)
    assert not REVERSED_BY_THEIR_WORKFLOW & REVERSED_FROM_THE_LEDGER


@pytest.mark.parametrize("kind", sorted(REVERSED_BY_THEIR_WORKFLOW))
def test_an_entry_of_a_workflow_is_reversed_only_by_its_workflow(fund, treasurer, kind):
    give_check(fund, 50_000, key="gift")
    entry = post(fund, Role.OTHER_PROGRAM, Role.BANK, 20_000, kind=kind, key="entry")

    with pytest.raises(OwnedByWorkflow) as refused:
        reverse_transaction(original=entry, actor=treasurer, memo="Undo")

    assert str(refused.value).startswith(
        f"Transaction {entry.reference} ({entry.get_kind_display()}) cannot be reversed here. "
    )
    assert not Transaction.objects.filter(kind=Kind.REVERSAL).exists()
    reversal = reverse_transaction(original=entry, actor=treasurer, memo="Undo", by_workflow=True)
    assert reversal.reverses_id == entry.pk
    assert account_balance(account(fund, Role.BANK)) == 50_000


def test_a_payment_reversed_in_the_ledger_alone_is_sent_to_its_disbursement(fund, treasurer):
    give_check(fund, 50_000, key="gift")
    payment = pay_attorney(fund, 20_000, key="pay")

    with pytest.raises(OwnedByWorkflow) as refused:
        reverse_transaction(original=payment, actor=treasurer, memo="paid twice by mistake")

    assert str(refused.value) == (
        f"Transaction {payment.reference} (Program payment) cannot be reversed here. Void it "
        "from the disbursement: the ledger alone would leave it marked paid."
    )
    assert account_balance(account(fund, Role.BANK)) == 30_000


@pytest.mark.parametrize("kind", sorted(REVERSED_FROM_THE_LEDGER))
def test_an_entry_with_no_workflow_is_reversed_from_the_ledger(fund, treasurer, kind):
    give_check(fund, 50_000, key="gift")
    entry = post(fund, Role.OTHER_PROGRAM, Role.BANK, 20_000, kind=kind, key="entry")

    reversal = reverse_transaction(original=entry, actor=treasurer, memo="Entered twice")

    assert reversal.reverses_id == entry.pk
    assert account_balance(account(fund, Role.BANK)) == 50_000


def test_a_transaction_dated_on_or_before_the_lock_date_is_refused(fund, treasurer):
    close_books(fund=fund, through=date(2026, 2, 28), actor=treasurer)

    for day in (date(2026, 2, 28), date(2025, 12, 1)):
        with pytest.raises(BooksClosed, match="The books are closed through 2026-02-28"):
            give_check(fund, 100, key=f"late-{day}", on=day)
    give_check(fund, 100, key="on-time", on=date(2026, 3, 1))
    assert Transaction.objects.count() == 1


def test_postings_are_stored_in_account_order(fund):
    txn = post(fund, Role.ATTORNEY_FEES, Role.STRIPE_CLEARING, 100, key="k")
    ids = list(Posting.objects.filter(transaction=txn).values_list("account_id", flat=True))
    assert ids == sorted(ids)

"""The database refuses what the posting service would refuse, whatever path a write takes."""

import threading
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from fund.errors import IdempotencyConflict, InsufficientFunds, PeriodClosed
from fund.ledger.queries import account_balance
from fund.ledger.services import close_period, create_fund
from fund.ledger.verify import verify_fund
from fund.models import Account, LedgerHead, Posting, Transaction
from tests.fund.conftest import DAY, Kind, Role, account, give_check, pay_attorney

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fund(transactional_db):
    return create_fund(
        actor=None, name="Valley Labor Council Legal Fund", slug="valley", goal_cents=15_000_000
    )


def bare_transaction(fund, key: str, on: date = DAY) -> Transaction:
    """A transaction row written with the ORM, bypassing the posting service."""
    return Transaction.objects.create(
        fund=fund,
        year=on.year,
        number=999,
        effective_date=on,
        recorded_at=timezone.now(),
        kind=Kind.JOURNAL,
        memo="outside the service",
        idempotency_key=key,
        payload_hash="x",
        prev_hash="0" * 64,
        hash="1" * 64,
    )


def test_orm_create_of_an_unbalanced_transaction_fails_at_commit(fund):
    @transaction.atomic
    def write():
        txn = bare_transaction(fund, "orm")
        Posting.objects.create(transaction=txn, account=account(fund, Role.BANK), amount_cents=500)

    with pytest.raises(DatabaseError, match="unbalanced"):
        write()
    assert not Transaction.objects.exists()
    assert account_balance(account(fund, Role.BANK)) == 0


def test_a_transaction_without_postings_fails_at_commit(fund):
    with pytest.raises(DatabaseError, match="unbalanced"), transaction.atomic():
        bare_transaction(fund, "empty")
    assert not Transaction.objects.exists()


def test_bulk_create_of_unbalanced_postings_fails_at_commit(fund):
    @transaction.atomic
    def write():
        txn = bare_transaction(fund, "bulk")
        Posting.objects.bulk_create(
            [
                Posting(transaction=txn, account=account(fund, Role.BANK), amount_cents=500),
                Posting(
                    transaction=txn, account=account(fund, Role.CONTRIBUTIONS), amount_cents=-499
                ),
            ]
        )

    with pytest.raises(DatabaseError, match="unbalanced"):
        write()
    assert not Posting.objects.exists()


def test_raw_sql_insert_of_an_unbalanced_transaction_fails_at_commit(fund):
    bank = account(fund, Role.BANK)

    @transaction.atomic
    def write():
        txn = bare_transaction(fund, "raw")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO fund_posting"
                " (transaction_id, account_id, amount_cents, balance_after_cents)"
                " VALUES (%s, %s, 700, 0)",
                [txn.pk, bank.pk],
            )

    with pytest.raises(DatabaseError, match="unbalanced"):
        write()
    assert not Posting.objects.exists()


def test_a_leg_added_later_to_a_posted_transaction_fails_at_commit(fund):
    txn = give_check(fund, 1_000, key="gift")
    with pytest.raises(DatabaseError, match="unbalanced"), transaction.atomic():
        Posting.objects.create(transaction=txn, account=account(fund, Role.BANK), amount_cents=5)
    assert account_balance(account(fund, Role.BANK)) == 1_000


def test_the_fund_post_function_itself_refuses_unbalanced_legs(fund):
    bank, contributions = account(fund, Role.BANK), account(fund, Role.CONTRIBUTIONS)
    with pytest.raises(DatabaseError, match="unbalanced"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM fund_post(%s, 'k', 'h', %s, 'journal', 'm', '', '', '', NULL, NULL,"
            " now(), 'd', %s, %s, 0, 0, false)",
            [fund.pk, DAY, [bank.pk, contributions.pk], [100, -99]],
        )
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("table", ["fund_transaction", "fund_posting"])
@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET id = id", "DELETE FROM {table}"],
)
def test_ledger_rows_cannot_be_updated_or_deleted_with_raw_sql(fund, table, statement):
    give_check(fund, 1_000, key="gift")
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute(statement.format(table=table))
    assert Posting.objects.count() == 2


def test_deleting_a_leg_through_the_orm_is_refused(fund):
    give_check(fund, 1_000, key="gift")
    with pytest.raises(DatabaseError, match="append-only"):
        Posting.objects.first().delete()
    assert Posting.objects.count() == 2


def test_stored_balances_and_the_chain_head_cannot_be_set_directly(fund):
    give_check(fund, 1_000, key="gift")
    with pytest.raises(DatabaseError, match="only through postings"):
        Account.objects.filter(fund=fund, role=Role.BANK).update(balance_cents=10**9)
    with pytest.raises(DatabaseError, match="only through fund_post"):
        LedgerHead.objects.filter(fund=fund).update(chain_head="f" * 64)
    assert verify_fund(fund).ok


def test_a_raw_insert_dated_in_a_closed_period_is_refused(fund, treasurer):
    close_period(fund=fund, month=date(2026, 2, 1), actor=treasurer)
    with pytest.raises(DatabaseError, match="closed"):
        bare_transaction(fund, "raw", on=date(2026, 2, 14))
    with pytest.raises(PeriodClosed):
        give_check(fund, 100, key="late", on=date(2026, 2, 14))


def test_fifty_threads_posting_one_key_make_one_transaction(fund):
    results, errors = [], []
    barrier = threading.Barrier(50)

    def worker():
        try:
            barrier.wait()
            results.append(give_check(fund, 2_500, key="stripe:pi_123").pk)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1
    assert Transaction.objects.count() == 1
    assert account_balance(account(fund, Role.BANK)) == 2_500
    with pytest.raises(IdempotencyConflict):
        give_check(fund, 2_600, key="stripe:pi_123")


def test_two_payments_that_together_overdraw_the_bank_commit_exactly_one(fund):
    give_check(fund, 100_000, key="gift")
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def pay(key):
        try:
            barrier.wait()
            outcomes.append(pay_attorney(fund, 60_000, key=key))
        except Exception as error:  # collected and asserted below
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(f"pay-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    paid = [o for o in outcomes if isinstance(o, Transaction)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(paid) == 1
    assert len(refused) == 1
    assert isinstance(refused[0], InsufficientFunds)
    assert "Insufficient funds in Bank" in str(refused[0])
    assert account_balance(account(fund, Role.BANK)) == 40_000


def test_verify_ledger_names_an_amount_tampered_with_by_a_superuser(fund, capsys):
    give_check(fund, 1_000, key="gift-1")
    victim = give_check(fund, 2_000, key="gift-2")
    give_check(fund, 3_000, key="gift-3")
    call_command("verify_ledger", "--fund", "valley")
    assert "OK valley: 3 transactions, 6 postings" in capsys.readouterr().out

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE fund_posting DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE fund_posting SET amount_cents = amount_cents * 10 WHERE transaction_id = %s",
            [victim.pk],
        )
        cursor.execute("ALTER TABLE fund_posting ENABLE TRIGGER USER")

    with pytest.raises(CommandError) as failure:
        call_command("verify_ledger", "--fund", "valley")
    assert failure.value.returncode == 1
    assert f"transaction {victim.reference} (id {victim.pk})" in str(failure.value)
    assert "hash does not match" in str(failure.value)


def test_verify_ledger_notices_a_transaction_deleted_by_a_superuser(fund):
    give_check(fund, 1_000, key="gift-1")
    last = give_check(fund, 2_000, key="gift-2")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE fund_posting DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE fund_transaction DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM fund_posting WHERE transaction_id = %s", [last.pk])
        cursor.execute("DELETE FROM fund_transaction WHERE id = %s", [last.pk])
        cursor.execute("ALTER TABLE fund_transaction ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE fund_posting ENABLE TRIGGER USER")

    result = verify_fund(fund)
    assert not result.ok
    assert "chain head" in result.problem

"""verify_ledger names every way the books can be changed behind the database's back.

Each test acts as a hostile superuser would, with the triggers off (session_replication_role =
replica), breaks exactly one thing, and expects verify to name it. Seals catch what recomputing
cannot: a consistent rewrite of the chain after the sealed head.
"""

import dataclasses
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from fund.ledger import seals
from fund.ledger.chain import chain_hash, content_digest, payload_digest
from fund.ledger.models import AccountDay, Seal, Transaction
from fund.ledger.services import close_books, create_fund, reverse_transaction, seal_books
from fund.ledger.verify import PROBLEM_LIMIT, verify_fund, verify_funds
from tests.conftest import database_url
from tests.fund.conftest import OPENED, Role, account, give_check, pay_attorney

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tamper(as_role):
    """Run statements as a superuser with every trigger off, in one committed transaction."""

    def run(*statements: str) -> None:
        as_role("superuser", "SET session_replication_role = replica", *statements)

    return run


@pytest.fixture
def without_check(as_role, tamper):
    """Run statements with one CHECK constraint of fund_transaction dropped (and put back)."""

    def run(constraint: str, *statements: str) -> None:
        [(definition,)] = as_role(
            "superuser",
            f"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = '{constraint}'",
        )
        tamper(
            f"ALTER TABLE fund_transaction DROP CONSTRAINT {constraint}",
            *statements,
            f"ALTER TABLE fund_transaction ADD CONSTRAINT {constraint} {definition} NOT VALID",
        )

    return run


@pytest.fixture
def books(fund, treasurer):
    """January closed and sealed; February open. Every verify starts from clean books."""
    entries = {
        "g1": give_check(fund, 100_000, key="g1", on=date(2026, 1, 5)),
        "p1": pay_attorney(fund, 30_000, key="p1", on=date(2026, 1, 10), case_ref="C-2026-0001"),
        "g2": give_check(fund, 50_000, key="g2", on=date(2026, 1, 15)),
    }
    # by_workflow: these books stand for what the donations app records (it reverses its gifts).
    entries["r1"] = reverse_transaction(
        original=entries["g2"],
        actor=treasurer,
        memo="Bounced",
        effective_date=date(2026, 1, 16),
        by_workflow=True,
    )
    close_books(fund=fund, through=date(2026, 1, 31), actor=treasurer, reason="January")
    entries["g3"] = give_check(fund, 20_000, key="g3", on=date(2026, 2, 3))
    entries["p2"] = pay_attorney(
        fund, 10_000, key="p2", on=date(2026, 2, 5), case_ref="C-2026-0002"
    )
    assert verify_fund(fund).ok, verify_fund(fund).problems
    return entries


def problems(fund) -> list[str]:
    return [str(problem) for problem in verify_fund(fund).problems]


def named(fund, text: str) -> bool:
    return any(text in problem for problem in problems(fund))


# Each check of the chain and the rows, broken on its own


def test_a_broken_link_is_named(fund, books, tamper):
    tamper(f"UPDATE fund_transaction SET prev_hash = repeat('a', 64) WHERE id = {books['g3'].pk}")
    assert f"{books['g3'].reference}: its prev_hash does not match" in problems(fund)[0]


def test_an_altered_memo_is_named_by_its_hash(fund, books, tamper):
    tamper(f"UPDATE fund_transaction SET memo = 'Bribe' WHERE id = {books['p1'].pk}")
    assert f"{books['p1'].reference}: its hash does not match its contents" in problems(fund)[0]


def test_an_altered_payload_hash_is_named(fund, books, tamper):
    tamper(f"UPDATE fund_transaction SET payload_hash = 'x' WHERE id = {books['g1'].pk}")
    assert problems(fund) == [
        f"{books['g1'].reference}: its payload hash does not match its contents"
    ]


def test_a_wrong_year_is_named(fund, books, without_check):
    without_check(
        "fund_transaction_year",
        f"UPDATE fund_transaction SET year = 2025 WHERE id = {books['g3'].pk}",
    )
    assert "2025-000005: its year 2025 is not the year of its date 2026-02-03" in problems(fund)


def test_a_gap_in_the_numbering_is_named(fund, books, tamper):
    tamper(f"UPDATE fund_transaction SET number = 9 WHERE id = {books['g3'].pk}")
    assert "2026-000009: it is number 9 of 2026; the next number is 5" in problems(fund)


def test_an_unknown_kind_is_named(fund, books, without_check):
    without_check(
        "fund_transaction_known_kind",
        f"UPDATE fund_transaction SET kind = 'bribe' WHERE id = {books['g3'].pk}",
    )
    assert f"{books['g3'].reference}: its kind 'bribe' is not a kind of transaction" in (
        problems(fund)
    )


def test_an_empty_memo_is_named(fund, books, without_check):
    without_check(
        "fund_transaction_has_memo",
        f"UPDATE fund_transaction SET memo = '' WHERE id = {books['g3'].pk}",
    )
    assert f"{books['g3'].reference}: it has no memo" in problems(fund)


def test_an_entry_before_the_books_open_is_named(fund, books, tamper):
    tamper(f"UPDATE fund_fund SET opened_on = '2026-01-07' WHERE id = {fund.pk}")
    fund.refresh_from_db()
    assert f"{books['g1'].reference}: it is dated before the fund's books open (2026-01-07)" in (
        problems(fund)
    )


def test_an_entry_on_the_opening_day_is_in_the_books(fund, books, tamper):
    tamper(f"UPDATE fund_fund SET opened_on = '2026-01-05' WHERE id = {fund.pk}")
    fund.refresh_from_db()
    assert not named(fund, "dated before the fund's books open")


@pytest.mark.parametrize(
    ("recorded", "named_"), [("2025-12-04 12:00+00", True), ("2025-12-05 12:00+00", False)]
)
def test_an_entry_more_than_31_days_ahead_of_its_recording_is_named(
    fund, books, tamper, recorded, named_
):
    # g1 is dated 2026-01-05: 32 days after 2025-12-04, 31 after 2025-12-05.
    tamper(f"UPDATE fund_transaction SET recorded_at = '{recorded}' WHERE id = {books['g1'].pk}")
    message = f"{books['g1'].reference}: it is dated more than 31 days after it was recorded"
    assert (message in problems(fund)) is named_


def test_an_entry_recorded_while_its_day_was_closed_is_named(fund, books, tamper):
    tamper(f"UPDATE fund_bookslock SET at = '2000-01-01' WHERE fund_id = {fund.pk}")
    assert (
        f"{books['g1'].reference}: it is dated 2026-01-05, on or before the lock date 2026-01-31"
    ) in problems(fund)


def test_an_entry_dated_on_the_lock_date_itself_is_named(fund, books, tamper):
    tamper(
        "UPDATE fund_bookslock SET at = '2000-01-01', closed_through = '2026-01-05' "
        f"WHERE fund_id = {fund.pk}"
    )
    assert (
        f"{books['g1'].reference}: it is dated 2026-01-05, on or before the lock date 2026-01-05"
    ) in problems(fund)


def test_the_lock_date_in_force_is_the_latest_one_set_before_the_entry(
    fund, books, treasurer, tamper
):
    close_books(fund=fund, through=date(2026, 2, 28), actor=treasurer, reason="February")
    # Both locks now seem set before anything was recorded: the later one, Feb 28, is in force.
    tamper(
        "UPDATE fund_bookslock SET at = CASE WHEN closed_through = '2026-01-31' "
        f"THEN timestamptz '2000-01-01' ELSE '2000-01-02' END WHERE fund_id = {fund.pk}"
    )
    assert (
        f"{books['g3'].reference}: it is dated 2026-02-03, on or before the lock date 2026-02-28"
    ) in problems(fund)


def test_a_reversal_link_without_its_kind_is_named(fund, books, without_check):
    without_check(
        "fund_transaction_reversal_links",
        f"UPDATE fund_transaction SET kind = 'journal' WHERE id = {books['r1'].pk}",
    )
    assert f"{books['r1'].reference}: its kind and its reversal link disagree" in problems(fund)


def test_a_reversal_of_a_later_transaction_is_named(fund, books, tamper):
    tamper(
        f"UPDATE fund_transaction SET reverses_id = {books['p2'].pk} WHERE id = {books['r1'].pk}"
    )
    assert (
        f"{books['r1'].reference}: it reverses a transaction that is not earlier in this fund's "
        "ledger"
    ) in problems(fund)


def test_a_reversal_of_a_reversal_is_named(fund, books, treasurer, tamper):
    second = reverse_transaction(
        original=books["g3"], actor=treasurer, memo="Undo", by_workflow=True
    )
    tamper(f"UPDATE fund_transaction SET reverses_id = {books['r1'].pk} WHERE id = {second.pk}")
    assert named(fund, f"{second.reference}: it reverses a reversal")


def test_a_reversal_that_is_not_the_mirror_is_named(fund, books, tamper):
    tamper(
        "UPDATE fund_posting SET amount_cents = amount_cents / 2 "
        f"WHERE transaction_id = {books['r1'].pk}"
    )
    assert (
        f"{books['r1'].reference}: it is not the exact mirror of the transaction it reverses"
    ) in problems(fund)


def test_a_transaction_without_postings_is_named(fund, books, tamper):
    tamper(f"DELETE FROM fund_posting WHERE transaction_id = {books['g3'].pk}")
    assert named(fund, f"{books['g3'].reference}: it has 0 posting(s)")


def test_postings_that_do_not_sum_to_zero_are_named(fund, books, tamper):
    bank = account(fund, Role.BANK).pk
    tamper(
        f"UPDATE fund_posting SET amount_cents = 20001 WHERE transaction_id = {books['g3'].pk} "
        f"AND account_id = {bank}"
    )
    assert f"{books['g3'].reference}: its postings sum to 1 cents instead of zero" in (
        problems(fund)
    )


def test_a_wrong_balance_after_is_named(fund, books, tamper):
    tamper(
        f"UPDATE fund_posting SET balance_after_cents = 1 WHERE transaction_id = {books['g1'].pk}"
    )
    bank = account(fund, Role.BANK).pk
    assert (
        f"{books['g1'].reference}: its posting on account #{bank} records balance 1, "
        "recomputed 100000"
    ) in problems(fund)


def test_a_posting_dated_apart_from_its_transaction_is_named(fund, books, tamper):
    tamper(
        "UPDATE fund_posting SET effective_date = '2026-02-28' "
        f"WHERE transaction_id = {books['g3'].pk}"
    )
    bank = account(fund, Role.BANK).pk
    assert f"{books['g3'].reference}: its posting on account #{bank} is dated 2026-02-28" in (
        problems(fund)
    )


# What is stored beside the chain


def test_a_missing_ledger_head_is_named_not_a_traceback(fund, books, tamper):
    tamper(f"DELETE FROM fund_ledgerhead WHERE fund_id = {fund.pk}")
    assert "the fund's ledger head row is missing" in problems(fund)


def test_a_removed_last_transaction_is_named_by_the_head(fund, books, tamper):
    last = books["p2"]
    tamper(
        f"DELETE FROM fund_posting WHERE transaction_id = {last.pk}",
        f"DELETE FROM fund_transaction WHERE id = {last.pk}",
    )
    assert (
        f"the stored chain head {last.hash[:12]}… is not the last transaction's hash "
        f"{books['g3'].hash[:12]}… (transactions were removed or added outside fund_post)"
    ) in problems(fund)


def test_a_changed_gift_count_is_named(fund, books, tamper):
    tamper(f"UPDATE fund_ledgerhead SET gift_count = 99 WHERE fund_id = {fund.pk}")
    assert problems(fund) == ["the stored gift count is 99; the ledger counts 2"]


def test_a_lock_date_moved_outside_the_log_is_named(fund, books, tamper):
    tamper(f"UPDATE fund_ledgerhead SET closed_through = NULL WHERE fund_id = {fund.pk}")
    assert named(fund, "the books are closed through None, but the lock log says 2026-01-31")


def test_a_changed_count_of_supported_cases_is_named(fund, books, tamper):
    tamper(f"UPDATE fund_supportedcase SET payments = 0 WHERE fund_id = {fund.pk}")
    assert named(fund, "case C-2026-0001 counts 0 payments; the ledger has 1")


def test_a_case_row_the_ledger_never_paid_is_named(fund, books, tamper):
    tamper(
        "INSERT INTO fund_supportedcase (fund_id, case_ref, payments) "
        f"VALUES ({fund.pk}, 'C-2026-0099', 1)"
    )
    assert problems(fund) == ["case C-2026-0099 counts 1 payments; the ledger has 0"]


def test_a_removed_case_row_is_named(fund, books, tamper):
    tamper(f"DELETE FROM fund_supportedcase WHERE case_ref = 'C-2026-0001' AND fund_id = {fund.pk}")
    assert problems(fund) == ["case C-2026-0001 counts 0 payments; the ledger has 1"]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "UPDATE fund_account SET name = 'Petty cash' WHERE code = '1010'",
            "account 1010 is ('Petty cash', 'asset', 'bank', True), but the chart says ('Bank', "
            "'asset', 'bank', True) (name, kind, role, may-not-overdraw)",
        ),
        ("UPDATE fund_account SET kind = 'expense' WHERE code = '1010'", "account 1010 is"),
        ("UPDATE fund_account SET no_overdraft = false WHERE code = '1010'", "account 1010 is"),
        (
            "INSERT INTO fund_account (fund_id, code, name, kind, role, no_overdraft, "
            "balance_cents) SELECT fund_id, '9999', 'Slush', 'asset', 'slush', false, 0 "
            "FROM fund_account WHERE code = '1010'",
            "account 9999 Slush is not in the fund's chart",
        ),
        ("DELETE FROM fund_account WHERE code = '5200'", "account 5200 of the chart is missing"),
    ],
)
def test_a_changed_chart_is_named(fund, books, tamper, statement, message):
    tamper(statement)
    assert named(fund, message)


def test_a_stored_balance_that_is_not_its_postings_is_named(fund, books, tamper):
    tamper(f"UPDATE fund_account SET balance_cents = 1 WHERE code = '1010' AND fund_id = {fund.pk}")
    assert named(fund, "account 1010 Bank stores balance 1, its postings sum to")


def test_a_wrong_daily_checkpoint_is_named(fund, books, tamper):
    bank = account(fund, Role.BANK).pk
    tamper(
        "UPDATE fund_accountday SET balance_cents = 5 "
        f"WHERE account_id = {bank} AND day = '2026-01-10'"
    )
    assert problems(fund) == ["the daily checkpoint of account 1010 for 2026-01-10 is wrong"]


def test_a_missing_daily_checkpoint_is_named(fund, books, tamper):
    bank = account(fund, Role.BANK).pk
    tamper(f"DELETE FROM fund_accountday WHERE account_id = {bank} AND day = '2026-01-10'")
    assert problems(fund) == ["the daily checkpoint of account 1010 for 2026-01-10 is wrong"]


def test_a_posting_moved_onto_another_funds_account_is_named_not_a_traceback(fund, books, tamper):
    other = create_fund(actor=None, name="Bond Fund", slug="bonds", goal_cents=0, opened_on=OPENED)
    elsewhere = account(other, Role.BANK).pk
    tamper(
        f"UPDATE fund_posting SET account_id = {elsewhere} WHERE transaction_id = "
        f"{books['g3'].pk} AND account_id = {account(fund, Role.BANK).pk}"
    )
    assert f"the daily checkpoint of account #{elsewhere} for 2026-02-03 is wrong" in (
        problems(fund)
    )


def test_a_checkpoint_without_postings_is_named(fund, books, tamper):
    bank = account(fund, Role.BANK).pk
    tamper(
        "INSERT INTO fund_accountday (account_id, day, debit_cents, credit_cents, balance_cents) "
        f"VALUES ({bank}, '2026-02-20', 0, 0, 80000)"
    )
    assert problems(fund) == ["account 1010 has a checkpoint for 2026-02-20 with no postings"]


def test_past_the_limit_problems_are_counted_not_listed(fund, books, tamper):
    bank = account(fund, Role.BANK).pk
    tamper(
        "INSERT INTO fund_accountday (account_id, day, debit_cents, credit_cents, balance_cents) "
        f"SELECT {bank}, day, 0, 0, 0 FROM generate_series(date '2026-03-01', "
        f"date '2026-03-01' + {PROBLEM_LIMIT + 4}, '1 day') AS day"
    )
    result = verify_fund(fund)
    assert len(result.problems) == PROBLEM_LIMIT
    assert result.more_problems == 5
    assert str(result.problems[-1]) == (
        f"account 1010 has a checkpoint for {date(2026, 3, 1) + timedelta(PROBLEM_LIMIT - 1)} "
        "with no postings"
    )


def test_cash_below_zero_at_the_end_of_a_day_is_named(fund, books, tamper):
    bank, fees = account(fund, Role.BANK).pk, account(fund, Role.ATTORNEY_FEES).pk
    # A payment larger than the bank held that day, slipped in with the triggers off.
    tamper(
        f"UPDATE fund_posting SET amount_cents = -900000 WHERE transaction_id = {books['p1'].pk} "
        f"AND account_id = {bank}",
        f"UPDATE fund_posting SET amount_cents = 900000 WHERE transaction_id = {books['p1'].pk} "
        f"AND account_id = {fees}",
    )
    assert named(fund, "account 1010 is below zero at the end of 2026-01-10")


# Seals: what recomputing cannot catch


# Every figure derived from the postings, recomputed as a careful forger would.
RECOMPUTE_DERIVED = [
    "UPDATE fund_account a SET balance_cents = coalesce((SELECT sum(amount_cents) "
    "FROM fund_posting p WHERE p.account_id = a.id), 0)",
    "UPDATE fund_posting p SET balance_after_cents = r.running FROM (SELECT id, "
    "sum(amount_cents) OVER (PARTITION BY account_id ORDER BY id) AS running FROM fund_posting) r "
    "WHERE r.id = p.id",
    "DELETE FROM fund_accountday",
    "INSERT INTO fund_accountday (account_id, day, debit_cents, credit_cents, balance_cents) "
    "SELECT account_id, day, d, c, sum(d - c) OVER (PARTITION BY account_id ORDER BY day) FROM "
    "(SELECT account_id, effective_date AS day, sum(greatest(amount_cents, 0)) AS d, "
    "sum(greatest(-amount_cents, 0)) AS c FROM fund_posting GROUP BY 1, 2) days",
]


def rewrite_chain_from(fund, txn: Transaction, tamper, *, memo=None, amount=None) -> None:
    """Change one transaction (its memo, or its amount on both legs) and re-hash it and every
    transaction after it, with every balance and checkpoint recomputed: a consistent forgery."""
    statements = []
    if amount is not None:
        statements.append(
            f"UPDATE fund_posting SET amount_cents = sign(amount_cents) * {amount} "
            f"WHERE transaction_id = {txn.pk}"
        )
    rows = list(Transaction.objects.filter(fund=fund, pk__gte=txn.pk).order_by("id"))
    prev = rows[0].prev_hash
    for row in rows:
        if row.pk == txn.pk and memo is not None:
            row.memo = memo
        pairs = [(p.account_id, p.amount_cents) for p in row.postings.all()]
        if row.pk == txn.pk and amount is not None:
            pairs = [(account_id, amount if cents > 0 else -amount) for account_id, cents in pairs]
        row.prev_hash = prev
        row.payload_hash = payload_digest(row, pairs)
        row.hash = chain_hash(
            prev_hash=prev, year=row.year, number=row.number, digest=content_digest(row, pairs)
        )
        statements.append(
            f"UPDATE fund_transaction SET memo = '{row.memo}', prev_hash = '{row.prev_hash}', "
            f"payload_hash = '{row.payload_hash}', hash = '{row.hash}' WHERE id = {row.pk}"
        )
        prev = row.hash
    statements.append(f"UPDATE fund_ledgerhead SET chain_head = '{prev}' WHERE fund_id = {fund.pk}")
    tamper(*statements, *RECOMPUTE_DERIVED)


def test_an_old_payment_changed_with_everything_after_it_rehashed_is_caught_by_the_seal(
    fund, books, tamper
):
    sealed = Seal.objects.get(fund=fund)  # written when January was closed
    given = seals.SignedSeal(sealed.statement, sealed.signature, sealed.key_id)
    # The $300.00 attorney payment becomes $400.00; every later hash and balance follows.
    rewrite_chain_from(fund, books["p1"], tamper, amount=40_000)
    assert account(fund, Role.ATTORNEY_FEES).balance_cents == 50_000

    assert not verify_fund(fund).ok  # the seal the database keeps still catches it
    tamper("DELETE FROM fund_seal")  # so the forger removes those too
    assert verify_fund(fund).ok  # recomputing alone is fooled: the forgery is consistent
    result = verify_fund(fund, sealed=[given])
    assert not result.ok
    assert any(
        f"the chain no longer passes through the sealed head at {books['r1'].reference}" in str(p)
        for p in result.problems
    )


def test_an_old_memo_changed_and_rehashed_is_caught_by_the_seal(fund, books, tamper):
    sealed = Seal.objects.get(fund=fund)
    given = seals.SignedSeal(sealed.statement, sealed.signature, sealed.key_id)
    rewrite_chain_from(fund, books["p1"], tamper, memo="Retainer, some other attorney")
    tamper("DELETE FROM fund_seal")

    assert verify_fund(fund).ok
    assert not verify_fund(fund, sealed=[given]).ok


def test_a_consistent_rewrite_of_the_tail_after_a_seal_is_caught(fund, books, treasurer, tamper):
    seal = seal_books(fund=fund, actor=treasurer)
    given = seals.SignedSeal(seal.statement, seal.signature, seal.key_id)
    last = books["p2"]
    # Delete the last entry and rewind every figure to before it: nothing left to recompute.
    bank, fees = account(fund, Role.BANK), account(fund, Role.ATTORNEY_FEES)
    tamper(
        f"DELETE FROM fund_posting WHERE transaction_id = {last.pk}",
        f"DELETE FROM fund_transaction WHERE id = {last.pk}",
        f"UPDATE fund_account SET balance_cents = balance_cents + 10000 WHERE id = {bank.pk}",
        f"UPDATE fund_account SET balance_cents = balance_cents - 10000 WHERE id = {fees.pk}",
        "DELETE FROM fund_accountday WHERE day = '2026-02-05' "
        f"AND account_id IN ({bank.pk}, {fees.pk})",
        f"UPDATE fund_ledgerhead SET chain_head = '{books['g3'].hash}' WHERE fund_id = {fund.pk}",
        "DELETE FROM fund_supportedcase WHERE case_ref = 'C-2026-0002'",
        "DELETE FROM fund_seal",
    )
    assert verify_fund(fund).ok

    result = verify_fund(fund, sealed=[given])
    assert not result.ok
    assert any(f"transaction {last.reference} it sealed is gone" in str(p) for p in result.problems)


def test_a_seal_with_a_forged_signature_is_refused(fund, books, treasurer):
    seal = seal_books(fund=fund, actor=treasurer)
    forged = seals.SignedSeal(
        seal.statement.replace(seal.chain_head, "0" * 64), seal.signature, seal.key_id
    )
    result = verify_fund(fund, sealed=[forged])
    assert named_in(result, "signature does not match")


def test_a_seal_under_an_unknown_key_is_refused(fund, books, treasurer, settings):
    seal = seal_books(fund=fund, actor=treasurer)
    settings.LEDGER_SEAL_KEY = seals.generate_key()[0]
    result = verify_fund(
        fund, sealed=[seals.SignedSeal(seal.statement, seal.signature, seal.key_id)]
    )
    assert named_in(result, "which is not one of the configured keys")


def seal_problems(fund) -> list[str]:
    """The seal problems, without the "the seal of <when> UTC: " each begins with."""
    return [p.split(" UTC: ", 1)[1] for p in problems(fund) if p.startswith("the seal of ")]


def test_a_seal_notices_a_changed_currency(fund, books, treasurer, tamper):
    seal_books(fund=fund, actor=treasurer)
    tamper(f"UPDATE fund_fund SET currency = 'EUR', restricted = true WHERE id = {fund.pk}")
    fund.refresh_from_db()
    assert "the fund's id, currency, restriction or opening day has changed since" in (
        seal_problems(fund)
    )


def test_a_seal_notices_a_changed_chart(fund, books, treasurer, tamper):
    seal_books(fund=fund, actor=treasurer)
    tamper(
        f"UPDATE fund_account SET name = 'Petty cash' WHERE code = '1010' AND fund_id = {fund.pk}"
    )
    assert "the fund's chart of accounts has changed since" in seal_problems(fund)


def test_a_seal_of_an_empty_ledger_claiming_a_chain_is_named(db, treasurer):
    empty = create_fund(actor=None, name="New Fund", slug="new", goal_cents=0, opened_on=OPENED)
    sealed = seals.Statement.parse(seal_books(fund=empty, actor=treasurer).statement)
    forged = seals.sign(dataclasses.replace(sealed, chain_head="ab" * 32))

    result = verify_fund(empty, sealed=[forged])

    assert [str(p).split(" UTC: ", 1)[1] for p in result.problems] == [
        "it seals an empty ledger with transactions in it"
    ]


def test_a_seal_names_its_transaction_by_fund_and_year(db, treasurer):
    """Another fund's entries, and this fund's of another year, share the sealed number."""
    other = create_fund(actor=None, name="Bond Fund", slug="bonds", goal_cents=0, opened_on=OPENED)
    for n in range(3):
        give_check(other, 100, key=f"other-{n}", on=date(2026, 1, 2))
    fund = create_fund(actor=None, name="Valley", slug="valley2", goal_cents=0, opened_on=OPENED)
    give_check(fund, 100, key="last-year", on=date(2025, 12, 30))
    give_check(fund, 100, key="this-year", on=date(2026, 1, 2))
    seal = seal_books(fund=fund, actor=treasurer)
    assert seals.Statement.parse(seal.statement).reference == "2026-000001"

    assert verify_fund(fund).ok, verify_fund(fund).problems


def test_a_seal_trusted_by_public_key_alone_verifies(fund, books, treasurer, settings):
    seal = seal_books(fund=fund, actor=treasurer)
    public = seals.public_key_text(seals.signing_key().public_key())
    settings.LEDGER_SEAL_KEY = ""
    settings.LEDGER_SEAL_PUBLIC_KEYS = [public]
    result = verify_fund(
        fund, sealed=[seals.SignedSeal(seal.statement, seal.signature, seal.key_id)]
    )
    assert result.ok
    assert result.seals_checked >= 1


def test_verify_funds_checks_the_funds_asked_for_or_every_fund(fund, books, treasurer):
    other = create_fund(actor=None, name="Bond Fund", slug="bonds", goal_cents=0, opened_on=OPENED)
    give_check(other, 100, key="other-gift")

    assert [r.fund for r in verify_funds([fund])] == ["valley"]
    assert [(r.fund, r.transactions) for r in verify_funds()] == [("bonds", 1), ("valley", 6)]


def test_a_seal_naming_a_fund_that_does_not_exist_is_named(fund, books, treasurer):
    sealed = seals.Statement.parse(seal_books(fund=fund, actor=treasurer).statement)
    stray = seals.sign(dataclasses.replace(sealed, fund="gone"))

    everything = verify_funds(sealed=[stray])
    assert [(r.fund, r.ok) for r in everything] == [("valley", True), ("gone", False)]
    assert [str(p) for p in everything[1].problems] == [
        "a seal names fund 'gone', which does not exist"
    ]
    # Asked about one fund, a seal of another is none of its business.
    assert [(r.fund, r.ok) for r in verify_funds([fund], sealed=[stray])] == [("valley", True)]


def named_in(result, text: str) -> bool:
    return any(text in str(problem) for problem in result.problems)


# The command


def test_verify_ledger_lists_every_problem_and_exits_1(fund, books, tamper, capsys):
    call_command("verify_ledger", "--fund", "valley")
    assert "OK valley: 6 transactions, 12 postings" in capsys.readouterr().out
    tamper(
        f"UPDATE fund_transaction SET memo = 'x' WHERE id = {books['g1'].pk}",
        f"UPDATE fund_ledgerhead SET gift_count = 7 WHERE fund_id = {fund.pk}",
    )

    with pytest.raises(CommandError) as failure:
        call_command("verify_ledger", "--fund", "valley")

    assert failure.value.returncode == 1
    errors = capsys.readouterr().err
    assert "FAIL valley: 3 problem(s)" in errors
    assert f"{books['g1'].reference}: its hash does not match" in errors
    assert "the stored gift count is 7" in errors


def test_verify_ledger_checks_seal_files(fund, books, treasurer, tmp_path, tamper, capsys):
    seal = seal_books(fund=fund, actor=treasurer)
    path = tmp_path / "seal.json"
    path.write_text(seal.line() + "\n")
    call_command("verify_ledger", "--seal", str(path))
    assert "seal(s) hold" in capsys.readouterr().out

    rewrite_chain_from(fund, books["g3"], tamper, memo="Forged")
    tamper("DELETE FROM fund_seal")
    with pytest.raises(CommandError) as failure:
        call_command("verify_ledger", "--seal", str(path))
    assert failure.value.returncode == 1
    assert "the chain no longer passes through the sealed head" in capsys.readouterr().err


def test_verify_ledger_refuses_an_unreadable_seal_with_one_line(fund, tmp_path):
    (tmp_path / "bad.json").write_text("not a seal")
    for name in ("missing.json", "bad.json"):
        with pytest.raises(CommandError) as failure:
            call_command("verify_ledger", "--seal", str(tmp_path / name))
        assert failure.value.returncode == 2
        assert "\n" not in str(failure.value)


def test_seal_ledger_prints_a_seal_that_verify_ledger_accepts(fund, books, tmp_path, capsys):
    call_command("seal_ledger", "--fund", "valley")
    line = capsys.readouterr().out.strip()
    statement = seals.check_signature(seals.SignedSeal.read(line))
    assert (statement.reference, statement.transactions) == (books["p2"].reference, 6)
    assert statement.chain_head == books["p2"].hash
    (tmp_path / "s.json").write_text(line)
    call_command("verify_ledger", "--seal", str(tmp_path / "s.json"))


# One snapshot under a steady writer


WRITER = """
import os, sys, time
from datetime import date
import django
django.setup()
from fund.ledger.models import Fund
from tests.fund.conftest import give_check
fund = Fund.objects.get(slug="valley")
stop = sys.argv[1]
n = 0
while not os.path.exists(stop):
    give_check(fund, 100, key=f"writer-{n}", on=date(2026, 2, 10))
    n += 1
print(n)
"""


def test_verify_passes_twenty_times_in_a_row_while_another_process_posts(fund, books, tmp_path):
    stop = tmp_path / "stop"
    env = dict(
        os.environ,
        DATABASE_URL=database_url("runtime"),
        DJANGO_SETTINGS_MODULE="tests.settings",
        PYTHONPATH=str(ROOT),
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(stop)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        start = Transaction.objects.count()
        while Transaction.objects.count() < start + 5:
            time.sleep(0.05)
        for _ in range(20):
            results = verify_funds()
            assert all(result.ok for result in results), [r.problems for r in results]
    finally:
        stop.touch()
        posted = int(writer.communicate(timeout=60)[0])
    assert posted > 20
    assert verify_fund(fund).ok
    assert AccountDay.objects.filter(day=date(2026, 2, 10)).exists()
    connection.close()

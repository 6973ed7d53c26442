"""The database is the only door to the ledger: the app's own role may write it only through
fund_post(), which checks every entry, and the owner's triggers refuse what no role may do.

Each test here is one of the attacks a hostile auditor tried with the app's credentials or the
owner's, and shows it refused. (What a superuser could still do is detected: test_verify.py.)
"""

import threading
from datetime import UTC, date, timedelta

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from fund.errors import (
    AlreadyReversed,
    BooksClosed,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransaction,
    LockError,
    NotAllowed,
)
from fund.ledger.entries import Leg
from fund.ledger.posting import post_transaction
from fund.ledger.privileges import LEDGER_TABLES
from fund.ledger.queries import account_balance
from fund.ledger.services import close_books, create_fund, reverse_transaction
from fund.ledger.today import today_function_sql
from fund.ledger.verify import verify_fund
from fund.models import Account, Fund, LedgerHead, Posting, Transaction
from fund.security.roles import StaffRole
from tests.conftest import make_staff
from tests.fund.conftest import DAY, OPENED, Kind, Role, account, give_check, pay_attorney

pytestmark = pytest.mark.django_db(transaction=True)

FUND_POST = (
    "SELECT id FROM fund_post(p_fund => %s, p_idempotency_key => %s, p_effective_date => %s, "
    "p_kind => %s, p_memo => %s, p_reason => '', p_source_ref => '', p_case_ref => '', "
    "p_recorded_by => %s, p_reverses => %s, p_accounts => %s, p_amounts => %s, "
    "p_check_now => false)"
)


@pytest.fixture
def fund(transactional_db):
    return create_fund(
        actor=None,
        opened_on=OPENED,
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=15_000_000,
    )


def raw_post(fund, *, key="raw", on=DAY, kind="journal", memo="m", by=None, reverses=None, legs):
    """Call fund_post() directly with the app's own credentials, as an attacker with them could."""
    ordered = sorted(legs)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            FUND_POST,
            [
                fund.pk,
                key,
                on,
                kind,
                memo,
                by,
                reverses,
                [a for a, _ in ordered],
                [amount for _, amount in ordered],
            ],
        )
        return cursor.fetchone()[0]


def ids(fund, *roles):
    return [account(fund, role).pk for role in roles]


def runtime_sql(statement: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


# The app's own role: no door but fund_post()


# What the app does write on ledger tables is tried in the next test: it adds and releases
# commitments, adds seals (signed with a key it holds), and renames a fund.
ALLOWED_DIRECTLY = {
    ("fund_commitment", "INSERT"),
    ("fund_commitment", "UPDATE"),
    ("fund_seal", "INSERT"),
    ("fund_fund", "UPDATE"),
}
DIRECT_WRITES = [
    (table, statement)
    for table in LEDGER_TABLES
    for statement in (
        "UPDATE {table} SET {column} = {column}",
        "DELETE FROM {table}",
        "TRUNCATE {table} CASCADE",
        "INSERT INTO {table} DEFAULT VALUES",
    )
    if (table, statement.split()[0]) not in ALLOWED_DIRECTLY
]


@pytest.mark.parametrize(("table", "statement"), DIRECT_WRITES)
def test_the_app_role_cannot_write_ledger_tables_directly(fund, table, statement):
    give_check(fund, 1_000, key="gift")
    column = "fund_id" if table == "fund_ledgerhead" else "id"
    with pytest.raises(DatabaseError, match="permission denied"):
        runtime_sql(statement.format(table=table, column=column))
    assert verify_fund(fund).ok


@pytest.mark.parametrize(
    ("statement", "allowed"),
    [
        ("UPDATE fund_fund SET name = 'Renamed'", True),
        ("UPDATE fund_fund SET goal_cents = 1", True),
        ("UPDATE fund_fund SET show_supporters = true", True),
        ("UPDATE fund_fund SET currency = 'EUR'", False),
        ("UPDATE fund_fund SET restricted = true", False),
        ("UPDATE fund_fund SET slug = 'other'", False),
        ("UPDATE fund_fund SET opened_on = '2000-01-01'", False),
        ("UPDATE fund_account SET no_overdraft = false", False),
        ("UPDATE fund_account SET name = 'Petty cash'", False),
        ("UPDATE fund_account SET kind = 'expense'", False),
        ("UPDATE fund_account SET balance_cents = 10000000", False),
        ("UPDATE fund_ledgerhead SET gift_count = 99", False),
        ("UPDATE fund_ledgerhead SET closed_through = NULL", False),
        ("UPDATE fund_ledgerhead SET chain_head = repeat('f', 64)", False),
        ("UPDATE fund_supportedcase SET payments = 9", False),
        ("UPDATE fund_commitment SET amount_cents = 1", False),
    ],
)
def test_the_app_role_may_change_only_what_may_change(fund, statement, allowed):
    give_check(fund, 1_000, key="g")
    pay_attorney(fund, 500, key="p", case_ref="C-2026-0001")
    if allowed:
        runtime_sql(statement)
        return
    with pytest.raises(DatabaseError, match="permission denied"):
        runtime_sql(statement)
    assert verify_fund(fund).ok


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE OR REPLACE FUNCTION fund_post() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
        "ALTER TABLE fund_posting DISABLE TRIGGER USER",
        "DROP TRIGGER fund_posting_apply ON fund_posting",
        "CREATE TEMP TABLE t (x int)",
        "CREATE TABLE fund_shadow (x int)",
    ],
)
def test_the_app_role_cannot_change_the_schema_the_functions_or_the_triggers(fund, statement):
    with pytest.raises(DatabaseError, match=r"permission denied|must be owner"):
        runtime_sql(statement)


def test_a_session_setting_does_not_open_the_head(fund):
    give_check(fund, 1_000, key="gift")
    with pytest.raises(DatabaseError, match="permission denied"):
        runtime_sql(
            "SET LOCAL fund.posting = 'on'; UPDATE fund_ledgerhead SET chain_head = repeat('0', 64)"
        )
    assert verify_fund(fund).ok


def test_fund_post_takes_no_recording_time_digest_or_hash_from_its_caller():
    with connection.cursor() as cursor:
        cursor.execute("SELECT proargnames, prosecdef FROM pg_proc WHERE proname = 'fund_post'")
        [(names, security_definer)] = cursor.fetchall()

    assert security_definer is True
    assert not {"p_recorded_at", "p_digest", "p_payload_hash", "p_hash"} & set(names)


def test_fund_post_records_the_database_time_not_the_callers(fund):
    before = timezone.now()
    txn = give_check(fund, 1_000, key="gift")
    assert before <= txn.recorded_at <= timezone.now()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "bribe"}, "Unknown transaction kind"),
        ({"memo": "   "}, "A memo of 1 to 500 characters"),
        ({"memo": "x" * 501}, "A memo of 1 to 500 characters"),
        ({"on": date(1900, 1, 1)}, "between the day the fund's books open"),
        ({"days_ahead": 32}, "31 days from today"),
        ({"amounts": [10**16, -(10**16)]}, r"at most 10\^15"),
        ({"amounts": [500, -499]}, "unbalanced"),
        ({"amounts": [500]}, "two or more legs"),
        ({"kind": "reversal"}, "only a reversal, names the transaction"),
    ],
)
def test_fund_post_refuses_a_bad_entry_from_any_caller(fund, change, message):
    bank, contributions = ids(fund, Role.BANK, Role.CONTRIBUTIONS)
    change = dict(change)  # the parameter is shared by every run of this test
    if "days_ahead" in change:  # counted when the test runs: a suite run may cross midnight
        change["on"] = timezone.localdate() + timedelta(days=change.pop("days_ahead"))
    amounts = change.pop("amounts", [500, -500])
    legs = list(zip([bank, contributions], amounts, strict=False))
    with pytest.raises(DatabaseError, match=message):
        raw_post(fund, legs=legs, **change)
    assert not Transaction.objects.exists()


def test_fund_post_refuses_legs_out_of_account_order(fund):
    bank, contributions = ids(fund, Role.BANK, Role.CONTRIBUTIONS)
    high, low = max(bank, contributions), min(bank, contributions)
    with pytest.raises(DatabaseError, match="sorted by account"), connection.cursor() as cursor:
        cursor.execute(
            FUND_POST, [fund.pk, "k", DAY, "journal", "m", None, None, [high, low], [5, -5]]
        )


def test_fund_post_refuses_a_recorder_who_may_not_post(fund, auditor, django_user_model):
    bank, contributions = ids(fund, Role.BANK, Role.CONTRIBUTIONS)
    retired = make_staff(django_user_model, "rita", StaffRole.TREASURER)
    retired.is_active = False
    retired.save()
    for recorder in (auditor, retired):
        with pytest.raises(DatabaseError, match="Only an active treasurer"):
            raw_post(
                fund, key=f"by-{recorder.pk}", by=recorder.pk, legs=[(bank, 5), (contributions, -5)]
            )
    assert not Transaction.objects.exists()


def test_a_fake_one_dollar_reversal_is_refused_and_the_real_one_still_goes_through(fund, treasurer):
    give_check(fund, 700_000, key="gift")
    payment = pay_attorney(fund, 350_000, key="pay")
    fees, bank = ids(fund, Role.ATTORNEY_FEES, Role.BANK)

    with pytest.raises(DatabaseError, match="exact mirror"):
        raw_post(fund, kind="reversal", reverses=payment.pk, legs=[(bank, 100), (fees, -100)])

    # The test stands in for the disbursement's workflow, which alone reverses its payment.
    reversal = reverse_transaction(
        original=payment, actor=treasurer, memo="Paid twice", by_workflow=True
    )
    assert reversal.reverses_id == payment.pk
    with pytest.raises(AlreadyReversed):
        reverse_transaction(original=payment, actor=treasurer, memo="again")
    with pytest.raises(DatabaseError, match="cannot be reversed"):
        raw_post(
            fund,
            key="undo-undo",
            kind="reversal",
            reverses=reversal.pk,
            legs=[(bank, -350_000), (fees, 350_000)],
        )
    assert verify_fund(fund).ok


def test_a_reversal_may_not_name_another_funds_transaction(fund):
    other = create_fund(actor=None, opened_on=OPENED, name="Other", slug="other", goal_cents=0)
    foreign = give_check(other, 500, key="other-gift")
    bank, contributions = ids(fund, Role.BANK, Role.CONTRIBUTIONS)
    with pytest.raises(DatabaseError, match="not in this fund"):
        raw_post(
            fund, kind="reversal", reverses=foreign.pk, legs=[(bank, -500), (contributions, 500)]
        )


# The owner (who owns the tables) is still refused by the triggers


def test_the_owner_cannot_truncate_change_or_delete_ledger_rows(fund, as_role):
    give_check(fund, 1_000, key="gift")
    for table in LEDGER_TABLES:
        with pytest.raises(psycopg.Error, match="never emptied"):
            as_role("owner", f"TRUNCATE {table} CASCADE")
    for statement in (
        "UPDATE fund_transaction SET memo = 'x'",
        "DELETE FROM fund_posting",
        "UPDATE fund_fund SET currency = 'EUR'",
        "UPDATE fund_fund SET restricted = true",
        "UPDATE fund_account SET no_overdraft = false",
        "UPDATE fund_account SET name = 'Petty cash'",
        "DELETE FROM fund_account",
        "DELETE FROM fund_ledgerhead",
    ):
        with pytest.raises(psycopg.Error, match=r"append-only|never change|fixed|never deleted"):
            as_role("owner", statement)
    assert verify_fund(fund).ok


def test_the_owner_cannot_insert_an_unbalanced_or_closed_or_undated_transaction(
    fund, treasurer, as_role
):
    give_check(fund, 1_000, key="gift")
    close_books(fund=fund, through=date(2026, 2, 28), actor=treasurer)
    bank = account(fund, Role.BANK).pk
    insert = (
        "INSERT INTO fund_transaction (fund_id, year, number, effective_date, recorded_at, kind, "
        "memo, reason, source_ref, case_ref, idempotency_key, payload_hash, prev_hash, hash) "
        "VALUES ({fund}, 2026, 9, '{on}', now(), '{kind}', '{memo}', '', '', '', 'raw', 'x', 'p', "
        "'h')"
    )
    cases = [
        ({"on": "2026-02-14", "kind": "journal"}, "closed through 2026-02-28"),
        ({"on": "1999-02-14", "kind": "journal"}, "books open"),
        ({"on": "2026-03-14", "kind": "bribe"}, "fund_transaction_known_kind"),
        ({"on": "2026-03-14", "kind": "journal", "memo": " "}, "fund_transaction_has_memo"),
    ]
    for values, message in cases:
        with pytest.raises(psycopg.Error, match=message):
            as_role("owner", insert.format(fund=fund.pk, **({"memo": "m"} | values)))
    with pytest.raises(psycopg.Error, match="unbalanced"):
        as_role(
            "owner",
            insert.format(fund=fund.pk, on="2026-03-14", kind="journal", memo="m"),
            "INSERT INTO fund_posting (transaction_id, account_id, amount_cents, "
            f"balance_after_cents, effective_date) SELECT max(id), {bank}, 5, 0, '2026-03-14' "
            "FROM fund_transaction",
        )
    assert Transaction.objects.count() == 1


# Refusals that are FundErrors with a message, never a raw database error


def test_the_same_key_posted_to_two_funds_at_once_is_a_clean_conflict_every_time(fund):
    other = create_fund(actor=None, opened_on=OPENED, name="Other", slug="other", goal_cents=0)
    for race in range(30):
        outcomes: list[object] = []
        barrier = threading.Barrier(2)

        def post(target, key, outcomes=outcomes, barrier=barrier):
            try:
                barrier.wait()
                outcomes.append(give_check(target, 500, key=key))
            except Exception as error:  # collected and asserted below
                outcomes.append(error)
            finally:
                connection.close()

        key = f"shared-{race}"
        threads = [threading.Thread(target=post, args=(f, key)) for f in (fund, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        posted = [o for o in outcomes if isinstance(o, Transaction)]
        refused = [o for o in outcomes if not isinstance(o, Transaction)]
        assert len(posted) == 1, outcomes
        assert [type(refusal) for refusal in refused] == [IdempotencyConflict], outcomes


@pytest.mark.parametrize(
    ("amount", "fields"),
    [
        (2**63 - 1, {}),
        (10**15 + 1, {}),
        (500, {"memo": "a\x00b"}),
        (500, {"memo": "\ud800"}),
        (500, {"source_ref": "x" * 101}),
        (500, {"idempotency_key": "k\x00"}),
    ],
)
def test_out_of_range_amounts_and_unstorable_text_are_refusals_not_crashes(fund, amount, fields):
    with pytest.raises(InvalidTransaction):
        post_transaction(
            fund=fund,
            legs=[
                Leg(account(fund, Role.BANK), amount),
                Leg(account(fund, Role.NET_ASSETS), -amount),
            ],
            effective_date=DAY,
            kind=Kind.JOURNAL,
            memo=fields.get("memo", "Opening"),
            source_ref=fields.get("source_ref", ""),
            idempotency_key=fields.get("idempotency_key", "bad"),
            actor=None,
        )
    assert not Transaction.objects.exists()


def test_a_posting_that_would_overflow_a_balance_is_refused_as_out_of_range(fund, as_role):
    give_check(fund, 1_000, key="gift")
    bank = account(fund, Role.BANK)
    near = 2**63 - 100
    as_role(
        "superuser",
        "SET session_replication_role = replica",
        f"UPDATE fund_account SET balance_cents = {near} WHERE id = {bank.pk}",
        f"UPDATE fund_accountday SET balance_cents = {near} WHERE account_id = {bank.pk}",
    )

    with pytest.raises(InvalidTransaction, match="out of range"):
        give_check(fund, 500, key="overflow")
    assert Transaction.objects.count() == 1


# Cash, counted by effective date


def test_a_backdated_payment_that_would_overdraw_a_past_day_is_refused_naming_the_day(fund):
    give_check(fund, 100_000, key="gift-1", on=date(2026, 1, 5))
    pay_attorney(fund, 90_000, key="pay-1", on=date(2026, 1, 20))
    give_check(fund, 200_000, key="gift-2", on=date(2026, 2, 1))

    with pytest.raises(InsufficientFunds) as refused:
        pay_attorney(fund, 20_000, key="late", on=date(2026, 1, 10))

    assert str(refused.value) == (
        "Insufficient funds: Bank would be $100.00 short at the end of 2026-01-20."
    )
    assert account_balance(account(fund, Role.BANK)) == 210_000
    fits = pay_attorney(fund, 5_000, key="fits", on=date(2026, 1, 10))
    assert fits.effective_date == date(2026, 1, 10)
    assert verify_fund(fund).ok


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
    assert [type(error) for error in refused] == [InsufficientFunds]
    assert "Bank would be $200.00 short" in str(refused[0])
    assert account_balance(account(fund, Role.BANK)) == 40_000


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


# The lock date, through every path


def test_posting_on_or_before_the_lock_date_is_refused_through_every_path(fund, treasurer):
    give_check(fund, 10_000, key="gift", on=date(2026, 1, 5))
    close_books(fund=fund, through=date(2026, 1, 31), actor=treasurer)
    bank, contributions = ids(fund, Role.BANK, Role.CONTRIBUTIONS)

    with pytest.raises(BooksClosed, match="closed through 2026-01-31"):
        give_check(fund, 100, key="service", on=date(2026, 1, 31))
    with pytest.raises(DatabaseError, match="closed through 2026-01-31"):
        raw_post(fund, key="raw", on=date(2025, 12, 1), legs=[(bank, 5), (contributions, -5)])
    with pytest.raises(DatabaseError, match="permission denied"):
        runtime_sql("UPDATE fund_ledgerhead SET closed_through = NULL")
    give_check(fund, 100, key="after", on=date(2026, 2, 1))
    assert Transaction.objects.count() == 2


def test_moving_the_lock_date_back_needs_an_admin_and_a_reason_even_in_the_database(
    fund, treasurer, admin_user
):
    close_books(fund=fund, through=date(2026, 1, 31), actor=treasurer)
    with pytest.raises(NotAllowed):
        close_books(fund=fund, through=date(2025, 12, 31), actor=treasurer, reason="oops")
    with pytest.raises(DatabaseError, match="Only an admin"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT fund_close_books(%s, %s, %s, 'oops')",
            [fund.pk, date(2025, 12, 31), treasurer.pk],
        )
    with pytest.raises(DatabaseError, match="needs a reason"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT fund_close_books(%s, %s, %s, '')", [fund.pk, date(2025, 12, 31), admin_user.pk]
        )
    close_books(fund=fund, through=date(2025, 12, 31), actor=admin_user, reason="Late fee")
    assert LedgerHead.objects.get(fund=fund).closed_through == date(2025, 12, 31)
    assert verify_fund(fund).ok


def test_creating_funds_and_accounts_takes_the_database_function(fund):
    give_check(fund, 1_000, key="gift")
    with pytest.raises(DatabaseError, match="permission denied"):
        Fund.objects.create(name="Shadow", slug="shadow", goal_cents=0, opened_on=DAY)
    with pytest.raises(DatabaseError, match="permission denied"):
        Account.objects.create(fund=fund, code="9999", name="Slush", kind="asset", role="bank")
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        Posting.objects.create(
            transaction=Transaction.objects.first(),
            account=account(fund, Role.BANK),
            amount_cents=5,
        )


def test_the_databases_today_is_the_day_in_time_zone_not_in_utc(fund, treasurer, settings, as_role):
    # A zone whose day differs from UTC's right now: twelve hours behind before noon UTC, fourteen
    # ahead after ten. The database runs its sessions in UTC; its checks must count days there.
    utc = timezone.now().astimezone(UTC)
    zone = "Etc/GMT+12" if utc.hour < 11 else "Pacific/Kiritimati"
    original = settings.TIME_ZONE
    settings.TIME_ZONE = zone
    as_role("owner", today_function_sql(zone))
    try:
        today = timezone.localdate()
        assert today != utc.date()
        give_check(fund, 1_000, key="gift", on=today - timedelta(days=2))

        with pytest.raises(LockError, match="Only days that have ended can be closed"):
            close_books(fund=fund, through=today, actor=treasurer)
        assert close_books(fund=fund, through=today - timedelta(days=1), actor=treasurer)

        give_check(fund, 1_000, key="ahead", on=today + timedelta(days=31))
        with pytest.raises(InvalidTransaction, match="31 days from today"):
            give_check(fund, 1_000, key="too-far", on=today + timedelta(days=32))
        # The verifier counts the 31 days the same way (ahead of UTC it once reported this
        # entry as dated 32 days after it was recorded).
        assert verify_fund(fund).ok
    finally:
        settings.TIME_ZONE = original
        as_role("owner", today_function_sql(original))

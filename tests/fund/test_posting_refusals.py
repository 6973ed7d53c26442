"""What the posting door refuses, in the words a person reads, and the deadlocks it rides out."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, transaction

from fund.errors import InvalidTransaction, NotAllowed, UnbalancedTransaction
from fund.ledger.chain import content_digest
from fund.ledger.entries import Leg
from fund.ledger.posting import MAX_ATTEMPTS, post_transaction, supplied_key
from fund.models import Transaction
from tests.fund.conftest import DAY, Kind, Role, account

pytestmark = pytest.mark.django_db


def attempt(fund, **changes):
    """Post a $1.00 correction, with the fields given in place of the defaults."""
    fields = {
        "fund": fund,
        "legs": [Leg(account(fund, Role.BANK), 100), Leg(account(fund, Role.CONTRIBUTIONS), -100)],
        "effective_date": DAY,
        "kind": Kind.JOURNAL,
        "memo": "Correction",
        "idempotency_key": "k",
        "actor": None,
    } | changes
    return post_transaction(**fields)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "bribe"}, "Unknown transaction kind 'bribe'."),
        (
            {"effective_date": datetime(2026, 3, 10, 12, tzinfo=UTC)},
            "The effective date must be a date.",
        ),
        ({"effective_date": "2026-03-10"}, "The effective date must be a date."),
        ({"memo": 7}, "The memo must be text."),
        ({"memo": "   "}, "A memo of 1 to 500 characters is required."),
        ({"memo": "m" * 501}, "The memo is longer than 500 characters."),
        ({"reason": "r" * 501}, "The reason is longer than 500 characters."),
        ({"case_ref": "C" * 21}, "The case ref is longer than 20 characters."),
        ({"source_ref": "s" * 101}, "The source ref is longer than 100 characters."),
        ({"memo": "a\x00b"}, "The memo contains a NUL character."),
        ({"source_ref": "\ud800"}, "The source ref is not valid text."),
        ({"idempotency_key": ""}, "An idempotency key of 1 to 200 characters is required."),
        ({"idempotency_key": "k" * 201}, "An idempotency key of 1 to 200 characters is required."),
        ({"idempotency_key": 5}, "An idempotency key of 1 to 200 characters is required."),
        ({"idempotency_key": "k\x00"}, "The idempotency key contains a NUL character."),
    ],
)
def test_each_refusal_says_what_is_wrong_and_posts_nothing(fund, changes, message):
    with pytest.raises(InvalidTransaction) as refused:
        attempt(fund, **changes)
    assert str(refused.value) == message
    assert not Transaction.objects.exists()


def test_one_leg_is_refused_in_words(fund):
    with pytest.raises(UnbalancedTransaction) as refused:
        attempt(fund, legs=[Leg(account(fund, Role.BANK), 100)])
    assert str(refused.value) == "A transaction needs at least two legs."


def test_texts_at_their_limits_are_posted_and_optional_ones_default_to_empty(fund):
    txn = attempt(fund, memo="m" * 500, idempotency_key="k" * 200, case_ref="C" * 20)

    assert (len(txn.memo), len(txn.idempotency_key), txn.case_ref) == (500, 200, "C" * 20)
    plain = attempt(fund, idempotency_key="plain")
    assert (plain.reason, plain.source_ref, plain.case_ref) == ("", "", "")


def test_someone_who_may_not_post_is_refused_at_the_door(fund, auditor):
    with pytest.raises(NotAllowed) as refused:
        attempt(fund, actor=auditor)
    assert str(refused.value) == "Only a treasurer can post to the ledger."
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    "key", ["", "x" * 101, "reversal:100", "stripe:gift:pi_1", "a b", "café", "key\n", None, 12]
)
def test_a_supplied_key_that_could_pass_for_a_system_key_or_is_malformed_is_refused(treasurer, key):
    with pytest.raises(InvalidTransaction) as refused:
        supplied_key(key, supplier=treasurer)
    assert str(refused.value) == (
        "An idempotency key is 1 to 100 letters, digits, '.', '_' or '-'."
    )


def test_a_supplied_key_is_kept_apart_for_each_person(treasurer, auditor):
    key = "form-2026.11_30-" + "x" * 84  # 100 characters, every kind allowed

    assert supplied_key(key, supplier=treasurer) == f"journal:{treasurer.pk}:{key}"
    assert supplied_key(key, supplier=treasurer) != supplied_key(key, supplier=auditor)


def test_the_digest_refuses_a_value_it_does_not_cover(fund):
    txn = attempt(fund)
    txn.memo = 1.5
    with pytest.raises(TypeError, match=r"^float is not a value the digest covers$"):
        content_digest(txn, [(1, 100), (2, -100)])


# Deadlocks: PostgreSQL picks a victim, and the door tries again on its own.


@pytest.fixture
def deadlocks(as_role):
    """Make the next N inserts of a transaction fail as a deadlock victim would (SQLSTATE 40P01)."""
    as_role(
        "superuser",
        "CREATE SEQUENCE test_deadlock_seq",
        "GRANT USAGE ON SEQUENCE test_deadlock_seq TO PUBLIC",
        "CREATE TABLE test_deadlock_limit (n int)",
        "GRANT SELECT ON test_deadlock_limit TO PUBLIC",
        "INSERT INTO test_deadlock_limit VALUES (0)",
        """CREATE FUNCTION test_deadlock() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- nextval is not rolled back with the failed attempt: it counts the attempts.
            IF nextval('test_deadlock_seq') <= (SELECT n FROM test_deadlock_limit) THEN
                RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01';
            END IF;
            RETURN NEW;
        END $$""",
        "CREATE TRIGGER test_deadlock BEFORE INSERT ON fund_transaction "
        "FOR EACH ROW EXECUTE FUNCTION test_deadlock()",
    )

    def fail_next(n: int) -> None:
        as_role("superuser", f"UPDATE test_deadlock_limit SET n = {n}")

    def attempts() -> int:
        [(count,)] = as_role("superuser", "SELECT last_value FROM test_deadlock_seq")
        return int(count)

    yield fail_next, attempts
    as_role(
        "superuser",
        "DROP TRIGGER test_deadlock ON fund_transaction",
        "DROP FUNCTION test_deadlock()",
        "DROP TABLE test_deadlock_limit",
        "DROP SEQUENCE test_deadlock_seq",
    )


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_victim_is_tried_again_until_it_posts(fund, deadlocks):
    fail_next, attempts = deadlocks
    fail_next(MAX_ATTEMPTS - 1)

    txn = attempt(fund)

    assert attempts() == MAX_ATTEMPTS
    assert Transaction.objects.get() == txn


@pytest.mark.django_db(transaction=True)
def test_after_four_deadlocks_in_a_row_the_error_is_raised(fund, deadlocks):
    fail_next, attempts = deadlocks
    fail_next(MAX_ATTEMPTS)

    with pytest.raises(DatabaseError, match="deadlock detected"):
        attempt(fund)

    assert attempts() == MAX_ATTEMPTS
    assert not Transaction.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_a_deadlock_is_the_callers_to_retry(fund, deadlocks):
    fail_next, attempts = deadlocks
    fail_next(1)

    with pytest.raises(DatabaseError, match="deadlock detected"), transaction.atomic():
        attempt(fund)

    assert attempts() == 1
    assert not Transaction.objects.exists()

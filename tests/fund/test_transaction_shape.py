"""One shape for a transaction: the model, Entry, the digest, fund_post()'s arguments and the API
name the same fields, so a field added to one layer and forgotten in another fails here."""

import dataclasses
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from fund.ledger.api import TransactionOut
from fund.ledger.chain import (
    DIGEST_FIELDS,
    PAYLOAD_KEYS,
    canonical_digest,
    chain_hash,
    content_digest,
    digests,
    payload_digest,
)
from fund.ledger.entries import Entry, Leg
from fund.ledger.models import Transaction
from fund.ledger.posting import FundPostArgs, fund_post_args, post_transaction
from fund.ledger.verify import verify_fund
from tests.fund.conftest import Kind, Role, account, give_check

FIELDS = {f.name for f in Transaction._meta.concrete_fields}
COLUMNS = {f.attname for f in Transaction._meta.concrete_fields}
# What the database works out itself: the row id, the number, the recording time, and the hashes.
COMPUTED = {"id", "year", "number", "recorded_at", "payload_hash", "prev_hash", "hash"}
# The chain link adds the year, number and previous hash to the digest; recorded_at is in it.
LINKED = {"id", "year", "number", "payload_hash", "prev_hash", "hash"}
# Left out of the API: the row id, the fund (in the path), year and number (in `reference`), and
# the replay hash, which only the posting path compares.
NOT_IN_API = {"id", "fund", "year", "number", "payload_hash"}


def test_an_entry_carries_every_field_a_caller_gives_under_the_models_name():
    entry_fields = {f.name for f in dataclasses.fields(Entry)} - {"legs"}

    assert entry_fields == FIELDS - COMPUTED


def test_the_digest_covers_every_column_but_those_the_chain_link_adds():
    covered = {attribute for _, attribute in DIGEST_FIELDS}

    assert covered == COLUMNS - LINKED
    assert len({key for key, _ in DIGEST_FIELDS}) == len(DIGEST_FIELDS)


def test_a_replay_repeats_everything_but_the_key_the_recorder_and_the_time():
    assert {key for key, _ in DIGEST_FIELDS} - PAYLOAD_KEYS == {"key", "recorded_by", "recorded_at"}


def test_the_api_shows_every_field_but_the_internal_ones():
    shown = set(TransactionOut.model_fields)

    assert shown - {"reference", "postings"} == FIELDS - NOT_IN_API


@pytest.mark.django_db
def test_fund_post_takes_the_parameters_the_named_tuple_names():
    with connection.cursor() as cursor:
        cursor.execute("SELECT proargnames FROM pg_proc WHERE proname = 'fund_post'")
        [(names,)] = cursor.fetchall()

    assert names[: len(FundPostArgs._fields)] == [f"p_{name}" for name in FundPostArgs._fields]


@pytest.mark.django_db
def test_every_field_of_an_entry_reaches_the_stored_transaction_and_its_digest(fund, treasurer):
    original = give_check(fund, 12_345, key="shape-gift", on=date(2026, 3, 2))
    legs = [
        Leg(account(fund, Role.BANK), -12_345),
        Leg(account(fund, Role.CONTRIBUTIONS), 12_345),
    ]
    given = {
        "effective_date": date(2026, 3, 9),
        "kind": Kind.REVERSAL,
        "memo": 'Check bounced \u2014 "returned"\n\tby the bank \\ caf\u00e9 \U0001f4b8',
        "reason": "Returned by the bank",
        "source_ref": "check-1931",
        "case_ref": "C-2026-0042",
        "idempotency_key": "shape:every-field",
        "reverses": original,
    }
    posted = post_transaction(fund=fund, legs=legs, actor=treasurer, **given)

    stored = Transaction.objects.get(pk=posted.pk)
    for name, value in {**given, "fund": fund, "recorded_by": treasurer}.items():
        assert getattr(stored, name) == value, name
    entry = Entry(fund=fund, legs=tuple(legs), recorded_by=treasurer, **given)
    assert fund_post_args(entry).amounts == [leg.amount_cents for leg in legs]
    # The database computed the digest and the replay hash; Python's own formulas agree.
    pairs = [(p.account_id, p.amount_cents) for p in stored.postings.all()]
    link = chain_hash(
        prev_hash=stored.prev_hash,
        year=stored.year,
        number=stored.number,
        digest=content_digest(stored, pairs),
    )
    assert stored.hash == link
    assert stored.payload_hash == payload_digest(stored, pairs)
    assert verify_fund(fund).ok


@dataclasses.dataclass
class Row:
    """A transaction's fields as the digest reads them, as a stored Transaction has them."""

    fund_id: int
    effective_date: date
    kind: str
    memo: str
    reason: str
    source_ref: str
    case_ref: str
    idempotency_key: str
    recorded_by_id: int | None
    reverses_id: int | None
    recorded_at: datetime


def reference_digest(row: Row, legs) -> str:
    """The digest as docs/ledger.md specifies it, through json.dumps: what digests() must match."""
    document = {key: getattr(row, attribute) for key, attribute in DIGEST_FIELDS} | {
        "legs": sorted([a, m] for a, m in legs),
        "v": 1,
    }
    document["date"] = row.effective_date.isoformat()
    document["recorded_at"] = row.recorded_at.astimezone(UTC).isoformat(timespec="microseconds")
    return canonical_digest(document)


texts = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
)


@given(
    memo=texts,
    reason=texts,
    key=texts,
    recorded_by=st.none() | st.integers(1, 10**9),
    legs=st.lists(st.tuples(st.integers(1, 10**6), st.integers(-(10**15), 10**15)), max_size=6),
)
def test_the_fast_digest_is_the_specified_canonical_json(memo, reason, key, recorded_by, legs):
    row = Row(
        7,
        date(2026, 3, 1),
        "journal",
        memo,
        reason,
        "src",
        "C-1",
        key,
        recorded_by,
        None,
        datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
    )
    assert digests(row, legs)[0] == reference_digest(row, legs)


@pytest.mark.django_db
def test_the_database_digest_is_the_python_digest_for_awkward_text():
    awkward = [
        'quote " backslash \\ slash /',
        "tab\there\nnewline\rreturn\x08\x0c\x01\x1f\x7f",
        "caf\u00e9 \u2014 \u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9 \U0001f4b8 \u2028\u2029",
        "\ufeffbom and \u200b zero width",
        "",
    ]
    when = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
    for text in awkward:
        row = Row(7, date(2026, 3, 1), "journal", text, text, text, text, text, 3, 9, when)
        legs = [(2, -500), (5, 500)]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT fund_digest(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s), "
                "fund_payload_hash(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    7,
                    row.effective_date,
                    "journal",
                    text,
                    text,
                    text,
                    text,
                    text,
                    3,
                    9,
                    when,
                    "[[2,-500],[5,500]]",
                    7,
                    row.effective_date,
                    "journal",
                    text,
                    text,
                    text,
                    text,
                    9,
                    "[[2,-500],[5,500]]",
                ],
            )
            assert cursor.fetchone() == digests(row, legs), repr(text)

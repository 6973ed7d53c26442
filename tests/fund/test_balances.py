"""Balances at the end of any day come from monthly checkpoints and agree with the postings."""

import random
from datetime import date, timedelta

import pytest
from django.db.models import Sum

from fund.ledger.queries import (
    account_register,
    balances_as_of,
    trial_balance,
    with_running_balances,
)
from fund.models import Account, Posting
from tests.fund.conftest import Kind, Role, account, post

pytestmark = pytest.mark.django_db


def recomputed(fund, on):
    """Every account's balance at the end of `on`, summed from all postings (the slow way)."""
    sums = dict(
        Posting.objects.filter(transaction__fund=fund, transaction__effective_date__lte=on)
        .values("account")
        .annotate(total=Sum("amount_cents"))
        .values_list("account", "total")
    )
    return {
        pk: sums.get(pk, 0) for pk in Account.objects.filter(fund=fund).values_list("pk", flat=True)
    }


def test_balances_as_of_any_day_match_a_recompute_even_with_backdated_entries(fund):
    rng = random.Random(7)
    start = date(2025, 11, 1)
    for n in range(60):
        # Posted in random date order, as late-recorded checks and corrections are.
        on = start + timedelta(days=rng.randrange(0, 200))
        post(
            fund,
            Role.BANK,
            Role.CONTRIBUTIONS,
            rng.randrange(100, 90_000),
            kind=Kind.GIFT_OFFLINE,
            key=f"g{n}",
            on=on,
        )
        if n % 3 == 0:
            post(
                fund,
                Role.ATTORNEY_FEES,
                Role.BANK,
                rng.randrange(1, 100),
                kind=Kind.DISBURSEMENT,
                key=f"p{n}",
                on=on,
            )

    for on in [
        start - timedelta(days=1),
        start,
        date(2025, 12, 31),
        date(2026, 1, 1),
        date(2026, 2, 14),
        date(2026, 6, 30),
    ]:
        assert balances_as_of(fund, on) == recomputed(fund, on), on


def test_the_trial_balance_on_a_day_balances_and_leaves_out_later_entries(fund):
    post(
        fund,
        Role.BANK,
        Role.CONTRIBUTIONS,
        10_000,
        kind=Kind.GIFT_OFFLINE,
        key="a",
        on=date(2026, 1, 31),
    )
    post(
        fund,
        Role.BANK,
        Role.CONTRIBUTIONS,
        5_000,
        kind=Kind.GIFT_OFFLINE,
        key="b",
        on=date(2026, 2, 1),
    )

    balance = trial_balance(fund, on=date(2026, 1, 31))
    rows = {row.account.role: row for row in balance.rows}

    assert rows[Role.BANK].debit_cents == 10_000
    assert rows[Role.CONTRIBUTIONS].credit_cents == 10_000
    assert balance.total_debits == balance.total_credits == 10_000


def test_a_register_runs_its_balance_by_effective_date_even_when_entries_come_late(fund):
    bank = account(fund, Role.BANK)
    post(
        fund,
        Role.BANK,
        Role.CONTRIBUTIONS,
        100_000,
        kind=Kind.GIFT_OFFLINE,
        key="a",
        on=date(2026, 3, 2),
    )
    post(
        fund,
        Role.ATTORNEY_FEES,
        Role.BANK,
        25_000,
        kind=Kind.DISBURSEMENT,
        key="b",
        on=date(2026, 3, 20),
    )
    # Recorded last, dated between the two: the register shows it by its date.
    post(
        fund,
        Role.BANK,
        Role.CONTRIBUTIONS,
        5_000,
        kind=Kind.GIFT_OFFLINE,
        key="c",
        on=date(2026, 3, 10),
    )
    post(
        fund,
        Role.BANK,
        Role.CONTRIBUTIONS,
        700,
        kind=Kind.GIFT_OFFLINE,
        key="d",
        on=date(2026, 4, 2),
    )

    register = account_register(bank, start=date(2026, 3, 5), end=date(2026, 3, 31))
    rows = with_running_balances(bank, list(register.postings))

    assert [(r.posting.effective_date, r.posting.amount_cents, r.balance_cents) for r in rows] == [
        (date(2026, 3, 20), -25_000, 80_000),
        (date(2026, 3, 10), 5_000, 105_000),
    ]
    assert (register.opening_cents, register.closing_cents) == (100_000, 80_000)
    assert (register.debits_cents, register.credits_cents) == (5_000, 25_000)
    assert register.opening_cents + register.debits_cents - register.credits_cents == 80_000
    # Every posting's recorded balance (in recording order) is not what a statement shows.
    assert [r.posting.balance_after_cents for r in rows] == [75_000, 80_000]

"""Balances at the end of any day come from monthly checkpoints and agree with the postings."""

import random
from datetime import date, timedelta

import pytest
from django.db.models import Sum

from fund.ledger.queries import balances_as_of, trial_balance
from fund.models import Account, Posting
from tests.fund.conftest import Kind, Role, post

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

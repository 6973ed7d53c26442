"""Ledger fixtures: a fund with its chart, and helpers that post the common money flows."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from fund.ledger.entries import Leg
from fund.ledger.posting import post_transaction
from fund.ledger.services import create_fund
from fund.models import Account, Fund, Transaction

Role = Account.Role
Kind = Transaction.Kind
DAY = date(2026, 3, 10)
# The day the test funds' books open: before every date the tests post at.
OPENED = date(2024, 1, 1)


@pytest.fixture
def seeded(fund, treasurer):
    """The fund with the hand-computed scenario of tests/fund/scenario.py posted to it."""
    from tests.fund.scenario import seed_scenario

    fund.public_summary = "Bail and lawyers for detained workers in the valley."
    fund.save()
    seed_scenario(fund, actor=treasurer)
    return fund


@pytest.fixture
def fund(db) -> Fund:
    return create_fund(
        actor=None,
        opened_on=OPENED,
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=15_000_000,
    )


def account(fund: Fund, role: str) -> Account:
    return Account.objects.get(fund=fund, role=role)


def post(
    fund, debit_role, credit_role, cents, *, kind=Kind.JOURNAL, key, on=DAY, actor=None, **extra
):
    return post_transaction(
        fund=fund,
        legs=[Leg(account(fund, debit_role), cents), Leg(account(fund, credit_role), -cents)],
        effective_date=on,
        kind=kind,
        memo=f"{kind} {cents}",
        idempotency_key=key,
        actor=actor,
        **extra,
    )


def give_check(fund, cents, *, key, on=DAY):
    """An offline gift deposited straight to the bank."""
    return post(fund, Role.BANK, Role.CONTRIBUTIONS, cents, kind=Kind.GIFT_OFFLINE, key=key, on=on)


def pay_attorney(fund, cents, *, key, on=DAY, case_ref="C-2026-0001"):
    return post(
        fund,
        Role.ATTORNEY_FEES,
        Role.BANK,
        cents,
        kind=Kind.DISBURSEMENT,
        key=key,
        on=on,
        case_ref=case_ref,
    )


# Days are asked for when a test runs, never at import: a suite run may cross midnight, and a
# test collected on one day would then compare against the next day's entries.


def today() -> date:
    """Return the day in TIME_ZONE now (the day the ledger's checks count from)."""
    return timezone.localdate()


def tomorrow() -> date:
    return today() + timedelta(days=1)


def days_resolved(values: dict) -> dict:
    """Return parametrized values with each day given as a function (e.g. `tomorrow`) called now."""
    return {name: value() if callable(value) else value for name, value in values.items()}


def last_month() -> date:
    """Return a day of last month: a month that has ended, so a treasurer may close it."""
    return (today().replace(day=1) - timedelta(days=1)).replace(day=10)


def journal_entry(legs, *, on=None, key="test-1", memo="Recode a fee", reason="Miscoded"):
    """Return the journal form's POST data; legs are (account, debit, credit) as typed."""
    data = {
        "effective_date": (on or last_month()).isoformat(),
        "memo": memo,
        "reason": reason,
        "idempotency_key": key,
        "legs-TOTAL_FORMS": str(max(4, len(legs))),
        "legs-INITIAL_FORMS": "0",
        "legs-MIN_NUM_FORMS": "0",
        "legs-MAX_NUM_FORMS": "20",
    }
    for index, (leg_account, debit, credit) in enumerate(legs):
        data[f"legs-{index}-account"] = str(leg_account.pk) if leg_account else ""
        data[f"legs-{index}-debit"] = debit
        data[f"legs-{index}-credit"] = credit
    return data

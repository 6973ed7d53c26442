"""Fixtures the cases tests share: the fund its money comes from."""

from datetime import date

import pytest

from fund.ledger.services import create_fund
from fund.models import Fund
from tests.fund.conftest import give_check

IN_BANK = 1_000_000  # $10,000.00
GIFT_ON = date(2026, 3, 10)


@pytest.fixture
def fund(db) -> Fund:
    """A fund with $10,000.00 in the bank from a check (test_bonds and test_retention keep
    their own, with more)."""
    fund = create_fund(
        actor=None,
        opened_on=date(2024, 1, 1),
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=15_000_000,
    )
    give_check(fund, IN_BANK, key="gift:check-1", on=GIFT_ON)
    return fund

"""Property: whatever sequence of postings and reversals, the books stay consistent."""

import itertools
from datetime import date

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fund.errors import AlreadyReversed, InsufficientFunds
from fund.ledger.entries import Leg
from fund.ledger.posting import post_transaction
from fund.ledger.services import create_fund, reverse_transaction
from fund.ledger.verify import verify_fund
from fund.models import Account, Posting, Transaction
from tests.fund.conftest import OPENED

ROLES = list(Account.Role)
_funds = itertools.count()

legs_strategy = st.lists(
    st.tuples(st.sampled_from(ROLES), st.integers(min_value=1, max_value=5_000_000)),
    min_size=1,
    max_size=4,
)
operation = st.one_of(
    st.tuples(
        st.just("post"),
        legs_strategy,
        st.sampled_from(ROLES),
        st.dates(date(2025, 1, 1), date(2026, 6, 30)),
    ),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50)),
)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=st.lists(operation, min_size=1, max_size=25))
def test_any_sequence_of_postings_and_reversals_keeps_the_books_consistent(operations):
    fund = create_fund(
        actor=None, opened_on=OPENED, name="Property", slug=f"property-{next(_funds)}", goal_cents=0
    )
    accounts = {a.role: a for a in Account.objects.filter(fund=fund)}
    posted: list[Transaction] = []
    for n, op in enumerate(operations):
        try:
            if op[0] == "post":
                _, debits, credit_role, on = op
                legs = [Leg(accounts[role], cents) for role, cents in debits]
                legs.append(Leg(accounts[credit_role], -sum(cents for _, cents in debits)))
                posted.append(
                    post_transaction(
                        fund=fund,
                        legs=legs,
                        effective_date=on,
                        kind=Transaction.Kind.JOURNAL,
                        memo="property",
                        idempotency_key=f"{fund.slug}:{n}",
                        actor=None,
                    )
                )
            elif posted:
                original = posted[op[1] % len(posted)]
                posted.append(
                    reverse_transaction(
                        original=original, actor=None, memo="undo", effective_date=date(2026, 7, 1)
                    )
                )
        except (InsufficientFunds, AlreadyReversed):
            pass
        except Exception as error:
            if "reversal cannot be reversed" not in str(error):
                raise

    for account in Account.objects.filter(fund=fund):
        recomputed = (
            Posting.objects.filter(account=account).aggregate(s=Sum("amount_cents"))["s"] or 0
        )
        assert account.balance_cents == recomputed
        if account.no_overdraft:
            assert account.balance_cents >= 0
    postings = Posting.objects.filter(transaction__fund=fund)
    debits = postings.filter(amount_cents__gt=0).aggregate(s=Sum("amount_cents"))["s"] or 0
    credits = postings.filter(amount_cents__lt=0).aggregate(s=Sum("amount_cents"))["s"] or 0
    assert debits == -credits
    assert verify_fund(fund).ok, verify_fund(fund).problem

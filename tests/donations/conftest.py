"""Donation fixtures: a fund, Stripe's API played by an in-process double, gifts in each state."""

from datetime import date

import pytest

from donations.models import Gift
from donations.services.online import GiftRequest, start_online_gift
from fund.ledger.models import Account, Fund
from fund.ledger.queries import account_balance, account_for
from fund.ledger.services import create_fund
from fund.ledger.verify import verify_funds
from tests.donations import stripe_double
from tests.donations import stripe_objects as so

OPENED = date(2024, 1, 1)
Role = Account.Role


@pytest.fixture(autouse=True)
def books_still_verify(request):
    """After every donation scenario, every fund's ledger verifies, as `verify_ledger` checks it."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db"}:
        yield
        return
    # Set the database up here, so that it is still there when this fixture finishes.
    transactional = "transactional_db" in names or (marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    problems = [(v.fund, v.problems) for v in verify_funds() if not v.ok]
    assert problems == []


@pytest.fixture
def fund(db, settings) -> Fund:
    settings.DEFAULT_FUND_SLUG = "valley"
    return create_fund(
        actor=None,
        opened_on=OPENED,
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=15_000_000,
    )


@pytest.fixture
def stripe_api(settings):
    """Stripe's API, played by a local double that the real stripe-python client talks to."""
    double, server = stripe_double.start()
    settings.STRIPE_SECRET_KEY = "sk_test_suite_only"
    settings.STRIPE_API_BASE = double.url
    settings.STRIPE_DEMO = False
    yield double
    server.shutdown()
    server.server_close()


def balances(fund: Fund) -> dict[str, int]:
    """Return every account's balance by role, leaving out the zeros."""
    found = {role: account_balance(account_for(fund, role)) for role in Role.values}
    return {role: cents for role, cents in found.items() if cents}


def page_gift(fund, cents=10_000, *, monthly=False, email="ana@example.org", **fields) -> Gift:
    """A gift as the donation page starts it: pending, its donor known."""
    request = GiftRequest(
        fund=fund,
        amount_cents=cents,
        cover_fee_cents=0,
        monthly=monthly,
        email=email,
        name="Ana Flores",
        address="",
        employer="",
        anonymous=False,
        tribute="",
        tribute_name="",
        organisation="",
        list_as_supporter=False,
        language="en",
    )
    return start_online_gift(request)


def metadata(gift: Gift) -> dict[str, str]:
    return {"fund": gift.fund.slug, "donation": str(gift.row_key)}


def completed(gift: Gift, *, pi: str | None = None, cents: int | None = None) -> dict:
    session = so.checkout_session(
        amount=cents or gift.amount_cents,
        metadata=metadata(gift),
        payment_intent=pi or so.new_id("pi"),
    )
    return so.event("checkout.session.completed", session)


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """POST signed events to the webhook, running what they enqueue on commit (tasks)."""

    def send(*events, expect=200):
        responses = []
        for evt in events:
            with django_capture_on_commit_callbacks(execute=True):
                response = so.post_event(client, evt)
            assert response.status_code == expect, response.content
            responses.append(response)
        return responses[-1]

    return send

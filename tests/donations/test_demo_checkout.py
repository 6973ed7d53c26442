"""Demo mode (`make demo`): a local checkout paying through our own webhook, never in production."""

import re
from html import unescape

import pytest

from donations.links import manage_path
from donations.models import Gift, RecurringGift, StripeEvent
from donations.stripe import demo_fee
from fund.ledger.models import Transaction
from fund.ledger.progress import fund_progress
from fund.ledger.verify import verify_fund
from tests.donations.conftest import Role, balances
from tests.security.test_deploy import check_deploy, production_env  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

GIVE = "/f/valley/give/"
Kind = Transaction.Kind


@pytest.fixture
def demo(settings):
    """Demo mode as `make demo` runs it: no Stripe key, Stripe played by local pages."""
    settings.STRIPE_DEMO = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: any call to Stripe fails


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what requests enqueue on commit (the fee task), as the demo's worker would."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def text_of(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def start(client, **fields):
    """Post the donation page and return where it sends the donor."""
    form = {"amount": "2500", "frequency": "once", "email": "ana@example.org"} | fields
    response = client.post(GIVE, form)
    assert response.status_code == 303, response.content
    return response["Location"]


def test_the_donation_page_says_it_is_a_demo(client, fund, demo):
    text = text_of(client.get(GIVE))

    assert "DEMO — no real money" in text
    assert "Continue to the demo payment" in text


def test_a_test_card_books_the_gift_through_the_webhook_and_moves_the_figures(
    client, fund, demo, run_on_commit
):
    before = fund_progress(fund)
    checkout = start(client)
    gift = Gift.objects.get()

    page = client.get(checkout)
    paid = run_on_commit(client.post, checkout, {"card_number": "4242 4242 4242 4242"})

    assert re.fullmatch(rf"/give/demo-checkout/cs_demo_{gift.row_key.hex}/", checkout)
    assert "DEMO — no real money" in text_of(page)
    assert "$25.00 to Valley Labor Council Legal Fund" in text_of(page)
    assert paid.status_code == 303
    assert paid["Location"] == "/f/valley/give/thanks/"
    gift.refresh_from_db()
    assert gift.status == Gift.Status.PAID
    assert gift.stripe_payment_intent == f"pi_demo_{gift.row_key.hex}"
    assert gift.fee_cents == demo_fee(2_500) == 103
    event = StripeEvent.objects.get()
    assert (event.type, event.event_id) == (
        "checkout.session.completed",
        f"evt_demo_{gift.row_key.hex}_completed",
    )
    after = fund_progress(fund)
    assert after.raised - before.raised == 2_500
    assert after.gifts - before.gifts == 1
    assert after.fees - before.fees == 103
    assert balances(fund) == {
        Role.STRIPE_CLEARING: 2_397,
        Role.CONTRIBUTIONS: -2_500,
        Role.PROCESSING_FEES: 103,
    }
    assert verify_fund(fund).ok


def test_a_declined_card_is_a_form_error_and_the_gift_stays_pending(client, fund, demo):
    checkout = start(client)

    response = client.post(checkout, {"card_number": "4000-0000-0000-0002"})

    assert response.status_code == 400
    assert "Your card was declined." in text_of(response)
    gift = Gift.objects.get()
    assert gift.status == Gift.Status.PENDING
    assert gift.transaction_id is None
    assert not StripeEvent.objects.exists()
    assert not Transaction.objects.filter(fund=fund, kind=Kind.GIFT_ONLINE).exists()


def test_a_number_that_is_not_a_test_card_is_refused(client, fund, demo):
    checkout = start(client)

    response = client.post(checkout, {"card_number": "5555 5555 5555 4444"})

    assert response.status_code == 400
    assert "This is a demo: use the test card 4242 4242 4242 4242." in text_of(response)
    assert Gift.objects.get().status == Gift.Status.PENDING


def test_paying_a_demo_checkout_twice_books_it_once(client, fund, demo, run_on_commit):
    checkout = start(client)
    run_on_commit(client.post, checkout, {"card_number": "4242424242424242"})

    again = client.get(checkout)
    posted = run_on_commit(client.post, checkout, {"card_number": "4242424242424242"})

    assert "This demo payment is already done." in text_of(again)
    assert posted.status_code == 200
    assert Transaction.objects.filter(fund=fund, kind=Kind.GIFT_ONLINE).count() == 1
    assert StripeEvent.objects.count() == 1


def test_a_monthly_demo_gift_is_paid_by_its_invoice_and_cancelled_by_webhook(
    client, fund, demo, run_on_commit
):
    checkout = start(client, frequency="monthly")
    run_on_commit(client.post, checkout, {"card_number": "4242 4242 4242 4242"})
    gift = Gift.objects.select_related("recurring").get()
    recurring = gift.recurring
    path = manage_path(recurring)

    page = client.get(path)
    cancelled = client.post(path)

    assert gift.status == Gift.Status.PAID
    assert gift.stripe_invoice == f"in_demo_{gift.row_key.hex}_1"
    assert gift.fee_cents == 103
    assert [e.type for e in StripeEvent.objects.order_by("id")] == [
        "checkout.session.completed",
        "invoice.paid",
        "customer.subscription.deleted",
    ]
    assert "$25.00 every month to Valley Labor Council Legal Fund" in text_of(page)
    assert "Active: paid every month." in text_of(page)
    assert "Cancel my monthly gift" in text_of(page)
    assert cancelled.status_code == 303
    assert cancelled["Location"] == path
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.CANCELED
    assert recurring.stripe_subscription == f"sub_demo_{gift.row_key.hex}"
    after = client.get(path)
    assert "Cancelled: no more payments will be taken." in text_of(after)
    assert "Cancel my monthly gift" not in text_of(after)
    assert client.post(path).status_code == 409
    assert fund_progress(fund).raised == 2_500


def test_a_monthly_gift_not_paid_yet_cannot_be_cancelled_in_the_demo(client, fund, demo):
    start(client, frequency="monthly")
    recurring = RecurringGift.objects.get()

    response = client.post(manage_path(recurring))

    assert response.status_code == 409
    assert "This monthly gift has not started yet" in text_of(response)
    assert not StripeEvent.objects.exists()


def test_the_demo_checkout_does_not_exist_outside_demo_mode(client, fund, demo, settings):
    checkout = start(client)
    settings.STRIPE_DEMO = False
    settings.STRIPE_SECRET_KEY = "sk_test_suite_only"

    assert client.get(checkout).status_code == 404
    assert client.post(checkout, {"card_number": "4242424242424242"}).status_code == 404
    assert Gift.objects.get().status == Gift.Status.PENDING


def test_an_unknown_demo_checkout_is_404(client, fund, demo):
    assert client.get("/give/demo-checkout/cs_demo_0000/").status_code == 404
    assert client.get("/give/demo-checkout/cs_test_0001/").status_code == 404


# Never in production


def test_the_deploy_check_refuses_demo_mode(production_env):  # noqa: F811
    result = check_deploy(production_env | {"STRIPE_DEMO": "1"})

    assert result.returncode != 0
    assert (
        "(donations.E001) STRIPE_DEMO is on with DEBUG off: the demo checkout books gifts no one "
        "paid." in result.stderr
    )


def test_the_deploy_check_refuses_the_demos_webhook_secret(production_env, settings):  # noqa: F811
    secret = settings.DEMO_STRIPE_WEBHOOK_SECRET

    result = check_deploy(production_env | {"STRIPE_WEBHOOK_SECRET": f"whsec_real,{secret}"})

    assert result.returncode != 0
    assert "(donations.E002) STRIPE_WEBHOOK_SECRET is the secret published with the demo." in (
        result.stderr
    )
    assert "donations.E001" not in result.stderr


def test_the_deploy_check_wants_a_webhook_secret_and_the_sites_address_with_stripe(
    production_env,  # noqa: F811
):
    with_stripe = production_env | {"STRIPE_SECRET_KEY": "sk_live_example", "SITE_URL": ""}
    with_stripe.pop("STRIPE_WEBHOOK_SECRET", None)

    result = check_deploy(with_stripe)

    assert result.returncode != 0
    assert "(donations.W001) STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not" in (
        result.stderr
    )
    assert "(donations.W002) SITE_URL is not an https:// address" in result.stderr

    complete = with_stripe | {
        "STRIPE_WEBHOOK_SECRET": "whsec_real",
        "SITE_URL": "https://fund.example.org",
    }
    result = check_deploy(complete)
    assert "donations.W001" not in result.stderr
    assert "donations.W002" not in result.stderr

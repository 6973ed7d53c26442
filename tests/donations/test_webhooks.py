"""Stripe's webhook: signed events stored once and booked to the cent, in any order, any number of
times."""

import json
import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from donations.models import Dispute, Gift, RecurringGift, StripeEvent
from fund.ledger.models import Transaction
from fund.ledger.progress import fund_progress
from fund.ledger.services import create_fund
from fund.ledger.verify import verify_fund
from tests.donations import stripe_objects as so
from tests.donations.conftest import Role, balances, completed, metadata, page_gift

pytestmark = pytest.mark.django_db

Kind = Transaction.Kind


def transactions(fund, kind=None):
    found = Transaction.objects.filter(fund=fund).order_by("id")
    return list(found.filter(kind=kind) if kind else found)


# A gift, its fee, its refunds and disputes


def test_a_completed_checkout_books_the_gift_and_then_stripes_actual_fee(fund, stripe_api, deliver):
    gift = page_gift(fund, 10_000)
    evt = completed(gift)
    pi = evt["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=10_000, fee=320)

    deliver(evt)

    gift.refresh_from_db()
    assert (gift.status, gift.stripe_payment_intent, gift.fee_cents) == ("paid", pi, 320)
    assert balances(fund) == {
        Role.STRIPE_CLEARING: 9_680,
        Role.CONTRIBUTIONS: -10_000,
        Role.PROCESSING_FEES: 320,
    }
    assert [t.kind for t in transactions(fund)] == [Kind.GIFT_ONLINE, Kind.STRIPE_FEE]
    (read,) = stripe_api.calls("GET", f"/v1/payment_intents/{pi}")
    assert read.param("expand[0]") == "latest_charge.balance_transaction"
    assert read.headers["Stripe-Version"] == "2026-10-28.endive"
    assert verify_fund(fund).ok


def test_partial_refunds_then_a_dispute_lost_then_won_add_up_by_hand(fund, stripe_api, deliver):
    gift = page_gift(fund, 10_000)
    evt = completed(gift)
    pi = evt["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=10_000, fee=320)
    deliver(evt)
    charge = so.charge(amount=10_000, payment_intent=pi, refunded=2_000)
    deliver(so.event("charge.refunded", charge))
    # The second refund: Stripe reports the charge's running total, $50.00.
    deliver(so.event("charge.refunded", {**charge, "amount_refunded": 5_000}))
    withdrawal = so.balance_transaction(amount=-5_000, fee=1_500, source="dp", type_="adjustment")
    dispute = so.dispute(
        charge_id=charge["id"], payment_intent=pi, amount=5_000, movements=[withdrawal]
    )
    deliver(
        so.event("charge.dispute.created", {**dispute, "balance_transactions": []}),
        so.event("charge.dispute.funds_withdrawn", dispute),
        so.event("charge.dispute.closed", {**dispute, "status": "lost"}),
    )
    gift.refresh_from_db()
    assert (gift.status, gift.refunded_cents, gift.disputed_cents) == (
        "partially_refunded",
        5_000,
        5_000,
    )
    assert Dispute.objects.get().status == "lost"
    # Stripe reverses its decision later: the money comes back (the fee does not).
    back = so.balance_transaction(amount=5_000, fee=0, source=dispute["id"], type_="adjustment")
    deliver(
        so.event(
            "charge.dispute.funds_reinstated",
            {**dispute, "status": "won", "balance_transactions": [withdrawal, back]},
        )
    )

    # By hand: 100.00 gift, 3.20 fee, 20.00 and 30.00 refunded, 50.00 + 15.00 disputed, 50.00 back.
    assert balances(fund) == {
        Role.STRIPE_CLEARING: 10_000 - 320 - 2_000 - 3_000 - 5_000 - 1_500 + 5_000,
        Role.CONTRIBUTIONS: -10_000,
        Role.PROCESSING_FEES: 320 + 1_500,
        Role.REFUNDS: 5_000,
    }
    gift.refresh_from_db()
    assert gift.disputed_cents == 0
    assert Dispute.objects.get().status == "won"
    progress = fund_progress(fund)
    assert (progress.raised, progress.refunds, progress.fees) == (5_000, 5_000, 1_820)
    assert verify_fund(fund).ok


def test_a_dispute_won_with_its_fee_returned_books_the_fee_back(fund, stripe_api, deliver):
    gift = page_gift(fund, 10_000)
    evt = completed(gift)
    pi = evt["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=10_000, fee=320)
    deliver(evt)
    charge = so.charge(amount=10_000, payment_intent=pi)
    withdrawal = so.balance_transaction(amount=-10_000, fee=1_500, source="dp", type_="adjustment")
    dispute = so.dispute(
        charge_id=charge["id"], payment_intent=pi, amount=10_000, movements=[withdrawal]
    )
    deliver(so.event("charge.dispute.funds_withdrawn", dispute))
    # Won, and Stripe gives its $15.00 dispute fee back: a negative fee on the reinstatement.
    back = so.balance_transaction(
        amount=10_000, fee=-1_500, source=dispute["id"], type_="adjustment"
    )

    deliver(
        so.event(
            "charge.dispute.funds_reinstated",
            {**dispute, "status": "won", "balance_transactions": [withdrawal, back]},
        )
    )

    assert balances(fund) == {
        Role.STRIPE_CLEARING: 10_000 - 320,
        Role.CONTRIBUTIONS: -10_000,
        Role.PROCESSING_FEES: 320,
    }
    gift.refresh_from_db()
    assert gift.disputed_cents == 0
    assert verify_fund(fund).ok


def test_a_dispute_before_its_payment_is_a_500_then_applies_after_the_payment(
    fund, stripe_api, deliver
):
    gift = page_gift(fund, 10_000)
    evt = completed(gift)
    pi = evt["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=10_000, fee=320)
    charge = so.charge(amount=10_000, payment_intent=pi)
    withdrawal = so.balance_transaction(amount=-4_000, fee=1_500, source="dp", type_="adjustment")
    dispute = so.dispute(
        charge_id=charge["id"], payment_intent=pi, amount=4_000, movements=[withdrawal]
    )
    early = so.event("charge.dispute.funds_withdrawn", dispute)

    # The dispute names $40.00 of a $100.00 payment: it must not be booked as a $40.00 gift.
    assert so.post_event(Client(raise_request_exception=False), early).status_code == 500
    assert transactions(fund) == []
    assert not Dispute.objects.exists()
    deliver(evt)
    deliver(early)  # Stripe's retry

    gift.refresh_from_db()
    assert (gift.status, gift.amount_cents, gift.disputed_cents) == ("paid", 10_000, 4_000)
    assert Gift.objects.count() == 1
    assert balances(fund) == {
        Role.STRIPE_CLEARING: 10_000 - 320 - 4_000 - 1_500,
        Role.CONTRIBUTIONS: -10_000,
        Role.PROCESSING_FEES: 320 + 1_500,
        Role.DISPUTES: 4_000,
    }


def test_a_dispute_without_money_moving_books_nothing(fund, stripe_api, deliver):
    gift = page_gift(fund, 4_000)
    evt = completed(gift)
    pi = evt["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=4_000, fee=146)
    deliver(evt)
    before = transactions(fund)
    charge = so.charge(amount=4_000, payment_intent=pi)
    dispute = so.dispute(charge_id=charge["id"], payment_intent=pi, amount=4_000)

    deliver(so.event("charge.dispute.created", dispute))

    assert transactions(fund) == before
    assert Dispute.objects.get().status == "open"


# Signatures


@pytest.mark.parametrize(
    "tamper",
    [
        "no header",
        "wrong secret",
        "stale",
        "altered body",
        "not ours",
        "garbage header",
        "not utf-8",
    ],
)
def test_an_unsigned_stale_or_altered_event_is_refused_and_nothing_is_stored(fund, client, tamper):
    gift = page_gift(fund)
    body = json.dumps(completed(gift)).encode()
    header = so.signed(body)
    if tamper == "no header":
        header = None
    elif tamper == "wrong secret":
        header = so.signed(body, secret="whsec_someone_elses")
    elif tamper == "stale":
        header = so.signed(body, at=so.now() - 301)
    elif tamper == "altered body":
        body = body.replace(b'"amount_total": 10000', b'"amount_total": 99999')
        assert b"99999" in body
    elif tamper == "not ours":
        body = json.dumps({"hello": "world"}).encode()
    elif tamper == "not utf-8":
        body = b"\xff" + body
    else:
        header = "t=1,v1=nonsense"
    headers = {"Stripe-Signature": header} if header else {}

    response = client.post(
        "/stripe/webhook/", data=body, content_type="application/json", headers=headers
    )

    assert response.status_code == 400
    assert "detail" in response.json()
    assert not StripeEvent.objects.exists()
    assert transactions(fund) == []


def test_during_a_rotation_the_old_and_the_new_secret_are_both_accepted(
    fund, stripe_api, client, settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_new_one", so.WEBHOOK_SECRET]
    first, second = page_gift(fund), page_gift(fund, email="bo@example.org")
    for gift, secret in ((first, so.WEBHOOK_SECRET), (second, "whsec_new_one")):
        evt = completed(gift)
        stripe_api.set_fee(evt["data"]["object"]["payment_intent"], amount=10_000, fee=320)
        with django_capture_on_commit_callbacks(execute=True):
            assert so.post_event(client, evt, secret=secret).status_code == 200
    assert len(transactions(fund, Kind.GIFT_ONLINE)) == 2


# Exactly once


def test_the_same_event_delivered_again_changes_nothing(fund, stripe_api, deliver):
    gift = page_gift(fund)
    evt = completed(gift)
    stripe_api.set_fee(evt["data"]["object"]["payment_intent"], amount=10_000, fee=320)

    first = deliver(evt)
    again = deliver(evt)

    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert len(transactions(fund)) == 2
    assert StripeEvent.objects.count() == 1


def test_a_payment_reported_by_three_events_is_booked_once(fund, stripe_api, deliver):
    gift = page_gift(fund, 2_500)
    session_event = completed(gift)
    pi = session_event["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=2_500, fee=103)
    intent = so.payment_intent(amount=2_500, metadata=metadata(gift), id_=pi)

    deliver(so.event("payment_intent.succeeded", intent), session_event, session_event)

    assert len(transactions(fund, Kind.GIFT_ONLINE)) == 1
    assert Gift.objects.count() == 1
    assert balances(fund)[Role.CONTRIBUTIONS] == -2_500


@pytest.mark.django_db(transaction=True)
def test_twenty_deliveries_of_one_event_at_once_book_one_transaction(fund, stripe_api):
    gift = page_gift(fund, 5_000)
    evt = completed(gift)
    stripe_api.set_fee(evt["data"]["object"]["payment_intent"], amount=5_000, fee=175)
    body = json.dumps(evt).encode()
    statuses: list[int] = []
    start = threading.Barrier(20)

    def send() -> None:
        start.wait()
        response = Client().post(
            "/stripe/webhook/",
            data=body,
            content_type="application/json",
            headers={"Stripe-Signature": so.signed(body)},
        )
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 20
    assert StripeEvent.objects.count() == 1
    assert len(transactions(fund, Kind.GIFT_ONLINE)) == 1
    assert balances(fund)[Role.CONTRIBUTIONS] == -5_000
    assert verify_fund(fund).ok


# Out of order


def test_a_refund_that_arrives_before_its_payment_books_the_payment_first(
    fund, stripe_api, deliver
):
    gift = page_gift(fund, 6_000)
    evt = completed(gift)
    pi = evt["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=6_000, fee=204)
    charge = so.charge(amount=6_000, payment_intent=pi, refunded=6_000, metadata=metadata(gift))

    deliver(so.event("charge.refunded", charge))
    deliver(evt)

    gift.refresh_from_db()
    assert gift.status == "refunded"  # the later "completed" does not move it back to paid
    assert Gift.objects.count() == 1
    assert balances(fund) == {
        Role.STRIPE_CLEARING: 6_000 - 204 - 6_000,
        Role.CONTRIBUTIONS: -6_000,
        Role.REFUNDS: 6_000,
        Role.PROCESSING_FEES: 204,
    }


def test_a_smaller_refund_total_arriving_late_books_nothing(fund, stripe_api, deliver):
    gift = page_gift(fund, 10_000)
    evt = completed(gift)
    pi = evt["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=10_000, fee=320)
    deliver(evt)
    charge = so.charge(amount=10_000, payment_intent=pi)

    deliver(so.event("charge.refunded", {**charge, "amount_refunded": 5_000}))
    deliver(so.event("charge.refunded", {**charge, "amount_refunded": 2_000}))

    assert balances(fund)[Role.REFUNDS] == 5_000
    assert len(transactions(fund, Kind.REFUND)) == 1


def test_a_refund_delivered_late_is_booked_on_the_day_stripe_made_it(fund, stripe_api, deliver):
    # As stripe_sync delivers what the site missed while it was down.
    gift = page_gift(fund, 4_000)
    evt = completed(gift)
    pi = evt["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=4_000, fee=146)
    deliver(evt)
    three_days_ago = timezone.localdate() - timedelta(days=3)
    at = int(timezone.make_aware(datetime.combine(three_days_ago, time(12))).timestamp())

    charge = so.charge(amount=4_000, payment_intent=pi, refunded=4_000)
    deliver(so.event("charge.refunded", charge, created=at))

    [refund] = transactions(fund, Kind.REFUND)
    assert (refund.effective_date, balances(fund)[Role.REFUNDS]) == (three_days_ago, 4_000)


# Checkouts that do not end in money


def test_an_expired_or_failed_checkout_is_marked_and_books_nothing(fund, deliver):
    expired, failed = page_gift(fund), page_gift(fund, email="bo@example.org")
    for gift, kind in ((expired, "expired"), (failed, "async_payment_failed")):
        session = so.checkout_session(
            amount=gift.amount_cents, metadata=metadata(gift), payment_status="unpaid"
        )
        deliver(so.event(f"checkout.session.{kind}", session))
    expired.refresh_from_db()
    failed.refresh_from_db()
    assert (expired.status, failed.status) == ("expired", "failed")
    assert transactions(fund) == []


def test_a_bank_debit_is_booked_when_it_settles_not_when_the_checkout_completes(
    fund, stripe_api, deliver
):
    gift = page_gift(fund, 20_000)
    pi = so.new_id("pi")
    stripe_api.set_fee(pi, amount=20_000, fee=80)
    today = timezone.localdate()
    opened = timezone.make_aware(datetime.combine(today - timedelta(days=5), time(12)))
    session = so.checkout_session(
        amount=20_000, metadata=metadata(gift), payment_intent=pi, payment_status="unpaid"
    )
    session["created"] = int(opened.timestamp())

    deliver(so.event("checkout.session.completed", session, created=session["created"]))
    assert transactions(fund) == []
    deliver(
        so.event("checkout.session.async_payment_succeeded", {**session, "payment_status": "paid"})
    )

    gift.refresh_from_db()
    assert gift.status == "paid"
    assert balances(fund)[Role.CONTRIBUTIONS] == -20_000
    # Dated the day the money came, not the day the donor opened the Checkout.
    assert gift.received_on == today
    assert gift.transaction.effective_date == today


# Gifts that did not start on our page


def test_a_payment_link_gift_goes_to_the_fund_it_names_or_else_the_default(
    fund, stripe_api, deliver
):
    other = create_fund(
        actor=None, name="Bond Fund", slug="bonds", goal_cents=0, opened_on=fund.opened_on
    )
    for target, meta in ((other, {"fund": "bonds"}), (fund, {})):
        pi = so.new_id("pi")
        stripe_api.set_fee(pi, amount=3_000, fee=117)
        session = so.checkout_session(
            amount=3_000,
            metadata=meta,
            payment_intent=pi,
            email="carmen@example.org",
            name="Carmen",
        )
        session["payment_link"] = "plink_test_1"
        deliver(so.event("checkout.session.completed", session))
        gift = Gift.objects.get(stripe_payment_intent=pi)
        assert gift.fund == target
        assert gift.donor.email == "carmen@example.org"
    assert (
        Gift.objects.filter(donor__email_index__isnull=False).values("donor").distinct().count()
        == 1
    )


def test_a_payment_naming_no_fund_without_a_default_is_a_500_and_applies_when_redelivered(
    fund, stripe_api, settings, django_capture_on_commit_callbacks
):
    settings.DEFAULT_FUND_SLUG = ""
    pi = so.new_id("pi")
    stripe_api.set_fee(pi, amount=1_000, fee=59)
    evt = so.event(
        "checkout.session.completed",
        so.checkout_session(amount=1_000, metadata={}, payment_intent=pi),
    )
    client = Client(raise_request_exception=False)

    assert so.post_event(client, evt).status_code == 500
    assert not StripeEvent.objects.exists()
    assert transactions(fund) == []

    settings.DEFAULT_FUND_SLUG = "valley"
    with django_capture_on_commit_callbacks(execute=True):
        assert so.post_event(client, evt).status_code == 200
    assert balances(fund)[Role.CONTRIBUTIONS] == -1_000


def test_an_event_of_a_type_we_do_not_handle_is_stored_and_ignored(fund, deliver):
    deliver(so.event("customer.created", so.example("customer", id="cus_test_x")))

    assert StripeEvent.objects.get().type == "customer.created"
    assert transactions(fund) == []


# Monthly gifts


def monthly(fund, cents=2_500):
    gift = page_gift(fund, cents, monthly=True)
    sub_id = so.new_id("sub")
    session = so.checkout_session(
        amount=cents, metadata=metadata(gift), mode="subscription", subscription=sub_id
    )
    session["customer"] = "cus_test_ana"
    return gift, sub_id, session


def paid_invoice(stripe_api, gift, sub_id, cents=2_500):
    pi = so.new_id("pi")
    stripe_api.set_fee(pi, amount=cents, fee=103)
    inv = so.invoice(subscription_id=sub_id, amount=cents, metadata=metadata(gift))
    stripe_api.invoice_payments[inv["id"]] = [
        so.example(
            "invoice_payment",
            id=so.new_id("inpay"),
            invoice=inv["id"],
            status="paid",
            payment={"type": "payment_intent", "payment_intent": pi},
        )
    ]
    return inv, pi


def test_each_paid_invoice_of_a_monthly_gift_is_a_gift_with_its_fee(fund, stripe_api, deliver):
    gift, sub_id, session = monthly(fund)
    deliver(so.event("checkout.session.completed", session))
    recurring = RecurringGift.objects.get()
    assert (recurring.status, recurring.stripe_subscription) == ("active", sub_id)
    assert transactions(fund) == []

    first, first_pi = paid_invoice(stripe_api, gift, sub_id)
    second, second_pi = paid_invoice(stripe_api, gift, sub_id)
    deliver(
        so.event("invoice.paid", first),
        so.event("invoice.paid", second),
        so.event("invoice.paid", first),
    )

    gifts = list(Gift.objects.order_by("pk"))
    assert next(g.pk for g in gifts) == gift.pk  # the page's gift is the first payment
    assert [(g.stripe_invoice, g.stripe_payment_intent, g.status, g.fee_cents) for g in gifts] == [
        (first["id"], first_pi, "paid", 103),
        (second["id"], second_pi, "paid", 103),
    ]
    assert balances(fund) == {
        Role.STRIPE_CLEARING: 2 * (2_500 - 103),
        Role.CONTRIBUTIONS: -5_000,
        Role.PROCESSING_FEES: 206,
    }


def test_an_invoice_paid_before_its_subscription_is_known_ends_in_the_right_state(
    fund, stripe_api, deliver
):
    gift, sub_id, session = monthly(fund)
    inv, _ = paid_invoice(stripe_api, gift, sub_id)

    deliver(so.event("invoice.paid", inv))
    deliver(so.event("checkout.session.completed", session))

    recurring = RecurringGift.objects.get()
    assert (recurring.stripe_subscription, recurring.status) == (sub_id, "active")
    assert Gift.objects.get().stripe_invoice == inv["id"]
    assert balances(fund)[Role.CONTRIBUTIONS] == -2_500


def test_a_cancelled_monthly_gift_stays_cancelled_when_an_older_update_arrives_late(fund, deliver):
    gift, sub_id, session = monthly(fund)
    deliver(so.event("checkout.session.completed", session))
    active = so.subscription(id_=sub_id, status="active", metadata=metadata(gift))

    deliver(so.event("customer.subscription.deleted", {**active, "status": "canceled"}))
    deliver(so.event("customer.subscription.updated", active))

    recurring = RecurringGift.objects.get()
    assert recurring.status == "canceled"
    assert recurring.canceled_at is not None


def test_a_subscription_going_past_due_and_back_is_followed(fund, deliver):
    gift, sub_id, session = monthly(fund)
    deliver(so.event("checkout.session.completed", session))
    for status, expected in (("past_due", "past_due"), ("active", "active")):
        deliver(
            so.event(
                "customer.subscription.updated",
                so.subscription(id_=sub_id, status=status, metadata=metadata(gift)),
            )
        )
        assert RecurringGift.objects.get().status == expected


def test_a_refund_of_a_monthly_payment_not_yet_linked_finds_its_gift(fund, stripe_api, deliver):
    gift, sub_id, session = monthly(fund)
    deliver(so.event("checkout.session.completed", session))
    inv = so.invoice(subscription_id=sub_id, amount=2_500, metadata=metadata(gift))
    # Stripe has not told the fee task the invoice's payment yet: the gift is not linked to it.
    deliver(so.event("invoice.paid", inv))
    pi = so.new_id("pi")
    charge = so.charge(amount=2_500, payment_intent=pi, refunded=2_500, customer="cus_test_ana")

    deliver(so.event("charge.refunded", charge))

    assert Gift.objects.count() == 1
    gift.refresh_from_db()
    assert (gift.status, gift.stripe_payment_intent) == ("refunded", pi)
    assert balances(fund)[Role.REFUNDS] == 2_500


# The follow-up tasks of a booked gift


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_a_booked_gifts_fee_fetch_and_receipt_are_queued_in_the_same_transaction(fund, settings):
    # With the database task backend (production's), the two task rows commit with the gift:
    # an event whose transaction rolls back leaves neither a gift nor a task to run for it.
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from donations.services.webhooks import receive_stripe_event

    settings.TASKS = DATABASE_TASKS
    evt = completed(page_gift(fund, 2_500))

    queued_inside = []

    class RolledBack(Exception):
        pass

    def book_then_fail():
        with transaction.atomic():
            queued_inside.append((receive_stripe_event(evt), DBTaskResult.objects.count()))
            raise RolledBack

    with pytest.raises(RolledBack):
        book_then_fail()
    assert queued_inside == [(True, 2)]
    assert DBTaskResult.objects.count() == 0
    assert not StripeEvent.objects.exists()
    assert transactions(fund) == []

    assert receive_stripe_event(evt) is True
    assert receive_stripe_event(evt) is False  # the repeat queues nothing more
    gift = Gift.objects.get(fund=fund)
    assert sorted(DBTaskResult.objects.values_list("task_path", "args_kwargs")) == [
        ("donations.tasks.fetch_gift_fee", {"args": [gift.pk], "kwargs": {}}),
        ("donations.tasks.send_gift_receipt", {"args": [gift.pk], "kwargs": {}}),
    ]

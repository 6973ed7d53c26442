"""Annual statements: one e-mail per donor and year, listing each gift with refunds deducted."""

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from donations.models import AnnualStatement, Donor, Gift
from fund.ledger.models import Fund
from fund.ledger.services import create_fund
from fund.ledger.verify import verify_fund
from tests.conftest import run
from tests.donations import stripe_objects as so
from tests.donations.conftest import OPENED
from tests.donations.test_receipts import PACIFIC, attached_pdf, deliver, donation, pdf_text

pytestmark = pytest.mark.django_db
__all__ = ["deliver"]  # the fixture, shared with the receipts' tests

ROOT = Path(__file__).resolve().parents[2]


def at(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, 12, 0, tzinfo=PACIFIC).timestamp())


def paid(fund, stripe_api, cents, when, **donor) -> tuple[Gift, str]:
    """Book a gift paid through Checkout at `when`; return it and its payment intent."""
    gift = donation(fund, cents, **donor)
    pi = so.new_id("pi")
    stripe_api.set_fee(pi, amount=cents, fee=30)
    session = so.checkout_session(
        amount=cents,
        metadata={"fund": gift.fund.slug, "donation": str(gift.row_key)},
        payment_intent=pi,
        email=donor.get("email", "ana@example.org"),
    )
    session["created"] = when
    return gift, so.event("checkout.session.completed", session, created=when)


def refunded(pi: str, cents: int, total: int) -> dict:
    return so.event("charge.refunded", so.charge(amount=cents, payment_intent=pi, refunded=total))


@pytest.fixture
def year_of_gifts(fund, stripe_api, deliver):
    """Ana gives $100 and $50 in 2026 ($20 of it refunded) and $30 in 2025; Ben gives $40 in
    2026, refunded in full; a dashboard charge of $75 names no e-mail address."""
    first, e1 = paid(fund, stripe_api, 10_000, at(2026, 3, 15))
    second, e2 = paid(fund, stripe_api, 5_000, at(2026, 6, 1))
    earlier, e3 = paid(fund, stripe_api, 3_000, at(2025, 11, 2))
    ben, e4 = paid(fund, stripe_api, 4_000, at(2026, 5, 5), email="ben@example.org", name="Ben")
    deliver(e1, e2, e3, e4)
    deliver(refunded(e2["data"]["object"]["payment_intent"], 5_000, 2_000))
    deliver(refunded(e4["data"]["object"]["payment_intent"], 4_000, 4_000))
    intent = so.payment_intent(amount=7_500, metadata={"fund": fund.slug}, receipt_email=None)
    intent["created"] = at(2026, 7, 4)
    stripe_api.set_fee(intent["id"], amount=7_500, fee=248)
    deliver(so.event("payment_intent.succeeded", intent, created=intent["created"]))
    mail.outbox.clear()  # the receipts
    return {"first": first, "second": second, "earlier": earlier, "ben": ben}


def test_each_donor_gets_a_statement_of_the_year_with_refunds_deducted(fund, year_of_gifts):
    output = run("send_annual_statements", "--year", "2026")

    assert output == (
        "Queued 1 statement(s) for 2026; 0 already sent; 1 donor(s) without an e-mail address.\n"
    )
    (message,) = mail.outbox
    assert message.to == ["ana@example.org"]
    assert message.subject == "Your 2026 giving statement"
    assert "Total given, refunds deducted: $130.00" in message.body
    text = attached_pdf(message)
    first, second = year_of_gifts["first"], year_of_gifts["second"]
    fund_name = "Valley Labor Council Legal Fund"
    assert f"03/15/2026 {fund_name} #{first.pk} Online (card) $100.00 $100.00" in text
    assert f"06/01/2026 {fund_name} #{second.pk} Online (card) $50.00 $20.00 $30.00" in text
    assert f"#{year_of_gifts['earlier'].pk} " not in text
    assert "Total given, refunds deducted $130.00" in text
    assert (
        "Contributions to Valley Labor Council Legal Fund are not deductible as charitable "
        "contributions for federal income tax purposes."
    ) in text
    statement = AnnualStatement.objects.get()
    assert (statement.year, statement.gift_count, statement.total_cents) == (2026, 2, 13_000)
    assert statement.donor.email == "ana@example.org"
    assert verify_fund(fund).ok


def test_the_output_names_no_one(fund, year_of_gifts):
    output = run("send_annual_statements", "--year", "2026", "--dry-run")

    for personal in ("ana", "Ana", "Flores", "ben", "Orchard", "Unknown"):
        assert personal not in output


def test_a_donor_gets_one_statement_a_year_however_often_it_runs(fund, year_of_gifts):
    run("send_annual_statements", "--year", "2026")

    again = run("send_annual_statements", "--year", "2026")

    assert again == (
        "Queued 0 statement(s) for 2026; 1 already sent; 1 donor(s) without an e-mail address.\n"
    )
    assert len(mail.outbox) == 1
    assert AnnualStatement.objects.count() == 1


def test_a_statement_task_that_runs_twice_sends_once(fund, year_of_gifts):
    from donations.tasks import send_annual_statement

    ana = year_of_gifts["first"].donor

    assert send_annual_statement.enqueue(ana.pk, 2026).return_value is True
    assert send_annual_statement.enqueue(ana.pk, 2026).return_value is False
    assert len(mail.outbox) == 1


def test_a_dry_run_sends_and_records_nothing(fund, year_of_gifts):
    output = run("send_annual_statements", "--year", "2026", "--dry-run")

    assert output == (
        "Would send 1 statement(s) for 2026; 0 already sent; "
        "1 donor(s) without an e-mail address.\n"
    )
    assert mail.outbox == []
    assert AnnualStatement.objects.count() == 0


def test_each_year_has_its_own_statement(fund, year_of_gifts):
    run("send_annual_statements", "--year", "2026")
    run("send_annual_statements", "--year", "2025")

    earlier = mail.outbox[1]
    assert earlier.subject == "Your 2025 giving statement"
    text = attached_pdf(earlier)
    assert f"#{year_of_gifts['earlier'].pk} Online (card) $30.00 $30.00" in text
    assert "Total given, refunds deducted $30.00" in text
    assert AnnualStatement.objects.filter(year=2025).get().total_cents == 3_000


def test_a_year_without_gifts_sends_nothing(fund, year_of_gifts):
    output = run("send_annual_statements", "--year", "2024")

    assert output.startswith("Queued 0 statement(s) for 2024; 0 already sent; 0 donor(s)")
    assert mail.outbox == []


def test_a_statement_for_one_fund_lists_only_its_gifts(fund, stripe_api, deliver):
    other = create_fund(
        actor=None,
        opened_on=OPENED,
        name="Coast Families Bond Fund",
        slug="coast",
        goal_cents=1_000_000,
        tax_status=Fund.TaxStatus.CHARITY,
    )
    valley_gift, e1 = paid(fund, stripe_api, 2_000, at(2026, 2, 1))
    coast_gift, e2 = paid(other, stripe_api, 6_000, at(2026, 2, 2))
    deliver(e1, e2)
    mail.outbox.clear()

    run("send_annual_statements", "--year", "2026", "--fund", "coast")

    text = attached_pdf(mail.outbox[0])
    assert f"#{coast_gift.pk} " in text
    assert f"#{valley_gift.pk} " not in text
    assert "Total given, refunds deducted $60.00" in text
    assert "No goods or services were provided in exchange for these contributions." in text


def test_a_statement_across_funds_gives_each_funds_wording(fund, stripe_api, deliver):
    other = create_fund(
        actor=None,
        opened_on=OPENED,
        name="Coast Families Bond Fund",
        slug="coast",
        goal_cents=1_000_000,
        tax_status=Fund.TaxStatus.CHARITY,
    )
    _, e1 = paid(fund, stripe_api, 2_000, at(2026, 2, 1))
    _, e2 = paid(other, stripe_api, 6_000, at(2026, 2, 2))
    deliver(e1, e2)
    mail.outbox.clear()

    run("send_annual_statements", "--year", "2026")

    text = attached_pdf(mail.outbox[0])
    assert "Total given, refunds deducted $80.00" in text
    assert "Contributions to Valley Labor Council Legal Fund are not deductible" in text
    assert "Coast Families Bond Fund is a tax-exempt organization under section 501(c)(3)" in text


def test_a_spanish_donor_gets_a_spanish_statement(fund, stripe_api, deliver):
    _, evt = paid(fund, stripe_api, 2_500, at(2026, 4, 9), email="lucia@example.org", language="es")
    deliver(evt)
    mail.outbox.clear()

    run("send_annual_statements", "--year", "2026")

    (message,) = mail.outbox
    assert message.subject == "Tu estado de donaciones de 2026"
    text = pdf_text(message.attachments[0].content)
    assert "Total donado, descontados los reembolsos $25.00" in text
    assert "09/04/2026" in text


def test_bad_arguments_are_refused_with_exit_status_2(fund):
    for args, message in (
        (["--year", "1999"], "--year must be a year from 2000 to 2999, e.g. --year 2026."),
        (
            ["--year", "\uff12\uff10\uff12\uff16"],
            "--year must be a year from 2000 to 2999, e.g. --year 2026.",
        ),
        ([], "--year must be a year from 2000 to 2999, e.g. --year 2026."),
        (["--year", "2026", "--fund", "nowhere"], "No fund with slug 'nowhere'."),
    ):
        with pytest.raises(CommandError) as refused:
            call_command("send_annual_statements", *args)
        assert (str(refused.value), refused.value.returncode) == (message, 2)
    assert AnnualStatement.objects.count() == 0
    assert mail.outbox == []


def test_the_command_line_exits_2_with_one_line():
    for args in (["--year", "1999"], ["--year", "soon"], []):
        done = subprocess.run(
            [sys.executable, "manage.py", "send_annual_statements", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
            check=False,
        )
        assert (done.returncode, done.stdout) == (2, ""), done.stderr
        assert done.stderr == (
            "CommandError: --year must be a year from 2000 to 2999, e.g. --year 2026.\n"
        )


def test_a_donor_who_never_gave_is_not_a_statement_donor(fund):
    Donor.objects.create(
        kind=Donor.Kind.ORGANISATION, organisation="Local 26", organisation_key="local 26"
    )

    assert run("send_annual_statements", "--year", "2026").startswith("Queued 0 statement(s)")


def test_a_gift_lost_in_a_dispute_is_deducted_like_a_refund(fund, stripe_api, deliver):
    gift, evt = paid(fund, stripe_api, 10_000, at(2026, 4, 1))
    deliver(evt)
    pi = evt["data"]["object"]["payment_intent"]
    # $100.00 given, $30.00 refunded, and the card's bank took $40.00 back in a dispute.
    deliver(refunded(pi, 10_000, 3_000))
    charge = so.charge(amount=10_000, payment_intent=pi)
    withdrawal = so.balance_transaction(amount=-4_000, fee=1_500, source="dp", type_="adjustment")
    dispute = so.dispute(
        charge_id=charge["id"], payment_intent=pi, amount=4_000, movements=[withdrawal]
    )
    deliver(so.event("charge.dispute.funds_withdrawn", dispute))
    mail.outbox.clear()

    run("send_annual_statements", "--year", "2026")

    text = attached_pdf(mail.outbox[0])
    assert f"#{gift.pk} Online (card) $100.00 $70.00 $30.00" in text
    assert "Total given, refunds deducted $30.00" in text
    assert AnnualStatement.objects.get().total_cents == 3_000

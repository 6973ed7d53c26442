"""Receipts: one e-mail per paid gift with a PDF that says the right thing for the fund's tax
status, in the donor's language, with no name in the subject; and the PDF renderer that fetches
nothing but our own static files."""

import io
import re
import threading
import uuid
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from pypdf import PdfReader

from donations.links import recurring_of
from donations.models import Donor, Gift, RecurringGift
from donations.services.offline import DonorDetails, record_offline_gift
from donations.services.online import GiftRequest, start_online_gift
from donations.services.receipts import method_of, receipt_of, receipt_pdf
from donations.tasks import send_gift_receipt
from fund.ledger.models import Fund
from fund.reports.pdf import RefusedResource, html_to_pdf, static_file
from tests.donations import stripe_objects as so

pytestmark = pytest.mark.django_db

FUND_NAME = "Valley Labor Council Legal Fund"
PACIFIC = ZoneInfo("America/Los_Angeles")
MARCH_15 = int(datetime(2026, 3, 15, 12, 0, tzinfo=PACIFIC).timestamp())
LABOR_WORDING = (
    "Contributions to Valley Labor Council Legal Fund are not deductible as charitable "
    "contributions for federal income tax purposes."
)
IRS_ACKNOWLEDGMENT = "No goods or services were provided in exchange for this contribution."


def donation(
    fund,
    cents=10_000,
    *,
    email="ana@example.org",
    name="Ana Flores",
    language="en",
    monthly=False,
    anonymous=False,
    cover_fee_cents=0,
    tribute="",
    tribute_name="",
    organisation="",
) -> Gift:
    """A gift as the donation page starts it: pending, its donor known."""
    return start_online_gift(
        GiftRequest(
            fund=fund,
            amount_cents=cents,
            cover_fee_cents=cover_fee_cents,
            monthly=monthly,
            email=email,
            name=name,
            address="12 Orchard Lane\nSalinas, CA 93901",
            employer="",
            anonymous=anonymous,
            tribute=tribute,
            tribute_name=tribute_name,
            organisation=organisation,
            list_as_supporter=False,
            language=language,
        )
    )


def completed(gift: Gift, stripe_api, *, at: int = MARCH_15, fee: int = 320) -> dict:
    """Stripe's checkout.session.completed for the gift, paid at `at`, its fee known to Stripe."""
    pi = so.new_id("pi")
    stripe_api.set_fee(pi, amount=gift.amount_cents, fee=fee)
    session = so.checkout_session(
        amount=gift.amount_cents,
        metadata={"fund": gift.fund.slug, "donation": str(gift.row_key)},
        payment_intent=pi,
    )
    session["created"] = at
    return so.event("checkout.session.completed", session, created=at)


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """POST signed events to the webhook, running what they enqueue on commit (the receipt)."""

    def send(*events):
        for evt in events:
            with django_capture_on_commit_callbacks(execute=True):
                response = so.post_event(client, evt)
            assert response.status_code == 200, response.content

    return send


def pdf_text(data: bytes) -> str:
    """Return a PDF's text with its lines joined, as a reader would read it."""
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def attached_pdf(message) -> str:
    (attachment,) = message.attachments
    assert attachment.mimetype == "application/pdf"
    assert attachment.content.startswith(b"%PDF-")
    return pdf_text(attachment.content)


def set_tax_status(fund: Fund, status: str) -> None:
    fund.tax_status = status
    fund.save(update_fields=["tax_status"])


# What a receipt says


def test_a_paid_gift_to_a_labor_fund_is_receipted_with_the_not_deductible_wording(
    fund, stripe_api, deliver
):
    gift = donation(fund, 10_000)

    deliver(completed(gift, stripe_api))

    (message,) = mail.outbox
    assert message.to == ["ana@example.org"]
    assert message.subject == f"Your gift to {FUND_NAME}"
    text = attached_pdf(message)
    assert LABOR_WORDING in text
    assert IRS_ACKNOWLEDGMENT not in text
    assert f"Gift #{gift.pk}" in text
    assert "Amount $100.00" in text
    assert "Date March 15, 2026" in text
    assert "Method Online (card)" in text
    assert "Received from Ana Flores 12 Orchard Lane Salinas, CA 93901" in text
    assert LABOR_WORDING in message.body
    assert "Amount: $100.00" in message.body
    gift.refresh_from_db()
    assert gift.receipt_sent_at is not None


def test_a_charity_receipt_is_the_irs_written_acknowledgment(fund, stripe_api, deliver):
    set_tax_status(fund, Fund.TaxStatus.CHARITY)
    gift = donation(fund, 25_000)

    deliver(completed(gift, stripe_api))

    (message,) = mail.outbox
    text = attached_pdf(message)
    assert f"Organization {FUND_NAME}" in text
    assert "Amount $250.00" in text
    assert "Date March 15, 2026" in text
    assert (
        f"{FUND_NAME} is a tax-exempt organization under section 501(c)(3) of the Internal "
        "Revenue Code. Contributions are tax-deductible to the extent allowed by law."
    ) in text
    assert IRS_ACKNOWLEDGMENT in text
    assert "not deductible" not in text


def test_a_small_charity_gift_carries_the_acknowledgment_too(fund, stripe_api, deliver):
    set_tax_status(fund, Fund.TaxStatus.CHARITY)
    gift = donation(fund, 500)

    deliver(completed(gift, stripe_api, fee=45))

    assert IRS_ACKNOWLEDGMENT in attached_pdf(mail.outbox[0])


def test_a_fund_of_another_tax_status_says_gifts_are_not_tax_deductible(fund, stripe_api, deliver):
    set_tax_status(fund, Fund.TaxStatus.OTHER)
    gift = donation(fund, 4_000)

    deliver(completed(gift, stripe_api))

    text = attached_pdf(mail.outbox[0])
    assert f"Contributions to {FUND_NAME} are not tax-deductible." in text
    assert IRS_ACKNOWLEDGMENT not in text
    assert "charitable" not in text


def test_every_tax_status_has_its_own_wording(fund):
    gift = donation(fund, 1_000)
    Gift.objects.filter(pk=gift.pk).update(status=Gift.Status.PAID, received_on="2026-03-15")
    seen = set()
    for status in Fund.TaxStatus.values:
        set_tax_status(fund, status)
        text = pdf_text(receipt_pdf(receipt_of(Gift.objects.get(pk=gift.pk))))
        tax = text[text.index("Method") :]
        seen.add(tax)
    assert len(seen) == len(Fund.TaxStatus.values)


def test_the_subject_names_the_fund_and_never_the_donor(fund, stripe_api, deliver):
    gift = donation(fund, 5_000, name="Ana Flores", email="ana.flores@example.org")

    deliver(completed(gift, stripe_api))

    (message,) = mail.outbox
    assert message.subject == f"Your gift to {FUND_NAME}"
    for personal in ("Ana", "Flores", "ana.flores", "Orchard"):
        assert personal not in message.subject
    (attachment,) = message.attachments
    assert attachment.filename == f"receipt-{gift.pk}.pdf"


def test_the_fee_a_donor_added_and_a_tribute_are_on_the_receipt(fund, stripe_api, deliver):
    gift = donation(
        fund, 5_177, cover_fee_cents=177, tribute="memory", tribute_name="Rosa Martínez"
    )

    deliver(completed(gift, stripe_api))

    text = attached_pdf(mail.outbox[0])
    assert "Amount $51.77 (includes $1.77 you added to cover processing fees)" in text
    assert "Tribute In memory of Rosa Martínez" in text


def test_an_anonymous_gift_still_gets_its_receipt(fund, stripe_api, deliver):
    gift = donation(fund, 2_500, anonymous=True)

    deliver(completed(gift, stripe_api))

    (message,) = mail.outbox
    text = attached_pdf(message)
    assert "You asked to give anonymously: your name is never shown publicly." in text
    assert "Received from Ana Flores" in text


# Once, and only for money kept


def test_the_receipt_is_sent_once_even_when_the_task_runs_twice(fund, stripe_api, deliver):
    gift = donation(fund, 10_000)
    evt = completed(gift, stripe_api)
    deliver(evt)

    again = send_gift_receipt.enqueue(gift.pk)
    deliver(evt)  # Stripe delivers the same event again

    assert again.return_value is False
    assert len(mail.outbox) == 1


def test_a_receipt_that_fails_to_send_is_sent_by_a_later_run(fund, stripe_api, client, settings):
    gift = donation(fund, 10_000)
    so.post_event(client, completed(gift, stripe_api))  # paid; its tasks held back (no commit)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 2},
        }
    }

    failed = send_gift_receipt.enqueue(gift.pk)

    assert failed.return_value is False
    assert Gift.objects.get(pk=gift.pk).receipt_sent_at is None
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert send_gift_receipt.enqueue(gift.pk).return_value is True
    assert len(mail.outbox) == 1
    assert Gift.objects.get(pk=gift.pk).receipt_sent_at is not None


def test_a_gift_refunded_before_its_receipt_went_out_gets_none(fund, stripe_api, deliver):
    gift = donation(fund, 10_000)
    evt = completed(gift, stripe_api)
    pi = evt["data"]["object"]["payment_intent"]
    refund = so.charge(amount=10_000, payment_intent=pi, refunded=10_000)
    refund["metadata"] = {"fund": fund.slug, "donation": str(gift.row_key)}

    # The refund arrives first: the payment and the refund are booked together.
    deliver(so.event("charge.refunded", refund), evt)

    assert Gift.objects.get(pk=gift.pk).status == Gift.Status.REFUNDED
    assert mail.outbox == []
    assert send_gift_receipt.enqueue(gift.pk).return_value is False


def test_a_refund_after_the_receipt_sends_no_second_receipt(fund, stripe_api, deliver):
    gift = donation(fund, 10_000)
    evt = completed(gift, stripe_api)
    pi = evt["data"]["object"]["payment_intent"]
    deliver(evt)

    deliver(
        so.event("charge.refunded", so.charge(amount=10_000, payment_intent=pi, refunded=4_000))
    )

    assert Gift.objects.get(pk=gift.pk).status == Gift.Status.PARTIALLY_REFUNDED
    assert len(mail.outbox) == 1


def check_from(treasurer, fund, capture, *, email="", language="en"):
    """A union local's check, recorded by the treasurer, its receipt task run on commit."""
    with capture(execute=True):
        return record_offline_gift(
            actor=treasurer,
            fund=fund,
            method=Gift.Method.CHECK,
            amount_cents=50_000,
            received_on=date(2026, 3, 15),
            donor=DonorDetails(
                kind="organisation", organisation="Teamsters Local 890", email=email
            ),
            reference="2231",
            language=language,
            idempotency_key=str(uuid.uuid4()),
        )


def test_an_organisation_without_an_email_address_gets_no_receipt(
    fund, treasurer, django_capture_on_commit_callbacks
):
    gift = check_from(treasurer, fund, django_capture_on_commit_callbacks)

    assert mail.outbox == []
    assert Gift.objects.get(pk=gift.pk).receipt_sent_at is None
    assert send_gift_receipt.enqueue(gift.pk).return_value is False


def test_a_check_from_an_organisation_is_receipted_with_its_number(
    fund, treasurer, django_capture_on_commit_callbacks
):
    gift = check_from(
        treasurer, fund, django_capture_on_commit_callbacks, email="treasurer@local890.example"
    )

    (message,) = mail.outbox
    assert message.to == ["treasurer@local890.example"]
    assert message.subject == f"Your gift to {FUND_NAME}"
    text = attached_pdf(message)
    assert "Received from Teamsters Local 890" in text
    assert "Method Check no. 2231" in text
    assert "Amount $500.00" in text
    assert "Date March 15, 2026" in text
    assert Gift.objects.get(pk=gift.pk).receipt_sent_at is not None


def test_each_method_is_named_as_the_donor_knows_it(fund):
    donor = Donor(kind=Donor.Kind.ORGANISATION, organisation="Local 26")
    named = {
        (Gift.Method.CARD, ""): "Online (card)",
        (Gift.Method.CHECK, "1042"): "Check no. 1042",
        (Gift.Method.CHECK, ""): "Check",
        (Gift.Method.CASH, ""): "Cash",
        (Gift.Method.ACH, "TRN 88"): "ACH transfer, reference TRN 88",
        (Gift.Method.WIRE, ""): "Wire transfer",
    }
    for (method, reference), label in named.items():
        gift = Gift(fund=fund, donor=donor, method=method, reference=reference, amount_cents=1)
        assert method_of(gift) == label


# Languages


def test_a_spanish_gift_gets_its_receipt_in_spanish(fund, stripe_api, deliver):
    gift = donation(fund, 10_000, language="es", name="Lucía Pérez", email="lucia@example.org")

    deliver(completed(gift, stripe_api))

    (message,) = mail.outbox
    assert message.subject == f"Tu donación a {FUND_NAME}"
    assert "Tu recibo va adjunto en PDF. En resumen:" in message.body
    text = attached_pdf(message)
    assert text.startswith(f"RECIBO {FUND_NAME}")
    assert "Fecha 15 de marzo de 2026" in text
    assert "Método En línea (tarjeta)" in text
    assert (
        f"Las contribuciones a {FUND_NAME} no son deducibles como contribuciones caritativas "
        "a efectos del impuesto federal sobre la renta."
    ) in text
    (attachment,) = message.attachments
    assert attachment.filename == f"recibo-{gift.pk}.pdf"


def test_a_spanish_charity_receipt_says_no_goods_or_services_in_spanish(fund, stripe_api, deliver):
    set_tax_status(fund, Fund.TaxStatus.CHARITY)
    gift = donation(fund, 10_000, language="es", email="lucia@example.org")

    deliver(completed(gift, stripe_api))

    text = attached_pdf(mail.outbox[0])
    assert "No se proporcionaron bienes ni servicios a cambio de esta contribución." in text


# Monthly gifts


def test_a_monthly_receipt_carries_a_working_manage_link(
    fund, stripe_api, deliver, client, settings
):
    settings.SITE_URL = "https://give.example.org"
    gift = donation(fund, 2_500, monthly=True)
    sub_id = so.new_id("sub")
    session = so.checkout_session(
        amount=2_500,
        metadata={"fund": fund.slug, "donation": str(gift.row_key)},
        mode="subscription",
        subscription=sub_id,
    )
    session["customer"] = "cus_test_ana"
    invoice = so.invoice(
        subscription_id=sub_id,
        amount=2_500,
        metadata={"fund": fund.slug, "donation": str(gift.row_key)},
    )

    deliver(so.event("checkout.session.completed", session), so.event("invoice.paid", invoice))

    recurring = RecurringGift.objects.get()
    (message,) = mail.outbox
    text = attached_pdf(message)
    assert "Frequency Monthly" in text
    (url,) = re.findall(r"https://give\.example\.org/\S+", message.body)
    assert url.replace(" ", "") in text.replace(" ", "")
    path = urlsplit(url).path
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert recurring_of(token) == recurring
    assert client.get(path).status_code == 200
    assert client.get(path.replace(token, token[:-2] + "xx")).status_code == 404


# The PDF renderer fetches nothing but our static files


class Listener(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        Listener.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body::after { content: 'FETCHED OVER HTTP'; }")

    def log_message(self, *args) -> None:
        pass


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_pdf_renderer_fetches_nothing_from_the_network_or_the_disk(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Listener.hits = []
    outside = tmp_path / "outside.css"
    outside.write_text("body::after { content: 'READ FROM DISK'; }")
    here = f"http://127.0.0.1:{server.server_port}"
    try:
        data = html_to_pdf(
            f"""<!doctype html><html><head>
            <link rel="stylesheet" href="{here}/evil.css">
            <link rel="stylesheet" href="file://{outside}">
            <link rel="stylesheet" href="file:///etc/passwd">
            <link rel="stylesheet" href="/static/../../../../{outside}">
            <link rel="stylesheet" href="/static/%2e%2e/%2e%2e{outside}">
            <link rel="stylesheet" href="/fund/settings.py">
            </head><body><p>Still renders</p>
            <img src="{here}/pixel.png" alt="">
            <img src="file:///etc/hostname" alt="">
            </body></html>"""
        )
    finally:
        server.shutdown()
        server.server_close()

    text = pdf_text(data)
    assert text == "Still renders"
    assert Listener.hits == []


def test_the_url_fetcher_serves_our_static_files_by_path_and_refuses_the_rest():
    css = static_file("https://pdf.invalid/static/css/receipt.css")
    assert css.name == "receipt.css"
    assert "@page" in css.read_text()
    for url in (
        "http://example.org/static/css/receipt.css",
        "https://example.org/static/css/receipt.css",
        "file:///etc/passwd",
        "data:text/css,body{}",
        "https://pdf.invalid/fund/settings.py",
        "https://pdf.invalid/static/../fund/settings.py",
        "https://pdf.invalid/static/%2e%2e/fund/settings.py",
        "https://pdf.invalid/static//etc/passwd",
        "https://pdf.invalid/static/css/nothing-here.css",
    ):
        with pytest.raises(RefusedResource):
            static_file(url)


def test_a_receipt_links_only_to_its_own_stylesheet(fund):
    gift = donation(fund, 1_000)
    Gift.objects.filter(pk=gift.pk).update(status=Gift.Status.PAID, received_on="2026-03-15")

    data = receipt_pdf(receipt_of(Gift.objects.get(pk=gift.pk)))

    assert data.startswith(b"%PDF-")
    # The kicker is upper-cased by static/css/receipt.css: the stylesheet was fetched.
    assert pdf_text(data).startswith("RECEIPT Valley Labor Council Legal Fund")

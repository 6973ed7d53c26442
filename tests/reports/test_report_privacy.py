"""No report holds a person: a case's private details, a bond's obligor, a family payee and a
donor who is a person never appear in any report's rows, totals or notes, nor in its CSV or PDF."""

import io
import re
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from cases.models import Bond
from cases.services.disbursements import (
    approve_disbursement,
    pay_disbursement,
    request_disbursement,
)
from donations.models import Donor
from donations.services.online import GiftRequest, start_online_gift
from fund.reports.engine import render
from fund.reports.registry import Period, catalogue
from tests.donations import conftest as donation_fixtures
from tests.donations.conftest import completed
from tests.reports.test_case_reports import seed_cases
from tests.reports.test_donation_reports import period_of_the_books, seed_donations

pytestmark = pytest.mark.django_db

stripe_api = donation_fixtures.stripe_api
deliver = donation_fixtures.deliver

PERSON = {
    "legal_name": "Canary Zyxwvut",
    "a_number": "987654321",
    "other_names": "Canary Othername",
    "date_of_birth": "1961-07-14",
    "phone": "+1-212-555-0147",
    "family_contact": "Canary Familycontact",
    "employer": "Canary Employer Works",
}
FAMILY_PAYEE = "Canary Familypayee"
OBLIGOR = "Canary Obligorname"
VOID_REASON = "Canary Voidreason sent to the wrong account"
MEMO = "Canary Memoname's retainer"
DONOR = {"email": "canary.donor@example.org", "name": "Canary Donorperson"}
TRIBUTE = "Canary Tributename"
CANARIES = [
    *PERSON.values(),
    "A987654321",
    FAMILY_PAYEE,
    OBLIGOR,
    "Zyxwvut",
    "Canary",
    VOID_REASON,
    DONOR["email"],
    DONOR["name"],
    TRIBUTE,
    "Ana Flores",  # the donation page's donors, persons
]
GENERATED_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def everything(fund, settings, stripe_api, deliver, coordinator, treasurer, other_treasurer) -> str:
    """Both apps' scenarios on one fund, with private text planted everywhere it can be; return
    the case reference of the person."""
    books = seed_cases(
        fund,
        coordinator=coordinator,
        treasurer=treasurer,
        other_treasurer=other_treasurer,
        person=PERSON,
        family_name=FAMILY_PAYEE,
        obligor=OBLIGOR,
        reason=VOID_REASON,
    )
    case = books.cases[0]
    assert Bond.objects.filter(case=case).exists()
    request = request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category="family_support",
        payee=books.family,
        amount_cents=12_300,
        memo=MEMO,
        idempotency_key="privacy-memo",
    )
    approve_disbursement(actor=treasurer, disbursement=request)
    pay_disbursement(
        actor=treasurer,
        disbursement=request,
        method="ach",
        reference="ACH-7781",
        paid_on=date(2026, 8, 3),
    )
    seed_donations(fund, settings, stripe_api, deliver, treasurer, person=DONOR)
    tribute = start_online_gift(
        GiftRequest(
            fund=fund,
            amount_cents=3_000,
            cover_fee_cents=0,
            monthly=False,
            email=DONOR["email"],
            name=DONOR["name"],
            address="1 Canary Street",
            employer="Canary Employer Works",
            anonymous=False,
            tribute="memory",
            tribute_name=TRIBUTE,
            organisation="",
            list_as_supporter=False,
            language="en",
        )
    )
    stripe_api.set_fee(
        (evt := completed(tribute))["data"]["object"]["payment_intent"], amount=3_000, fee=117
    )
    deliver(evt)
    assert Donor.objects.filter(kind=Donor.Kind.PERSON).count() >= 4
    return case.ref


def flat(text: str) -> str:
    """Text without whitespace, so that a name the PDF wraps across lines is still found."""
    return re.sub(r"\s+", "", text).casefold()


def leaks(text: str) -> list[str]:
    found = flat(text)
    return [canary for canary in CANARIES if flat(canary) in found]


def everything_a_report_says(report, fund, period: Period) -> str:
    rows = [" | ".join(map(str, row.values)) for row in report.rows(fund, period)]
    totals = [f"{total.label} {total.cents}" for total in report.totals(fund, period)]
    return "\n".join([report.title, report.description, *report.notes, *rows, *totals])


def rendered(report, fund, period: Period, fmt: str) -> bytes:
    out = io.BytesIO()
    render(
        report,
        fund=fund,
        period=period,
        fmt=fmt,
        generated_at=GENERATED_AT,
        generated_by="tess",
        out=out,
    )
    return out.getvalue()


def pdf_text(document: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(document)).pages)


def test_no_report_row_total_or_note_names_a_person(fund, everything):
    said = {
        kind: everything_a_report_says(r, fund, period_of_the_books())
        for kind, r in catalogue().items()
    }

    assert {kind: leaks(text) for kind, text in said.items()} == {kind: [] for kind in said}
    # The reports do say what they may: the case's reference, its family payee as such, donors
    # by number and organisations by name.
    assert f"Family member ({everything})" in said["disbursements"]
    assert everything in said["bonds"]
    assert "Donor #" in said["gifts"]
    assert "Teamsters Local 26" in said["gifts"]


def test_no_csv_or_pdf_of_any_report_names_a_person(fund, everything):
    found = {}
    for kind, report in catalogue().items():
        csv_text = rendered(report, fund, period_of_the_books(), "csv").decode()
        pdf = pdf_text(rendered(report, fund, period_of_the_books(), "pdf"))
        found[kind] = (leaks(csv_text), leaks(pdf))
        if kind == "disbursements":
            assert f"Family member ({everything})" in csv_text
            assert everything in pdf
        if kind == "gifts":
            assert "Donor #" in csv_text
            assert "Donor #" in pdf

    assert found == dict.fromkeys(catalogue(), ([], []))

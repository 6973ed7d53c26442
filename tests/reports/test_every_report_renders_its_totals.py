"""Every report of the catalogue, drawn for one fund holding both apps' money (gifts, fees, a
refund, a dispute, payouts, offline gifts, attorney payments, bonds refunded and forfeited), prints
the totals it computes: in its PDF (text read back with pypdf) and as the CSV's last rows.

Each report's own tests prove that its totals equal the ledger's (test_ledger_reports.py,
test_case_reports.py, test_donation_reports.py); this proves nothing is lost on the way to paper.
"""

import csv
import io
import re
from decimal import Decimal

import pytest

from fund import money
from fund.ledger.models import Posting
from fund.ledger.verify import verify_fund
from fund.reports.registry import catalogue
from tests.reports.test_donation_reports import period_of_the_books
from tests.reports.test_report_privacy import deliver, everything, pdf_text, rendered, stripe_api

pytestmark = pytest.mark.django_db

__all__ = ["deliver", "everything", "stripe_api"]  # fixtures the tests below use


def spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_reports_pdf_and_csv_carry_its_totals(fund, everything):
    assert verify_fund(fund).ok
    assert Posting.objects.filter(transaction__fund=fund).count() > 40  # both apps' flows
    period = period_of_the_books()
    missing = {}
    for kind, report in catalogue().items():
        totals = report.totals(fund, period)
        assert totals, kind
        pdf = spaced(pdf_text(rendered(report, fund, period, "pdf")))
        lines = list(csv.reader(io.StringIO(rendered(report, fund, period, "csv").decode())))
        csv_totals = [
            (line[0], next(c for c in reversed(line) if c)) for line in lines[-len(totals) :]
        ]
        expected_csv = [(t.label, str(Decimal(t.cents).scaleb(-2))) for t in totals]
        in_pdf = [f"{t.label} {money.format_amount(t.cents, fund.currency)}" in pdf for t in totals]
        if csv_totals != expected_csv or not all(in_pdf):
            missing[kind] = (csv_totals, expected_csv, in_pdf)
    assert missing == {}

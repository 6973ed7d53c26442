"""PDF/A-3b reports carry their rows as a CSV attachment, byte for byte the CSV export."""

import io

import pytest
from pypdf import PdfReader

from fund.reports import engine
from fund.reports.registry import Period, Total, get_report
from tests.reports.conftest import GENERATED_AT, PERIOD, memo_rows, table_report


def render(report, fund, fmt, period=PERIOD):
    out = io.BytesIO()
    engine.render(
        report,
        fund=fund,
        period=period,
        fmt=fmt,
        generated_at=GENERATED_AT,
        generated_by="auditor",
        out=out,
    )
    return out.getvalue()


@pytest.mark.django_db
def test_the_attachment_is_the_csv_export_byte_for_byte(fund):
    # Over two chunks, with text a spreadsheet would take for a formula.
    rows = [*memo_rows(700), *memo_rows(2, memo="=cmd|' /C calc'!A0")]
    report = table_report(rows, [Total("Total", 12_345)])

    pdfa = PdfReader(io.BytesIO(render(report, fund, "pdfa")))

    assert pdfa.attachments == {"test-table.csv": [render(report, fund, "csv")]}
    assert len(pdfa.pages) > 10


@pytest.mark.django_db
def test_the_file_declares_pdf_a_3b_with_its_output_intent(fund):
    data = render(table_report(memo_rows(3)), fund, "pdfa")

    reader = PdfReader(io.BytesIO(data))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert data.startswith(b"%PDF-1.7")
    assert b'pdfaid:part="3"' in xmp
    assert b'pdfaid:conformance="B"' in xmp
    intent = reader.trailer["/Root"]["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    files = reader.trailer["/Root"]["/AF"]
    assert files[0].get_object()["/AFRelationship"] == "/Data"


@pytest.mark.django_db
def test_a_plain_pdf_has_no_attachment(fund):
    reader = PdfReader(io.BytesIO(render(table_report(memo_rows(3)), fund, "pdf")))

    assert reader.attachments == {}


@pytest.mark.django_db
def test_the_general_ledger_of_the_seeded_books_attaches_its_csv(seeded):
    report = get_report("general-ledger")
    period = Period(PERIOD.start.replace(year=2024), PERIOD.end)

    pdfa = PdfReader(io.BytesIO(render(report, seeded, "pdfa", period)))

    csv_export = render(report, seeded, "csv", period)
    assert pdfa.attachments["general-ledger.csv"] == [csv_export]
    assert csv_export.count(b"\r\n") == report.count(seeded, period) + 1 + len(
        report.totals(seeded, period)
    )

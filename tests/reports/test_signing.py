"""Signed reports: any later change is detectable, and signing keeps reports repeatable."""

import io
import time

import pytest
from pypdf import PdfReader

from fund.reports import engine, signing
from tests.reports.conftest import GENERATED_AT, PERIOD, memo_rows, table_report


def render_pdf(fund, fmt="pdf"):
    out = io.BytesIO()
    rendered = engine.render(
        table_report(memo_rows(3)),
        fund=fund,
        period=PERIOD,
        fmt=fmt,
        generated_at=GENERATED_AT,
        generated_by="treasurer",
        out=out,
    )
    return out.getvalue(), rendered


@pytest.mark.django_db
def test_a_signed_report_names_its_signer_and_is_intact(fund, signing_certificate):
    data, rendered = render_pdf(fund)

    check = signing.check_signature(data)
    assert rendered.signed
    assert check is not None
    assert check.ok
    assert "Valley Fund Reports" in check.signer
    first_page = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "signed: any later change to this file is detectable" in first_page


@pytest.mark.django_db
def test_one_changed_byte_breaks_the_signature(fund, signing_certificate):
    data, _ = render_pdf(fund)
    # A byte inside the first page's content, well before the signature's byte range ends.
    position = data.index(b"stream") + 40
    altered = data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]

    check = signing.check_signature(altered)
    assert check is not None
    assert not check.ok


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["pdf", "pdfa"])
def test_signing_the_same_report_twice_gives_the_same_bytes(fund, signing_certificate, fmt):
    first, _ = render_pdf(fund, fmt)
    # A second later: a date taken from the clock (pyHanko's own) would differ.
    time.sleep(1.1)
    second, _ = render_pdf(fund, fmt)

    assert first == second


@pytest.mark.django_db
def test_an_unsigned_report_says_so_on_its_first_page(fund):
    data, rendered = render_pdf(fund)

    assert not rendered.signed
    assert signing.check_signature(data) is None
    first_page = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "unsigned: no signing certificate is configured" in first_page

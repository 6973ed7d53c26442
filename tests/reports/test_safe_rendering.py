"""Rendering a report fetches nothing a row names, and shows every row's text as text."""

import io

import pytest
from pypdf import PdfReader

from fund.reports import engine, pdf
from fund.reports.registry import Cell, LineField, Row
from tests.reports.conftest import GENERATED_AT, PERIOD, table_report

HOSTILE = (
    '<img src="file:///etc/passwd">',
    '<link rel=attachment href="file:///etc/shadow">',
    "http://169.254.169.254/latest/meta-data/",
    '<style>@import url("http://169.254.169.254/x.css");</style>',
    "<svg><image href='https://example.com/a.png'/></svg>",
)

# The same columns printed as lines (Report.pdf_line), the memo field wide enough for each text.
LINE = (
    LineField("Date", (0,), 10, Cell.DATE),
    LineField("Memo", (1,), 70),
    LineField("Postings", (2,), 8, Cell.NUMBER),
    LineField("Amount", (3,), 14, Cell.MONEY),
)


@pytest.fixture
def fetches(monkeypatch):
    """Count every URL WeasyPrint asks the project's fetcher for (the outside boundary)."""
    urls: list[str] = []

    class CountingFetcher(pdf.StaticFilesOnly):
        def fetch(self, url, headers=None):
            urls.append(url)
            return super().fetch(url, headers)

    monkeypatch.setattr(pdf, "StaticFilesOnly", CountingFetcher)
    return urls


def test_the_counting_fetcher_sees_a_link_that_is_not_escaped(fetches):
    # The control: markup WeasyPrint does read is fetched through the counter (and refused).
    data, _ = pdf.html_to_pdf_pages(
        '<p>x<img src="file:///etc/passwd"></p>', identifier=b"0123456789abcdef"
    )

    assert fetches == ["file:///etc/passwd"]
    assert data.startswith(b"%PDF")


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["pdf", "pdfa"])
@pytest.mark.parametrize("layout", [{}, {"pdf_line": LINE}], ids=["table", "lines"])
def test_text_holding_markup_and_urls_makes_no_fetch_and_shows_as_text(fund, fetches, fmt, layout):
    rows = [Row((None, text, n, 100)) for n, text in enumerate(HOSTILE, start=1)]
    report = table_report(rows, kind="<b>kind</b>", **layout)
    out = io.BytesIO()

    engine.render(
        report,
        fund=fund,
        period=PERIOD,
        fmt=fmt,
        generated_at=GENERATED_AT,
        generated_by="<script>alert(1)</script>",
        out=out,
    )

    assert fetches == []
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    flat = "".join(text.split())
    for hostile in HOSTILE:
        assert "".join(hostile.split()) in flat
    assert "<script>alert(1)</script>" in text

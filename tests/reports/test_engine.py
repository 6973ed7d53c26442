"""The engine renders any report to CSV and PDF, repeatably, with what an auditor relies on."""

import csv
import hashlib
import io
import os
import re
import stat
import time
from dataclasses import replace
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from fund.errors import NotAllowed, ReportError
from fund.ledger.models import LedgerHead
from fund.ledger.services import seal_books
from fund.reports import engine
from fund.reports.models import ReportRun
from fund.reports.queries import list_runs, report_file
from fund.reports.registry import (
    Cell,
    Column,
    ImproperlyConfiguredReport,
    LineField,
    Period,
    Report,
    Row,
    Style,
    Total,
    catalogue,
    get_report,
)
from fund.reports.services import (
    generate_report,
    make_period,
    render_run,
    request_report,
)
from tests.reports.conftest import GENERATED_AT, PERIOD, memo_rows, table_report


def render(report, fund, fmt, *, period=PERIOD, generated_at=GENERATED_AT, **extra):
    out = io.BytesIO()
    rendered = engine.render(
        report,
        fund=fund,
        period=period,
        fmt=fmt,
        generated_at=generated_at,
        generated_by=extra.pop("generated_by", "treasurer"),
        out=out,
        **extra,
    )
    return out.getvalue(), rendered


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


# CSV -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_csv_has_a_header_the_rows_and_the_totals_with_money_as_plain_numbers(fund):
    report = table_report(memo_rows(3), [Total("Total", 1250)])

    data, rendered = render(report, fund, "csv")

    assert csv_rows(data) == [
        ["Date", "Memo", "Postings", "Amount"],
        ["2026-03-01", "Attorney fee 1", "1", "12.50"],
        ["2026-03-01", "Attorney fee 2", "2", "12.50"],
        ["2026-03-02", "Refund 3", "3", "-12.50"],
        ["Total", "", "", "12.50"],
    ]
    # Numbers are not quoted: a spreadsheet reads -12.50 as a number, not text.
    assert b"\r\n2026-03-02,Refund 3,3,-12.50\r\n" in data
    assert rendered.rows == 3


@pytest.mark.django_db
def test_a_csv_cell_that_starts_like_a_formula_is_neutralised(fund):
    rows = [
        Row((date(2026, 3, 1), '=HYPERLINK("http://evil.example/","Click")', 1, -500)),
        Row((date(2026, 3, 1), "@SUM(A1:A9)", 2, 0)),
        Row((date(2026, 3, 1), "-2+3", None, None)),
    ]

    data, _ = render(table_report(rows), fund, "csv")

    lines = csv_rows(data)[1:]
    assert [line[1] for line in lines] == [
        '\'=HYPERLINK("http://evil.example/","Click")',
        "'@SUM(A1:A9)",
        "'-2+3",
    ]
    assert [line[3] for line in lines] == ["-5.00", "0.00", ""]


@pytest.mark.django_db
def test_the_csv_and_the_pdf_hold_the_same_rows(fund):
    report = table_report(memo_rows(40), [Total("Total", 38 * 1250)])

    csv_data, _ = render(report, fund, "csv")
    pdf_data, _ = render(report, fund, "pdf")

    text = "\n".join(pdf_pages(pdf_data))
    for line in csv_rows(csv_data)[1:-1]:
        assert f"{line[0]} {line[1]} {line[2]} " in text
    assert "Total $475.00" in text
    assert csv_rows(csv_data)[-1] == ["Total", "", "", "475.00"]


# PDF -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("stamp_pages", [engine.STAMP_PAGES, 4])
def test_page_x_of_y_is_exact_across_chunks_and_every_page_has_the_header(
    fund, stamp_pages, monkeypatch
):
    # Three chunks of rows (500, 500, 200), each rendered on its own and merged; the page
    # numbers and header laid out in one piece, or in pieces of four pages.
    monkeypatch.setattr(engine, "STAMP_PAGES", stamp_pages)
    report = table_report(memo_rows(1200), [Total("Total", 1198 * 1250)])

    data, rendered = render(report, fund, "pdf")

    pages = pdf_pages(data)
    assert rendered.rows == 1200
    assert len(pages) > 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Valley Labor Council Legal Fund · Test table · 2026-01-01 to 2026-12-31" in text
        assert "Date Memo Postings Amount" in text
    everything = "\n".join(pages)
    numbers = [int(n) for n in re.findall(r"Attorney fee (\d+) ", everything)]
    assert numbers == list(range(1, 1200))
    assert "Refund 1200" in pages[-1]
    assert "Total $14,975.00" in pages[-1]


@pytest.mark.django_db
def test_the_first_page_says_where_the_figures_come_from(fund, treasurer):
    fund_head = LedgerHead.objects.get(fund=fund).chain_head
    seal = seal_books(fund=fund, actor=treasurer, occasion="Year end <audit>")

    data, rendered = render(table_report(memo_rows(2)), fund, "pdf", generated_by="auditor")

    first = pdf_pages(data)[0]
    assert "Fund Valley Labor Council Legal Fund" in first
    assert "Period 2026-01-01 to 2026-12-31" in first
    assert "Generated 2026-12-01 12:00:00 UTC" in first
    assert "Generated by auditor" in first
    assert f"Chain head {fund_head}" in first
    assert seal.sealed_at.strftime("%Y-%m-%d") in first
    assert "Year end <audit>" in first
    assert seal.chain_head in first.replace("\n", "")
    assert rendered.chain_head == fund_head


@pytest.mark.django_db
def test_a_fund_never_sealed_says_so_and_an_as_of_report_prints_its_day(fund):
    report = table_report(memo_rows(2), as_of=True)

    data, _ = render(report, fund, "pdf", period=Period(date(2026, 6, 30), date(2026, 6, 30)))

    first = pdf_pages(data)[0]
    assert "Latest seal not sealed yet" in first
    assert "As of 2026-06-30" in first
    assert "Period" not in first


@pytest.mark.django_db
def test_the_pdf_metadata_names_the_report_the_fund_and_the_generation_time(fund):
    data, _ = render(table_report(memo_rows(2)), fund, "pdf")

    metadata = PdfReader(io.BytesIO(data)).metadata
    assert metadata.title == "Test table — Valley Labor Council Legal Fund"
    assert metadata.author == "Valley Labor Council Legal Fund"
    assert metadata.creation_date.isoformat() == "2026-12-01T12:00:00+00:00"


@pytest.mark.django_db
def test_headings_and_subtotals_are_rendered(fund):
    rows = [
        Row((None, "1000 Bank", None, None), Style.HEADING),
        *memo_rows(2),
        Row((None, "Closing balance", None, 0), Style.SUBTOTAL),
    ]

    data, _ = render(table_report(rows), fund, "pdf")

    text = pdf_pages(data)[0]
    assert "1000 Bank" in text
    assert "Closing balance $0.00" in text


@pytest.mark.django_db
def test_a_reports_own_chart_is_drawn_on_the_first_page_only(fund):
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40" viewBox="0 0 200 40">'
        '<text x="4" y="20" font-size="10">Raised per month</text></svg>'
    )
    report = table_report(memo_rows(700), chart=lambda _fund, _period: svg)

    data, _ = render(report, fund, "pdf")

    pages = pdf_pages(data)
    assert "Raised per month" in pages[0]
    assert "<svg" not in pages[0]  # drawn, not shown as text
    assert not any("Raised per month" in page for page in pages[1:])


@pytest.mark.django_db
def test_progress_is_reported_per_chunk(fund):
    seen = []

    render(table_report(memo_rows(1100)), fund, "pdf", progress=lambda d, t: seen.append((d, t)))

    assert seen == [(500, 1100), (1000, 1100), (1100, 1100)]


# Repeatable output ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["pdf", "pdfa", "csv"])
def test_the_same_inputs_and_generation_time_give_the_same_bytes(fund, fmt):
    report = table_report(memo_rows(600), [Total("Total", 598 * 1250)])

    first, _ = render(report, fund, fmt)
    # A second later: any date taken from the clock would differ.
    time.sleep(1.1)
    second, _ = render(report, fund, fmt)

    assert first == second


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["pdf", "pdfa"])
def test_chunks_laid_out_by_worker_processes_give_the_same_bytes_as_in_process(fund, fmt, settings):
    report = table_report(memo_rows(1100), [Total("Total", 1098 * 1250)])
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the engine lays out in-process only")
    settings.REPORT_RENDER_PROCESSES = 2
    assert engine.render_processes(3) == 2

    parallel, _ = render(report, fund, fmt)
    settings.REPORT_RENDER_PROCESSES = 1
    in_process, _ = render(report, fund, fmt)

    assert parallel == in_process
    assert len(PdfReader(io.BytesIO(parallel)).pages) > 2


@pytest.mark.django_db
def test_another_generation_time_gives_another_file(fund):
    report = table_report(memo_rows(2))

    first, _ = render(report, fund, "pdf")
    later, _ = render(report, fund, "pdf", generated_at=GENERATED_AT + timedelta(minutes=1))

    assert first != later
    assert "Generated 2026-12-01 12:01:00 UTC" in pdf_pages(later)[0]


# Generating: the report log ------------------------------------------------------------------


@pytest.mark.django_db
def test_generating_a_report_stores_it_privately_and_logs_its_hash(seeded, auditor, report_root):
    run = generate_report(
        actor=auditor,
        kind="trial-balance",
        fund=seeded,
        period=PERIOD,
        fmt="pdf",
        generated_at=GENERATED_AT,
    )

    path = report_file(run)
    assert run.status == ReportRun.Status.DONE
    assert path.parent == report_root
    assert path.name == run.stored_name
    assert len(run.stored_name) == len("0123456789abcdef0123456789abcdef.pdf")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert run.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert run.size_bytes == path.stat().st_size
    assert run.chain_head == LedgerHead.objects.get(fund=seeded).chain_head
    assert run.rows_total == run.rows_done == get_report("trial-balance").count(seeded, PERIOD)
    assert (run.requested_by, run.generated_at, run.signed) == (auditor, GENERATED_AT, False)
    # An "as of" report covers its one day.
    assert run.period_start == run.period_end == PERIOD.end
    assert f"Generated by {auditor.username}" in pdf_pages(path.read_bytes())[0]
    assert list(list_runs(seeded)) == [run]


@pytest.mark.django_db
def test_only_report_readers_may_generate(fund, coordinator):
    with pytest.raises(NotAllowed):
        generate_report(actor=coordinator, kind="activities", fund=fund, period=PERIOD, fmt="csv")

    assert not ReportRun.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "fmt", "says"),
    [
        ("balance-sheet", "pdf", "No report is called 'balance-sheet'; the reports are: "),
        ("activities", "xlsx", "No report format is called 'xlsx'"),
        ("ledger", "csv", "exported only in the beancount format"),
    ],
)
def test_a_kind_or_format_not_offered_is_refused(fund, treasurer, kind, fmt, says):
    with pytest.raises(ReportError, match=re.escape(says)):
        generate_report(actor=treasurer, kind=kind, fund=fund, period=PERIOD, fmt=fmt)


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ReportError, match=re.escape("The period starts after it ends.")):
        make_period(date(2026, 2, 1), date(2026, 1, 31))


@pytest.mark.django_db
def test_a_small_request_is_rendered_at_once(seeded, treasurer):
    run = request_report(actor=treasurer, kind="activities", fund=seeded, period=PERIOD, fmt="csv")

    assert run.status == ReportRun.Status.DONE
    assert report_file(run).read_bytes().startswith(b"Code,Line,Amount\r\n")


@pytest.mark.django_db
def test_a_large_request_is_queued_and_rendered_by_the_task(
    seeded, treasurer, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_BACKGROUND_ROWS = 5
    period = Period(date(2024, 1, 1), PERIOD.end)
    rows = get_report("general-ledger").count(seeded, period)
    assert rows > 5

    with django_capture_on_commit_callbacks() as callbacks:
        queued = request_report(
            actor=treasurer, kind="general-ledger", fund=seeded, period=period, fmt="pdf"
        )
    assert (queued.status, queued.rows_total, queued.rows_done) == ("queued", rows, 0)
    assert not queued.sha256

    for callback in callbacks:
        callback()  # the immediate task backend renders it now

    queued.refresh_from_db()
    assert queued.status == ReportRun.Status.DONE
    assert queued.rows_done == rows
    assert queued.sha256 == hashlib.sha256(report_file(queued).read_bytes()).hexdigest()
    # Running it again (a retried task) changes nothing.
    assert render_run(run_id=queued.pk).sha256 == queued.sha256


@pytest.mark.django_db
def test_a_failed_render_is_logged_without_what_the_rows_held(fund, report_root, monkeypatch):
    def rows(fund, period):
        yield from memo_rows(2)
        raise ValueError("Maria Lopez, A-123-456-789")

    broken = replace(table_report([]), rows=rows)
    monkeypatch.setitem(catalogue(), "test-broken", broken)
    run = ReportRun.objects.create(
        kind="test-broken",
        fund=fund,
        period_start=PERIOD.start,
        period_end=PERIOD.end,
        format="pdf",
        generated_at=GENERATED_AT,
    )

    render_run(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == ReportRun.Status.FAILED
    assert run.error == "Rendering failed (ValueError)."
    assert list(report_root.iterdir()) == []


def test_a_pdf_line_that_leaves_out_a_column_is_refused():
    with pytest.raises(ImproperlyConfiguredReport, match="once each, in order"):
        Report(
            kind="broken",
            title="Broken",
            description="",
            columns=(Column("A"), Column("B"), Column("C")),
            rows=lambda fund, period: iter(()),
            totals=lambda fund, period: (),
            count=lambda fund, period: 0,
            pdf_line=(LineField("A and B", (0, 1), 20),),
        )


@pytest.mark.parametrize(
    ("line", "refusal"),
    [
        ((LineField("A", (0,), 60), LineField("B", (1,), 30), LineField("C", (2,), 31)), "wider"),
        (
            (
                LineField("A", (0,), 10, Cell.MONEY),
                LineField("B", (1,), 10),
                LineField("C", (2,), 10),
            ),
            "ends in its amounts",
        ),
    ],
    ids=["too wide for a page", "an amount before text"],
)
def test_a_pdf_line_that_does_not_fit_or_mixes_amounts_into_text_is_refused(line, refusal):
    with pytest.raises(ImproperlyConfiguredReport, match=refusal):
        Report(
            kind="broken",
            title="Broken",
            description="",
            columns=(Column("A"), Column("B"), Column("C")),
            rows=lambda fund, period: iter(()),
            totals=lambda fund, period: (),
            count=lambda fund, period: 0,
            pdf_line=line,
        )

"""A report is read from one snapshot: what is posted while it renders is in neither its rows,
nor its totals, nor the chain head printed on it (the next report shows it)."""

import csv
import io
import threading
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from pypdf import PdfReader

from fund.ledger.services import create_fund
from fund.models import LedgerHead, Transaction
from fund.reports.registry import Period
from fund.reports.services import generate_report
from tests.fund.conftest import give_check

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
GIFTS = 260  # 520 postings: more than one chunk, so progress is reported before the totals


def attached_csv(path: Path) -> list[list[str]]:
    (content,) = PdfReader(path).attachments["general-ledger.csv"]
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


def totals_of(rows: list[list[str]]) -> dict[str, str]:
    return {row[0]: row[-1] for row in rows if row and row[0].startswith("Total ")}


# Each posting commits, so that the report's transaction is the only one open.
@pytest.mark.django_db(transaction=True)
def test_a_posting_made_while_a_report_renders_is_not_in_it(settings, tmp_path):
    settings.REPORT_ROOT = tmp_path
    settings.REPORT_RENDER_PROCESSES = 1  # chunks laid out in turn, each reporting progress
    fund = create_fund(
        actor=None, name="Snapshot Fund", slug="snapshot", goal_cents=0, opened_on=YEAR.start
    )
    for n in range(GIFTS):
        give_check(fund, 100, key=f"gift-{n}", on=date(2026, 2, 1))
    head_before = LedgerHead.objects.get(fund=fund).chain_head

    def post_elsewhere() -> None:
        try:
            give_check(fund, 99_999, key="meanwhile", on=date(2026, 3, 1))
        finally:
            connection.close()

    landed = []

    def progress(done: int, total: int) -> None:
        if not landed:  # the first chunk is laid out: post, and commit, from another connection
            other = threading.Thread(target=post_elsewhere)
            other.start()
            other.join()
            landed.append(done)

    run = generate_report(
        actor=None, kind="general-ledger", fund=fund, period=YEAR, fmt="pdfa", progress=progress
    )
    rows = attached_csv(tmp_path / run.stored_name)

    assert landed
    assert Transaction.objects.filter(idempotency_key__endswith="meanwhile").exists()
    assert not any("999.99" in cell for row in rows for cell in row)
    assert totals_of(rows) == {"Total debits": "260.00", "Total credits": "260.00"}
    assert run.chain_head == head_before
    later = generate_report(actor=None, kind="general-ledger", fund=fund, period=YEAR, fmt="pdfa")
    assert totals_of(attached_csv(tmp_path / later.stored_name)) == {
        "Total debits": "1259.99",
        "Total credits": "1259.99",
    }
    assert later.chain_head == LedgerHead.objects.get(fund=fund).chain_head != head_before

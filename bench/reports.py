"""The general-ledger PDF for 10,000 and 50,000 postings: seconds and peak memory, 3 runs each.

    python tests/pg.py --durable -- .venv/bin/python bench/reports.py [--sizes 10000 50000]
        [--repeat 3] [--single]

Posts half as many transactions as postings through the posting service (gifts by check and
attorney payments, two postings each), then renders the period's general ledger to PDF in a
fresh process per run, so that each run's peak RSS (getrusage maxrss) is its own. Prints the
median, min and max of the wall time and the peak RSS. --single also renders the same rows as one
WeasyPrint document (the engine's chunking turned off) for comparison; it is slow.
"""

import argparse
import io
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import machine, setup

START = date(2026, 1, 1)
END = date(2026, 12, 31)


def fill(postings: int) -> str:
    """Return the slug of a fund holding `postings` postings in 2026, posting them if needed."""
    from fund.ledger.entries import Leg
    from fund.ledger.posting import post_transaction
    from fund.ledger.services import create_fund
    from fund.models import Account, Fund, Posting, Transaction

    slug = f"reports-bench-{postings}"
    fund = Fund.objects.filter(slug=slug).first()
    if fund is None:
        fund = create_fund(
            actor=None, opened_on=START, name=f"Bench {postings}", slug=slug, goal_cents=0
        )
    accounts = {a.role: a for a in Account.objects.filter(fund=fund)}
    bank, gifts = accounts[Account.Role.BANK], accounts[Account.Role.CONTRIBUTIONS]
    fees = accounts[Account.Role.ATTORNEY_FEES]
    have = Posting.objects.filter(account__fund=fund).count()
    for n in range(have // 2, postings // 2):
        day = START + timedelta(days=n * 365 // (postings // 2))
        pay = n % 4 == 3
        cents, debit, credit = (2_500, fees, bank) if pay else (5_000, bank, gifts)
        legs = [Leg(debit, cents), Leg(credit, -cents)]
        post_transaction(
            fund=fund,
            legs=legs,
            effective_date=day,
            kind=Transaction.Kind.DISBURSEMENT if pay else Transaction.Kind.GIFT_OFFLINE,
            memo=f"{'Attorney fee' if pay else 'Check gift'} {n}",
            idempotency_key=f"bench-{slug}-{n}",
            actor=None,
            case_ref="C-2026-0042" if pay else "",
        )
    return slug


def render_once(slug: str, single: bool) -> None:
    """Render the fund's general ledger once and print 'seconds peak_kib pages'."""
    from pypdf import PdfReader

    from fund.ledger.models import Fund
    from fund.reports import engine
    from fund.reports.registry import Period, get_report

    if single:
        engine.CHUNK_ROWS = 10**9
    fund = Fund.objects.get(slug=slug)
    out = io.BytesIO()
    start = time.perf_counter()
    engine.render(
        get_report("general-ledger"),
        fund=fund,
        period=Period(START, END),
        fmt="pdf",
        generated_at=datetime(2027, 1, 1, tzinfo=UTC),
        generated_by="bench",
        out=out,
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pages = len(PdfReader(io.BytesIO(out.getvalue())).pages)
    print(f"{seconds:.2f} {peak} {pages}")


def measure(slug: str, repeat: int, single: bool) -> str:
    times, peaks = [], []
    pages = 0
    for _ in range(repeat):
        command = [sys.executable, str(Path(__file__)), "--render", slug]
        if single:
            command.append("--single")
        result = subprocess.run(command, check=True, capture_output=True, text=True)
        seconds, peak, pages_text = result.stdout.split()[-3:]
        times.append(float(seconds))
        peaks.append(int(peak) / 1024)
        pages = int(pages_text)
    return (
        f"{pages} pages: {statistics.median(times):.1f} s (min {min(times):.1f}, max "
        f"{max(times):.1f}), peak RSS {statistics.median(peaks):.0f} MB (min {min(peaks):.0f}, "
        f"max {max(peaks):.0f}) over {repeat} runs"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--single", action="store_true")
    parser.add_argument("--render", metavar="SLUG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup()
    if args.render:
        render_once(args.render, args.single)
        return
    print(f"machine: {machine()}")
    for size in args.sizes:
        slug = fill(size)
        print(f"general ledger, {size:,} postings, chunked: {measure(slug, args.repeat, False)}")
        if args.single:
            print(f"general ledger, {size:,} postings, one document: {measure(slug, 1, True)}")


if __name__ == "__main__":
    main()

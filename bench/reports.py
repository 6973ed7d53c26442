"""The general-ledger PDF for 10,000 and 100,000 postings: seconds and peak memory per run.

    python tests/pg.py --durable -- .venv/bin/python bench/reports.py [--sizes 10000 100000]
        [--repeat 3] [--repeat-large 1] [--no-compare]

Posts half as many transactions as postings through the posting service (gifts by check and
attorney payments, two postings each; a thousand per database transaction), then renders the
period's general ledger to PDF in a fresh process per run. Each run's peak RSS is that of the whole
process tree (the engine's layout processes too): the sum of their resident sets, sampled every
50 ms, or the parent's own maxrss if larger. Prints the median, min and max of --repeat runs
(--repeat-large for sizes above 10,000). For the 10,000 postings it also renders, once each in
the same run, the same rows with the layout in-process (REPORT_RENDER_PROCESSES=1, as before the
worker processes) and as one naive WeasyPrint document (no chunks). Exits non-zero naming each
target missed.
"""

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import machine, setup

START = date(2026, 1, 1)
END = date(2026, 12, 31)
# postings: (seconds, peak RSS in MB), from issue 11.
TARGETS = {10_000: (20.0, 400.0), 100_000: (120.0, 600.0)}
BATCH = 1000


def fill(postings: int) -> str:
    """Return the slug of a fund holding `postings` postings in 2026, posting them if needed."""
    from django.db import transaction

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
    wanted = postings // 2
    start = time.perf_counter()
    for batch in range(have // 2, wanted, BATCH):
        # One database transaction per thousand: the fastest way through the posting service.
        with transaction.atomic():
            for n in range(batch, min(batch + BATCH, wanted)):
                day = START + timedelta(days=n * 365 // wanted)
                pay = n % 4 == 3
                cents, debit, credit = (2_500, fees, bank) if pay else (5_000, bank, gifts)
                post_transaction(
                    fund=fund,
                    legs=[Leg(debit, cents), Leg(credit, -cents)],
                    effective_date=day,
                    kind=Transaction.Kind.DISBURSEMENT if pay else Transaction.Kind.GIFT_OFFLINE,
                    memo=f"{'Attorney fee' if pay else 'Check gift'} {n}",
                    idempotency_key=f"bench-{slug}-{n}",
                    actor=None,
                    case_ref="C-2026-0042" if pay else "",
                )
    if have < postings:
        seconds = time.perf_counter() - start
        print(f"posted {postings - have:,} postings in {seconds:.0f} s", flush=True)
    return slug


def tree_rss_kib(pid: int) -> int:
    """Return the resident set of a process and all its descendants, in KiB."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += tree_rss_kib(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def render_once(slug: str, single: bool) -> None:
    """Render the fund's general ledger once and print 'seconds peak_kib pages cpu_seconds'.

    The CPU seconds are this process's and its layout processes' (user and system): on a
    machine shared with other work they say what the render itself cost.
    """
    from pypdf import PdfReader

    from fund.ledger.models import Fund
    from fund.reports import engine
    from fund.reports.registry import Period, get_report

    if single:
        engine.CHUNK_ROWS = 10**9
    fund = Fund.objects.get(slug=slug)
    out = io.BytesIO()
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], tree_rss_kib(os.getpid()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before = sum(
        getattr(resource.getrusage(who), field)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for field in ("ru_utime", "ru_stime")
    )
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
    stop.set()
    sampler.join()
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    pages = len(PdfReader(io.BytesIO(out.getvalue())).pages)
    print(f"{seconds:.2f} {max(peak[0], own.ru_maxrss)} {pages} {cpu - cpu_before:.1f}")


def measure(slug: str, repeat: int, *, single: bool = False, processes: str = "") -> dict:
    times, peaks, cpus = [], [], []
    pages = 0
    env = dict(os.environ)
    if processes:
        env["REPORT_RENDER_PROCESSES"] = processes
    for _ in range(repeat):
        command = [sys.executable, str(Path(__file__)), "--render", slug]
        if single:
            command.append("--single")
        result = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
        seconds, peak, pages_text, cpu = result.stdout.split()[-4:]
        times.append(float(seconds))
        peaks.append(int(peak) / 1024)
        cpus.append(float(cpu))
        pages = int(pages_text)
    return {
        "pages": pages,
        "seconds": statistics.median(times),
        "rss": max(peaks),
        "text": (
            f"{pages} pages: {statistics.median(times):.1f} s (min {min(times):.1f}, max "
            f"{max(times):.1f}), peak RSS {statistics.median(peaks):.0f} MB (min "
            f"{min(peaks):.0f}, max {max(peaks):.0f}), CPU {statistics.median(cpus):.0f} s (min "
            f"{min(cpus):.0f}, max {max(cpus):.0f}) over {repeat} run{'s' * (repeat > 1)}, "
            f"load average after {os.getloadavg()[0]:.2f}"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-large", type=int, default=None)
    parser.add_argument("--no-compare", action="store_true")
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--render", metavar="SLUG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup()
    if args.render:
        render_once(args.render, args.single)
        return
    print(f"machine: {machine()}, load average {os.getloadavg()}", flush=True)
    for size, (seconds, mb) in TARGETS.items():
        print(f"target: {size:,} postings in <= {seconds:.0f} s, peak RSS <= {mb:.0f} MB")
    misses = []
    for size in args.sizes:
        slug = fill(size)
        repeat = args.repeat if size <= 10_000 else (args.repeat_large or args.repeat)
        result = measure(slug, repeat)
        print(f"general ledger, {size:,} postings: {result['text']}", flush=True)
        if size == 10_000 and not args.no_compare:
            before = measure(slug, 1, processes="1")
            print(f"  same rows, layout in-process: {before['text']}", flush=True)
            naive = measure(slug, 1, single=True, processes="1")
            print(f"  same rows, one naive document: {naive['text']}", flush=True)
        target = TARGETS.get(size)
        if target is not None:
            if result["seconds"] > target[0]:
                misses.append(f"{size:,} postings took {result['seconds']:.1f} s > {target[0]} s")
            if result["rss"] > target[1]:
                misses.append(f"{size:,} postings peaked at {result['rss']:.0f} MB > {target[1]}")
    if misses:
        sys.exit("reports: missed " + "; ".join(misses))
    print("reports: every target met")


if __name__ == "__main__":
    main()

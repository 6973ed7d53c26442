"""Posting throughput through the posting service with 1 and 8 concurrent writers.

    python tests/pg.py --durable -- .venv/bin/python bench/posting_throughput.py [--seconds 10]

Each writer is a separate process (as gunicorn workers and the task worker are) posting two-leg
gifts through fund.ledger.posting.post_transaction; all writers post to the same fund, the worst
case, since a fund's chain head serialises its writers. Prints postings per second.
"""

import argparse
import multiprocessing
import statistics
import time
import uuid
from datetime import date

from common import machine, setup


def writer(slug: str, seconds: float, counter) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    from fund.ledger.entries import Leg
    from fund.ledger.posting import post_transaction
    from fund.models import Account, Fund, Transaction

    connection.close()
    fund = Fund.objects.get(slug=slug)
    bank = Account.objects.get(fund=fund, role=Account.Role.BANK)
    contributions = Account.objects.get(fund=fund, role=Account.Role.CONTRIBUTIONS)
    prefix = uuid.uuid4().hex[:8]
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        post_transaction(
            fund=fund,
            legs=[Leg(bank, 2_500), Leg(contributions, -2_500)],
            effective_date=date(2026, 5, 1),
            kind=Transaction.Kind.GIFT_OFFLINE,
            memo="benchmark gift",
            idempotency_key=f"bench:{prefix}:{done}",
            actor=None,
        )
        done += 1
    with counter.get_lock():
        counter.value += done
    connection.close()


def run(writers: int, seconds: float) -> float:
    from django.db import connection

    from fund.ledger.services import create_fund

    slug = f"bench-{writers}-{uuid.uuid4().hex[:6]}"
    create_fund(
        actor=None,
        opened_on=date(2020, 1, 1),
        name=f"Throughput {writers}",
        slug=slug,
        goal_cents=0,
    )
    connection.close()
    counter = multiprocessing.Value("q", 0)
    processes = [
        multiprocessing.Process(target=writer, args=(slug, seconds, counter))
        for _ in range(writers)
    ]
    start = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - start
    return counter.value * 2 / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--rounds", type=int, default=5, help="Alternate 1 and 8 writers this often."
    )
    args = parser.parse_args()
    setup()
    print(f"machine: {machine()}")
    rates: dict[int, list[float]] = {1: [], 8: []}
    # Alternate the two so that the machine's drift over time falls on both alike.
    for round_number in range(1, args.rounds + 1):
        for writers in (1, 8):
            rate = run(writers, args.seconds)
            rates[writers].append(rate)
            print(
                f"  round {round_number}: {writers} writer(s): {rate:,.0f} postings/s", flush=True
            )
    for writers, measured in rates.items():
        median = statistics.median(measured)
        print(
            f"posting throughput, {writers} writer(s), one fund: median {median:,.0f} postings/s"
            f" (min {min(measured):,.0f}, max {max(measured):,.0f}, {len(measured)} runs)"
        )


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()

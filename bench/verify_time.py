"""verify_ledger time per 100k transactions.

    python tests/pg.py --durable -- .venv/bin/python bench/verify_time.py [--transactions 100000]

Posts the transactions through the posting service (so every hash is real), then times
verify_fund() over them and prints seconds per 100k transactions.
"""

import argparse
import statistics
import time
from datetime import date, timedelta

from common import machine, setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup()
    from fund.ledger.entries import Leg
    from fund.ledger.posting import post_transaction
    from fund.ledger.services import create_fund
    from fund.ledger.verify import verify_funds
    from fund.models import Account, Transaction

    print(f"machine: {machine()}")
    fund = create_fund(
        actor=None, opened_on=date(2020, 1, 1), name="Verify", slug="verify-bench", goal_cents=0
    )
    accounts = {a.role: a for a in Account.objects.filter(fund=fund)}
    bank, contributions = accounts[Account.Role.BANK], accounts[Account.Role.CONTRIBUTIONS]
    fees = accounts[Account.Role.ATTORNEY_FEES]
    start = time.perf_counter()
    for n in range(args.transactions):
        pay = n % 10 == 9
        post_transaction(
            fund=fund,
            legs=[Leg(fees, 1_000), Leg(bank, -1_000)]
            if pay
            else [Leg(bank, 2_500), Leg(contributions, -2_500)],
            # In date order, as books mostly are (a backdated entry moves every later day).
            effective_date=date(2025, 1, 1) + timedelta(days=n * 540 // args.transactions),
            kind=Transaction.Kind.DISBURSEMENT if pay else Transaction.Kind.GIFT_OFFLINE,
            memo="benchmark",
            idempotency_key=f"verify-bench:{n}",
            actor=None,
        )
    print(f"posted {args.transactions:,} transactions in {time.perf_counter() - start:.0f} s")
    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        [result] = verify_funds([fund])
        timings.append(time.perf_counter() - start)
        if not result.ok:
            raise SystemExit(f"verify failed: {result.problem}")
    per_100k = [elapsed * 100_000 / result.transactions for elapsed in timings]
    print(
        f"verify_ledger: {result.transactions:,} transactions, {result.postings:,} postings: "
        f"median {statistics.median(per_100k):.1f} s per 100k transactions "
        f"(min {min(per_100k):.1f}, max {max(per_100k):.1f}, {len(timings)} runs)"
    )


if __name__ == "__main__":
    main()

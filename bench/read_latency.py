"""Current-balance and goal-progress read latency with 10k and with 1M postings.

    python tests/pg.py --durable -- .venv/bin/python bench/read_latency.py

Fills one fund with 5,000 gifts (10k postings) and measures the reads; then fills a second fund
with 500,000 gifts (1M postings, so the tables hold over a million) and measures the same reads on
it. The rows are written by the real fund_post() function in batches of 1,000 per transaction;
their content digests are placeholders (this benchmark reads balances, it does not verify).
Prints median milliseconds and the ratio between the two sizes: about 1.0 shows O(1) reads.
"""

import argparse
import statistics
import time
from datetime import date

from common import machine, median_ms, setup

BATCH = 1000


def fill(fund, transactions: int) -> float:  # type: ignore[no-untyped-def]
    from django.db import connection, transaction

    from fund.ledger.privileges import as_owner
    from fund.models import Account

    bank = Account.objects.get(fund=fund, role=Account.Role.BANK).pk
    contributions = Account.objects.get(fund=fund, role=Account.Role.CONTRIBUTIONS).pk
    start = time.perf_counter()
    # In date order (a backdated entry moves every later day), BATCH per database transaction.
    for first in range(0, transactions, BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT fund_post(p_fund => %s, "
                "p_idempotency_key => %s || n, p_effective_date => date '2025-01-01' + "
                "(n * 540 / %s)::integer, p_kind => 'gift_offline', p_memo => 'benchmark gift', "
                "p_reason => '', p_source_ref => '', p_case_ref => '', p_recorded_by => NULL, "
                "p_reverses => NULL, p_accounts => ARRAY[%s, %s]::bigint[], "
                "p_amounts => %s::bigint[], p_check_now => false)"
                " FROM generate_series(%s, %s) AS n) AS posted",
                [
                    fund.pk,
                    f"{fund.slug}:",
                    transactions,
                    min(bank, contributions),
                    max(bank, contributions),
                    [2500, -2500] if bank < contributions else [-2500, 2500],
                    first,
                    min(first + BATCH, transactions) - 1,
                ],
            )
    with as_owner(connection), connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE fund_posting")
        cursor.execute("VACUUM ANALYZE fund_transaction")
        cursor.execute("VACUUM ANALYZE fund_account")
        cursor.execute("VACUUM ANALYZE fund_accountday")
    return time.perf_counter() - start


def measure(fund) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from fund.ledger.progress import fund_progress
    from fund.ledger.queries import account_balance
    from fund.models import Account

    bank = Account.objects.get(fund=fund, role=Account.Role.BANK)
    return median_ms(lambda: account_balance(bank)), median_ms(lambda: fund_progress(fund))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=500_000, help="gifts in the large fund")
    args = parser.parse_args()
    setup()
    from django.db import connection

    from fund.ledger.services import create_fund
    from fund.models import Posting

    connection.ensure_connection()
    print(f"machine: {machine()}")
    small = create_fund(
        actor=None, opened_on=date(2020, 1, 1), name="Small", slug="small", goal_cents=15_000_000
    )
    fill(small, 5_000)
    small_balance, small_progress = measure(small)
    print(f"postings in table: {Posting.objects.count():,}")
    print(f"  balance {small_balance:.3f} ms median, progress {small_progress:.3f} ms median")

    large = create_fund(
        actor=None, opened_on=date(2020, 1, 1), name="Large", slug="large", goal_cents=15_000_000
    )
    seconds = fill(large, args.large)
    large_balance, large_progress = measure(large)
    print(f"postings in table: {Posting.objects.count():,} (filled in {seconds:.0f} s)")
    print(f"  balance {large_balance:.3f} ms median, progress {large_progress:.3f} ms median")
    print(
        f"ratio 1M/10k: balance {large_balance / small_balance:.2f}, "
        f"progress {large_progress / small_progress:.2f}"
    )
    # The same reads again, alternating between the funds, so drift in the machine's speed
    # between the two measurements above does not pass for a difference in size.
    rounds = [(measure(small), measure(large)) for _ in range(3)]
    small_balance = statistics.median(s[0] for s, _ in rounds)
    small_progress = statistics.median(s[1] for s, _ in rounds)
    large_balance = statistics.median(big[0] for _, big in rounds)
    large_progress = statistics.median(big[1] for _, big in rounds)
    print(
        f"interleaved, 5,000 vs {args.large:,} gifts: balance {small_balance:.3f} vs "
        f"{large_balance:.3f} ms (ratio {large_balance / small_balance:.2f}), progress "
        f"{small_progress:.3f} vs {large_progress:.3f} ms (ratio "
        f"{large_progress / small_progress:.2f})"
    )


if __name__ == "__main__":
    main()

"""Recompute a fund's ledger from its rows: hash chain, zero-sums, balances and checkpoints."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from fund.ledger.chain import chain_hash, content_digest
from fund.ledger.models import (
    GENESIS_HASH,
    Account,
    AccountMonth,
    Fund,
    LedgerHead,
    Posting,
    Transaction,
)

BATCH = 5000


@dataclass
class Verification:
    """The outcome of verifying one fund: counts and chain head, or the first problem found."""

    fund: str
    transactions: int = 0
    postings: int = 0
    chain_head: str = ""
    problem: str = ""
    bad_transaction: str = ""
    bad_transaction_id: int | None = None
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problem


def verify_fund(fund: Fund) -> Verification:
    """Verify one fund's ledger; stop at the first bad transaction and say what is wrong with it."""
    result = Verification(fund=fund.slug)
    running: dict[int, int] = defaultdict(int)
    months: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    prev_hash = GENESIS_HASH
    postings = _postings_by_transaction(fund)
    pending = next(postings, None)
    for txn in Transaction.objects.filter(fund=fund).order_by("id").iterator(chunk_size=BATCH):
        legs: list[tuple[int, int, int]] = []
        while pending is not None and pending[0] == txn.pk:
            legs.append(pending[1:])
            pending = next(postings, None)
        result.transactions += 1
        result.postings += len(legs)

        def fail(problem: str, txn: Transaction = txn) -> Verification:
            result.problem = problem
            result.bad_transaction = txn.reference
            result.bad_transaction_id = txn.pk
            return result

        if txn.prev_hash != prev_hash:
            return fail("its prev_hash does not match the hash of the transaction before it")
        digest = content_digest(
            fund_id=txn.fund_id,
            effective_date=txn.effective_date,
            kind=txn.kind,
            memo=txn.memo,
            reason=txn.reason,
            source_ref=txn.source_ref,
            case_ref=txn.case_ref,
            idempotency_key=txn.idempotency_key,
            recorded_by_id=txn.recorded_by_id,
            reverses_id=txn.reverses_id,
            recorded_at=txn.recorded_at,
            legs=[(account_id, amount) for account_id, amount, _ in legs],
        )
        expected = chain_hash(prev_hash=prev_hash, year=txn.year, number=txn.number, digest=digest)
        if len(legs) < 2:
            return fail(f"it has {len(legs)} posting(s); a transaction needs at least two")
        total = sum(amount for _, amount, _ in legs)
        if total != 0:
            return fail(f"its postings sum to {total} cents instead of zero")
        if txn.hash != expected:
            return fail("its hash does not match its contents (a field or an amount was altered)")
        month = txn.effective_date.replace(day=1)
        for account_id, amount, balance_after in legs:
            running[account_id] += amount
            if balance_after != running[account_id]:
                return fail(
                    f"posting on account #{account_id} records balance {balance_after}, "
                    f"recomputed {running[account_id]}"
                )
            checkpoint = months[(account_id, month)]
            checkpoint[0] += max(amount, 0)
            checkpoint[1] += max(-amount, 0)
        prev_hash = txn.hash

    result.chain_head = prev_hash
    head = LedgerHead.objects.get(fund=fund)
    if head.chain_head != prev_hash:
        result.problem = (
            f"the fund's chain head {head.chain_head[:12]}… is not the last transaction's hash "
            f"{prev_hash[:12]}… (transactions were removed or added outside the service)"
        )
        return result
    for account in Account.objects.filter(fund=fund):
        if account.balance_cents != running.get(account.pk, 0):
            result.problem = (
                f"account {account.code} {account.name} stores balance {account.balance_cents}, "
                f"its postings sum to {running.get(account.pk, 0)}"
            )
            return result
    stored = {
        (row.account_id, row.month): [row.debit_cents, row.credit_cents]
        for row in AccountMonth.objects.filter(account__fund=fund)
    }
    for key, sums in months.items():
        if stored.pop(key, None) != sums:
            result.problem = f"monthly checkpoint of account #{key[0]} for {key[1]:%Y-%m} is wrong"
            return result
    if any(sums != [0, 0] for sums in stored.values()):
        result.problem = "a monthly checkpoint has no postings behind it"
    return result


def _postings_by_transaction(fund: Fund) -> Iterator[tuple[int, int, int, int]]:
    """Yield (transaction, account, amount, balance_after) ids and cents in posting order."""
    yield from (
        Posting.objects.filter(transaction__fund=fund)
        .order_by("transaction_id", "id")
        .values_list("transaction_id", "account_id", "amount_cents", "balance_after_cents")
        .iterator(chunk_size=BATCH)
    )

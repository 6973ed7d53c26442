"""Recompute a fund's ledger from its rows: hash chain, zero-sums, balances and checkpoints."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from fund.ledger.chain import GENESIS_HASH, chain_hash, content_digest
from fund.ledger.models import Account, AccountMonth, Fund, LedgerHead, Posting, Transaction

BATCH = 5000

# (transaction id, account id, amount, balance after), in posting order.
PostingRow = tuple[int, int, int, int]


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

    @property
    def ok(self) -> bool:
        return not self.problem


def verify_fund(fund: Fund) -> Verification:
    """Verify one fund's ledger; stop at the first bad transaction and say what is wrong with it."""
    result = Verification(fund=fund.slug)
    books = _Recomputed()
    postings = _postings_by_transaction(fund)
    pending = next(postings, None)
    for txn in Transaction.objects.filter(fund=fund).order_by("id").iterator(chunk_size=BATCH):
        legs: list[tuple[int, int, int]] = []
        while pending is not None and pending[0] == txn.pk:
            legs.append(pending[1:])
            pending = next(postings, None)
        result.transactions += 1
        result.postings += len(legs)
        problem = books.add(txn, legs)
        if problem:
            result.problem = problem
            result.bad_transaction = txn.reference
            result.bad_transaction_id = txn.pk
            return result
    result.chain_head = books.prev_hash
    result.problem = _stored_figures_problem(fund, books)
    return result


class _Recomputed:
    """The chain head, balances and monthly checkpoints recomputed from the rows so far."""

    def __init__(self) -> None:
        self.prev_hash = GENESIS_HASH
        self.balances: dict[int, int] = defaultdict(int)
        self.months: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])

    def add(self, txn: Transaction, legs: list[tuple[int, int, int]]) -> str:
        """Take the next transaction into account; return what is wrong with it, or ""."""
        if txn.prev_hash != self.prev_hash:
            return "its prev_hash does not match the hash of the transaction before it"
        if len(legs) < 2:
            return f"it has {len(legs)} posting(s); a transaction needs at least two"
        total = sum(amount for _, amount, _ in legs)
        if total != 0:
            return f"its postings sum to {total} cents instead of zero"
        digest = content_digest(txn, [(account, amount) for account, amount, _ in legs])
        link = chain_hash(prev_hash=self.prev_hash, year=txn.year, number=txn.number, digest=digest)
        if txn.hash != link:
            return "its hash does not match its contents (a field or an amount was altered)"
        month = txn.effective_date.replace(day=1)
        for account_id, amount, balance_after in legs:
            self.balances[account_id] += amount
            if balance_after != self.balances[account_id]:
                return (
                    f"posting on account #{account_id} records balance {balance_after}, "
                    f"recomputed {self.balances[account_id]}"
                )
            checkpoint = self.months[(account_id, month)]
            checkpoint[0] += max(amount, 0)
            checkpoint[1] += max(-amount, 0)
        self.prev_hash = txn.hash
        return ""


def _stored_figures_problem(fund: Fund, books: _Recomputed) -> str:
    """Compare the stored head, balances and checkpoints with the recomputed ones."""
    head = LedgerHead.objects.get(fund=fund)
    if head.chain_head != books.prev_hash:
        return (
            f"the fund's chain head {head.chain_head[:12]}… is not the last transaction's hash "
            f"{books.prev_hash[:12]}… (transactions were removed or added outside the service)"
        )
    for account in Account.objects.filter(fund=fund):
        recomputed = books.balances.get(account.pk, 0)
        if account.balance_cents != recomputed:
            return (
                f"account {account.code} {account.name} stores balance {account.balance_cents}, "
                f"its postings sum to {recomputed}"
            )
    stored = {
        (row.account_id, row.month): [row.debit_cents, row.credit_cents]
        for row in AccountMonth.objects.filter(account__fund=fund)
    }
    for key, sums in books.months.items():
        if stored.pop(key, None) != sums:
            return f"monthly checkpoint of account #{key[0]} for {key[1]:%Y-%m} is wrong"
    if any(sums != [0, 0] for sums in stored.values()):
        return "a monthly checkpoint has no postings behind it"
    return ""


def _postings_by_transaction(fund: Fund) -> Iterator[PostingRow]:
    """Yield (transaction, account, amount, balance_after) ids and cents in posting order."""
    yield from (
        Posting.objects.filter(transaction__fund=fund)
        .order_by("transaction_id", "id")
        .values_list("transaction_id", "account_id", "amount_cents", "balance_after_cents")
        .iterator(chunk_size=BATCH)
    )

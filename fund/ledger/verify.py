"""Recompute a fund's ledger from its rows and name everything that does not add up.

`verify_funds` reads every fund in one REPEATABLE READ, READ ONLY snapshot, so a writer posting
meanwhile cannot make it fail falsely. For each transaction, in recording order, it checks the hash
chain, the digest, the replay hash, the numbering, the year, the kind and memo, the dates against
the fund's opening day and the lock date in force when it was recorded, reversals against their
originals, the zero-sum and every posting's balance. Then it compares what the database stores
beside the chain (balances, daily checkpoints, counters, the lock date, the chart, the head) with
what it recomputed, and checks seals: each one's signature, and that the chain still passes
through the head it sealed, with the fund's currency, restriction and chart unchanged.
"""

import bisect
import contextlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from fund.ledger import seals
from fund.ledger.chain import GENESIS_HASH, chain_hash, digests
from fund.ledger.models import (
    CHART,
    Account,
    AccountDay,
    BooksLock,
    Fund,
    LedgerHead,
    Posting,
    SupportedCase,
    Transaction,
)

BATCH = 5000
PROBLEM_LIMIT = 100
FUTURE_DAYS = 31
Kind = Transaction.Kind
KINDS = frozenset(Kind.values)
GIFT_KINDS = frozenset({Kind.GIFT_ONLINE, Kind.GIFT_OFFLINE})
CASE_KINDS = frozenset({Kind.DISBURSEMENT, Kind.BOND_POSTED})
# (transaction id, account id, amount, balance after, effective date), in posting order.
PostingRow = tuple[int, int, int, int, date]


@dataclass(frozen=True)
class Problem:
    """One thing wrong: with the transaction it concerns (its reference), or with the fund."""

    what: str
    reference: str = ""

    def __str__(self) -> str:
        return f"{self.reference}: {self.what}" if self.reference else self.what


@dataclass
class Verification:
    """The outcome of verifying one fund: counts, chain head, seals checked, and every problem."""

    fund: str
    transactions: int = 0
    postings: int = 0
    chain_head: str = ""
    seals_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> str:
        """Return the first problem's description ("" when there is none)."""
        return self.problems[0].what if self.problems else ""

    @property
    def bad_transaction(self) -> str:
        """Return the reference of the first transaction with a problem ("" when none)."""
        return next((p.reference for p in self.problems if p.reference), "")

    def add(self, what: str, txn: Transaction | None = None) -> None:
        if len(self.problems) >= PROBLEM_LIMIT:
            self.more_problems += 1
            return
        self.problems.append(Problem(what, txn.reference if txn is not None else ""))


def verify_funds(
    funds: Iterable[Fund] | None = None, *, sealed: Iterable[seals.SignedSeal] = ()
) -> list[Verification]:
    """Verify the funds (every fund by default) in one snapshot; check the given seals too."""
    given = list(sealed)
    with snapshot():
        chosen = list(Fund.objects.order_by("slug")) if funds is None else list(funds)
        results = [verify_fund(fund, sealed=given) for fund in chosen]
        known = {fund.slug for fund in chosen}
        for seal in given:
            statement = _statement(seal)
            if statement is not None and statement.fund not in known and funds is None:
                stray = Verification(fund=statement.fund)
                stray.add(f"a seal names fund {statement.fund!r}, which does not exist")
                results.append(stray)
    return results


def verify_fund(fund: Fund, *, sealed: Iterable[seals.SignedSeal] = ()) -> Verification:
    """Verify one fund's ledger and the seals of it; name every problem (up to a limit)."""
    result = Verification(fund=fund.slug)
    books = _Recomputed(fund, result)
    postings = _postings_by_transaction(fund)
    pending = next(postings, None)
    for txn in Transaction.objects.filter(fund=fund).order_by("id").iterator(chunk_size=BATCH):
        legs: list[PostingRow] = []
        while pending is not None and pending[0] == txn.pk:
            legs.append(pending)
            pending = next(postings, None)
        books.add(txn, legs)
    result.chain_head = books.prev_hash
    _check_stored_figures(fund, books, result)
    _check_seals(fund, result, sealed)
    return result


@contextlib.contextmanager
def snapshot() -> Iterator[None]:
    """Read everything inside one REPEATABLE READ, READ ONLY transaction.

    Inside a caller's transaction (a test's, say) reads share that transaction instead.
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


class _Recomputed:
    """The chain, numbers, balances, days and counters recomputed from the rows read so far."""

    def __init__(self, fund: Fund, result: Verification) -> None:
        self.fund = fund
        self.result = result
        self.prev_hash = GENESIS_HASH
        self.balances: dict[int, int] = defaultdict(int)
        self.days: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
        self.next_number: dict[int, int] = defaultdict(lambda: 1)
        self.gifts = 0
        self.cases: dict[str, int] = defaultdict(int)
        self.seen: dict[int, tuple[str, str]] = {}  # id -> (kind, hash) of each transaction
        self.reversed_ids = set(
            Transaction.objects.filter(fund=fund, reverses__isnull=False).values_list(
                "reverses_id", flat=True
            )
        )
        self.legs_of: dict[int, list[tuple[int, int]]] = {}
        locks = BooksLock.objects.filter(fund=fund).order_by("at", "id")
        self.lock_times = [lock.at for lock in locks]
        self.lock_dates = [lock.closed_through for lock in locks]

    def add(self, txn: Transaction, legs: list[PostingRow]) -> None:
        """Take the next transaction into account, noting whatever is wrong with it."""
        problem = self.result.add
        pairs = [(account, amount) for _, account, amount, _, _ in legs]
        if txn.prev_hash != self.prev_hash:
            problem("its prev_hash does not match the hash of the transaction before it", txn)
        digest, payload = digests(txn, pairs)
        link = chain_hash(prev_hash=txn.prev_hash, year=txn.year, number=txn.number, digest=digest)
        if txn.hash != link:
            problem("its hash does not match its contents (a field or an amount was altered)", txn)
        if txn.payload_hash != payload:
            problem("its payload hash does not match its contents", txn)
        self._check_fields(txn)
        self._check_legs(txn, legs)
        self._check_reversal(txn, pairs)
        self._count(txn)
        self.seen[txn.pk] = (txn.kind, txn.hash)
        if txn.pk in self.reversed_ids:
            self.legs_of[txn.pk] = pairs
        self.prev_hash = txn.hash
        self.result.transactions += 1
        self.result.postings += len(legs)

    def _check_fields(self, txn: Transaction) -> None:
        problem = self.result.add
        if txn.year != txn.effective_date.year:
            problem(f"its year {txn.year} is not the year of its date {txn.effective_date}", txn)
        expected = self.next_number[txn.year]
        if txn.number != expected:
            problem(f"it is number {txn.number} of {txn.year}; the next number is {expected}", txn)
        self.next_number[txn.year] = max(expected, txn.number) + 1
        if txn.kind not in KINDS:
            problem(f"its kind {txn.kind!r} is not a kind of transaction", txn)
        if not txn.memo.strip():
            problem("it has no memo", txn)
        if txn.effective_date < self.fund.opened_on:
            problem(f"it is dated before the fund's books open ({self.fund.opened_on})", txn)
        # Counted from the day in TIME_ZONE, as the database's check does (fund_today()).
        recorded_on = timezone.localdate(txn.recorded_at)
        if txn.effective_date > recorded_on + timedelta(days=FUTURE_DAYS):
            problem("it is dated more than 31 days after it was recorded", txn)
        lock = self._lock_at(txn)
        if lock is not None and txn.effective_date <= lock:
            problem(f"it is dated {txn.effective_date}, on or before the lock date {lock}", txn)

    def _lock_at(self, txn: Transaction) -> date | None:
        """Return the lock date in force when the transaction was recorded."""
        index = bisect.bisect_right(self.lock_times, txn.recorded_at)
        return self.lock_dates[index - 1] if index else None

    def _check_legs(self, txn: Transaction, legs: list[PostingRow]) -> None:
        problem = self.result.add
        if len(legs) < 2:
            problem(f"it has {len(legs)} posting(s); a transaction needs at least two", txn)
        total = sum(amount for _, _, amount, _, _ in legs)
        if total != 0:
            problem(f"its postings sum to {total} cents instead of zero", txn)
        for _, account_id, amount, balance_after, on in legs:
            self.balances[account_id] += amount
            if balance_after != self.balances[account_id]:
                problem(
                    f"its posting on account #{account_id} records balance {balance_after}, "
                    f"recomputed {self.balances[account_id]}",
                    txn,
                )
            if on != txn.effective_date:
                problem(f"its posting on account #{account_id} is dated {on}", txn)
            day = self.days[(account_id, txn.effective_date)]
            day[0] += max(amount, 0)
            day[1] += max(-amount, 0)

    def _check_reversal(self, txn: Transaction, pairs: list[tuple[int, int]]) -> None:
        problem = self.result.add
        if (txn.kind == Kind.REVERSAL) != (txn.reverses_id is not None):
            problem("its kind and its reversal link disagree", txn)
        if txn.reverses_id is None:
            return
        original = self.seen.get(txn.reverses_id)
        if original is None:
            problem("it reverses a transaction that is not earlier in this fund's ledger", txn)
            return
        if original[0] == Kind.REVERSAL:
            problem("it reverses a reversal", txn)
        mirror = sorted((account, -amount) for account, amount in self.legs_of[txn.reverses_id])
        if sorted(pairs) != mirror:
            problem("it is not the exact mirror of the transaction it reverses", txn)

    def _count(self, txn: Transaction) -> None:
        undone = self.seen[txn.reverses_id][0] if txn.reverses_id in self.seen else None
        if txn.kind in GIFT_KINDS:
            self.gifts += 1
        elif undone in GIFT_KINDS:
            self.gifts -= 1
        if txn.case_ref and txn.kind in CASE_KINDS:
            self.cases[txn.case_ref] += 1
        elif txn.case_ref and undone in CASE_KINDS:
            self.cases[txn.case_ref] -= 1


def _check_stored_figures(fund: Fund, books: _Recomputed, result: Verification) -> None:
    """Compare what is stored beside the chain with what the chain says."""
    problem = result.add
    head = LedgerHead.objects.filter(fund=fund).first()
    if head is None:
        problem("the fund's ledger head row is missing")
    else:
        if head.chain_head != books.prev_hash:
            problem(
                f"the stored chain head {head.chain_head[:12]}… is not the last transaction's "
                f"hash {books.prev_hash[:12]}… (transactions were removed or added outside "
                "fund_post)"
            )
        if head.gift_count != books.gifts:
            problem(f"the stored gift count is {head.gift_count}; the ledger counts {books.gifts}")
        lock = books.lock_dates[-1] if books.lock_dates else None
        if head.closed_through != lock:
            problem(
                f"the books are closed through {head.closed_through}, but the lock log says "
                f"{lock} (the lock date was changed outside fund_close_books)"
            )
    _check_chart(fund, books, result)
    _check_days(fund, books, result)
    stored_cases = dict(SupportedCase.objects.filter(fund=fund).values_list("case_ref", "payments"))
    for case_ref in sorted(set(stored_cases) | set(books.cases)):
        if stored_cases.get(case_ref, 0) != books.cases.get(case_ref, 0):
            problem(
                f"case {case_ref} counts {stored_cases.get(case_ref, 0)} payments; the ledger "
                f"has {books.cases.get(case_ref, 0)}"
            )


def _check_chart(fund: Fund, books: _Recomputed, result: Verification) -> None:
    expected = {
        code: (role.label, str(kind), str(role), floor) for code, role, kind, floor in CHART
    }
    for account in Account.objects.filter(fund=fund).order_by("code"):
        recomputed = books.balances.get(account.pk, 0)
        if account.balance_cents != recomputed:
            result.add(
                f"account {account.code} {account.name} stores balance {account.balance_cents}, "
                f"its postings sum to {recomputed}"
            )
        found = (account.name, account.kind, account.role, account.no_overdraft)
        wanted = expected.pop(account.code, None)
        if wanted is None:
            result.add(f"account {account.code} {account.name} is not in the fund's chart")
        elif found != wanted:
            result.add(
                f"account {account.code} is {found}, but the chart says {wanted} "
                "(name, kind, role, may-not-overdraw)"
            )
    for code in sorted(expected):
        result.add(f"account {code} of the chart is missing")


def _check_days(fund: Fund, books: _Recomputed, result: Verification) -> None:
    """Compare the daily checkpoints, and check cash was never below zero on any day."""
    floors = dict(Account.objects.filter(fund=fund).values_list("pk", "no_overdraft"))
    codes = dict(Account.objects.filter(fund=fund).values_list("pk", "code"))
    stored = {
        (row.account_id, row.day): (row.debit_cents, row.credit_cents, row.balance_cents)
        for row in AccountDay.objects.filter(account__fund=fund)
    }
    running: dict[int, int] = defaultdict(int)
    for account_id, day in sorted(books.days):
        debits, credits = books.days[(account_id, day)]
        running[account_id] += debits - credits
        recomputed = (debits, credits, running[account_id])
        # A posting moved onto another fund's account has no code here.
        code = codes.get(account_id, f"#{account_id}")
        if stored.pop((account_id, day), None) != recomputed:
            result.add(f"the daily checkpoint of account {code} for {day} is wrong")
        if floors.get(account_id) and running[account_id] < 0:
            result.add(f"account {code} is below zero at the end of {day}: {running[account_id]}")
    for account_id, day in sorted(stored):
        result.add(f"account {codes[account_id]} has a checkpoint for {day} with no postings")


def _check_seals(fund: Fund, result: Verification, given: Iterable[seals.SignedSeal]) -> None:
    """Check the seals given and those the fund keeps, if a trusted key signed them."""
    trusted = seals.trusted_keys()
    kept = [
        seals.SignedSeal(statement=s.statement, signature=s.signature, key_id=s.key_id)
        for s in fund.seals.all()
        if s.key_id in trusted
    ]
    for seal in [*given, *kept]:
        try:
            statement = seals.check_signature(seal)
        except seals.SealError as error:
            claimed = _statement(seal)
            if claimed is not None and claimed.fund == fund.slug:
                result.add(f"a seal of this fund does not hold: {error}")
            continue
        if statement.fund != fund.slug:
            continue
        result.seals_checked += 1
        for what in _seal_mismatches(fund, statement):
            result.add(f"the seal of {statement.sealed_at:%Y-%m-%d %H:%M} UTC: {what}")


def _seal_mismatches(fund: Fund, statement: seals.Statement) -> Iterator[str]:
    if (statement.fund_id, statement.currency, statement.restricted, statement.opened_on) != (
        fund.pk,
        fund.currency,
        fund.restricted,
        fund.opened_on,
    ):
        yield "the fund's id, currency, restriction or opening day has changed since"
    if statement.chart != seals.chart_digest(fund):
        yield "the fund's chart of accounts has changed since"
    if not statement.reference:
        if statement.transactions or statement.chain_head != GENESIS_HASH:
            yield "it seals an empty ledger with transactions in it"
        return
    year, _, number = statement.reference.partition("-")
    sealed = Transaction.objects.filter(fund=fund, year=int(year), number=int(number)).first()
    if sealed is None:
        yield f"transaction {statement.reference} it sealed is gone"
        return
    if sealed.hash != statement.chain_head:
        yield f"the chain no longer passes through the sealed head at {statement.reference}"
    before = Transaction.objects.filter(fund=fund, id__lte=sealed.pk).count()
    if before != statement.transactions:
        yield (
            f"{before} transactions lead to {statement.reference}; "
            f"it sealed {statement.transactions}"
        )


def _statement(seal: seals.SignedSeal) -> seals.Statement | None:
    try:
        return seals.Statement.parse(seal.statement)
    except seals.SealError:
        return None


def _postings_by_transaction(fund: Fund) -> Iterator[PostingRow]:
    """Yield (transaction, account, amount, balance_after, date) in posting order."""
    yield from (
        Posting.objects.filter(transaction__fund=fund)
        .order_by("transaction_id", "id")
        .values_list(
            "transaction_id", "account_id", "amount_cents", "balance_after_cents", "effective_date"
        )
        .iterator(chunk_size=BATCH)
    )

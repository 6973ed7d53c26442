"""Reads of the books for the treasurer screens and the staff API: balances, registers, locks.

Everything is by effective date. Current balances are O(1): stored balances. Balances at the end
of a day read one daily checkpoint per account, whatever the length of the ledger's history.
Public figures are in fund.ledger.progress.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404

from fund.ledger.models import (
    Account,
    AccountDay,
    BooksLock,
    Fund,
    LedgerHead,
    Posting,
    Seal,
    Transaction,
)


@dataclass(frozen=True)
class TrialBalanceRow:
    """One account's balance in a trial balance, on its debit or its credit side."""

    account: Account
    balance_cents: int

    @property
    def debit_cents(self) -> int:
        return max(self.balance_cents, 0)

    @property
    def credit_cents(self) -> int:
        return max(-self.balance_cents, 0)


@dataclass(frozen=True)
class TrialBalance:
    """Every account's balance now (`on` is None) or at the end of a day; debits equal credits."""

    fund: Fund
    on: date | None
    rows: list[TrialBalanceRow]
    total_debits: int
    total_credits: int


def get_fund(slug: str) -> Fund:
    """Return the fund with this slug or raise Http404."""
    return get_object_or_404(Fund, slug=slug)


def account_balance(account: Account) -> int:
    """Return the account's current balance in minor units (debit +), read from its stored value."""
    return Account.objects.values_list("balance_cents", flat=True).get(pk=account.pk)


def balances_as_of(fund: Fund, on: date) -> dict[int, int]:
    """Return every account's balance at the end of a day, by effective date, by account id.

    Reads each account's last daily checkpoint on or before the day: one index lookup per account,
    whatever the length of the ledger's history.
    """
    balances = dict.fromkeys(Account.objects.filter(fund=fund).values_list("pk", flat=True), 0)
    latest = (
        AccountDay.objects.filter(account__fund=fund, day__lte=on)
        .order_by("account_id", "-day")
        .distinct("account_id")
        .values_list("account_id", "balance_cents")
    )
    balances.update(dict(latest))
    return balances


def balance_on(account: Account, on: date) -> int:
    """Return one account's balance at the end of a day, by effective date."""
    found = (
        AccountDay.objects.filter(account=account, day__lte=on)
        .order_by("-day")
        .values_list("balance_cents", flat=True)
        .first()
    )
    return found or 0


def trial_balance(fund: Fund, on: date | None = None) -> TrialBalance:
    """Return each account with its balance, now or at the end of a day, and the two totals."""
    accounts = list(Account.objects.filter(fund=fund).order_by("code"))
    balances = (
        {account.pk: account.balance_cents for account in accounts}
        if on is None
        else balances_as_of(fund, on)
    )
    rows = [TrialBalanceRow(account, balances[account.pk]) for account in accounts]
    return TrialBalance(
        fund=fund,
        on=on,
        rows=rows,
        total_debits=sum(row.debit_cents for row in rows),
        total_credits=sum(row.credit_cents for row in rows),
    )


def list_accounts(fund: Fund) -> QuerySet[Account]:
    """Return the fund's chart of accounts with their balances."""
    return Account.objects.filter(fund=fund).order_by("code")


def list_transactions(
    fund: Fund,
    *,
    start: date | None = None,
    end: date | None = None,
    kind: str | None = None,
    account: Account | None = None,
    with_postings: bool = False,
) -> QuerySet[Transaction]:
    """Return the fund's transactions, newest first, filtered by date range, kind and account.

    With `with_postings`, each transaction's postings and their accounts come in one more query.
    """
    transactions = Transaction.objects.filter(fund=fund)
    if start:
        transactions = transactions.filter(effective_date__gte=start)
    if end:
        transactions = transactions.filter(effective_date__lte=end)
    if kind:
        transactions = transactions.filter(kind=kind)
    if account is not None:
        transactions = transactions.filter(
            pk__in=Posting.objects.filter(account=account).values("transaction")
        )
    if with_postings:
        postings = Posting.objects.select_related("account").order_by("id")
        transactions = transactions.prefetch_related(Prefetch("postings", queryset=postings))
    return transactions.select_related("recorded_by", "reverses").order_by("-effective_date", "-id")


@dataclass(frozen=True)
class Register:
    """An account's postings in a range of effective dates, with the range's opening and closing
    balances and what came in and went out, all by effective date."""

    account: Account
    start: date | None
    end: date | None
    opening_cents: int
    closing_cents: int
    debits_cents: int
    credits_cents: int
    postings: QuerySet[Posting]


@dataclass(frozen=True)
class RegisterRow:
    """A posting with the account's balance after it, by effective date (as on a bank statement)."""

    posting: Posting
    balance_cents: int


def account_register(
    account: Account, *, start: date | None = None, end: date | None = None
) -> Register:
    """Return the account's register between two effective dates (inclusive), newest first."""
    postings = Posting.objects.filter(account=account)
    days = AccountDay.objects.filter(account=account)
    if start:
        postings = postings.filter(effective_date__gte=start)
        days = days.filter(day__gte=start)
    if end:
        postings = postings.filter(effective_date__lte=end)
        days = days.filter(day__lte=end)
    flows = days.aggregate(debits=Sum("debit_cents"), credits=Sum("credit_cents"))
    opening = balance_on(account, start - timedelta(days=1)) if start else 0
    closing = balance_on(account, end) if end else account_balance(account)
    return Register(
        account=account,
        start=start,
        end=end,
        opening_cents=opening,
        closing_cents=closing,
        debits_cents=flows["debits"] or 0,
        credits_cents=flows["credits"] or 0,
        postings=postings.select_related("transaction").order_by("-effective_date", "-id"),
    )


def with_running_balances(account: Account, postings: Sequence[Posting]) -> list[RegisterRow]:
    """Return each posting of a register page, newest first, with the balance after it by date.

    The first row's balance is its day's closing balance less what was posted later that day;
    each older row's is the newer row's less the newer row's amount. Two queries per page.
    """
    if not postings:
        return []
    newest = postings[0]
    later_that_day = (
        Posting.objects.filter(
            account=account, effective_date=newest.effective_date, id__gt=newest.pk
        ).aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )
    balance = balance_on(account, newest.effective_date) - later_that_day
    rows = []
    for posting in postings:
        rows.append(RegisterRow(posting, balance))
        balance -= posting.amount_cents
    return rows


def list_funds() -> QuerySet[Fund]:
    """Return every fund, by name, with its ledger head."""
    return Fund.objects.select_related("head").order_by("name")


def account_for(fund: Fund, role: str) -> Account:
    """Return the fund's account with this role in the chart (Bank, Stripe clearing, …)."""
    return Account.objects.get(fund=fund, role=role)


def accounts_for(fund: Fund, *roles: str) -> tuple[Account, ...]:
    """Return the fund's accounts with these roles, in the order asked, in one query."""
    by_role = {
        account.role: account for account in Account.objects.filter(fund=fund, role__in=roles)
    }
    return tuple(by_role[role] for role in roles)


def open_day(fund: Fund, day: date, *, head: LedgerHead | None = None) -> date:
    """Return the day, or the first day after the lock date if the books are closed through it.

    For money that arrives late (a Stripe event delayed past a close): the closed days stay as
    they were and the entry is booked on the first open day, saying when it happened. Pass the
    fund's head when it was read in this transaction (select_related) to save a query.
    """
    if head is None:
        head = LedgerHead.objects.only("closed_through").get(fund=fund)
    closed = head.closed_through
    return day if closed is None or day > closed else closed + timedelta(days=1)


def get_account(fund: Fund, code: str) -> Account:
    """Return the fund's account with this code or raise Http404."""
    return get_object_or_404(Account, fund=fund, code=code)


def get_transaction(fund: Fund, reference: str) -> Transaction:
    """Return the fund's transaction with this reference (2026-000042) and its postings, or 404."""
    year, _, number = reference.partition("-")
    if not (len(year) == 4 and year.isdigit() and 6 <= len(number) <= 9 and number.isdigit()):
        raise Http404("No such transaction.")
    postings = Posting.objects.select_related("account").order_by("id")
    transactions = Transaction.objects.select_related(
        "recorded_by", "reverses", "reversed_by"
    ).prefetch_related(Prefetch("postings", queryset=postings))
    return get_object_or_404(transactions, fund=fund, year=int(year), number=int(number))


def list_ledger_transactions(
    fund: Fund, *, start: date | None = None, end: date | None = None, kind: str | None = None
) -> QuerySet[Transaction]:
    """Return list_transactions() with each transaction's total debits as `debits_cents`."""
    debits = (
        Posting.objects.filter(transaction=OuterRef("pk"), amount_cents__gt=0)
        .values("transaction")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    return list_transactions(fund, start=start, end=end, kind=kind).annotate(
        debits_cents=Subquery(debits)
    )


@dataclass(frozen=True)
class BooksState:
    """Where a fund's books are closed through, who moved the date, and the seals made."""

    fund: Fund
    closed_through: date | None
    changes: QuerySet[BooksLock]
    seals: QuerySet[Seal]


def books_state(fund: Fund) -> BooksState:
    """Return the fund's lock date with its change log and its seals, newest first."""
    return BooksState(
        fund=fund,
        closed_through=LedgerHead.objects.values_list("closed_through", flat=True).get(fund=fund),
        changes=BooksLock.objects.filter(fund=fund).select_related("actor").order_by("-at", "-id"),
        seals=Seal.objects.filter(fund=fund).order_by("-sealed_at", "-id"),
    )


def get_seal(fund: Fund, pk: int) -> Seal:
    """Return one of the fund's seals or raise Http404."""
    return get_object_or_404(Seal, fund=fund, pk=pk)

"""Reads of the books for the treasurer screens and the staff API: balances, registers, periods.

Current balances are O(1) in the size of the ledger: they read stored balances. Balances as of a
date read monthly checkpoints plus the postings of that one month. Public figures are in progress.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fund.ledger.models import (
    Account,
    AccountMonth,
    Fund,
    Period,
    PeriodChange,
    Posting,
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
    """Return every account's balance at the end of a day, by account id.

    Sums the monthly checkpoints before that month, then the postings dated in that month up to the
    day: the cost does not grow with the length of the ledger's history.
    """
    month = on.replace(day=1)
    balances = dict.fromkeys(Account.objects.filter(fund=fund).values_list("pk", flat=True), 0)
    for account_id, debits, credits in (
        AccountMonth.objects.filter(account__fund=fund, month__lt=month)
        .values("account")
        .annotate(debits=Sum("debit_cents"), credits=Sum("credit_cents"))
        .values_list("account", "debits", "credits")
    ):
        balances[account_id] += debits - credits
    for account_id, amount in (
        Posting.objects.filter(
            transaction__fund=fund,
            transaction__effective_date__gte=month,
            transaction__effective_date__lte=on,
        )
        .values("account")
        .annotate(amount=Sum("amount_cents"))
        .values_list("account", "amount")
    ):
        balances[account_id] += amount
    return balances


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


def list_account_postings(
    account: Account, *, start: date | None = None, end: date | None = None
) -> QuerySet[Posting]:
    """Return an account's postings, newest first, with their transactions."""
    postings = Posting.objects.filter(account=account)
    if start:
        postings = postings.filter(transaction__effective_date__gte=start)
    if end:
        postings = postings.filter(transaction__effective_date__lte=end)
    return postings.select_related("transaction").order_by("-id")


@dataclass(frozen=True)
class PeriodRow:
    """A month of the books: whether it is closed, its volume, and whether it has ended."""

    month: date
    is_closed: bool
    debits_cents: int
    has_ended: bool


def list_funds() -> QuerySet[Fund]:
    """Return every fund, by name."""
    return Fund.objects.order_by("name")


def get_account(fund: Fund, code: str) -> Account:
    """Return the fund's account with this code or raise Http404."""
    return get_object_or_404(Account, fund=fund, code=code)


def get_transaction(fund: Fund, reference: str) -> Transaction:
    """Return the fund's transaction with this reference (2026-000042) and its postings, or 404."""
    year, _, number = reference.partition("-")
    if not (len(year) == 4 and year.isdigit() and len(number) >= 6 and number.isdigit()):
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


def list_periods(fund: Fund) -> list[PeriodRow]:
    """Return the months with postings or a period record, newest first, with their state.

    Reads the monthly checkpoints, so the cost grows with the number of months, not of postings.
    """
    volume = dict(
        AccountMonth.objects.filter(account__fund=fund)
        .values("month")
        .annotate(debits=Sum("debit_cents"))
        .values_list("month", "debits")
    )
    closed = dict(Period.objects.filter(fund=fund).values_list("month", "is_closed"))
    today = timezone.localdate()
    this_month = today.replace(day=1)
    return [
        PeriodRow(
            month=month,
            is_closed=closed.get(month, False),
            debits_cents=volume.get(month, 0),
            has_ended=month < this_month,
        )
        for month in sorted(volume.keys() | closed.keys(), reverse=True)
    ]


def list_period_changes(fund: Fund) -> QuerySet[PeriodChange]:
    """Return who closed or reopened the fund's periods, newest first."""
    return (
        PeriodChange.objects.filter(period__fund=fund)
        .select_related("period", "actor")
        .order_by("-at", "-id")
    )

"""A fund's whole ledger as a Beancount file, so an auditor can check the books with bean-check.

Beancount is a plain-text double-entry format with its own checker, a tool we did not write: the
file opens every account on the fund's opening day, holds one transaction per ledger transaction
with its postings in exact decimals, and ends with a zero-tolerance balance assertion per account
(the balance the ledger has stored for it), which bean-check recomputes from the postings.

Accounts go under Beancount's roots by kind: assets under Assets, net assets under Equity, revenue
and contra-revenue (refunds, disputes: they keep debit balances) under Income, expenses under
Expenses. Signs are the ledger's: debits positive, credits negative, as in Beancount.
"""

import re
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import TextIO

from fund.ledger.models import Account, Fund, LedgerHead, Posting, TransactionKind
from fund.ledger.queries import list_accounts
from fund.money import currency

ROOTS: dict[str, str] = {
    Account.Kind.ASSET: "Assets",
    Account.Kind.NET_ASSETS: "Equity",
    Account.Kind.REVENUE: "Income",
    Account.Kind.CONTRA_REVENUE: "Income",
    Account.Kind.EXPENSE: "Expenses",
}
KIND_LABELS = dict(TransactionKind.choices)
# The posting and transaction fields the export needs, read in one streamed query.
FIELDS = (
    "transaction_id",
    "effective_date",
    "transaction__year",
    "transaction__number",
    "transaction__kind",
    "transaction__case_ref",
    "transaction__memo",
    "transaction__source_ref",
    "transaction__hash",
    "transaction__reverses__year",
    "transaction__reverses__number",
    "account_id",
    "amount_cents",
)
CHUNK = 2000
# Control characters other than tab: a Beancount string may not hold them raw.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def write_beancount(fund: Fund, out: TextIO) -> None:
    """Write the fund's whole ledger to `out` as a Beancount file, postings streamed by date."""
    unit = currency(fund.currency)
    accounts = list(list_accounts(fund))
    names = account_names(accounts)
    head = LedgerHead.objects.filter(fund=fund).values_list("chain_head", flat=True).first()
    out.write(f"; {_one_line(fund.name)}: the whole ledger, chain head {head or 'none'}\n")
    out.write(f"option {quoted('title')} {quoted(fund.name)}\n")
    out.write(f"option {quoted('operating_currency')} {quoted(unit.code)}\n\n")
    for account in accounts:
        out.write(f"{fund.opened_on.isoformat()} open {names[account.pk]} {unit.code}\n")
    last_day = fund.opened_on
    postings = (
        Posting.objects.filter(transaction__fund=fund)
        .order_by("effective_date", "transaction_id", "id")
        .values_list(*FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    current = None
    for row in postings:
        txn_id, day, year, number, kind, case_ref, memo, source, digest = row[:9]
        if txn_id != current:
            current = txn_id
            last_day = day
            reference = f"{year}-{number:06d}"
            parts = (KIND_LABELS.get(kind, kind), reference, case_ref)
            narration = " ".join(part for part in parts if part)
            out.write(f"\n{day.isoformat()} * {quoted(narration)}\n")
            out.write(f"  reference: {quoted(reference)}\n")
            out.write(f"  hash: {quoted(digest)}\n")
            out.write(f"  memo: {quoted(memo)}\n")
            if source:
                out.write(f"  source: {quoted(source)}\n")
            reversed_year, reversed_number = row[9:11]
            if reversed_year is not None:
                reversed_ref = f"{reversed_year}-{reversed_number:06d}"
                out.write(f"  reverses: {quoted(reversed_ref)}\n")
        account_id, cents = row[11:]
        out.write(f"  {names[account_id]}  {decimal_amount(cents, unit.exponent)} {unit.code}\n")
    # Beancount checks a balance at the start of its day: the day after the last entry sees all.
    check_day = last_day + timedelta(days=1)
    out.write("\n")
    for account in accounts:
        amount = decimal_amount(account.balance_cents, unit.exponent)
        out.write(f"{check_day.isoformat()} balance {names[account.pk]} {amount} ~ 0 {unit.code}\n")


def account_names(accounts: Iterable[Account]) -> dict[int, str]:
    """Return a valid, distinct Beancount name per account, e.g. Assets:BondDepositsReceivable."""
    names: dict[int, str] = {}
    for account in accounts:
        words = re.findall(r"[A-Za-z0-9]+", account.name)
        component = "".join(word[:1].upper() + word[1:] for word in words)
        # A component starts with a capital letter; a name of digits or symbols gets its code.
        if not component[:1].isalpha():
            component = f"Account{account.code}{component}"
        name = f"{ROOTS[account.kind]}:{component}"
        if name in names.values():
            name = f"{name}-{account.code}"
        names[account.pk] = name
    return names


def decimal_amount(minor: int, exponent: int) -> str:
    """Return minor units as an exact decimal: 1250 cents is "12.50", -5 is "-0.05"."""
    return format(Decimal(minor).scaleb(-exponent), "f")


def quoted(text: str) -> str:
    """Return text as a Beancount string: quotes, backslashes and line breaks escaped."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{CONTROL.sub(" ", text)}"'


def _one_line(text: str) -> str:
    return CONTROL.sub(" ", text.replace("\n", " ").replace("\r", " ").replace("\t", " "))

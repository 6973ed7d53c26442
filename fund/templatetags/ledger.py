"""Template filters of the treasurer screens: signed amounts on the side an account grows by."""

from django import template

from fund.ledger.models import Account
from fund.money import format_amount

register = template.Library()

# Accounts that grow with debits (assets, costs); the others grow with credits (income, net assets).
DEBIT_NORMAL = frozenset({Account.Kind.ASSET, Account.Kind.EXPENSE, Account.Kind.CONTRA_REVENUE})


@register.filter
def absolute(amount: int) -> int:
    """Return the size of a signed amount: -1234 → 1234."""
    return abs(int(amount))


@register.filter
def dr_cr(amount: int) -> str:
    """Return the side of a signed balance (debit +): "Dr", "Cr", or "" for zero."""
    amount = int(amount)
    return "Dr" if amount > 0 else "Cr" if amount < 0 else ""


@register.filter
def increases_with_debits(account: Account) -> bool:
    """Return whether the account grows with debits, as Bank does, or with credits."""
    return account.kind in DEBIT_NORMAL


@register.filter
def oriented(amount: int, account: Account) -> int:
    """Return a signed amount (debit +) as the account reads it: + grows it, - shrinks it.

    So Bank shows money in as +, and Contributions shows a gift as +, as a statement would.
    """
    return int(amount) if account.kind in DEBIT_NORMAL else -int(amount)


@register.filter
def signed_cents(amount: int, currency: str = "USD") -> str:
    """Format a change with its sign: +$12.00 in, and out with a minus sign."""
    amount = int(amount)
    text = format_amount(abs(amount), currency)
    return f"+{text}" if amount > 0 else f"\N{MINUS SIGN}{text}" if amount < 0 else text


@register.filter
def difference(debits: int, credits: int) -> int:
    """Return how far debits and credits are apart."""
    return abs(int(debits) - int(credits))

"""Template filters of the treasurer screens: split signed amounts into debits and credits."""

from django import template

register = template.Library()


@register.filter
def absolute(amount: int) -> int:
    """Return the size of a signed amount: -1234 → 1234."""
    return abs(int(amount))


@register.filter
def dr_cr(amount: int) -> str:
    """Return the side of a signed balance (debit +): "Dr", "Cr", or "" for zero."""
    amount = int(amount)
    return "Dr" if amount > 0 else "Cr" if amount < 0 else ""

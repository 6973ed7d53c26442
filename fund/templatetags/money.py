"""Template filters that format integer minor units as money: {{ amount|cents:fund.currency }}."""

from decimal import Decimal

from django import template

from fund.money import format_amount, format_compact

register = template.Library()


def _minor_units(amount: int | Decimal | str | None) -> int | None:
    # Templates pass "" for a missing variable; PostgreSQL sums may arrive as whole Decimals.
    if amount is None or amount == "":
        return None
    return int(amount)


@register.filter
def cents(amount: int | Decimal | str | None, currency: str = "USD") -> str:
    """Format minor units with their currency: 1234567 → "$12,345.67"."""
    minor = _minor_units(amount)
    return "" if minor is None else format_amount(minor, currency)


@register.filter
def cents_whole(amount: int | Decimal | str | None, currency: str = "USD") -> str:
    """Format minor units rounded to whole currency units: 8741050 → "$87,411"."""
    minor = _minor_units(amount)
    return "" if minor is None else format_amount(minor, currency, whole=True)


@register.filter
def cents_compact(amount: int | Decimal | str | None, currency: str = "USD") -> str:
    """Format minor units briefly for chart axes: 250000 → "$2.5k", 150000000 → "$1.5M"."""
    minor = _minor_units(amount)
    return "" if minor is None else format_compact(minor, currency)

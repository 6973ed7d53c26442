"""Template filters that format integer minor units as money: {{ amount|cents:fund.currency }}."""

from decimal import Decimal

from django import template

register = template.Library()

# Symbol and number of decimal places of the currencies a fund is likely to use.
CURRENCIES: dict[str, tuple[str, int]] = {
    "USD": ("$", 2),
    "CAD": ("CA$", 2),
    "MXN": ("MX$", 2),
    "EUR": ("€", 2),
    "GBP": ("£", 2),
    "JPY": ("¥", 0),
}


def format_minor_units(amount: int, currency: str = "USD", *, whole: bool = False) -> str:
    """Return e.g. "$12,345.67" for 1234567 USD cents, or "$12,346" when whole is set."""
    code = (currency or "USD").upper()
    symbol, places = CURRENCIES.get(code, (f"{code} ", 2))
    sign = "-" if amount < 0 else ""
    scale = 10**places
    units, minor = divmod(abs(amount), scale)
    if whole or places == 0:
        # Round half up on the absolute value, so -$0.50 shows as -$1 like $0.50 shows as $1.
        if places and minor * 2 >= scale:
            units += 1
        return f"{sign}{symbol}{units:,}"
    return f"{sign}{symbol}{units:,}.{minor:0{places}d}"


def _minor_units(amount: int | Decimal | str | None) -> int | None:
    # Templates pass "" for a missing variable; PostgreSQL sums may arrive as whole Decimals.
    if amount is None or amount == "":
        return None
    return int(amount)


@register.filter
def cents(amount: int | Decimal | str | None, currency: str = "USD") -> str:
    """Format minor units with their currency: 1234567 → "$12,345.67"."""
    minor = _minor_units(amount)
    return "" if minor is None else format_minor_units(minor, currency)


@register.filter
def cents_whole(amount: int | Decimal | str | None, currency: str = "USD") -> str:
    """Format minor units rounded to whole currency units: 8741050 → "$87,411"."""
    minor = _minor_units(amount)
    return "" if minor is None else format_minor_units(minor, currency, whole=True)


@register.filter
def cents_compact(amount: int | Decimal | str | None, currency: str = "USD") -> str:
    """Format minor units briefly for chart axes: 250000 → "$2.5k", 150000000 → "$1.5M"."""
    minor = _minor_units(amount)
    if minor is None:
        return ""
    code = (currency or "USD").upper()
    symbol, places = CURRENCIES.get(code, (f"{code} ", 2))
    sign = "-" if minor < 0 else ""
    for threshold, suffix in ((1_000_000, "M"), (1_000, "k"), (1, "")):
        unit = threshold * 10**places
        if abs(minor) >= unit or not suffix:
            tenths = (abs(minor) * 10 + unit // 2) // unit
            whole, tenth = divmod(tenths, 10)
            number = f"{whole:,}.{tenth}" if tenth else f"{whole:,}"
            return f"{sign}{symbol}{number}{suffix}"
    return ""  # pragma: no cover

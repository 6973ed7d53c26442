"""Money in and out: typed amounts parsed to integer minor units, and minor units formatted.

One set of rules for every place a person types an amount (the journal form, `create_fund --goal`,
Django admin, donation amounts): ASCII digits, an optional decimal point, commas only between
groups of three, no signs, exponents or words, at most MAX_AMOUNT (a setting, in whole units of the
currency). Parsed with Decimal, never a float.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from fund.errors import InvalidAmount


@dataclass(frozen=True)
class Currency:
    """A currency a fund can keep its books in: ISO code, symbol, and digits after the point."""

    code: str
    symbol: str
    exponent: int


# ISO 4217 exponents: JPY has no minor unit, so ¥150,000 is 150000 minor units.
CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("USD", "$", 2),
        Currency("CAD", "CA$", 2),
        Currency("MXN", "MX$", 2),
        Currency("EUR", "€", 2),
        Currency("GBP", "£", 2),
        Currency("JPY", "¥", 0),
    )
}
DEFAULT_CURRENCY = "USD"
# A sanity bound on goals and commitments, far above any real fund and far below bigint's range.
MAX_GOAL_MINOR = 10**15

# Plain digits or thousands grouped by commas, then an optional fraction: 1234.5, 1,234.56, .25.
# ASCII only: `\d` would also take Arabic-Indic, full-width and mathematical digits.
_AMOUNT = re.compile(r"([0-9]{1,15}|[0-9]{1,3}(,[0-9]{3}){1,4})(\.[0-9]*)?|\.[0-9]+", re.ASCII)


def currency(code: str) -> Currency:
    """Return the currency with this ISO code, or raise InvalidAmount naming the ones we know."""
    found = CURRENCIES.get(code.upper()) if isinstance(code, str) else None
    if found is None:
        known = ", ".join(sorted(CURRENCIES))
        raise InvalidAmount(f"Unknown currency {code!r}: use a three-letter code, one of {known}.")
    return found


def max_amount(currency_code: str = DEFAULT_CURRENCY) -> int:
    """Return the largest amount one may type or post on one leg, in minor units of the currency."""
    cap: int = settings.MAX_AMOUNT * 10 ** currency(currency_code).exponent
    return cap


def parse_amount(text: str, currency_code: str = DEFAULT_CURRENCY) -> int:
    """Return a typed amount such as "1,234.56" in minor units of the currency.

    Refuses blanks, signs, zero, exponents, NaN, non-ASCII digits, stray commas, more digits after
    the point than the currency has and amounts above max_amount, each with a message fit to show.
    """
    unit = currency(currency_code)
    cleaned = text.strip().removeprefix(unit.symbol).removeprefix("$").strip()
    if cleaned.startswith("-"):
        raise InvalidAmount("Enter a positive amount.", code="negative")
    if not _AMOUNT.fullmatch(cleaned):
        example = format_amount(123456 * 10**unit.exponent // 100, unit.code)
        raise InvalidAmount(f"Enter an amount like {example}.", code="invalid")
    minor = Decimal(cleaned.replace(",", "")).scaleb(unit.exponent)
    if minor != minor.to_integral_value():
        places = f"at most {unit.exponent} decimal places" if unit.exponent else "no decimals"
        raise InvalidAmount(f"Amounts in {unit.code} have {places}.", code="fraction")
    if minor == 0:
        raise InvalidAmount("Enter an amount above zero.", code="zero")
    cap = max_amount(unit.code)
    if minor > cap:
        limit = format_amount(cap, unit.code)
        raise InvalidAmount(
            f"Enter at most {limit}, the largest amount accepted.", code="too_large"
        )
    return int(minor)


def format_amount(minor: int, currency_code: str = DEFAULT_CURRENCY, *, whole: bool = False) -> str:
    """Return e.g. "$12,345.67" for 1234567 USD cents, or "$12,346" when whole is set."""
    unit = CURRENCIES.get((currency_code or DEFAULT_CURRENCY).upper())
    symbol, places = (unit.symbol, unit.exponent) if unit else (f"{currency_code} ", 2)
    sign = "-" if minor < 0 else ""
    scale = 10**places
    units, rest = divmod(abs(minor), scale)
    if whole or places == 0:
        # Round half up on the absolute value, so -$0.50 shows as -$1 like $0.50 shows as $1.
        if places and rest * 2 >= scale:
            units += 1
        return f"{sign}{symbol}{units:,}"
    return f"{sign}{symbol}{units:,}.{rest:0{places}d}"


def format_compact(minor: int, currency_code: str = DEFAULT_CURRENCY) -> str:
    """Return an amount briefly, for chart axes: 250000 → "$2.5k", 150000000 → "$1.5M"."""
    unit = CURRENCIES.get((currency_code or DEFAULT_CURRENCY).upper())
    symbol, places = (unit.symbol, unit.exponent) if unit else (f"{currency_code} ", 2)
    sign = "-" if minor < 0 else ""
    for threshold, suffix in ((1_000_000, "M"), (1_000, "k"), (1, "")):
        size = threshold * 10**places
        if abs(minor) >= size or not suffix:
            break
    tenths = (abs(minor) * 10 + size // 2) // size
    whole, tenth = divmod(tenths, 10)
    number = f"{whole:,}.{tenth}" if tenth else f"{whole:,}"
    return f"{sign}{symbol}{number}{suffix}"

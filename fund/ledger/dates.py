"""The range of days the books take: every effective date, lock date and date filter falls in it.

A year-1 entry would be numbered `1-000001` and its own links would not resolve, and date
arithmetic at the ends of Python's range overflows; no real fund keeps books outside this range.
Forms (fund.ledger.forms.BookDateField), the API (fund.ledger.api.book_day, 422) and
post_transaction all keep to it.
"""

from datetime import date, timedelta

from django.utils import timezone

FIRST_BOOK_DAY = date(2000, 1, 1)
LAST_BOOK_DAY = date(2099, 12, 31)
# The same range as a pattern, for the API's schema (JSON Schema bounds numbers, not dates).
BOOK_DAY_PATTERN = "^20[0-9]{2}-"
OUTSIDE_THE_BOOKS = (
    f"Enter a date from {FIRST_BOOK_DAY:%Y-%m-%d} to {LAST_BOOK_DAY:%Y-%m-%d}: "
    "the books take no other days."
)


# The database's own refusal (fund_close_books), said before the confirmation page.
NOT_ENDED = "Only days that have ended can be closed: choose yesterday or earlier."


def latest_closable_day() -> date:
    """Return the last day the books may be closed through: yesterday, in TIME_ZONE (the day the
    database's fund_today() counts from too)."""
    return timezone.localdate() - timedelta(days=1)


def in_the_books(day: date) -> bool:
    """Return whether a day falls in the range the books take."""
    return FIRST_BOOK_DAY <= day <= LAST_BOOK_DAY

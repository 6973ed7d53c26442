"""What the donations services share: a lock on a Stripe object, its day, the fund it names."""

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from donations.errors import DonationError
from fund.ledger.models import Fund
from fund.locks import hold_lock


def lock(key: str) -> None:
    """Hold a lock on a Stripe object (by its id) until the transaction ends.

    Two events about one payment (completed, succeeded, refunded) may arrive together: the second
    waits here until the first commits, then finds what it booked.
    """
    hold_lock(key)


def day_of(unix: int) -> date:
    """Return the fund's calendar day of a Stripe timestamp (today if there is none)."""
    if not unix:
        return timezone.localdate()
    return timezone.localdate(datetime.fromtimestamp(unix, tz=timezone.get_current_timezone()))


def fund_named(metadata: dict[str, Any]) -> Fund:
    """Return the fund a Stripe object names in `metadata.fund`, or else DEFAULT_FUND_SLUG's.

    Refused when neither names a fund we keep, so that Stripe retries (and shows the failure)
    until one is set: money is never booked to a guessed fund.
    """
    slug = metadata.get("fund") or settings.DEFAULT_FUND_SLUG
    fund = (
        Fund.objects.select_related("head").filter(slug=slug).first()
        if isinstance(slug, str) and slug
        else None
    )
    if fund is None:
        raise DonationError(
            "A payment names no fund we keep (metadata.fund) and DEFAULT_FUND_SLUG is not set."
        )
    return fund

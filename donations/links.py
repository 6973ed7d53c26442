"""Signed links a donor follows from an e-mail, with no account: manage a monthly gift.

The link carries only the monthly gift's id, signed (SECRET_KEY) and dated, so it can be neither
guessed nor altered, and it names no one.
"""

from django.core import signing
from django.urls import reverse

from donations.models import RecurringGift

MANAGE_SALT = "donations.manage-monthly-gift"
MANAGE_MAX_AGE = 60 * 60 * 24 * 400  # a receipt's link works for a little over a year


def manage_token(recurring: RecurringGift) -> str:
    """Return the signed token of a monthly gift's "manage my monthly gift" link."""
    return signing.dumps(recurring.pk, salt=MANAGE_SALT, compress=True)


def manage_path(recurring: RecurringGift) -> str:
    """Return the path of a monthly gift's manage link (prefix it with the site's address)."""
    return reverse("donations_manage_monthly", args=[manage_token(recurring)])


def recurring_of(token: str) -> RecurringGift | None:
    """Return the monthly gift a manage link's token names, or None if it is forged or stale."""
    try:
        pk = signing.loads(token, salt=MANAGE_SALT, max_age=MANAGE_MAX_AGE)
    except signing.BadSignature:
        return None
    return RecurringGift.objects.filter(pk=pk).first() if isinstance(pk, int) else None

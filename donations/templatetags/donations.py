"""Template tags that let the core's public fund page show donations without importing them:
`{% load donations %}{% supporters fund as names %}` (fund never imports donations)."""

from django import template

from donations.models import Donor, Gift
from fund.ledger.models import Fund

register = template.Library()
# The page lists at most this many supporters (alphabetically).
MAX_SUPPORTERS = 200
COUNTED = (Gift.Status.PAID, Gift.Status.PARTIALLY_REFUNDED)


@register.simple_tag
def supporters(fund: Fund) -> list[str]:
    """Return the names of organisations that asked to be listed and have given to this fund.

    Only organisations that opted in, with a paid gift that was not given anonymously; people
    are never listed.
    """
    names = (
        Donor.objects.filter(
            kind=Donor.Kind.ORGANISATION,
            list_as_supporter=True,
            gifts__fund=fund,
            gifts__status__in=COUNTED,
            gifts__anonymous=False,
        )
        .order_by("organisation")
        .values_list("organisation", flat=True)
        .distinct()
    )
    return list(names[:MAX_SUPPORTERS])

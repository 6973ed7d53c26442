"""The people and offices the fund pays for a case: attorneys, family members, courts, ICE.

A payee's name and contact are encrypted (a family member is as private as the worker); the firm
and bar number of an attorney are public facts and kept in clear. Coordinators and treasurers add
payees (PAYEE_KEEPERS); only a treasurer records that a W-9 was received, for 1099 reporting.
"""

from django.contrib.auth.models import User
from django.db import transaction

from cases.errors import CaseError
from cases.models import Payee
from fund.security.roles import PAYEE_KEEPERS, W9_RECORDERS

# Payee.firm and Payee.bar_number are columns of these lengths; the encrypted ones are bounded
# here so that a pasted document cannot become a "name".
LIMITS = {"name": 200, "firm": 200, "bar_number": 50, "contact": 500}


@transaction.atomic
def create_payee(
    *,
    actor: User,
    kind: str,
    name: str,
    firm: str = "",
    bar_number: str = "",
    contact: str = "",
    w9_received: bool = False,
) -> Payee:
    """Add a payee; only a treasurer may mark its W-9 as received."""
    PAYEE_KEEPERS.check(actor)
    if kind not in Payee.Kind.values:
        kinds = ", ".join(Payee.Kind.labels)
        raise CaseError(f"A payee is one of: {kinds}.")
    values = {
        "name": _checked("name", name),
        "firm": _checked("firm", firm),
        "bar_number": _checked("bar number", bar_number),
        "contact": _checked("contact", contact),
    }
    if not values["name"]:
        raise CaseError("A payee needs a name.")
    if w9_received:
        W9_RECORDERS.check(actor)
    return Payee.objects.create(kind=kind, w9_received=bool(w9_received), **values)


@transaction.atomic
def set_w9_received(*, actor: User, payee: Payee, received: bool) -> Payee:
    """Record whether the payee's W-9 is on file (for 1099 reporting)."""
    W9_RECORDERS.check(actor)
    payee = Payee.objects.select_for_update().get(pk=payee.pk)
    if payee.w9_received != bool(received):
        payee.w9_received = bool(received)
        payee.save(update_fields=["w9_received"])
    return payee


def _checked(label: str, value: str) -> str:
    if not isinstance(value, str):
        raise CaseError(f"The payee's {label} must be text.")
    value = value.strip()
    limit = LIMITS[label.replace(" ", "_")]
    if len(value) > limit:
        raise CaseError(f"The payee's {label} is longer than {limit} characters.")
    if "\x00" in value:
        raise CaseError(f"The payee's {label} contains a NUL character.")
    return value

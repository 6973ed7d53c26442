"""Donors: one record per e-mail address (persons) or per name (organisations)."""

import unicodedata

from django.db import IntegrityError, transaction

from donations.errors import DonationError
from donations.models import Donor
from fund.security import crypto

EMAIL_CONTEXT = "donations.Donor.email"


def email_index(email: str) -> str:
    """Return the blind index a donor's e-mail address is found by."""
    try:
        return crypto.email_index(email, context=EMAIL_CONTEXT)
    except ValueError:
        raise DonationError("Enter an e-mail address, for the receipt.") from None


def organisation_key(name: str) -> str:
    """Return how an organisation's name is compared: case, width and spacing folded."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def person_donor(
    *, email: str, name: str = "", address: str = "", employer: str = "", language: str = "en"
) -> Donor:
    """Return the donor with this e-mail address (any case), creating or completing it.

    What a donor typed last wins for name, address and employer, but a blank never erases them.
    """
    index = email_index(email)
    donor = Donor.objects.select_for_update().filter(email_index=index).first()
    if donor is None:
        new = Donor(
            kind=Donor.Kind.PERSON,
            email=email.strip(),
            email_index=index,
            name=name.strip(),
            address=address.strip(),
            employer=employer.strip(),
            language=language,
        )
        # ON CONFLICT DO NOTHING: another request may create the same donor at this moment.
        Donor.objects.bulk_create([new], ignore_conflicts=True)
        donor = Donor.objects.select_for_update().filter(email_index=index).first()
        if donor is None:
            raise DonationError("The donor record is busy; try again.")
        if donor.row_key == new.row_key:
            return donor
    _complete(donor, name=name, address=address, employer=employer, language=language)
    return donor


def organisation_donor(
    *, name: str, email: str = "", address: str = "", list_as_supporter: bool = False
) -> Donor:
    """Return the organisation donor of this name (any case), creating or completing it."""
    key = organisation_key(name)
    if not key:
        raise DonationError("Enter the organisation's name.")
    for _ in range(2):
        donor = Donor.objects.select_for_update().filter(organisation_key=key).first()
        if donor is None:
            try:
                with transaction.atomic():
                    return Donor.objects.create(
                        kind=Donor.Kind.ORGANISATION,
                        organisation=" ".join(name.split()),
                        organisation_key=key,
                        email=email.strip(),
                        address=address.strip(),
                        list_as_supporter=list_as_supporter,
                    )
            except IntegrityError:
                continue
        changed = []
        if email.strip() and not donor.email:
            donor.email = email.strip()
            changed.append("email")
        if address.strip():
            donor.address = address.strip()
            changed.append("address")
        if list_as_supporter and not donor.list_as_supporter:
            donor.list_as_supporter = True
            changed.append("list_as_supporter")
        if changed:
            donor.save(update_fields=changed)
        return donor
    raise DonationError("The donor record is busy; try again.")


def _complete(donor: Donor, *, name: str, address: str, employer: str, language: str) -> None:
    typed = {"name": name.strip(), "address": address.strip(), "employer": employer.strip()}
    changed = [field for field, value in typed.items() if value and value != getattr(donor, field)]
    for field in changed:
        setattr(donor, field, typed[field])
    if language and language != donor.language:
        donor.language = language
        changed.append("language")
    if changed:
        donor.save(update_fields=changed)

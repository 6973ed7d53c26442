"""The donations app's errors: each is a refusal whose message is safe to show (the API answers it
as {"detail": ...} through fund/api.py's ERROR_STATUSES)."""


class DonationError(Exception):
    """A donation operation was refused; the message says why."""


class GiftNotFound(DonationError):
    """No gift matches what was asked for."""


class EventNotApplied(DonationError):
    """A Stripe event could not be applied now (Stripe will deliver it again)."""

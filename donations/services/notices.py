"""Notices a donor gets besides receipts: a monthly gift's payment that did not go through.

Sent in the donor's language, with a subject that names the fund and never the donor.
"""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from donations.links import manage_path
from donations.models import RecurringGift
from donations.services.receipts import donor_language


def send_payment_failed_notice(recurring: RecurringGift) -> bool:
    """E-mail the donor that this month's payment failed, with the link to update the card.

    Returns whether it was sent: nothing goes to a donor without an e-mail address, or when the
    monthly gift is no longer past due by the time the worker runs (paid since, or cancelled).
    """
    recurring = RecurringGift.objects.select_related("fund", "donor").get(pk=recurring.pk)
    donor = recurring.donor
    if recurring.status != RecurringGift.Status.PAST_DUE or not donor.email:
        return False
    with donor_language(donor.language):
        context = {
            "fund": recurring.fund,
            "recurring": recurring,
            "manage_url": settings.SITE_URL + manage_path(recurring),
        }
        subject = " ".join(
            render_to_string("donations/email/payment_failed_subject.txt", context).split()
        )
        body = render_to_string("donations/email/payment_failed_body.txt", context)
    EmailMessage(subject=subject, body=body, to=[donor.email]).send()
    return True

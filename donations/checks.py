"""Deploy checks of the donations app: demo mode never runs in production, and online giving
is configured whole."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_no_demo_checkout(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Fail the deploy check when Stripe is played by the demo's local pages with DEBUG off.

    In demo mode anyone can "pay" with a test card number and the site signs its own webhook
    with a published secret: a gift would be booked that no one paid.
    """
    errors: list[checks.CheckMessage] = []
    if settings.STRIPE_DEMO and not settings.DEBUG:
        errors.append(
            checks.Error(
                "STRIPE_DEMO is on with DEBUG off: the demo checkout books gifts no one paid.",
                hint="Unset STRIPE_DEMO and set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.",
                id="donations.E001",
            )
        )
    if settings.DEMO_STRIPE_WEBHOOK_SECRET in settings.STRIPE_WEBHOOK_SECRETS:
        # Published with the demo: anyone could sign a "payment" to our webhook with it.
        errors.append(
            checks.Error(
                "STRIPE_WEBHOOK_SECRET is the secret published with the demo.",
                hint="Use the signing secret Stripe shows for this endpoint.",
                id="donations.E002",
            )
        )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_online_giving(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn when a Stripe key is set but gifts could not be booked or receipts link nowhere."""
    if not settings.STRIPE_SECRET_KEY:
        return []
    found: list[checks.CheckMessage] = []
    if not settings.STRIPE_WEBHOOK_SECRETS:
        found.append(
            checks.Warning(
                "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: donors would pay and "
                "no gift would be booked.",
                hint="Add the webhook endpoint in Stripe's Dashboard and set its signing secret.",
                id="donations.W001",
            )
        )
    if not settings.SITE_URL.startswith("https://"):
        found.append(
            checks.Warning(
                "SITE_URL is not an https:// address: the links in receipts (manage my monthly "
                "gift) would not work.",
                hint="Set SITE_URL to the site's public address, e.g. https://fund.example.org.",
                id="donations.W002",
            )
        )
    return found

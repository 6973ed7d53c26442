"""Stripe's webhook endpoint: the signature checked, the event stored once and applied."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from donations import stripe as gateway
from donations.services.webhooks import receive_stripe_event

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe signs the body instead; nothing is read before the signature holds.
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Check the signature, then store and apply the event once (200), or refuse it (400).

    An event that fails to apply is a 500 with nothing stored: Stripe delivers it again.
    """
    try:
        event = gateway.verified_event(
            request.body, request.headers.get("Stripe-Signature"), settings.STRIPE_WEBHOOK_SECRETS
        )
    except gateway.BadSignature as error:
        return JsonResponse({"detail": str(error)}, status=400)
    received = receive_stripe_event(event)
    return JsonResponse({"received": True, "duplicate": not received})

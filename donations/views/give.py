"""The donor's pages: the donation page, its thank-you page, and "manage my monthly gift".

No account and no JavaScript needed. The page records a pending gift, then sends the donor to
Stripe's hosted Checkout; only Stripe's webhook marks a gift paid, never a page a donor opens.
"""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from donations import demo_stripe
from donations import stripe as gateway
from donations.errors import DonationError
from donations.forms.give import GiveForm, whole_units
from donations.links import recurring_of
from donations.models import RecurringGift
from donations.services.online import attach_checkout, start_online_gift
from fund.ledger.models import Fund
from fund.ledger.progress import get_public_fund
from fund.security import throttle

logger = logging.getLogger(__name__)

# Card-testing defence: how many Checkout Sessions one client, and one e-mail address, may start.
CLIENT_LIMIT = (10, 10 * 60)  # 10 in 10 minutes
EMAIL_LIMIT = (5, 60 * 60)  # 5 in an hour


def donor_language() -> str:
    """Return the language the donor reads the page in ("en", "es"): receipts are sent in it."""
    try:
        return translation.get_supported_language_variant(
            translation.get_language() or settings.LANGUAGE_CODE
        )
    except LookupError:
        return settings.LANGUAGES[0][0]


@require_http_methods(["GET", "POST"])
def give(request: HttpRequest, slug: str) -> HttpResponse:
    """Show the donation page; on a valid gift, record it and send the donor to Checkout."""
    fund = get_public_fund(slug)
    if not gateway.online_giving():
        status = 200 if request.method == "GET" else 409
        return render(request, "donations/give_closed.html", {"fund": fund}, status=status)
    if request.method == "GET":
        return _page(request, fund, GiveForm(fund=fund))
    form = GiveForm(request.POST, fund=fund)
    if not form.is_valid():
        return _page(request, fund, form, status=400)
    email = form.cleaned_data["email"].strip().lower()
    if not (
        throttle.allow("give:client", throttle.client_address(request), *CLIENT_LIMIT)
        and throttle.allow("give:email", email, *EMAIL_LIMIT)
    ):
        reason = _(
            "Too many payments were started from here or for this e-mail address in a short "
            "time. Nothing was charged. Wait a few minutes, then try again."
        )
        return render(
            request,
            "429.html",
            {"reason": reason, "back_url": reverse("donations_give", args=[fund.slug])},
            status=429,
        )
    language = donor_language()
    try:
        gift = start_online_gift(form.gift_request(language=language))
    except DonationError as error:
        form.add_error(None, str(error))
        return _page(request, fund, form, status=400)
    try:
        checkout = gateway.create_checkout_session(
            gateway.CheckoutRequest(
                donation=str(gift.row_key),
                fund_slug=fund.slug,
                fund_name=fund.name,
                currency=fund.currency,
                amount_cents=gift.amount_cents,
                monthly=gift.recurring_id is not None,
                email=form.cleaned_data["email"],
                locale=language,
                success_url=_absolute(request, reverse("donations_give_thanks", args=[fund.slug])),
                cancel_url=_absolute(request, reverse("donations_give", args=[fund.slug]))
                + "?cancelled=1",
            )
        )
    except gateway.StripeError:
        # Not Stripe's message: it may quote what was sent (the donor's e-mail). The gift stays
        # pending, unpaid.
        logger.warning(
            "checkout for gift #%s not started: Stripe refused or did not answer", gift.pk
        )
        form.add_error(
            None,
            _(
                "We could not start the card payment: the payment service did not answer. "
                "Nothing was charged. Please try again in a few minutes."
            ),
        )
        return _page(request, fund, form, status=503)
    attach_checkout(gift=gift, session_id=checkout.session_id)
    return HttpResponseRedirect(checkout.url, status=303)


@require_GET
def give_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    """Thank the donor back from Checkout. Marks nothing paid: only Stripe's webhook does."""
    return render(request, "donations/give_thanks.html", {"fund": get_public_fund(slug)})


@never_cache
@require_http_methods(["GET", "POST"])
def manage_monthly(request: HttpRequest, token: str) -> HttpResponse:
    """Show a monthly gift from a signed link; its button opens Stripe's Billing Portal.

    In demo mode the button cancels here, through a webhook event as Stripe would send it.
    """
    recurring = recurring_of(token)
    if recurring is None:
        raise Http404("This link is not valid (or too old).")
    if request.method == "GET":
        return _manage_page(request, recurring, token)
    if recurring.status == RecurringGift.Status.CANCELED:
        return _manage_page(request, recurring, token, status=409)
    # Back to the link the donor followed (a fresh one would differ once its second ticks by).
    here = request.path
    if gateway.demo_mode():
        try:
            demo_stripe.cancel(recurring)
        except DonationError as error:
            return _manage_page(request, recurring, token, error=str(error), status=409)
        return HttpResponseRedirect(here, status=303)
    if not recurring.stripe_customer:
        starting = _("This monthly gift is still starting. Try again in a few minutes.")
        return _manage_page(request, recurring, token, error=starting, status=409)
    try:
        url = gateway.billing_portal_url(recurring.stripe_customer, _absolute(request, here))
    except gateway.StripeError:
        # Not Stripe's message: it may quote the return address, which carries the signed link.
        logger.warning(
            "billing portal for monthly gift #%s not opened: Stripe refused or did not answer",
            recurring.pk,
        )
        message = _("We could not reach the payment service. Please try again in a few minutes.")
        return _manage_page(request, recurring, token, error=message, status=503)
    return HttpResponseRedirect(url, status=303)


def _page(request: HttpRequest, fund: Fund, form: GiveForm, status: int = 200) -> HttpResponse:
    chosen = getattr(form, "cleaned_data", {}).get("amount_cents")
    context = {
        "fund": fund,
        "form": form,
        "fee_examples": form.fee_examples(),
        "cover": gateway.cover_for(chosen) if chosen else None,
        "cancelled": request.GET.get("cancelled") == "1",
        "demo": gateway.demo_mode(),
        "fee_percent_tenths": gateway.FEE_PERCENT_TENTHS,
        "fee_percent": f"{gateway.FEE_PERCENT_TENTHS // 10}.{gateway.FEE_PERCENT_TENTHS % 10}",
        "fee_fixed_cents": gateway.FEE_FIXED_CENTS,
        "min_cents": whole_units(settings.ONLINE_GIFT_MIN, fund.currency),
        "max_cents": whole_units(settings.ONLINE_GIFT_MAX, fund.currency),
    }
    return render(request, "donations/give.html", context, status=status)


def _manage_page(
    request: HttpRequest,
    recurring: RecurringGift,
    token: str,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "recurring": recurring,
        "fund": recurring.fund,
        "token": token,
        "error": error,
        "demo": gateway.demo_mode(),
        "cancelled": recurring.status == RecurringGift.Status.CANCELED,
    }
    return render(request, "donations/manage_monthly.html", context, status=status)


def _absolute(request: HttpRequest, path: str) -> str:
    # SITE_URL when configured (behind a proxy the request may not know its public address).
    return f"{settings.SITE_URL}{path}" if settings.SITE_URL else request.build_absolute_uri(path)

"""DEMO MODE ONLY: the local page that stands in for Stripe's hosted Checkout (`make demo`).

It takes a test card number, and on success delivers the webhook events Stripe would send
(donations.demo_stripe), so the gift is booked by the webhook exactly as a real one is. Outside
demo mode every address here is a 404.
"""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from donations import demo_stripe
from donations.forms.give import DemoCardForm
from donations.models import Gift


@never_cache
@require_http_methods(["GET", "POST"])
def demo_checkout(request: HttpRequest, session: str) -> HttpResponse:
    """Show the demo checkout of a pending gift; a test card pays it through the webhook."""
    gift = demo_stripe.pending_gift(session)
    if gift is None:
        raise Http404("No such demo checkout.")
    thanks = reverse("donations_give_thanks", args=[gift.fund.slug])
    if gift.status != Gift.Status.PENDING:
        context = {"gift": gift, "fund": gift.fund, "thanks": thanks, "paid": True}
        return render(request, "donations/demo_checkout.html", context)
    form = DemoCardForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        demo_stripe.pay(gift)
        return HttpResponseRedirect(thanks, status=303)
    context = {
        "gift": gift,
        "fund": gift.fund,
        "form": form,
        "cancel": reverse("donations_give", args=[gift.fund.slug]) + "?cancelled=1",
        "paid": False,
    }
    return render(
        request, "donations/demo_checkout.html", context, status=400 if form.errors else 200
    )

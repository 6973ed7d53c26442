"""Payouts and whether each matches the ledger (treasurers and auditors), and a re-check."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from donations.models import Payout
from donations.tasks import reconcile_payout
from fund.security.roles import GIFT_READERS, GIFT_RECORDERS, role_required

PAGE_SIZE = 50


@require_GET
@role_required(GIFT_READERS)
def payouts(request: HttpRequest) -> HttpResponse:
    """List Stripe's payouts, newest first, each matched with the ledger or not."""
    found = Payout.objects.select_related("fund").order_by("-arrival_date", "-pk")
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    mismatched = Payout.objects.filter(reconciliation=Payout.Reconciliation.MISMATCHED).count()
    return render(
        request,
        "donations/payout_list.html",
        {"page": page, "payouts": page.object_list, "mismatched": mismatched},
    )


@require_GET
@role_required(GIFT_READERS)
def payout_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one payout and each difference between Stripe and the ledger."""
    payout = get_object_or_404(Payout.objects.select_related("fund", "transaction"), pk=pk)
    return render(request, "donations/payout_detail.html", {"payout": payout})


@require_POST
@role_required(GIFT_RECORDERS)
def payout_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the payout against the ledger again (after a correction), by the task worker."""
    payout = get_object_or_404(Payout, pk=pk)
    reconcile_payout.enqueue(payout.pk)
    messages.success(request, f"Payout {payout.stripe_payout} is being checked again.")
    return redirect("donations_payout", pk=payout.pk)

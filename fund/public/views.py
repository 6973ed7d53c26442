"""The anonymous pages: the home page and each fund's public page."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_noop

from fund.ledger.models import Fund
from fund.ledger.progress import (
    default_fund,
    fund_progress,
    get_public_fund,
    latest_seal,
    monthly_flows,
    spending_by_category,
)
from fund.public import charts

# The spending accounts' default names, which the page shows translated ({% translate %}); an
# account an admin renamed is shown as named.
SPENDING_NAMES = (
    gettext_noop("Attorney fees"),
    gettext_noop("Filing fees"),
    gettext_noop("Family support"),
    gettext_noop("Other program costs"),
    gettext_noop("Bond forfeiture loss"),
)


def home(request: HttpRequest) -> HttpResponse:
    """Show the default fund's public page, or a welcome page when there is none yet."""
    fund = default_fund()
    if fund is None:
        return render(request, "fund/home.html")
    return _fund_detail(request, fund)


def fund_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Show a fund's public page: its goal, where the money went, and how many workers it helped."""
    return _fund_detail(request, get_public_fund(slug))


def _fund_detail(request: HttpRequest, fund: Fund) -> HttpResponse:
    # Every read here is O(1) in the number of gifts: stored balances, counters and checkpoints.
    progress = fund_progress(fund)
    flows = monthly_flows(fund)
    categories = spending_by_category(fund)
    seal = latest_seal(fund)
    return render(
        request,
        "fund/fund_detail.html",
        {
            "fund": fund,
            "progress": progress,
            "thermometer": charts.thermometer(progress),
            "chart": charts.monthly_chart(flows),
            "categories": charts.category_bars(categories),
            "spent_total": sum(cents for _, cents in categories),
            "seal": seal,
        },
    )


def fund_seal(request: HttpRequest, slug: str) -> HttpResponse:
    """Send the fund's latest seal (what `verify_ledger --seal` reads), for anyone to keep."""
    seal = latest_seal(get_public_fund(slug))
    if seal is None:
        raise Http404("This fund's books have not been sealed yet.")
    response = HttpResponse(seal.line() + "\n", content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{slug}-seal.json"'
    return response

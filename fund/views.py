"""Public fund pages and the staff dashboard."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from fund.roles import roles_of


def home(request: HttpRequest) -> HttpResponse:
    """Show the default fund's public page, or a welcome page when there is none yet."""
    return render(request, "fund/home.html", {"default_fund_slug": settings.DEFAULT_FUND_SLUG})


def fund_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Show a fund's public page."""
    raise Http404("No such fund.")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show the signed-in staff member where their work is."""
    return render(request, "fund/dashboard.html", {"roles": sorted(roles_of(request.user))})

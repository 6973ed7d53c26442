"""The staff dashboard: where each signed-in staff member's work is."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fund.security.roles import roles_of


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show the signed-in staff member where their work is."""
    return render(request, "fund/dashboard.html", {"roles": sorted(roles_of(request.user))})

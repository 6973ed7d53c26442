"""The staff dashboard: where each signed-in staff member's work is."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fund.security.alerts import recent_alerts
from fund.security.roles import STAFF_ADMINS, roles_of


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show the signed-in staff member where their work is; admins also see security alerts."""
    alerts = list(recent_alerts()[:10]) if STAFF_ADMINS.allows(request.user) else []
    return render(
        request,
        "fund/dashboard.html",
        {"roles": sorted(roles_of(request.user)), "alerts": alerts},
    )

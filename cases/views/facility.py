"""A case's facility page: where the person is held, and the form to record a move there.

A move is a timeline entry and, where the workflow allows it, makes the case transferred
(`move_facility`). Only those who work the case record it; out of scope is a 404.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from cases.forms.facility import FacilityForm
from cases.services.cases import move_facility
from cases.views.case import action_page, actor_of, back_to, case_or_404, refused_on
from fund.security.roles import CASE_WORKERS, role_required

FACILITY_PAGE = "cases/case_facility.html"


@require_http_methods(["GET", "POST"])
@role_required(CASE_WORKERS)
def case_facility(request: HttpRequest, ref: str) -> HttpResponse:
    """Show where the person is held; a POST records a move (a refusal re-renders the page)."""
    case = case_or_404(request, ref)
    if request.method != "POST":
        return action_page(
            request, FACILITY_PAGE, case, FacilityForm(initial={"facility": case.facility_id})
        )
    form = FacilityForm(request.POST)
    if form.is_valid():
        actor, data = actor_of(request), form.cleaned_data
        moved = refused_on(
            form,
            lambda: move_facility(
                actor=actor, case=case, facility=data["facility"], note=data["note"]
            ),
        )
        if moved is not None:
            messages.success(request, f"{moved.ref} is held at {data['facility'].name}.")
            return back_to(moved)
    return action_page(request, FACILITY_PAGE, case, form, status=400)

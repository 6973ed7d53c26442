"""A case's consent page: what the person agreed the fund may do, who recorded it and when.

Shown to whoever may open the case (a scope names no one); recorded by the case's coordinators,
legal directors and admins, whom `record_consent` checks again.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from cases.forms.consent import ConsentForm
from cases.services.cases import record_consent
from cases.views.case import action_page, actor_of, back_to, case_or_404, refused_on
from fund.security.roles import CASE_MONEY_READERS, CASE_WORKERS, role_required

CONSENT_PAGE = "cases/case_consent.html"


@require_http_methods(["GET", "POST"])
@role_required(CASE_MONEY_READERS)
def case_consent(request: HttpRequest, ref: str) -> HttpResponse:
    """Show the case's consent; a POST by a case worker records it (a refusal re-renders it)."""
    case = case_or_404(request, ref)
    records = CASE_WORKERS.allows(actor_of(request)) and case.purged_at is None
    initial = {"scope": [value for value in case.consent_scope.split(",") if value]}
    if request.method != "POST":
        return action_page(
            request,
            CONSENT_PAGE,
            case,
            ConsentForm(initial=initial) if records else None,
            status=200,
        )
    if not records:
        raise PermissionDenied("Only the case's coordinators and legal directors record consent.")
    form = ConsentForm(request.POST)
    if form.is_valid():
        actor = actor_of(request)
        scope = form.cleaned_data["scope"]
        recorded = refused_on(form, lambda: record_consent(actor=actor, case=case, scope=scope))
        if recorded is not None:
            messages.success(request, f"Consent recorded on {case.ref}.")
            return back_to(case, "consent")
    return action_page(request, CONSENT_PAGE, case, form, status=400)

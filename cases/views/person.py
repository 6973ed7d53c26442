"""A case's person page: the details taken at intake, to correct (a misspelt name, a new phone,
an A-number learned later).

Only those who work the case reach it (its coordinators, legal directors); out of scope is a 404.
Showing the details is written to the access log, and so is a correction (`update_person`),
whose timeline entry names the fields changed, never their values. The form carries a keyed
digest of the details it showed, so that two coordinators correcting at once do not undo each
other's work: the second is shown the details as they are now, with the refusal.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from cases.errors import DetailsChanged
from cases.forms.case import CorrectPersonForm
from cases.models import Case
from cases.queries import person_if_allowed
from cases.services.cases import PERSON_FIELDS, details_seen, update_person
from cases.views.board import duplicate_warning
from cases.views.case import REFUSALS, actor_of, back_to, case_or_404
from fund.errors import NotAllowed
from fund.security.roles import CASE_WORKERS, role_required

PERSON_PAGE = "cases/case_person.html"


@require_http_methods(["GET", "POST"])
@role_required(CASE_WORKERS)
def case_person(request: HttpRequest, ref: str) -> HttpResponse:
    """Show the person's details in a form; a POST corrects them (a refusal re-renders it)."""
    case = case_or_404(request, ref)
    actor = actor_of(request)
    if case.purged_at is not None:
        return _page(request, case, None)
    initial = _as_recorded(actor, case)
    if request.method != "POST":
        return _page(request, case, CorrectPersonForm(initial=initial))
    form = CorrectPersonForm(request.POST, initial=initial)
    if not form.is_valid():
        return _page(request, case, form, status=400)
    data = form.cleaned_data
    fields = {name: data[name] for name in PERSON_FIELDS}
    try:
        corrected = update_person(actor=actor, case=case, seen=data["seen"], **fields)
    except DetailsChanged as error:
        fresh = CorrectPersonForm(initial=_as_recorded(actor, Case.objects.get(pk=case.pk)))
        return _page(request, case, fresh, status=409, refusal=str(error))
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except REFUSALS as error:
        form.refused(error)
        return _page(request, case, form, status=400)
    if corrected.changed:
        names = ", ".join(PERSON_FIELDS[name] for name in corrected.changed)
        messages.success(request, f"Corrected on {case.ref}: {names}.")
    else:
        messages.info(request, f"Nothing changed on {case.ref}.")
    if corrected.duplicates or corrected.hidden_duplicates:
        messages.warning(
            request, duplicate_warning(corrected.duplicates, corrected.hidden_duplicates)
        )
    return back_to(case, "person-heading")


def _as_recorded(actor: User, case: Case) -> dict[str, Any]:
    """Return the details as the case holds them, and their digest, as the form's initial
    values; the access log records the read."""
    person = person_if_allowed(actor, case, detail="correct details page")
    if person is None:
        raise Http404("There is no such case.")
    initial: dict[str, Any] = {name: getattr(person, name, "") for name in PERSON_FIELDS}
    initial.update(detained_on=case.detained_on, seen=details_seen(case))
    return initial


def _page(
    request: HttpRequest,
    case: Case,
    form: CorrectPersonForm | None,
    status: int = 200,
    refusal: str = "",
) -> HttpResponse:
    context = {"case": case, "form": form, "refusal": refusal}
    return render(request, PERSON_PAGE, context, status=status)

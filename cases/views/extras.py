"""The case screens for services that had none: editing a note, a hearing's outcome and new
time, taking a coordinator off a case (on the coordinators page of cases/views/case.py), a legal
hold's page, the coordinator's calendar addresses, and the treasurer's payees.

The same rules as cases/views/case.py: out of scope is a 404, a refused action shows the
service's message on its form or as a flash message (never a 500), every form is a small POST
with CSRF that works without JavaScript, and a success redirects (post/redirect/get). The one
exception is a new calendar address: it is shown on the answer to the POST that made it and kept
nowhere (only its hash is stored), so it cannot be shown again after a redirect.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.forms.extras import (
    EditNoteForm,
    LegalHoldForm,
    OutcomeForm,
    RescheduleForm,
    UnassignForm,
    W9Form,
)
from cases.models import CalendarFeed, Case, Hearing, Payee, TimelineEntry
from cases.queries import log_payees_shown, may_see_person
from cases.services.cases import EDITABLE_KINDS, edit_note, unassign
from cases.services.hearings import create_feed, record_outcome, reschedule, revoke_feed
from cases.services.payees import set_w9_received
from cases.services.retention import may_set_legal_hold, set_legal_hold
from cases.views.case import (
    REFUSALS,
    action_page,
    actor_of,
    assigner_case_or_404,
    back_to,
    case_or_404,
    coordinators_page,
    refused_on,
)
from cases.views.case_extras import editable_notes
from fund.errors import NotAllowed
from fund.security.access import record_access
from fund.security.models import AccessLog
from fund.security.roles import (
    CASE_MONEY_READERS,
    CASE_WORKERS,
    LEDGER_READERS,
    W9_RECORDERS,
    StaffRole,
    role_required,
    roles_of,
)

HOLD_PAGE = "cases/case_legal_hold.html"

# Payee names are the fund's vendors, not the person: treasurers need them to pay, admins keep
# them. Auditors see a payee's number, kind and W-9 flag.
PAYEE_NAME_READERS = frozenset({StaffRole.TREASURER, StaffRole.ADMIN})
PAYEES_PER_PAGE = 50
NOTE_LOCKED = (
    "This note can no longer be edited here: a note can be edited by its author for 15 minutes "
    "after it is written. Add a new note instead."
)


def _person_case_or_404(request: HttpRequest, ref: str) -> Case:
    """Return the case if the user may see who it is about (its coordinators, legal directors)."""
    case = case_or_404(request, ref)
    if not may_see_person(request.user, case):
        raise Http404("There is no such case.")
    return case


# Editing a note or a call (its author, for 15 minutes)


def _note_or_404(case: Case, pk: int) -> TimelineEntry:
    entry = case.timeline.filter(pk=pk, kind__in=EDITABLE_KINDS).select_related("by").first()
    if entry is None:
        raise Http404("There is no such note.")
    return entry


def _note_page(
    request: HttpRequest, case: Case, entry: TimelineEntry, form: EditNoteForm | None, status: int
) -> HttpResponse:
    record_access(user=request.user, action=AccessLog.Action.VIEW, obj=case, detail="note edit")
    context = {"case": case, "entry": entry, "form": form, "locked": NOTE_LOCKED}
    return render(request, "cases/note_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(CASE_WORKERS)
def note_edit(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Show a note pre-filled for its author to change, and save the change (the service keeps
    the earlier text on the timeline and refuses anyone else, or after 15 minutes)."""
    case = _person_case_or_404(request, ref)
    entry = _note_or_404(case, pk)
    user = actor_of(request)
    if request.method != "POST":
        editable = entry.pk in editable_notes(user, case, [entry], sees_person=True)
        form = EditNoteForm(initial={"text": entry.text}) if editable else None
        return _note_page(request, case, entry, form, 200)
    form = EditNoteForm(request.POST)
    if form.is_valid():
        text = form.cleaned_data["text"]
        edited = refused_on(form, lambda: edit_note(actor=user, entry=entry, text=text))
        if edited is not None:
            messages.success(
                request, f"{edited.get_kind_display()} changed; its earlier text is kept."
            )
            return back_to(case, "timeline")
    entry.refresh_from_db()
    return _note_page(request, case, entry, form, 400)


# A hearing: its outcome and a new time (its case's coordinators)


def _hearing_or_404(case: Case, pk: int) -> Hearing:
    hearing = case.hearings.filter(pk=pk).first()
    if hearing is None:
        raise Http404("There is no such hearing.")
    return hearing


def _hearing_page(
    request: HttpRequest, case: Case, hearing: Hearing, *, status: int = 200, **bound: Any
) -> HttpResponse:
    record_access(user=request.user, action=AccessLog.Action.VIEW, obj=case, detail="hearing")
    context: dict[str, Any] = {
        "case": case,
        "hearing": hearing,
        "outcome_form": OutcomeForm(initial={"outcome": hearing.outcome}),
        "reschedule_form": RescheduleForm(initial={"at": hearing.at, "court": hearing.court}),
        **bound,
    }
    return render(request, "cases/hearing_detail.html", context, status=status)


@require_GET
@role_required(CASE_WORKERS)
def hearing_detail(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Show a hearing with the forms to record its outcome and to move it."""
    case = _person_case_or_404(request, ref)
    return _hearing_page(request, case, _hearing_or_404(case, pk))


@require_POST
@role_required(CASE_WORKERS)
def hearing_outcome(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Record what came of a hearing; it goes on the timeline."""
    case = _person_case_or_404(request, ref)
    hearing = _hearing_or_404(case, pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        outcome = form.cleaned_data["outcome"]
        done = refused_on(
            form, lambda: record_outcome(actor=actor_of(request), hearing=hearing, outcome=outcome)
        )
        if done is not None:
            messages.success(request, f"Outcome recorded for the hearing of {case.ref}.")
            return back_to(case, "hearings")
    return _hearing_page(request, case, hearing, status=400, outcome_form=form)


@require_POST
@role_required(CASE_WORKERS)
def hearing_reschedule(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Move a hearing to another time and court; it will be reminded of again."""
    case = _person_case_or_404(request, ref)
    hearing = _hearing_or_404(case, pk)
    form = RescheduleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        done = refused_on(
            form,
            lambda: reschedule(
                actor=actor_of(request), hearing=hearing, at=data["at"], court=data["court"]
            ),
        )
        if done is not None:
            messages.success(request, f"The hearing of {case.ref} was moved.")
            return back_to(case, "hearings")
    return _hearing_page(request, case, hearing, status=400, reschedule_form=form)


# Taking a coordinator off a case; a legal hold (legal directors and admins; the services check)


@require_POST
@role_required(CASE_MONEY_READERS)
def case_unassign(request: HttpRequest, ref: str) -> HttpResponse:
    """Take a coordinator off the case; the service refuses taking off the last one."""
    case = assigner_case_or_404(request, ref)
    form = UnassignForm(request.POST, case=case)
    if form.is_valid():
        coordinator: User = form.cleaned_data["coordinator"]
        done = refused_on(
            form, lambda: unassign(actor=actor_of(request), case=case, coordinator=coordinator)
        )
        if done is not None:
            messages.success(request, f"{coordinator.get_username()} no longer works {case.ref}.")
            return back_to(case)
    return coordinators_page(request, case, status=400, unassign_form=form)


@require_http_methods(["GET", "POST"])
@role_required(CASE_MONEY_READERS)
def case_legal_hold(request: HttpRequest, ref: str) -> HttpResponse:
    """Show the form to place or lift the case's legal hold; a POST does it, with a reason."""
    case = case_or_404(request, ref)
    if not may_set_legal_hold(actor_of(request)):
        raise PermissionDenied("Only a legal director or an admin can place or lift a legal hold.")
    if request.method != "POST":
        # A purged case has nothing left to hold: the page says so and offers no form.
        form = LegalHoldForm(case=case) if case.purged_at is None else None
        return action_page(request, HOLD_PAGE, case, form)
    form = LegalHoldForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        hold = data["hold"] == "place"
        done = refused_on(
            form,
            lambda: set_legal_hold(
                actor=actor_of(request), case=case, hold=hold, reason=data["reason"]
            ),
        )
        if done is not None:
            verb = "is on legal hold" if done.legal_hold else "is no longer on legal hold"
            messages.success(request, f"{done.ref} {verb}.")
            return back_to(done)
    return action_page(request, HOLD_PAGE, case, form, 400)


# The coordinator's calendar addresses


def _calendar_page(request: HttpRequest, *, new_url: str = "", status: int = 200) -> HttpResponse:
    feeds = CalendarFeed.objects.filter(user=actor_of(request)).order_by("-created_at", "-pk")
    response = render(
        request, "cases/calendar.html", {"feeds": feeds, "new_url": new_url}, status=status
    )
    # The page may hold a secret address: no cache keeps it.
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@role_required(CASE_WORKERS)
def calendar_feeds(request: HttpRequest) -> HttpResponse:
    """List the user's calendar addresses; a POST makes a new one and shows it, once."""
    if request.method != "POST":
        return _calendar_page(request)
    try:
        path = create_feed(actor=actor_of(request))
    except REFUSALS as error:
        messages.error(request, str(error))
        return redirect("cases_calendar")
    return _calendar_page(request, new_url=request.build_absolute_uri(path))


@require_POST
@role_required(CASE_WORKERS)
def calendar_feed_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop one of the user's calendar addresses from answering."""
    feed = get_object_or_404(CalendarFeed, pk=pk, user=actor_of(request))
    try:
        revoke_feed(actor=actor_of(request), feed=feed)
    except REFUSALS as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Calendar address #{feed.pk} revoked: it answers no more.")
    return redirect("cases_calendar")


# Payees (treasurers and admins by name; auditors by number)


@require_GET
@role_required(LEDGER_READERS)
def payees(request: HttpRequest) -> HttpResponse:
    """List the fund's payees; a treasurer records whether each one's W-9 is on file."""
    user = actor_of(request)
    shows_names = bool(roles_of(user) & PAYEE_NAME_READERS)
    listed = Paginator(Payee.objects.order_by("pk"), PAYEES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    if shows_names:
        log_payees_shown(user, listed, "payees list")
    context = {
        "page": listed,
        "shows_names": shows_names,
        "records_w9": W9_RECORDERS.allows(user),
        "section": "payees",
    }
    return render(request, "cases/payees.html", context)


@require_POST
@role_required(W9_RECORDERS)
def payee_w9(request: HttpRequest, pk: int) -> HttpResponse:
    """Record whether a payee's W-9 was received."""
    payee = get_object_or_404(Payee, pk=pk)
    form = W9Form(request.POST)
    url = reverse("cases_payees")
    if not form.is_valid():
        messages.error(request, f"Payee #{payee.pk}: say whether the W-9 was received.")
        return redirect(f"{url}#payee-{payee.pk}")
    received = form.cleaned_data["received"] == "yes"
    try:
        payee = set_w9_received(actor=actor_of(request), payee=payee, received=received)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except REFUSALS as error:
        messages.error(request, f"Payee #{payee.pk}: {error}")
    else:
        state = "received" if payee.w9_received else "not received"
        messages.success(request, f"Payee #{payee.pk}: W-9 {state}.")
    return redirect(f"{url}#payee-{payee.pk}")

"""A case's page under /cases/<ref>/ and its quick actions: change the status, log a note or a
call, schedule a hearing; and the page of its coordinators, where a legal director assigns one.

The actions taken now and then (assigning, requesting money, recording a bond, a legal hold) have
pages of their own that the case page links to: drawn on every view of the case, their forms and
select lists were most of its time (bench/cases.py). A refused form re-renders its own page.

Whoever may open the case (Case.objects.for_user) sees its reference, status, facility,
coordinators and money; the person behind it, the timeline's texts and the hearings only those who
may see the person (its coordinators, legal directors, admins), read through `person_if_allowed`,
which writes the access log. Treasurers and auditors see the timeline's kinds and dates only. Out
of scope is a 404; a refused action shows the service's message on its form (never a 500).
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.errors import CaseError, CaseNotFound
from cases.forms.case import AssignForm, HearingForm, NoteForm, RefusableForm, StatusForm
from cases.forms.extras import UnassignForm
from cases.forms.money import BondStepForm
from cases.models import Bond, Case
from cases.queries import (
    case_for_user,
    log_payees_shown,
    payee_label,
    person_if_allowed,
    shows_payee_names,
)
from cases.services.bonds import NEXT_STEPS
from cases.services.cases import add_note, allowed_moves, assign, change_status, may_assign
from cases.services.disbursements import approval_state
from cases.services.hearings import add_hearing
from cases.services.retention import may_set_legal_hold
from cases.views.case_extras import editable_notes
from fund.errors import FundError, NotAllowed
from fund.security.roles import (
    BOND_RECORDERS,
    CASE_MONEY_READERS,
    CASE_WORKERS,
    LEDGER_WRITERS,
    role_required,
)

REFUSALS = (CaseError, FundError)
# The case page shows the newest timeline entries, with links to older ones: a long case's page
# would otherwise decrypt and render every entry it ever had (bench/cases.py).
TIMELINE_PAGE = 50
# The bond steps the case page offers, and who may take each (the services check it again).
STEP_PERMISSIONS = {
    Bond.Status.CANCELLED: BOND_RECORDERS,
    Bond.Status.BREACHED: BOND_RECORDERS,
    Bond.Status.REFUNDED: LEDGER_WRITERS,
    Bond.Status.FORFEITED: LEDGER_WRITERS,
}
STEP_WORDS = {
    Bond.Status.CANCELLED: "cancel",
    Bond.Status.BREACHED: "breach",
    Bond.Status.REFUNDED: "refund",
    Bond.Status.FORFEITED: "forfeit",
}


def actor_of(request: HttpRequest) -> User:
    """Return the signed-in user; role_required has already turned anonymous visitors away."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def case_or_404(request: HttpRequest, ref: str) -> Case:
    """Return the case if the user may open it; anything else is a 404 (as if it did not exist)."""
    try:
        return case_for_user(request.user, ref)
    except CaseNotFound:
        raise Http404("There is no such case.") from None


def refused_on[T](form: RefusableForm, service_call: Callable[[], T]) -> T | None:
    """Return what the service call returns; if it refuses, show why on the form (NotAllowed is
    a 403)."""
    try:
        return service_call()
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except REFUSALS as error:
        form.refused(error)
        return None


def documents_url(case: Case) -> str:
    """Return the address of the case's documents, if that page exists."""
    for name in ("cases_documents", "cases:case-documents"):
        try:
            return reverse(name, args=[case.ref])
        except NoReverseMatch:
            continue
    return ""


def case_page(
    request: HttpRequest, case: Case, *, status: int = 200, **bound: Form
) -> HttpResponse:
    """Render the case page, with `bound` forms (the one just refused) in place of fresh ones."""
    user = actor_of(request)
    person = person_if_allowed(user, case, detail="case page")
    sees_person = person is not None
    works = CASE_WORKERS.allows(user)
    open_case = case.status != Case.Status.CLOSED
    forms: dict[str, Form | None] = {
        "status_form": StatusForm(case=case) if works and allowed_moves(case.status) else None,
        "note_form": NoteForm() if works else None,
        "hearing_form": HearingForm() if works and open_case else None,
    }
    forms.update(bound)
    timeline = Paginator(
        case.timeline.select_related("by").order_by("-at", "-pk"), TIMELINE_PAGE
    ).get_page(request.GET.get("timeline"))
    disbursements = list(
        case.disbursements.select_related("fund", "payee", "requested_by")
        .annotate(given=Count("approvals"))
        .order_by("-requested_at", "-pk")
    )
    if shows_payee_names(user):
        log_payees_shown(user, [d.payee for d in disbursements], "case page")
    context: dict[str, Any] = {
        "case": case,
        "person": person,
        "sees_person": sees_person,
        "works": works,
        "coordinators": case.coordinators.order_by("username"),
        "timeline": timeline,
        "hearings": case.hearings.order_by("at", "pk") if sees_person else [],
        "updates_hearings": works and sees_person and case.purged_at is None,
        "disbursements": [
            (d, approval_state(d), payee_label(d.payee, user)) for d in disbursements
        ],
        "bonds": [
            (bond, _steps(user, bond))
            for bond in case.bonds.select_related("fund").order_by("posted_on", "pk")
        ],
        "documents_url": documents_url(case),
        "requests_money": works and open_case,
        "records_bonds": BOND_RECORDERS.allows(user) and open_case,
        "voids_bonds": LEDGER_WRITERS.allows(user),
        "assigns": may_assign(user),
        "holds": may_set_legal_hold(user) and case.purged_at is None,
        "editable_notes": editable_notes(user, case, timeline, sees_person=sees_person),
        **forms,
    }
    return render(request, "cases/case_detail.html", context, status=status)


def _steps(user: User, bond: Bond) -> list[tuple[str, str, BondStepForm]]:
    return [
        (step, STEP_WORDS[step], BondStepForm(prefix=f"bond{bond.pk}-{step}"))
        for step in NEXT_STEPS[bond.status]
        if STEP_PERMISSIONS[step].allows(user)
    ]


def action_page(
    request: HttpRequest, template: str, case: Case, form: Form | None, status: int = 200
) -> HttpResponse:
    """Render one of the case's small action pages with its form (None: the page says why it
    offers none)."""
    return render(request, template, {"case": case, "form": form}, status=status)


def back_to(case: Case, anchor: str = "") -> HttpResponse:
    """Redirect to the case page (after a successful POST: post/redirect/get)."""
    url = reverse("cases_case_detail", args=[case.ref])
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_GET
@role_required(CASE_MONEY_READERS)
def case_detail(request: HttpRequest, ref: str) -> HttpResponse:
    """Show one case as the viewer may see it, with the quick actions they may take."""
    return case_page(request, case_or_404(request, ref))


@require_POST
@role_required(CASE_WORKERS)
def case_status(request: HttpRequest, ref: str) -> HttpResponse:
    """Move the case along the workflow; a move it does not allow is refused on the form."""
    case = case_or_404(request, ref)
    form = StatusForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        changed = refused_on(
            form,
            lambda: change_status(
                actor=actor_of(request), case=case, to=data["to"], note=data["note"]
            ),
        )
        if changed is not None:
            messages.success(
                request, f"{changed.ref} is now {changed.get_status_display().lower()}."
            )
            return back_to(changed)
    return case_page(request, case, status=400, status_form=form)


@require_POST
@role_required(CASE_WORKERS)
def case_note(request: HttpRequest, ref: str) -> HttpResponse:
    """Write a note or a call on the case's timeline."""
    case = case_or_404(request, ref)
    form = NoteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        entry = refused_on(
            form,
            lambda: add_note(
                actor=actor_of(request), case=case, kind=data["kind"], text=data["text"]
            ),
        )
        if entry is not None:
            messages.success(request, f"{entry.get_kind_display()} added to {case.ref}.")
            return back_to(case, "timeline")
    return case_page(request, case, status=400, note_form=form)


@require_POST
@role_required(CASE_WORKERS)
def case_hearing(request: HttpRequest, ref: str) -> HttpResponse:
    """Schedule a hearing on the case."""
    case = case_or_404(request, ref)
    form = HearingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        hearing = refused_on(
            form,
            lambda: add_hearing(
                actor=actor_of(request),
                case=case,
                at=data["at"],
                court=data["court"],
                kind=data["kind"],
                judge=data["judge"],
            ),
        )
        if hearing is not None:
            messages.success(request, f"Hearing scheduled for {case.ref}.")
            return back_to(case, "hearings")
    return case_page(request, case, status=400, hearing_form=form)


def coordinators_page(
    request: HttpRequest, case: Case, *, status: int = 200, **bound: Form
) -> HttpResponse:
    """Render the page of the case's coordinators, with the forms to assign one and take one off
    (`bound`: the form just refused)."""
    context: dict[str, Any] = {
        "case": case,
        "coordinators": case.coordinators.order_by("username"),
        "assign_form": AssignForm(),
        "unassign_form": UnassignForm(case=case),
        **bound,
    }
    return render(request, "cases/case_coordinators.html", context, status=status)


def assigner_case_or_404(request: HttpRequest, ref: str) -> Case:
    """Return the case for a legal director or an admin; out of scope is a 404, anyone else a
    403 (the services refuse them too)."""
    case = case_or_404(request, ref)
    if not may_assign(actor_of(request)):
        raise PermissionDenied("Only a legal director or an admin can assign cases.")
    return case


@require_http_methods(["GET", "POST"])
@role_required(CASE_MONEY_READERS)  # the service admits legal directors and admins only
def case_assign(request: HttpRequest, ref: str) -> HttpResponse:
    """Show the case's coordinators; a POST assigns one more (legal directors and admins)."""
    case = assigner_case_or_404(request, ref)
    if request.method != "POST":
        return coordinators_page(request, case)
    form = AssignForm(request.POST)
    if form.is_valid():
        coordinator = form.cleaned_data["coordinator"]
        done = refused_on(
            form, lambda: assign(actor=actor_of(request), case=case, coordinator=coordinator)
        )
        if done is not None:
            messages.success(request, f"{coordinator.get_username()} works {case.ref} now.")
            return back_to(case)
    return coordinators_page(request, case, status=400, assign_form=form)

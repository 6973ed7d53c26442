"""A case's money on screen: requesting a disbursement and adding a payee (coordinators), the
approvals queue under /cases/approvals/ (treasurers), recording a bond and its later steps, and
the outstanding bonds under /cases/bonds/ (treasurers; auditors read it).

Payee names are shown to treasurers (they pay them); they are the fund's vendors, not the person.
A bond's obligor is never shown on these screens. Maker-checker: the queue offers no approve
button on one's own request, nor a pay form, and the service's refusal is a flash message, never a
500.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.errors import CaseNotFound
from cases.forms.money import (
    BondForm,
    BondStepForm,
    DisbursementForm,
    PayeeForm,
    PayForm,
    RejectForm,
    VoidForm,
)
from cases.models import Bond, Case, Disbursement, Document
from cases.queries import bond_aging, case_for_user, log_payees_shown, outstanding_bonds
from cases.services.bonds import (
    cancel_bond,
    forfeit_bond,
    post_bond,
    record_bond_breach,
    record_bond_refund,
)
from cases.services.disbursements import (
    approval_state,
    approve_disbursement,
    disbursement_for_user,
    pay_disbursement,
    reject_disbursement,
    request_disbursement,
    void_disbursement,
)
from cases.services.payees import create_payee
from cases.views.case import REFUSALS, action_page, actor_of, back_to, case_or_404, refused_on
from fund import money
from fund.errors import NotAllowed
from fund.ledger.queries import list_funds
from fund.security.roles import (
    BOND_RECORDERS,
    CASE_WORKERS,
    DISBURSEMENT_APPROVERS,
    LEDGER_READERS,
    LEDGER_WRITERS,
    PAYEE_KEEPERS,
    role_required,
)

Status = Disbursement.Status
WAITING = (Status.REQUESTED, Status.APPROVED)
REQUEST_PAGE = "cases/disbursement_form.html"
BOND_PAGE = "cases/bond_form.html"


# Requesting money (coordinators)


def is_open(case: Case) -> bool:
    """Return whether the case still takes requests and bonds (it is not closed)."""
    return case.status != Case.Status.CLOSED


@require_http_methods(["GET", "POST"])
@role_required(CASE_WORKERS)
def case_request(request: HttpRequest, ref: str) -> HttpResponse:
    """Show the form to request money for the case; a POST requests it (the same form
    submitted twice makes one request)."""
    case = case_or_404(request, ref)
    if request.method != "POST":
        # A closed case takes no new requests: the page says so and offers no form.
        return action_page(
            request, REQUEST_PAGE, case, DisbursementForm(case=case) if is_open(case) else None
        )
    form = DisbursementForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        made = refused_on(
            form,
            lambda: request_disbursement(
                actor=actor_of(request),
                case=case,
                fund=data["fund"],
                category=data["category"],
                payee=data["payee"],
                amount_cents=data["amount_cents"],
                memo=data["memo"],
                idempotency_key=data["idempotency_key"],
                document=data["document"],
            ),
        )
        if made is not None:
            amount = money.format_amount(made.amount_cents, made.fund.currency)
            messages.success(request, f"Requested {amount} for {case.ref}: {approval_state(made)}")
            return back_to(case, "money")
    return action_page(request, REQUEST_PAGE, case, form, 400)


@require_http_methods(["GET", "POST"])
@role_required(PAYEE_KEEPERS)
def payee_new(request: HttpRequest) -> HttpResponse:
    """Add a payee, then go back to the request form of the case it is for (?case=<ref>)."""
    ref = (request.POST if request.method == "POST" else request.GET).get("case", "")
    case = _case_if_any(request.user, ref)
    if request.method != "POST":
        form = PayeeForm(initial={"case": case.ref if case else ""})
        return render(request, "cases/payee_form.html", {"form": form, "case": case})
    form = PayeeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        payee = refused_on(
            form,
            lambda: create_payee(
                actor=actor_of(request),
                kind=data["kind"],
                name=data["name"],
                firm=data["firm"],
                bar_number=data["bar_number"],
                contact=data["contact"],
            ),
        )
        if payee is not None:
            messages.success(request, f"Added payee #{payee.pk}: choose it on the request form.")
            if case is not None:
                return redirect("cases_case_request", case.ref)
            return redirect("cases_board")
    return render(request, "cases/payee_form.html", {"form": form, "case": case}, status=400)


def _case_if_any(user: object, ref: str) -> Case | None:
    if not ref:
        return None
    try:
        return case_for_user(user, ref)  # type: ignore[arg-type]
    except CaseNotFound:
        return None


# The approvals queue (treasurers)


def waiting_disbursements(user: User) -> QuerySet[Disbursement]:
    """Return the requested and approved disbursements of the user's cases, oldest first."""
    return (
        Disbursement.objects.filter(case__in=Case.objects.for_user(user), status__in=WAITING)
        .select_related("case", "fund", "payee", "requested_by")
        .prefetch_related("approvals__approver")
        .annotate(given=Count("approvals"), document_kind=F("document__kind"))
        .order_by("requested_at", "pk")
    )


def _document_label(disbursement: Disbursement) -> str:
    # By number and kind: the document itself is for those who may see the person.
    if not disbursement.document_id:
        return ""
    kind = Document.Kind(disbursement.document_kind).label  # type: ignore[attr-defined]
    return f"#{disbursement.document_id} ({kind})"


def queue_page(
    request: HttpRequest, *, status: int = 200, bound: tuple[int, str, Form] | None = None
) -> HttpResponse:
    """Render the approvals queue, with the form just refused (pk, "reject" or "pay") in place."""
    user = actor_of(request)
    rows = []
    waiting = list(waiting_disbursements(user))
    for disbursement in waiting:
        approvers = [approval.approver for approval in disbursement.approvals.all()]
        reject: Form = RejectForm(prefix=f"reject{disbursement.pk}")
        pay: Form | None = (
            PayForm(prefix=f"pay{disbursement.pk}")
            if disbursement.status == Status.APPROVED and disbursement.requested_by_id != user.pk
            else None
        )
        if bound is not None and bound[0] == disbursement.pk:
            if bound[1] == "reject":
                reject = bound[2]
            else:
                pay = bound[2]
        rows.append(
            {
                "d": disbursement,
                "state": approval_state(disbursement),
                "approvers": approvers,
                "own": disbursement.requested_by_id == user.pk,
                "may_approve": disbursement.status == Status.REQUESTED
                and disbursement.requested_by_id != user.pk
                and all(approver.pk != user.pk for approver in approvers),
                "reject_form": reject,
                "pay_form": pay,
                "document": _document_label(disbursement),
            }
        )
    paid = list(paid_disbursements(user))
    log_payees_shown(user, [d.payee for d in waiting + paid], "approvals queue")
    context = {"rows": rows, "paid": paid}
    return render(request, "cases/approvals.html", context, status=status)


@require_GET
@role_required(DISBURSEMENT_APPROVERS)
def approvals(request: HttpRequest) -> HttpResponse:
    """List the requests waiting for approval or payment, oldest first."""
    return queue_page(request)


def _waiting_or_404(request: HttpRequest, pk: int) -> Disbursement:
    try:
        return disbursement_for_user(actor_of(request), pk)
    except CaseNotFound:
        raise Http404("No such disbursement.") from None


@require_POST
@role_required(DISBURSEMENT_APPROVERS)
def disbursement_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a request; one's own is refused with the service's message."""
    disbursement = _waiting_or_404(request, pk)
    try:
        approved = approve_disbursement(actor=actor_of(request), disbursement=disbursement)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except REFUSALS as error:
        messages.error(request, f"Disbursement #{pk}: {error}")
        return redirect("cases_approvals")
    messages.success(
        request, f"Disbursement #{pk} for {approved.case.ref}: {approval_state(approved)}"
    )
    return redirect("cases_approvals")


@require_POST
@role_required(DISBURSEMENT_APPROVERS)
def disbursement_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject a requested or approved disbursement, with a reason."""
    disbursement = _waiting_or_404(request, pk)
    form = RejectForm(request.POST, prefix=f"reject{pk}")
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        done = refused_on(
            form,
            lambda: reject_disbursement(
                actor=actor_of(request), disbursement=disbursement, reason=reason
            ),
        )
        if done is not None:
            messages.success(request, f"Rejected disbursement #{pk} for {done.case.ref}.")
            return redirect("cases_approvals")
    return queue_page(request, status=400, bound=(pk, "reject", form))


@require_POST
@role_required(DISBURSEMENT_APPROVERS)
def disbursement_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Pay an approved disbursement: the ledger's spent grows by its amount."""
    disbursement = _waiting_or_404(request, pk)
    form = PayForm(request.POST, prefix=f"pay{pk}")
    if form.is_valid():
        data = form.cleaned_data
        paid = refused_on(
            form,
            lambda: pay_disbursement(
                actor=actor_of(request),
                disbursement=disbursement,
                method=data["method"],
                reference=data["reference"],
                paid_on=data["paid_on"],
            ),
        )
        if paid is not None:
            amount = money.format_amount(paid.amount_cents, paid.fund.currency)
            messages.success(request, f"Paid {amount} for {paid.case.ref} (disbursement #{pk}).")
            return redirect("cases_approvals")
    return queue_page(request, status=400, bound=(pk, "pay", form))


# Bonds


@require_http_methods(["GET", "POST"])
@role_required(BOND_RECORDERS)
def case_bond(request: HttpRequest, ref: str) -> HttpResponse:
    """Show the form to record an immigration bond the fund posted for the case; a POST
    records it."""
    case = case_or_404(request, ref)
    if request.method != "POST":
        return action_page(request, BOND_PAGE, case, BondForm() if is_open(case) else None)
    form = BondForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        bond = refused_on(
            form,
            lambda: post_bond(
                actor=actor_of(request),
                case=case,
                fund=data["fund"],
                amount_cents=data["amount_cents"],
                obligor_name=data["obligor_name"],
                obligor_relationship=data["obligor_relationship"],
                obligor_contact=data["obligor_contact"],
                obligor_attested=data["obligor_attested"],
                receipt_number=data["receipt_number"],
                posted_on=data["posted_on"],
                idempotency_key=data["idempotency_key"],
            ),
        )
        if bond is not None:
            amount = money.format_amount(bond.amount_cents, bond.fund.currency)
            messages.success(request, f"Recorded a bond of {amount} for {case.ref}.")
            return back_to(case, "bonds")
    return action_page(request, BOND_PAGE, case, form, 400)


def bond_or_404(request: HttpRequest, pk: int, *related: str) -> Bond:
    """Return the bond, with its case and fund (and `related`), if the user may open its case;
    anything else is a 404, like a missing bond."""
    bond = (
        Bond.objects.filter(pk=pk, case__in=Case.objects.for_user(request.user))
        .select_related("case", "fund", *related)
        .first()
    )
    if bond is None:
        raise Http404("No such bond.")
    return bond


@require_POST
@role_required(BOND_RECORDERS)
def bond_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Record a bond's next step (cancel, breach, refund, forfeit) from the case page."""
    if step not in STEPS:
        raise Http404("No such step.")
    bond = bond_or_404(request, pk)
    to = STEPS[step]
    form = BondStepForm(request.POST, prefix=f"bond{bond.pk}-{to}")
    amounts = form.amounts(bond.fund) if form.is_valid() and to == Bond.Status.REFUNDED else None
    if form.is_valid():
        day: date = form.cleaned_data["on"]
        user = actor_of(request)
        done = None
        if to == Bond.Status.CANCELLED:
            done = refused_on(form, lambda: cancel_bond(actor=user, bond=bond, cancelled_on=day))
        elif to == Bond.Status.BREACHED:
            done = refused_on(
                form, lambda: record_bond_breach(actor=user, bond=bond, breached_on=day)
            )
        elif to == Bond.Status.FORFEITED:
            done = refused_on(form, lambda: forfeit_bond(actor=user, bond=bond, forfeited_on=day))
        elif amounts is not None:
            principal, interest = amounts
            done = refused_on(
                form,
                lambda: record_bond_refund(
                    actor=user,
                    bond=bond,
                    principal_cents=principal,
                    interest_cents=interest,
                    received_on=day,
                ),
            )
        if done is not None:
            messages.success(
                request, f"The bond of {bond.case.ref} is {done.get_status_display().lower()}."
            )
            return back_to(bond.case, "bonds")
    for error in form.non_field_errors():
        messages.error(request, f"Bond of {bond.case.ref}: {error}")
    for name, errors in form.errors.items():
        if name != "__all__":
            for error in errors:
                messages.error(
                    request, f"Bond of {bond.case.ref}, {form.fields[name].label}: {error}"
                )
    return back_to(bond.case, "bonds")


STEPS = {
    "cancel": Bond.Status.CANCELLED,
    "breach": Bond.Status.BREACHED,
    "refund": Bond.Status.REFUNDED,
    "forfeit": Bond.Status.FORFEITED,
}


@require_GET
@role_required(LEDGER_READERS)
def bonds(request: HttpRequest) -> HttpResponse:
    """List each fund's outstanding bonds, oldest first, and their aging: refs and amounts only."""
    today = timezone.localdate()
    funds = [
        {
            "fund": fund,
            "bonds": outstanding_bonds(fund, today),
            "aging": bond_aging(fund, today),
        }
        for fund in list_funds()
    ]
    for entry in funds:
        entry["total"] = sum(bond.amount_cents for bond in entry["bonds"])  # type: ignore[attr-defined]
    context = {"funds": funds, "today": today, "treasurer": LEDGER_WRITERS.allows(request.user)}
    return render(request, "cases/bonds.html", context)


# Voiding a payment (treasurers)

# The approvals screen lists this many of the latest payments, each with its way to be voided;
# an older one is voided from its case's page.
PAID_SHOWN = 20


def paid_disbursements(user: User) -> QuerySet[Disbursement]:
    """Return the latest paid (not voided) disbursements of the user's cases, newest first."""
    return (
        Disbursement.objects.filter(case__in=Case.objects.for_user(user), status=Status.PAID)
        .select_related("case", "fund", "payee", "transaction")
        .order_by("-paid_on", "-pk")[:PAID_SHOWN]
    )


def _void_page(
    request: HttpRequest, disbursement: Disbursement, form: VoidForm, status: int = 200
) -> HttpResponse:
    log_payees_shown(actor_of(request), [disbursement.payee], "void page")
    context = {"d": disbursement, "form": form, "voidable": disbursement.status == Status.PAID}
    return render(request, "cases/disbursement_void.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(DISBURSEMENT_APPROVERS)
def disbursement_void(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a paid disbursement and the form to void it; a POST voids it, with a reason.

    Voiding posts the payment's reversal (the ledger's memo names only the disbursement; the
    reason, which may name someone, stays encrypted on it). Voiding twice reverses once.
    """
    disbursement = _waiting_or_404(request, pk)
    if request.method != "POST":
        return _void_page(request, disbursement, VoidForm())
    was_voided = disbursement.status == Status.VOIDED
    form = VoidForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        voided = refused_on(
            form,
            lambda: void_disbursement(
                actor=actor_of(request), disbursement=disbursement, reason=reason
            ),
        )
        if voided is not None and voided.void_transaction is not None:
            entry = voided.void_transaction.reference
            if was_voided:
                messages.info(
                    request,
                    f"Disbursement #{pk} for {voided.case.ref} was already voided by ledger "
                    f"entry {entry}: nothing more was reversed.",
                )
            else:
                amount = money.format_amount(voided.amount_cents, voided.fund.currency)
                messages.success(
                    request,
                    f"Voided the payment of {amount} for {voided.case.ref} (disbursement #{pk}): "
                    f"ledger entry {entry} reverses it.",
                )
            return back_to(voided.case, "money")
    return _void_page(request, disbursement, form, 400)

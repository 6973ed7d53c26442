"""The treasurer's gift screens under /staff/gifts/: the gifts register and its CSV, offline gifts,
deposits and their slips, pledges, donors.

Gifts are for GIFT_READERS (treasurers, auditors, admins); who gave them is for DONOR_READERS
(treasurers, admins) only, and every page or export that shows a donor's personal data records it
in the access log (fund.security.access.record_access). Recording is for GIFT_RECORDERS. Each view
parses its input, calls one query or service, and renders; a refusal is shown on its form.
"""

from collections.abc import Callable, Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from donations.errors import DonationError
from donations.forms.staff import (
    CorrectionForm,
    DepositForm,
    DonorFindForm,
    DonorForm,
    GiftFilterForm,
    OfflineGiftForm,
    PledgeForm,
    RecordingForm,
    ReturnGiftForm,
    VoidDepositForm,
)
from donations.models import Deposit, Donor, Gift, Pledge
from donations.queries import (
    count_overdue,
    deposit_gifts,
    donor_gifts,
    donor_history,
    donor_label,
    donor_monthly_gifts,
    donor_name,
    donor_totals,
    find_donor_by_email,
    get_deposit,
    get_donor,
    get_gift,
    get_pledge,
    list_deposits,
    list_donors,
    list_gifts,
    list_pledges,
    list_undeposited,
    outstanding_cents,
    personal_donors,
    pseudonym,
    received,
    shows_donors,
)
from donations.services.offline import (
    OFFLINE_METHODS,
    record_deposit,
    record_offline_gift,
    record_pledge,
    return_offline_gift,
    update_donor,
    void_deposit,
)
from fund import money
from fund.errors import FundError
from fund.ledger.models import Fund
from fund.ledger.queries import get_fund, list_funds
from fund.reports.csv import csv_lines
from fund.security.access import record_access
from fund.security.models import AccessLog
from fund.security.roles import DONOR_READERS, GIFT_READERS, GIFT_RECORDERS, role_required

PAGE_SIZE = 50
REFUSALS = (DonationError, FundError)


# The gifts register


@require_GET
@role_required(GIFT_READERS)
def gift_list(request: HttpRequest) -> HttpResponse:
    """List gifts, newest received first, filtered by day received, fund, method and status."""
    form = GiftFilterForm(request.GET)
    context: dict[str, object] = {"form": form, "page": None, "section": "gifts"}
    if not form.is_valid():
        return render(request, "donations/staff/gift_list.html", context, status=400)
    gifts = _gifts_of(form)
    page = Paginator(gifts, PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(page=page, rows=_labelled(request, page.object_list, "gifts register"))
    # Only what came in counts: a checkout never paid is a row, not money; a refund takes back.
    context["totals"] = gifts.aggregate(count=Count("pk"), amount=received())
    context["one_currency"] = _one_currency(form)
    return render(request, "donations/staff/gift_list.html", context)


@require_GET
@role_required(GIFT_READERS)
def gift_export(request: HttpRequest) -> HttpResponse:
    """Send the gifts the register's filters select as CSV (no cell can run as a formula)."""
    form = GiftFilterForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "page": None, "section": "gifts"}
        return render(request, "donations/staff/gift_list.html", context, status=400)
    gifts = list(_gifts_of(form).select_related("pledge"))
    _record_shown(request, personal_donors(gifts, request.user), AccessLog.Action.EXPORT, "CSV")
    header = [
        "Gift",
        "Received on",
        "Fund",
        "Currency",
        "Method",
        "Reference",
        "Status",
        "Amount",
        "Fee",
        "Refunded",
        "Donor",
        "Deposit",
        "Pledge",
        "Transaction",
    ]
    rows = [
        [
            gift.pk,
            gift.received_on.isoformat() if gift.received_on else "",
            gift.fund.slug,
            gift.fund.currency,
            gift.get_method_display(),
            gift.reference,
            gift.get_status_display(),
            _decimal(gift.amount_cents, gift.fund.currency),
            _decimal(gift.fee_cents, gift.fund.currency),
            _decimal(gift.refunded_cents, gift.fund.currency),
            donor_label(gift, request.user),
            gift.deposit_id or "",
            gift.pledge_id or "",
            gift.transaction.reference if gift.transaction else "",
        ]
        for gift in gifts
    ]
    response = HttpResponse("".join(csv_lines([header, *rows])), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="gifts-{timezone.localdate()}.csv"'
    return response


@require_GET
@role_required(GIFT_READERS)
def gift_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one gift: amounts, status, where it is in the ledger, its deposit and pledge."""
    return _gift_page(request, get_gift(pk))


@require_POST
@role_required(GIFT_RECORDERS)
def gift_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Take back an offline gift that did not hold: a check that bounced, one entered by mistake."""
    gift = get_gift(pk)
    form = ReturnGiftForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        done = _refused_on(
            form,
            lambda: return_offline_gift(
                actor=_actor(request),
                gift=gift,
                returned_on=data["returned_on"],
                reason=data["reason"],
            ),
        )
        if done is not None:
            amount = money.format_amount(done.amount_cents, done.fund.currency)
            messages.success(request, f"Gift #{done.pk} was taken back: {amount} to Refunds.")
            return redirect("donations_gift", pk=done.pk)
    return _gift_page(request, gift, return_form=form, status=400)


def _gift_page(
    request: HttpRequest, gift: Gift, return_form: ReturnGiftForm | None = None, status: int = 200
) -> HttpResponse:
    returnable = (
        GIFT_RECORDERS.allows(request.user)
        and gift.method in OFFLINE_METHODS
        and gift.status == Gift.Status.PAID
        and gift.transaction_id is not None
    )
    show_tribute = bool(gift.tribute) and shows_donors(request.user)
    if show_tribute:
        record_access(user=request.user, action=AccessLog.Action.VIEW, obj=gift, detail="gift page")
    _record_shown(request, personal_donors([gift], request.user), AccessLog.Action.VIEW, "gift")
    context = {
        "gift": gift,
        "fund": gift.fund,
        "label": donor_label(gift, request.user),
        "links_donor": shows_donors(request.user) and not gift.anonymous,
        "show_tribute": show_tribute,
        # A refused form is shown with its message, even once the gift cannot be taken back.
        "return_form": return_form or (ReturnGiftForm() if returnable else None),
        "section": "gifts",
    }
    return render(request, "donations/staff/gift_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(GIFT_RECORDERS)
def gift_new(request: HttpRequest) -> HttpResponse:
    """Record a check, cash, ACH or wire gift. Records once per form, however often submitted."""
    if request.method != "POST":
        form = OfflineGiftForm(initial=_default_fund())
        return _gift_form(request, form)
    form = OfflineGiftForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        gift = _refused_on(
            form,
            lambda: record_offline_gift(
                actor=_actor(request),
                fund=data["fund"],
                method=data["method"],
                amount_cents=data["amount_cents"],
                received_on=data["received_on"],
                donor=form.donor_details(),
                reference=data["reference"],
                pledge=data["pledge"],
                anonymous=data["anonymous"],
                language=data["language"],
                idempotency_key=data["idempotency_key"],
            ),
        )
        if gift is not None:
            messages.success(request, f"Recorded gift #{gift.pk}; its receipt is on its way.")
            return redirect("donations_gift", pk=gift.pk)
    return _gift_form(request, form, status=400)


def _gift_form(request: HttpRequest, form: OfflineGiftForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "section": "new_gift"}
    return render(request, "donations/staff/gift_form.html", context, status=status)


# Deposits


@require_GET
@role_required(GIFT_READERS)
def deposit_list(request: HttpRequest) -> HttpResponse:
    """List deposits, newest first, and what each fund holds undeposited."""
    page = Paginator(list_deposits(), PAGE_SIZE).get_page(request.GET.get("page"))
    waiting = [
        (fund, list_undeposited(fund).aggregate(count=Count("pk"), amount=Sum("amount_cents")))
        for fund in list_funds()
    ]
    context = {"page": page, "waiting": waiting, "section": "deposits"}
    return render(request, "donations/staff/deposit_list.html", context)


@require_http_methods(["GET", "POST"])
@role_required(GIFT_RECORDERS)
def deposit_new(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Choose a fund's undeposited checks and cash and record their deposit; then show its slip."""
    if slug is None:
        funds = list(list_funds())
        if len(funds) == 1:
            return redirect("donations_deposit_new_for", slug=funds[0].slug)
        context = {"funds": funds, "section": "deposits"}
        return render(request, "donations/staff/deposit_choose_fund.html", context)
    fund = get_fund(slug)
    if request.method != "POST":
        return _deposit_form(request, fund, DepositForm())
    form = DepositForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        deposit = _refused_on(
            form,
            lambda: record_deposit(
                actor=_actor(request),
                fund=fund,
                gift_ids=data["gifts"],
                deposited_on=data["deposited_on"],
                reference=data["reference"],
                idempotency_key=data["idempotency_key"],
            ),
        )
        if deposit is not None:
            messages.success(request, f"Recorded deposit #{deposit.pk}.")
            return redirect("donations_deposit", pk=deposit.pk)
    return _deposit_form(request, fund, form, status=400)


def _deposit_form(
    request: HttpRequest, fund: Fund, form: DepositForm, status: int = 200
) -> HttpResponse:
    gifts = list(list_undeposited(fund))
    ticked = {str(value) for value in (form["gifts"].value() or [])}
    context = {
        "fund": fund,
        "form": form,
        "rows": [
            (gift, label, str(gift.pk) in ticked)
            for gift, label in _labelled(request, gifts, "deposit form")
        ],
        "section": "deposits",
    }
    return render(request, "donations/staff/deposit_form.html", context, status=status)


@require_GET
@role_required(GIFT_READERS)
def deposit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a deposit as its slip: each check's number and amount, the cash, and the total."""
    return _deposit_page(request, get_deposit(pk))


@require_POST
@role_required(GIFT_RECORDERS)
def deposit_void(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo a deposit recorded by mistake: its checks and cash are to be deposited again."""
    deposit = get_deposit(pk)
    form = VoidDepositForm(request.POST)
    if form.is_valid():
        voided_on = form.cleaned_data["voided_on"]
        done = _refused_on(
            form,
            lambda: void_deposit(actor=_actor(request), deposit=deposit, voided_on=voided_on),
        )
        if done is not None:
            messages.success(
                request,
                f"Deposit #{done.pk} was voided: its checks and cash are undeposited again.",
            )
            return redirect("donations_deposit", pk=done.pk)
    return _deposit_page(request, deposit, void_form=form, status=400)


def _deposit_page(
    request: HttpRequest,
    deposit: Deposit,
    void_form: VoidDepositForm | None = None,
    status: int = 200,
) -> HttpResponse:
    gifts = list(deposit_gifts(deposit))
    voidable = GIFT_RECORDERS.allows(request.user) and deposit.void_transaction_id is None
    context = {
        "deposit": deposit,
        "fund": deposit.fund,
        "rows": _labelled(request, gifts, "deposit slip"),
        "checks": sum(1 for gift in gifts if gift.method == Gift.Method.CHECK),
        "cash_cents": sum(g.amount_cents for g in gifts if g.method == Gift.Method.CASH),
        "checks_cents": sum(g.amount_cents for g in gifts if g.method == Gift.Method.CHECK),
        "void_form": void_form or (VoidDepositForm() if voidable else None),
        "section": "deposits",
    }
    return render(request, "donations/staff/deposit_detail.html", context, status=status)


# Pledges


@require_GET
@role_required(GIFT_READERS)
def pledge_list(request: HttpRequest) -> HttpResponse:
    """List pledges, soonest due first: pledged, received, outstanding, and what is overdue."""
    pledges = list_pledges()
    page = Paginator(pledges, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [
            (pledge, outstanding_cents(pledge), _pledger(request, pledge))
            for pledge in page.object_list
        ],
        "overdue": count_overdue(pledges),
        "section": "pledges",
    }
    return render(request, "donations/staff/pledge_list.html", context)


@require_GET
@role_required(GIFT_READERS)
def pledge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a pledge and the gifts received toward it."""
    pledge = get_pledge(pk)
    gifts = list(pledge.gifts.select_related("donor", "fund").order_by("received_on", "pk"))
    context = {
        "pledge": pledge,
        "fund": pledge.fund,
        "outstanding": outstanding_cents(pledge),
        "who": _pledger(request, pledge),
        "rows": _labelled(request, gifts, "pledge page"),
        "section": "pledges",
    }
    return render(request, "donations/staff/pledge_detail.html", context)


@require_http_methods(["GET", "POST"])
@role_required(GIFT_RECORDERS)
def pledge_new(request: HttpRequest) -> HttpResponse:
    """Record an organisation's pledge. Records once per form, however often submitted."""
    if request.method != "POST":
        return _pledge_form(request, PledgeForm(initial=_default_fund()))
    form = PledgeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        pledge = _refused_on(
            form,
            lambda: record_pledge(
                actor=_actor(request),
                fund=data["fund"],
                organisation=data["organisation"],
                amount_cents=data["amount_cents"],
                due_on=data["due_on"],
                note=data["note"],
                idempotency_key=data["idempotency_key"],
            ),
        )
        if pledge is not None:
            messages.success(request, f"Recorded pledge #{pledge.pk}.")
            return redirect("donations_pledge", pk=pledge.pk)
    return _pledge_form(request, form, status=400)


def _pledger(request: HttpRequest, pledge: Pledge) -> str:
    """Return who pledged, as the viewer may see it (an organisation's name is not personal)."""
    return donor_name(pledge.donor) if shows_donors(request.user) else pseudonym(pledge.donor)


def _pledge_form(request: HttpRequest, form: PledgeForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "section": "pledges"}
    return render(request, "donations/staff/pledge_form.html", context, status=status)


# Donors


@require_GET
@role_required(DONOR_READERS)
def donor_list(request: HttpRequest) -> HttpResponse:
    """List donors, newest first, with what each gave; find a person by e-mail address."""
    return _donor_list(request, DonorFindForm())


@require_POST
@role_required(DONOR_READERS)
def donor_find(request: HttpRequest) -> HttpResponse:
    """Go to the donor with the e-mail address typed (posted, so it is never in a URL)."""
    form = DonorFindForm(request.POST)
    if form.is_valid():
        donor = find_donor_by_email(form.cleaned_data["email"])
        if donor is not None:
            return redirect("donations_donor", pk=donor.pk)
        form.add_error("email", "No donor has this e-mail address.")
    return _donor_list(request, form, status=400)


def _donor_list(request: HttpRequest, form: DonorFindForm, status: int = 200) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in Donor.Kind.values else ""
    page = Paginator(list_donors(kind=kind or None), PAGE_SIZE).get_page(request.GET.get("page"))
    donors = list(page.object_list)
    named = [d for d in donors if d.kind == Donor.Kind.PERSON and d.name]
    _record_shown(request, named, AccessLog.Action.VIEW, "donor list")
    context = {
        "page": page,
        "rows": [(donor, donor_name(donor)) for donor in donors],
        "kind": kind,
        "kinds": Donor.Kind.choices,
        "currency": _shared_currency(),
        "find_form": form,
        "section": "donors",
    }
    return render(request, "donations/staff/donor_list.html", context, status=status)


@require_GET
@role_required(DONOR_READERS)
def donor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show who a donor is, their gifts (anonymous ones too), monthly gifts, pledges, history."""
    donor = get_donor(pk)
    record_access(user=request.user, action=AccessLog.Action.VIEW, obj=donor, detail="donor page")
    return render(request, "donations/staff/donor_detail.html", _donor_context(donor))


@require_http_methods(["GET", "POST"])
@role_required(GIFT_RECORDERS)
def donor_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a donor's record; the change is kept in its history."""
    donor = get_donor(pk)
    record_access(user=request.user, action=AccessLog.Action.VIEW, obj=donor, detail="donor edit")
    if request.method != "POST":
        initial = {
            field: getattr(donor, field)
            for field in ("organisation", "list_as_supporter", "name", "email", "address")
        } | {"employer": donor.employer, "language": donor.language}
        form = DonorForm(initial=initial, donor=donor)
        return _donor_form(request, donor, form)
    form = DonorForm(request.POST, donor=donor)
    if form.is_valid():
        data = form.cleaned_data
        changed = _refused_on(
            form,
            lambda: update_donor(
                actor=_actor(request),
                donor=donor,
                email=data.get("email", ""),
                name=data.get("name", ""),
                organisation=data.get("organisation", ""),
                address=data.get("address", ""),
                employer=data.get("employer", ""),
                list_as_supporter=data.get("list_as_supporter", False),
                language=data["language"],
            ),
        )
        if changed is not None:
            messages.success(request, f"Saved {pseudonym(changed)}.")
            return redirect("donations_donor", pk=changed.pk)
    return _donor_form(request, donor, form, status=400)


def _donor_form(
    request: HttpRequest, donor: Donor, form: DonorForm, status: int = 200
) -> HttpResponse:
    context = {"donor": donor, "form": form, "section": "donors"}
    return render(request, "donations/staff/donor_form.html", context, status=status)


def _donor_context(donor: Donor) -> dict[str, object]:
    pledges = list(list_pledges(donor=donor))
    return {
        "donor": donor,
        "name": donor_name(donor),
        "gifts": donor_gifts(donor),
        "totals": donor_totals(donor),
        "monthly": donor_monthly_gifts(donor),
        "pledges": [(pledge, outstanding_cents(pledge)) for pledge in pledges],
        "history": donor_history(donor),
        "currency": _shared_currency(),
        "section": "donors",
    }


# What the views share


def _gifts_of(form: GiftFilterForm) -> QuerySet[Gift]:
    data = form.cleaned_data
    return list_gifts(
        fund=data["fund"],
        start=data["start"],
        end=data["end"],
        method=data["method"] or None,
        status=data["status"] or None,
    )


def _one_currency(form: GiftFilterForm) -> str | None:
    """Return the currency the listed gifts share, if they share one (a total then makes sense)."""
    fund = form.cleaned_data["fund"]
    return fund.currency if fund is not None else _shared_currency()


def _shared_currency() -> str | None:
    """Return the currency every fund keeps, if they all keep one: totals across funds add up."""
    currencies = set(list_funds().values_list("currency", flat=True))
    return currencies.pop() if len(currencies) == 1 else None


def _labelled(
    request: HttpRequest, gifts: Iterable[Gift] | Page[Gift], detail: str
) -> list[tuple[Gift, str]]:
    """Return each gift with who gave it as the viewer may see it, recording who was shown."""
    gifts = list(gifts)
    _record_shown(request, personal_donors(gifts, request.user), AccessLog.Action.VIEW, detail)
    return [(gift, donor_label(gift, request.user)) for gift in gifts]


def _record_shown(
    request: HttpRequest, donors: Iterable[Donor], action: AccessLog.Action, detail: str
) -> None:
    for donor in donors:
        record_access(user=request.user, action=action, obj=donor, detail=detail)


def _decimal(cents: int, currency: str) -> Decimal:
    return Decimal(cents).scaleb(-money.currency(currency).exponent)


def _default_fund() -> dict[str, object]:
    slug = settings.DEFAULT_FUND_SLUG
    return {"fund": slug} if slug else {}


def _refused_on[T](
    form: RecordingForm | DonorForm | CorrectionForm, service_call: Callable[[], T]
) -> T | None:
    """Return what the service call returns; if it refuses, show the refusal on the form."""
    try:
        return service_call()
    except REFUSALS as error:
        form.refused(error)
        return None


def _actor(request: HttpRequest) -> User:
    """Return the signed-in user; role_required has already turned anonymous visitors away."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user

"""The treasurer screens: ledger browser, trial balance, periods, manual journal entries.

Who may see or do what is the policy of fund.security.roles (LEDGER_READERS, LEDGER_WRITERS,
PERIOD_CLOSERS, PERIOD_REOPENERS). Each view parses its input, calls one query or service, and
renders; a refusal from a service is shown on the form it came from.
"""

from collections.abc import Callable
from datetime import date

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fund.errors import FundError
from fund.ledger.forms import (
    DEFAULT_LEGS,
    ClosePeriodForm,
    DateRangeForm,
    JournalEntryForm,
    ReopenPeriodForm,
    ReverseForm,
    ServiceForm,
    TransactionFilterForm,
    TrialBalanceForm,
    leg_formset,
)
from fund.ledger.models import Fund, Period, Transaction
from fund.ledger.queries import (
    get_account,
    get_fund,
    get_transaction,
    list_account_postings,
    list_accounts,
    list_funds,
    list_ledger_transactions,
    list_period_changes,
    list_periods,
    trial_balance,
)
from fund.ledger.services import (
    close_period,
    record_journal_entry,
    reopen_period,
    reverse_transaction,
)
from fund.security.roles import (
    LEDGER_READERS,
    LEDGER_WRITERS,
    PERIOD_CLOSERS,
    PERIOD_REOPENERS,
    role_required,
)

PAGE_SIZE = 50


@require_GET
@role_required(LEDGER_READERS)
def ledger_home(request: HttpRequest) -> HttpResponse:
    """Show the funds whose books may be browsed; go straight to the only one."""
    funds = list(list_funds())
    if len(funds) == 1:
        return redirect("ledger_accounts", slug=funds[0].slug)
    return render(request, "fund/ledger_funds.html", {"funds": funds})


@require_GET
@role_required(LEDGER_READERS)
def ledger_accounts(request: HttpRequest, slug: str) -> HttpResponse:
    """Show the fund's chart of accounts with current balances."""
    fund = get_fund(slug)
    return render(
        request, "fund/ledger_accounts.html", {"fund": fund, "accounts": list_accounts(fund)}
    )


@require_GET
@role_required(LEDGER_READERS)
def ledger_account(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """Show an account's postings, newest first, optionally within a date range."""
    fund = get_fund(slug)
    account = get_account(fund, code)
    form = DateRangeForm(request.GET)
    context = {"fund": fund, "account": account, "form": form, "page": None}
    if not form.is_valid():
        return render(request, "fund/ledger_account.html", context, status=400)
    postings = list_account_postings(
        account, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
    )
    context["page"] = Paginator(postings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "fund/ledger_account.html", context)


@require_GET
@role_required(LEDGER_READERS)
def ledger_transactions(request: HttpRequest, slug: str) -> HttpResponse:
    """List the fund's transactions, newest first, filtered by date range and kind."""
    fund = get_fund(slug)
    form = TransactionFilterForm(request.GET)
    context = {"fund": fund, "form": form, "page": None}
    if not form.is_valid():
        return render(request, "fund/ledger_transactions.html", context, status=400)
    transactions = list_ledger_transactions(
        fund,
        start=form.cleaned_data["start"],
        end=form.cleaned_data["end"],
        kind=form.cleaned_data["kind"] or None,
    )
    context["page"] = Paginator(transactions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "fund/ledger_transactions.html", context)


@require_GET
@role_required(LEDGER_READERS)
def ledger_transaction(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """Show one transaction: its postings, hash chain link, recorder and reversal."""
    fund = get_fund(slug)
    txn = get_transaction(fund, reference)
    return _transaction_page(request, fund, txn, ReverseForm())


@require_POST
@role_required(LEDGER_WRITERS)
def ledger_reverse(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """Post the mirror of a transaction, dated today, and show it."""
    fund = get_fund(slug)
    txn = get_transaction(fund, reference)
    form = ReverseForm(request.POST)
    if form.is_valid():
        memo = form.cleaned_data["memo"]
        reversal = _refused_on(
            form, lambda: reverse_transaction(original=txn, actor=_actor(request), memo=memo)
        )
        if reversal is not None:
            messages.success(request, f"Posted {reversal.reference}, reversing {txn.reference}.")
            return _redirect_to_transaction(reversal)
    return _transaction_page(request, fund, txn, form, status=400)


@require_GET
@role_required(LEDGER_READERS)
def ledger_trial_balance(request: HttpRequest, slug: str) -> HttpResponse:
    """Show every account's debit or credit balance, now or at the end of a day, with totals."""
    fund = get_fund(slug)
    form = TrialBalanceForm(request.GET)
    context: dict[str, object] = {"fund": fund, "form": form, "balance": None}
    if not form.is_valid():
        return render(request, "fund/ledger_trial_balance.html", context, status=400)
    context["balance"] = trial_balance(fund, on=form.cleaned_data["on"])
    return render(request, "fund/ledger_trial_balance.html", context)


@require_GET
@role_required(LEDGER_READERS)
def ledger_periods(request: HttpRequest, slug: str) -> HttpResponse:
    """List the months of the fund's books, open or closed, and who changed them."""
    return _periods_page(request, get_fund(slug))


@require_POST
@role_required(PERIOD_CLOSERS)
def ledger_period_close(request: HttpRequest, slug: str) -> HttpResponse:
    """Close a month that has ended; transactions dated inside it are then refused."""
    return _change_period(request, get_fund(slug), ClosePeriodForm, close_period, "is closed")


@require_POST
@role_required(PERIOD_REOPENERS)
def ledger_period_reopen(request: HttpRequest, slug: str) -> HttpResponse:
    """Reopen a closed month, with a reason; the change is logged."""
    return _change_period(request, get_fund(slug), ReopenPeriodForm, reopen_period, "is open again")


@require_http_methods(["GET", "POST"])
@role_required(LEDGER_WRITERS)
def ledger_journal(request: HttpRequest, slug: str) -> HttpResponse:
    """Record a manual journal entry: balanced legs, a memo and a reason. Posts once per form."""
    fund = get_fund(slug)
    formset_class = leg_formset(_rows(request))
    if request.method != "POST":
        form = JournalEntryForm()
        legs = formset_class(form_kwargs={"fund": fund}, prefix="legs")
        return _journal_page(request, fund, form, legs)
    form = JournalEntryForm(request.POST)
    legs = formset_class(request.POST, form_kwargs={"fund": fund}, prefix="legs")
    if form.is_valid() and legs.is_valid():
        data = form.cleaned_data
        txn = _refused_on(
            form,
            lambda: record_journal_entry(
                fund=fund,
                legs=legs.legs(),
                effective_date=data["effective_date"],
                memo=data["memo"],
                reason=data["reason"],
                actor=_actor(request),
                idempotency_key=data["idempotency_key"],
            ),
        )
        if txn is not None:
            messages.success(request, f"Posted journal entry {txn.reference}.")
            return _redirect_to_transaction(txn)
    return _journal_page(request, fund, form, legs, status=400)


def _refused_on[T](form: ServiceForm, service_call: Callable[[], T]) -> T | None:
    """Return what the service call returns; if it refuses, show the refusal on the form."""
    try:
        return service_call()
    except FundError as error:
        form.refused(error)
        return None


def _change_period(
    request: HttpRequest,
    fund: Fund,
    form_class: type[ClosePeriodForm | ReopenPeriodForm],
    change: Callable[..., Period],
    done: str,
) -> HttpResponse:
    """Close or reopen the month the form names, or show the periods page with why not."""
    form = form_class(request.POST)
    if form.is_valid():
        month: date = form.cleaned_data["month"]
        reason = form.cleaned_data["reason"]
        period = _refused_on(
            form, lambda: change(fund=fund, month=month, actor=_actor(request), reason=reason)
        )
        if period is not None:
            messages.success(request, f"{month:%B %Y} {done}.")
            return redirect("ledger_periods", slug=fund.slug)
    return _periods_page(request, fund, form=form, status=400)


def _actor(request: HttpRequest) -> User:
    """Return the signed-in user; role_required has already turned anonymous visitors away."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _rows(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("rows", DEFAULT_LEGS))
    except ValueError:
        return DEFAULT_LEGS


def _redirect_to_transaction(txn: Transaction) -> HttpResponse:
    return redirect("ledger_transaction", slug=txn.fund.slug, reference=txn.reference)


def _transaction_page(
    request: HttpRequest, fund: Fund, txn: Transaction, form: ReverseForm, status: int = 200
) -> HttpResponse:
    context = {
        "fund": fund,
        "txn": txn,
        "reversed_by": getattr(txn, "reversed_by", None),
        "reverse_form": form,
    }
    return render(request, "fund/ledger_transaction.html", context, status=status)


def _periods_page(
    request: HttpRequest,
    fund: Fund,
    form: ClosePeriodForm | ReopenPeriodForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "fund": fund,
        "periods": list_periods(fund),
        "changes": list_period_changes(fund),
        "failed_form": form,
        "close_form": ClosePeriodForm(),
    }
    return render(request, "fund/ledger_periods.html", context, status=status)


def _journal_page(
    request: HttpRequest,
    fund: Fund,
    form: JournalEntryForm,
    legs: object,
    status: int = 200,
) -> HttpResponse:
    context = {"fund": fund, "form": form, "legs": legs, "more_rows": _rows(request) + 4}
    return render(request, "fund/ledger_journal.html", context, status=status)

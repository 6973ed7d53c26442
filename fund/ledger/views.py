"""The treasurer screens: registers, trial balance, the books' lock date and seals, journal
entries and reversals.

Who may see or do what is the policy of fund.security.roles (LEDGER_READERS, LEDGER_WRITERS,
PERIOD_CLOSERS, PERIOD_REOPENERS, SEALERS). Each view parses its input, calls one query or
service, and renders; a refusal from a service is shown on the form it came from.
"""

from collections.abc import Callable
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fund.errors import FundError
from fund.ledger.forms import (
    ADDED_LEGS,
    DEFAULT_LEGS,
    MAX_LEGS,
    BaseLegFormSet,
    CloseBooksForm,
    DateRangeForm,
    JournalEntryForm,
    ReopenBooksForm,
    ReverseForm,
    ServiceForm,
    TransactionFilterForm,
    TrialBalanceForm,
    leg_formset,
    typed_lines,
    typed_totals,
)
from fund.ledger.models import Fund, Transaction
from fund.ledger.queries import (
    account_register,
    books_state,
    get_account,
    get_fund,
    get_seal,
    get_transaction,
    list_accounts,
    list_funds,
    list_ledger_transactions,
    trial_balance,
    with_running_balances,
)
from fund.ledger.services import (
    close_books,
    record_journal_entry,
    reversal_refusal,
    reverse_transaction,
    seal_books,
)
from fund.security.roles import (
    LEDGER_READERS,
    LEDGER_WRITERS,
    PERIOD_CLOSERS,
    PERIOD_REOPENERS,
    SEALERS,
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
    """Show an account's register by effective date, newest first, with running balances."""
    fund = get_fund(slug)
    account = get_account(fund, code)
    form = DateRangeForm(request.GET)
    context: dict[str, object] = {"fund": fund, "account": account, "form": form, "page": None}
    if not form.is_valid():
        return render(request, "fund/ledger_account.html", context, status=400)
    register = account_register(
        account, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
    )
    page = Paginator(register.postings, PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(
        register=register,
        page=page,
        rows=with_running_balances(account, list(page.object_list)),
    )
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
def ledger_books(request: HttpRequest, slug: str) -> HttpResponse:
    """Show where the fund's books are closed through, who moved the date, and the seals."""
    return _books_page(request, get_fund(slug))


@require_http_methods(["GET", "POST"])
@role_required(PERIOD_CLOSERS)
def ledger_books_close(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask to confirm closing the books through a day, showing its trial balance; then close."""
    fund = get_fund(slug)
    form = CloseBooksForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return _books_page(request, fund, form=form, status=400)
    through: date = form.cleaned_data["through"]
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        reason = form.cleaned_data["reason"]
        lock = _refused_on(
            form,
            lambda: close_books(fund=fund, through=through, actor=_actor(request), reason=reason),
        )
        if not form.errors:
            done = "sealed" if lock is not None else "were already closed through it"
            messages.success(
                request, f"The books are closed through {through:%Y-%m-%d} and {done}."
            )
            return redirect("ledger_books", slug=fund.slug)
        return _books_page(request, fund, form=form, status=400)
    context = {
        "fund": fund,
        "form": form,
        "through": through,
        "balance": trial_balance(fund, on=through),
    }
    return render(request, "fund/ledger_books_confirm.html", context)


@require_POST
@role_required(PERIOD_REOPENERS)
def ledger_books_reopen(request: HttpRequest, slug: str) -> HttpResponse:
    """Move the lock date back, with a reason; the change is logged and sealed."""
    fund = get_fund(slug)
    form = ReopenBooksForm(request.POST)
    if form.is_valid():
        through: date = form.cleaned_data["through"]
        reason = form.cleaned_data["reason"]
        lock = _refused_on(
            form,
            lambda: close_books(fund=fund, through=through, actor=_actor(request), reason=reason),
        )
        if not form.errors:
            if lock is not None:
                messages.success(
                    request, f"The books are now closed only through {through:%Y-%m-%d}."
                )
            return redirect("ledger_books", slug=fund.slug)
    return _books_page(request, fund, form=form, status=400)


@require_POST
@role_required(SEALERS)
def ledger_books_seal(request: HttpRequest, slug: str) -> HttpResponse:
    """Seal the chain head as it stands now."""
    fund = get_fund(slug)
    seal = seal_books(fund=fund, actor=_actor(request), occasion="on demand")
    messages.success(request, f"Sealed the books at {seal.reference or 'the start'}.")
    return redirect("ledger_books", slug=fund.slug)


@require_GET
@role_required(LEDGER_READERS)
def ledger_seal_download(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Send one of the fund's seals as the one-line file verify_ledger --seal reads."""
    seal = get_seal(get_fund(slug), pk)
    response = HttpResponse(seal.line() + "\n", content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{slug}-seal-{seal.pk}.json"'
    return response


@require_http_methods(["GET", "POST"])
@role_required(LEDGER_WRITERS)
def ledger_journal(request: HttpRequest, slug: str) -> HttpResponse:
    """Record a manual journal entry: balanced legs, a memo and a reason. Posts once per form.

    "Add lines" sends the form back with more blank lines, keeping everything typed so far.
    """
    fund = get_fund(slug)
    if request.method != "POST":
        form = JournalEntryForm()
        legs = leg_formset(DEFAULT_LEGS)(form_kwargs={"fund": fund}, prefix="legs")
        return _journal_page(request, fund, form, legs)
    lines = typed_lines(request.POST)
    if "add_lines" in request.POST:
        form = JournalEntryForm(initial=request.POST.dict())
        legs = leg_formset(ADDED_LEGS)(initial=lines, form_kwargs={"fund": fund}, prefix="legs")
        return _journal_page(request, fund, form, legs, lines=lines)
    form = JournalEntryForm(request.POST)
    legs = leg_formset(DEFAULT_LEGS)(request.POST, form_kwargs={"fund": fund}, prefix="legs")
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
    return _journal_page(request, fund, form, legs, lines=lines, status=400)


def _refused_on[T](form: ServiceForm, service_call: Callable[[], T]) -> T | None:
    """Return what the service call returns; if it refuses, show the refusal on the form."""
    try:
        return service_call()
    except FundError as error:
        form.refused(error)
        return None


def _actor(request: HttpRequest) -> User:
    """Return the signed-in user; role_required has already turned anonymous visitors away."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


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
        # An entry of another app's workflow (a disbursement's payment) is not offered the form.
        "reversal_refusal": reversal_refusal(txn),
    }
    return render(request, "fund/ledger_transaction.html", context, status=status)


def _books_page(
    request: HttpRequest,
    fund: Fund,
    form: CloseBooksForm | ReopenBooksForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "fund": fund,
        "books": books_state(fund),
        "failed_form": form,
        "close_form": CloseBooksForm(initial={"through": _end_of_last_month()}),
        "reopen_form": ReopenBooksForm(),
    }
    return render(request, "fund/ledger_books.html", context, status=status)


def _end_of_last_month() -> date:
    return timezone.localdate().replace(day=1) - timedelta(days=1)


def _journal_page(
    request: HttpRequest,
    fund: Fund,
    form: JournalEntryForm,
    legs: BaseLegFormSet,
    *,
    lines: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    debits, credits = typed_totals(lines or [], fund.currency)
    context = {
        "fund": fund,
        "form": form,
        "legs": legs,
        "typed_debits": debits,
        "typed_credits": credits,
        "can_add_lines": legs.total_form_count() + ADDED_LEGS <= MAX_LEGS,
    }
    return render(request, "fund/ledger_journal.html", context, status=status)

"""The case board under /cases/ and the new-case form under /cases/new/.

The board lists references, statuses and next hearings only, never a name: it would otherwise be
a page of decrypted names for whoever opens it. Its search finds a reference for anyone in scope,
and a name or an A-number for those who may see the person (cases.queries.cases_for_user). A search
is POSTed, with its page: a name or an A-number in the address would sit in the server's and the
proxies' logs, the browser's history and the Referer of the next click.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cases.forms.case import CaseFilterForm, OpenCaseForm
from cases.models import Hearing
from cases.queries import cases_for_user
from cases.services.cases import open_case
from cases.views.case import actor_of, back_to, refused_on
from fund.security.roles import CASE_MONEY_READERS, CASE_WORKERS, role_required

PAGE_SIZE = 25
NOT_IN_THE_ADDRESS = (
    "Type the search in the Find box and press Find: a search is sent with the form, never in "
    "the page's address."
)


@require_http_methods(["GET", "POST"])
@role_required(CASE_MONEY_READERS)
def board(request: HttpRequest) -> HttpResponse:
    """List the viewer's cases, newest first, filtered by status, facility and coordinator."""
    searched = request.method == "POST"
    sent = request.POST if searched else request.GET
    form = CaseFilterForm(sent)
    context: dict[str, object] = {"form": form, "page": None, "searched": searched}
    if form.is_valid() and not searched and form.cleaned_data["search"]:
        form.add_error("search", NOT_IN_THE_ADDRESS)
    if not form.is_valid():
        return render(request, "cases/case_board.html", context, status=400)
    data = form.cleaned_data
    cases = cases_for_user(
        request.user,
        status=data["status"] or None,
        facility=data["facility"],
        coordinator=data["coordinator"],
        search=data["search"],
    ).select_related("facility")
    # The next hearing is a date and a court: not the person, so everyone in scope sees it. A
    # subquery per row shown, not Min() over a join: that grouped every case in scope before the
    # page was cut (62 ms against 6 ms for the first page of 10,000 cases, bench/cases.py).
    upcoming = Hearing.objects.filter(case=OuterRef("pk"), at__gte=timezone.now())
    cases = cases.annotate(next_hearing=Subquery(upcoming.order_by("at").values("at")[:1]))
    page = Paginator(cases, PAGE_SIZE).get_page(sent.get("page"))
    context.update(page=page, may_work=CASE_WORKERS.allows(request.user))
    return render(request, "cases/case_board.html", context)


@require_http_methods(["GET", "POST"])
@role_required(CASE_WORKERS)
def case_new(request: HttpRequest) -> HttpResponse:
    """Open a case; a duplicate A-number is a warning on the new case's page (references only)."""
    if request.method != "POST":
        return render(request, "cases/case_form.html", {"form": OpenCaseForm()})
    form = OpenCaseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        born = data["date_of_birth"]
        opened = refused_on(
            form,
            lambda: open_case(
                actor=actor_of(request),
                legal_name=data["legal_name"],
                a_number=data["a_number"],
                other_names=data["other_names"],
                date_of_birth=born.isoformat() if born else "",
                phone=data["phone"],
                preferred_language=data["preferred_language"],
                family_contact=data["family_contact"],
                employer=data["employer"],
                union_local=data["union_local"],
                detained_on=data["detained_on"],
                facility=data["facility"],
                idempotency_key=data["idempotency_key"],
            ),
        )
        if opened is not None:
            messages.success(request, f"Opened {opened.case.ref}.")
            if opened.duplicates or opened.hidden_duplicates:
                messages.warning(
                    request, duplicate_warning(opened.duplicates, opened.hidden_duplicates)
                )
            return back_to(opened.case)
    return render(request, "cases/case_form.html", {"form": form}, status=400)


def duplicate_warning(refs: list[str], hidden: int) -> str:
    """Return the warning that other cases have the A-number just recorded (references only)."""
    parts = []
    if refs:
        parts.append(", ".join(refs))
    if hidden:
        parts.append(f"{hidden} case{'s' if hidden != 1 else ''} you cannot open")
    return (
        "Other cases have this A-number: " + "; ".join(parts) + ". Check whether it is the "
        "same person before working both."
    )

"""Voiding a bond recorded by mistake (treasurers): /cases/bonds/<pk>/void/.

The page shows the bond by its case's reference and amount, never the obligor; a POST posts the
reversal of its posting (`void_bond`), with a reason kept encrypted on the bond. A bond out of
the treasurer's scope is a 404, like a missing one.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from cases.forms.money import BondVoidForm
from cases.models import Bond
from cases.services.bonds import void_bond
from cases.views.case import actor_of, back_to, refused_on
from cases.views.money import bond_or_404
from fund import money
from fund.security.roles import LEDGER_WRITERS, role_required

VOID_PAGE = "cases/bond_void.html"


@require_http_methods(["GET", "POST"])
@role_required(LEDGER_WRITERS)
def bond_void(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a bond and the form to void it; a POST voids it, with a reason. Twice voids once."""
    bond = bond_or_404(request, pk, "posted_transaction", "closed_transaction")
    if request.method != "POST":
        return _page(request, bond, BondVoidForm())
    was_voided = bond.status == Bond.Status.VOIDED
    form = BondVoidForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        voided = refused_on(
            form, lambda: void_bond(actor=actor_of(request), bond=bond, reason=reason)
        )
        if voided is not None and voided.closed_transaction is not None:
            entry = voided.closed_transaction.reference
            if was_voided:
                messages.info(
                    request,
                    f"Bond #{pk} of {voided.case.ref} was already voided by ledger entry {entry}:"
                    " nothing more was reversed.",
                )
            else:
                amount = money.format_amount(voided.amount_cents, voided.fund.currency)
                messages.success(
                    request,
                    f"Voided bond #{pk} of {amount} for {voided.case.ref}: ledger entry {entry} "
                    "reverses its posting.",
                )
            return back_to(voided.case, "bonds")
    return _page(request, bond, form, status=400)


def _page(request: HttpRequest, bond: Bond, form: BondVoidForm, status: int = 200) -> HttpResponse:
    context = {"bond": bond, "form": form, "voidable": bond.status == Bond.Status.POSTED}
    return render(request, VOID_PAGE, context, status=status)

"""Immigration bonds: post one for a case, then cancel and refund it, or breach and forfeit it.

    posted ──cancel──> cancelled ──refund──> refunded
       ├────breach──> breached ──forfeit──> forfeited
       └────void───> voided (recorded by mistake: the posting is reversed)

Posting moves the amount from the Bank to Bond deposits receivable (the money is out, not spent); a
refund brings the principal back with ICE's interest (to Interest income); a forfeiture turns the
receivable into a loss (Bond forfeiture loss). Every posting carries the case's reference and never
a name: the obligor and ICE's receipt number live only in the bond's encrypted fields.

Who: a coordinator of the case (or a legal director) and a treasurer record, cancel and breach
bonds (BOND_RECORDERS, for a case they may open); only a treasurer records the money that comes
back or is lost (LEDGER_WRITERS), and voids a bond recorded by mistake. A bond recorded by a
coordinator is posted to the ledger as a system posting (actor None): the cases permission check
above is what admits it, and the bond's `recorded_by` says who recorded it. See docs/cases.md,
"Immigration bonds".
"""

import uuid
from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cases.errors import CaseError, CaseNotFound, TransitionRefused
from cases.models import Bond, Case, TimelineEntry
from cases.services.cases import add_timeline_entry, apply_status
from fund import money
from fund.errors import IdempotencyConflict
from fund.ledger.entries import Leg
from fund.ledger.models import Account, Fund, Transaction
from fund.ledger.posting import SUPPLIED_KEY, post_transaction
from fund.ledger.queries import account_for, open_day
from fund.ledger.services import reverse_transaction
from fund.security.roles import BOND_RECORDERS, LEDGER_WRITERS

Role = Account.Role
Status = Bond.Status

# What may follow each status, in the words of the refusal ("can be cancelled or breached").
NEXT_STEPS: dict[str, tuple[Bond.Status, ...]] = {
    Status.POSTED: (Status.CANCELLED, Status.BREACHED),
    Status.CANCELLED: (Status.REFUNDED,),
    Status.BREACHED: (Status.FORFEITED,),
    Status.REFUNDED: (),
    Status.FORFEITED: (),
    Status.VOIDED: (),
}
VERBS: dict[str, str] = {
    Status.CANCELLED: "cancelled",
    Status.BREACHED: "breached",
    Status.REFUNDED: "refunded",
    Status.FORFEITED: "forfeited",
    Status.VOIDED: "voided",
}
# A bond is never posted for a case that is over.
NO_BOND_ON = frozenset({Case.Status.CLOSED, Case.Status.REMOVED})
TEXT_LIMIT = 500


@transaction.atomic
def post_bond(
    *,
    actor: User,
    case: Case,
    fund: Fund,
    amount_cents: int,
    obligor_name: str,
    obligor_relationship: str = "",
    obligor_contact: str = "",
    obligor_attested: bool,
    receipt_number: str = "",
    posted_on: date,
    idempotency_key: str,
) -> Bond:
    """Record an immigration bond the fund posted for a case, and move its amount out of the Bank.

    Safe to call twice: the same actor and idempotency key return the first bond (any other
    detail under that key raises IdempotencyConflict). Locks the case. Refuses, writing
    nothing: an actor who may not record bonds (NotAllowed), a case they may not open
    (CaseNotFound), an obligor who has not attested, an amount out of range, and a Bank that
    cannot cover it (InsufficientFunds, the ledger's message).
    """
    BOND_RECORDERS.check(actor)
    case = _lock_case_for(actor, case.pk)
    if not isinstance(idempotency_key, str) or not SUPPLIED_KEY.fullmatch(idempotency_key):
        raise CaseError("An idempotency key is 1 to 100 letters, digits, '.', '_' or '-'.")
    obligor_name = _checked_text("obligor's name", obligor_name, required=True)
    obligor_relationship = _checked_text("obligor's relationship", obligor_relationship)
    obligor_contact = _checked_text("obligor's contact", obligor_contact)
    receipt_number = _checked_text("receipt number", receipt_number)
    ledger_key = f"bond:posted:{actor.pk}:{idempotency_key}"
    existing = Bond.objects.filter(posted_transaction__idempotency_key=ledger_key).first()
    if existing is not None:
        # Every detail, as for any key (ARCHITECTURE §5): a retry that changed the day or the
        # receipt number must not be told its change was recorded.
        recorded = (
            existing.case_id,
            existing.fund_id,
            existing.amount_cents,
            existing.posted_on,
            existing.obligor_name,
            existing.obligor_relationship,
            existing.obligor_contact,
            existing.receipt_number,
        )
        asked = (
            case.pk,
            fund.pk,
            amount_cents,
            posted_on,
            obligor_name,
            obligor_relationship,
            obligor_contact,
            receipt_number,
        )
        if recorded != asked:
            raise IdempotencyConflict("This idempotency key was already used for another bond.")
        return existing
    if case.status in NO_BOND_ON:
        status = case.get_status_display().lower()
        raise CaseError(f"Case {case.ref} is {status}: a bond cannot be posted for it.")
    _check_amount(amount_cents, fund)
    if obligor_attested is not True:
        raise CaseError(
            "The obligor must attest being a US citizen or lawful permanent resident: "
            "ICE accepts no other obligor."
        )

    row_key = uuid.uuid4()
    posted = post_transaction(
        fund=fund,
        legs=[
            Leg(account_for(fund, Role.BOND_DEPOSITS), amount_cents),
            Leg(account_for(fund, Role.BANK), -amount_cents),
        ],
        kind=Transaction.Kind.BOND_POSTED,
        effective_date=posted_on,
        memo=f"Immigration bond posted for {case.ref}",
        idempotency_key=ledger_key,
        source_ref=f"bond:{row_key}",
        case_ref=case.ref,
        # Recorded by a coordinator: a system posting, admitted by BOND_RECORDERS and the case's
        # scope above (the ledger's own check admits treasurers only).
        actor=actor if LEDGER_WRITERS.allows(actor) else None,
    )
    bond = Bond.objects.create(
        row_key=row_key,
        case=case,
        fund=fund,
        amount_cents=amount_cents,
        obligor_name=obligor_name,
        obligor_relationship=obligor_relationship,
        obligor_contact=obligor_contact,
        obligor_attested=True,
        receipt_number=receipt_number,
        posted_on=posted_on,
        recorded_by=actor,
        posted_transaction=posted,
    )
    _note(bond, actor, f"Bond of {_amount(bond)} posted on {posted_on.isoformat()}.")
    _mark_bond_posted(case, actor)
    return bond


@transaction.atomic
def cancel_bond(*, actor: User, bond: Bond, cancelled_on: date) -> Bond:
    """Record that ICE cancelled the bond (the case's conditions were met): its refund is due.

    No money moves until the refund arrives (record_bond_refund). Safe to call twice.
    """
    BOND_RECORDERS.check(actor)
    bond = _lock_bond_for(actor, bond.pk)
    if bond.status == Status.CANCELLED:
        return bond
    _check_step(bond, Status.CANCELLED)
    _check_not_before(bond, cancelled_on, "cancelled")
    bond.status, bond.cancelled_on = Status.CANCELLED, cancelled_on
    bond.save(update_fields=["status", "cancelled_on"])
    _note(bond, actor, f"Bond of {_amount(bond)} cancelled on {cancelled_on.isoformat()}.")
    return bond


@transaction.atomic
def record_bond_refund(
    *, actor: User, bond: Bond, principal_cents: int, interest_cents: int, received_on: date
) -> Bond:
    """Record a cancelled bond's refund received in the Bank: its principal and ICE's interest.

    Treasurer only. The principal must be the bond's amount. Safe to call twice.
    """
    LEDGER_WRITERS.check(actor)
    bond = _lock_bond_for(actor, bond.pk)
    if bond.status == Status.REFUNDED:
        return bond
    _check_step(bond, Status.REFUNDED)
    _check_not_before(bond, received_on, "refunded")
    if type(principal_cents) is not int or principal_cents != bond.amount_cents:
        raise CaseError(
            f"The principal refunded must be the bond's amount, {_amount(bond)}; "
            "record any difference as interest."
        )
    if type(interest_cents) is not int or interest_cents < 0:
        raise CaseError("The interest must be zero or a positive number of cents.")
    fund = bond.fund
    legs = [
        Leg(account_for(fund, Role.BANK), principal_cents + interest_cents),
        Leg(account_for(fund, Role.BOND_DEPOSITS), -principal_cents),
    ]
    if interest_cents:
        legs.append(Leg(account_for(fund, Role.INTEREST), -interest_cents))
    refunded = post_transaction(
        fund=fund,
        legs=legs,
        kind=Transaction.Kind.BOND_REFUNDED,
        effective_date=received_on,
        memo=f"Immigration bond refunded for {bond.case.ref}",
        idempotency_key=f"bond:{bond.row_key}:refunded",
        source_ref=f"bond:{bond.row_key}",
        case_ref=bond.case.ref,
        actor=actor,
    )
    bond.status, bond.interest_cents = Status.REFUNDED, interest_cents
    bond.closed_on, bond.closed_transaction = received_on, refunded
    bond.save(update_fields=["status", "interest_cents", "closed_on", "closed_transaction"])
    interest = money.format_amount(interest_cents, fund.currency)
    _note(bond, actor, f"Bond of {_amount(bond)} refunded with {interest} interest.")
    return bond


@transaction.atomic
def record_bond_breach(*, actor: User, bond: Bond, breached_on: date) -> Bond:
    """Record that ICE declared the bond breached (a condition was not met). Safe to call twice.

    No money moves until the forfeiture (forfeit_bond).
    """
    BOND_RECORDERS.check(actor)
    bond = _lock_bond_for(actor, bond.pk)
    if bond.status == Status.BREACHED:
        return bond
    _check_step(bond, Status.BREACHED)
    _check_not_before(bond, breached_on, "breached")
    bond.status, bond.breached_on = Status.BREACHED, breached_on
    bond.save(update_fields=["status", "breached_on"])
    _note(bond, actor, f"Bond of {_amount(bond)} breached on {breached_on.isoformat()}.")
    return bond


@transaction.atomic
def forfeit_bond(*, actor: User, bond: Bond, forfeited_on: date) -> Bond:
    """Book a breached bond's forfeiture: the receivable becomes a loss. Treasurer only.

    Safe to call twice.
    """
    LEDGER_WRITERS.check(actor)
    bond = _lock_bond_for(actor, bond.pk)
    if bond.status == Status.FORFEITED:
        return bond
    _check_step(bond, Status.FORFEITED)
    _check_not_before(bond, forfeited_on, "forfeited")
    fund = bond.fund
    forfeited = post_transaction(
        fund=fund,
        legs=[
            Leg(account_for(fund, Role.BOND_FORFEITURE), bond.amount_cents),
            Leg(account_for(fund, Role.BOND_DEPOSITS), -bond.amount_cents),
        ],
        kind=Transaction.Kind.BOND_FORFEITED,
        effective_date=forfeited_on,
        memo=f"Immigration bond forfeited for {bond.case.ref}",
        idempotency_key=f"bond:{bond.row_key}:forfeited",
        source_ref=f"bond:{bond.row_key}",
        case_ref=bond.case.ref,
        actor=actor,
    )
    bond.status, bond.closed_on, bond.closed_transaction = (
        Status.FORFEITED,
        forfeited_on,
        forfeited,
    )
    bond.save(update_fields=["status", "closed_on", "closed_transaction"])
    _note(bond, actor, f"Bond of {_amount(bond)} forfeited on {forfeited_on.isoformat()}.")
    return bond


@transaction.atomic
def void_bond(*, actor: User, bond: Bond, reason: str) -> Bond:
    """Void a bond recorded by mistake (the wrong case, amount or fund): its posting is
    reversed, dated today (the first open day), and the money is back in the Bank. Treasurer
    only, with a reason; only a posted bond, before anything else was recorded on it. Safe twice.

    The ledger's reversal names only the bond; the reason, which may name someone, stays
    encrypted on the bond. A case that the bond moved to bond posted goes back to bond set,
    unless another of its bonds still stands.
    """
    LEDGER_WRITERS.check(actor)
    reason = _checked_text("reason", reason, required=True)
    bond = _lock_bond_for(actor, bond.pk)
    if bond.status == Status.VOIDED:
        return bond
    if bond.status != Status.POSTED:
        raise TransitionRefused(
            f"Only a posted bond can be voided; this one is {bond.get_status_display().lower()}"
            ", so record what happened to it instead."
        )
    reversal = reverse_transaction(
        original=bond.posted_transaction,
        actor=actor,
        memo=f"Void of bond #{bond.pk}",
        effective_date=open_day(bond.fund, timezone.localdate()),
        by_workflow=True,
    )
    bond.status, bond.void_reason = Status.VOIDED, reason
    bond.closed_on, bond.closed_transaction = reversal.effective_date, reversal
    bond.save(update_fields=["status", "void_reason", "closed_on", "closed_transaction"])
    _note(bond, actor, f"Bond of {_amount(bond)} voided, recorded by mistake: {reason}")
    _unmark_bond_posted(bond, actor)
    return bond


def allowed_steps(bond: Bond) -> str:
    """Return what may be done with a bond in its status, as a sentence."""
    steps = NEXT_STEPS[bond.status]
    if not steps:
        return f"A bond that is {bond.status} is closed: nothing more can be done with it."
    return f"A bond that is {bond.status} can be {' or '.join(VERBS[s] for s in steps)}."


def _lock_case_for(actor: User, pk: int) -> Case:
    case = Case.objects.for_user(actor).select_for_update(of=("self",)).filter(pk=pk).first()
    if case is None:
        raise CaseNotFound("No such case.")
    return case


def _lock_bond_for(actor: User, pk: int) -> Bond:
    # The case's scope first (out of scope is the same as missing), then the bond's row lock.
    bond = Bond.objects.select_related("case", "fund").filter(pk=pk).first()
    if bond is None or not Case.objects.for_user(actor).filter(pk=bond.case_id).exists():
        raise CaseNotFound("No such bond.")
    return Bond.objects.select_for_update(of=("self",)).select_related("case", "fund").get(pk=pk)


def _check_step(bond: Bond, to: str) -> None:
    if to not in NEXT_STEPS[bond.status]:
        raise TransitionRefused(allowed_steps(bond))


def _check_not_before(bond: Bond, day: date, what: str) -> None:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise CaseError(f"The day the bond was {what} must be a date.")
    if day < bond.posted_on:
        posted = bond.posted_on.isoformat()
        raise CaseError(f"A bond cannot be {what} before it was posted, on {posted}.")


def _check_amount(amount_cents: int, fund: Fund) -> None:
    if type(amount_cents) is not int or amount_cents <= 0:
        raise CaseError("A bond's amount must be a positive number of cents.")
    cap = money.max_amount(fund.currency)
    if amount_cents > cap:
        limit = money.format_amount(cap, fund.currency)
        raise CaseError(f"A bond's amount can be at most {limit}, the largest amount accepted.")


def _checked_text(label: str, value: str, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise CaseError(f"The {label} must be text.")
    value = value.strip()
    if required and not value:
        raise CaseError(f"The {label} is required.")
    if len(value) > TEXT_LIMIT:
        raise CaseError(f"The {label} is longer than {TEXT_LIMIT} characters.")
    return value


def _amount(bond: Bond) -> str:
    return money.format_amount(bond.amount_cents, bond.fund.currency)


def _note(bond: Bond, actor: User, text: str) -> None:
    # The amount and the day only: the obligor's name stays in the bond's own encrypted field.
    add_timeline_entry(case=bond.case, kind=TimelineEntry.Kind.BOND, text=text, actor=actor)


def _mark_bond_posted(case: Case, actor: User) -> None:
    # A bond posted for a case still marked detained (ICE set it at the custody determination and
    # nobody recorded that) was set too: the case takes both steps of the workflow, each on the
    # timeline. From any other status (released, transferred) the case stays as it is.
    if case.status == Case.Status.DETAINED:
        case = apply_status(case=case, to=Case.Status.BOND_SET, actor=actor)
    apply_status(case=case, to=Case.Status.BOND_POSTED, actor=actor, only_if_allowed=True)


def _unmark_bond_posted(voided: Bond, actor: User) -> None:
    # The correction of _mark_bond_posted: outside the workflow table, which never goes back from
    # bond posted, because the posting it records did not happen.
    case = Case.objects.select_for_update().get(pk=voided.case_id)
    standing = case.bonds.exclude(pk=voided.pk).exclude(status=Status.VOIDED)
    if case.status != Case.Status.BOND_POSTED or standing.exists():
        return
    case.status = Case.Status.BOND_SET
    case.save(update_fields=["status"])
    add_timeline_entry(
        case=case,
        kind=TimelineEntry.Kind.STATUS,
        text="Status changed from bond posted to bond set: the bond was voided.",
        actor=actor,
    )

"""Money for a case: a coordinator requests it, treasurers approve or reject it and pay it.

requested → approved → paid → voided, or requested/approved → rejected. Maker-checker: whoever
requested a disbursement never approves it, and a request above DISBURSEMENT_TWO_APPROVALS_ABOVE
needs two different treasurers. The services check it first, with a clear message; the database
refuses it too (triggers of migration 0002: DF101 an approval by the requester, DF102 a change of
the amount or requester, DF103 'approved' with too few approvals; of migration 0006: DF106 a
payment recorded by the requester), whatever path writes the rows. Nor does the requester record
the payment: a treasurer approves and pays, never their own request (ARCHITECTURE.md §2).

Approval sets the money aside (a ledger commitment: `available` drops); paying posts the expense
against the Bank and releases the commitment in the same transaction, or, when the bank cannot
cover it, changes nothing. Every posting is made by the treasurer who approves or pays, so the
ledger's own check (LEDGER_WRITERS) applies to a person, never to the system.

A memo or a timeline text never names the person: the ledger sees the case reference only.
"""

from datetime import date

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, transaction
from django.utils import timezone

from cases.errors import CaseError, CaseNotFound, SelfApproval, TransitionRefused
from cases.models import Approval, Case, Disbursement, Document, Payee, TimelineEntry
from fund import money
from fund.errors import IdempotencyConflict
from fund.ledger.entries import Leg
from fund.ledger.models import Account, Fund, Transaction
from fund.ledger.posting import post_transaction, supplied_key
from fund.ledger.queries import account_for, open_day
from fund.ledger.services import record_commitment, release_commitment, reverse_transaction
from fund.locks import hold_lock
from fund.security.roles import CASE_WORKERS, DISBURSEMENT_APPROVERS

Status = Disbursement.Status
Category = Disbursement.Category
Role = Account.Role

# The expense account each category is booked to. Travel and commissary are program costs that
# have no account of their own in the chart (fund.ledger.models.CHART).
EXPENSE_ROLES: dict[str, str] = {
    Category.ATTORNEY_FEE: Role.ATTORNEY_FEES,
    Category.FILING_FEE: Role.FILING_FEES,
    Category.FAMILY_SUPPORT: Role.FAMILY_SUPPORT,
    Category.TRAVEL: Role.OTHER_PROGRAM,
    Category.COMMISSARY: Role.OTHER_PROGRAM,
    Category.OTHER: Role.OTHER_PROGRAM,
}
# How a payment reads on the timeline: "Paid $1,500.00 by check 1042".
METHOD_WORDS: dict[str, str] = {
    Disbursement.Method.CHECK: "check",
    Disbursement.Method.ACH: "ACH",
    Disbursement.Method.WIRE: "wire",
}
MEMO_LIMIT = 1000
# The reason is kept (encrypted) on the disbursement and its timeline, never in the ledger's memo,
# which outlives a purge: it may name the person.
REASON_LIMIT = 450
REFERENCE_LIMIT = 100  # Disbursement.reference and the ledger's source_ref
REUSED_KEY = (
    "This request was already submitted with other values, so nothing more was recorded. "
    "Check the case's requests, then submit again to make this one a new request."
)
SELF_APPROVAL = "You requested this disbursement, so another treasurer must approve it."
SELF_APPROVAL_DB_STATE = "DF101"
SELF_PAYMENT = "You requested this disbursement, so another treasurer must pay it."
SELF_PAYMENT_DB_STATE = "DF106"


def disbursement_for_user(user: User, pk: int) -> Disbursement:
    """Return the disbursement if the user may see its case, else raise CaseNotFound (a 404).

    Coordinators see the requests on their cases, legal directors, treasurers, auditors and
    admins all (Case.objects.for_user).
    """
    found = None
    if type(pk) is int:
        found = (
            Disbursement.objects.select_related("case", "fund", "payee")
            .filter(pk=pk, case__in=Case.objects.for_user(user))
            .first()
        )
    if found is None:
        raise CaseNotFound("No such disbursement.")
    return found


def two_approvals_above(fund: Fund) -> int:
    """Return the amount, in minor units, above which a request needs two treasurers."""
    exponent = money.currency(fund.currency).exponent
    threshold: int = settings.DISBURSEMENT_TWO_APPROVALS_ABOVE * 10**exponent
    return threshold


def approval_state(disbursement: Disbursement) -> str:
    """Return where a request stands in its approvals, in words fit to show the treasurer."""
    if disbursement.status == Status.APPROVED:
        return f"Approved: {_amount(disbursement)} is set aside until it is paid."
    if disbursement.status != Status.REQUESTED:
        return f"This disbursement is {disbursement.get_status_display().lower()}."
    given = disbursement.approvals.count()
    if given == 0:
        return f"Waiting for {_approvals(disbursement.approvals_needed)}."
    return (
        "Approved by one treasurer: it stays requested, waiting for a second treasurer's approval."
    )


@transaction.atomic
def request_disbursement(
    *,
    actor: User,
    case: Case,
    fund: Fund,
    category: str,
    payee: Payee,
    amount_cents: int,
    memo: str = "",
    idempotency_key: str,
    document: Document | None = None,
) -> Disbursement:
    """Request money for a case the coordinator may open; the same key twice makes one request.

    `document` is one of the case's documents that supports it (an invoice, a bond receipt).
    Refused on a closed case. Above DISBURSEMENT_TWO_APPROVALS_ABOVE it needs two approvals.
    """
    CASE_WORKERS.check(actor)
    if not Case.objects.for_user(actor).filter(pk=case.pk).exists():
        raise CaseNotFound("No such case.")
    if category not in Category.values:
        raise CaseError(f"A disbursement is one of: {', '.join(Category.labels)}.")
    if not isinstance(payee, Payee) or payee.pk is None:
        raise CaseError("Choose who is to be paid.")
    _check_amount(fund, amount_cents)
    memo = _checked_text("memo", memo, MEMO_LIMIT)
    if document is not None and document.case_id != case.pk:
        raise CaseError(f"The supporting document must be one of {case.ref}'s documents.")
    request_key = supplied_key(idempotency_key, supplier=actor)
    hold_lock(f"request:{request_key}")
    earlier = Disbursement.objects.filter(request_key=request_key).first()
    if earlier is not None:
        same = (
            earlier.case_id == case.pk
            and earlier.fund_id == fund.pk
            and earlier.category == category
            and earlier.payee_id == payee.pk
            and earlier.amount_cents == amount_cents
            and earlier.memo == memo
            and earlier.document_id == (document.pk if document is not None else None)
        )
        if not same:
            raise IdempotencyConflict(REUSED_KEY)
        return earlier
    # Locked so that the case cannot close while the request is being made.
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status == Case.Status.CLOSED:
        raise CaseError(f"Case {case.ref} is closed: it takes no new requests.")
    disbursement = Disbursement.objects.create(
        case=case,
        fund=fund,
        category=category,
        payee=payee,
        amount_cents=amount_cents,
        memo=memo,
        document=document,
        requested_by=actor,
        approvals_needed=2 if amount_cents > two_approvals_above(fund) else 1,
        request_key=request_key,
    )
    text = f"Requested {_amount(disbursement)} for {disbursement.get_category_display()}"
    if document is not None:
        text += f", supported by document #{document.pk} ({document.get_kind_display()})"
    if disbursement.approvals_needed == 2:
        text += " (two treasurers must approve)"
    _log(disbursement, text, actor)
    return disbursement


@transaction.atomic
def approve_disbursement(*, actor: User, disbursement: Disbursement) -> Disbursement:
    """Approve a request as a treasurer other than its requester.

    With the approvals it needs (one, or two different treasurers above the threshold), it becomes
    approved and its amount is committed (no longer available), in the same transaction; the
    first of two leaves it requested (approval_state says so).
    """
    DISBURSEMENT_APPROVERS.check(actor)
    disbursement = _locked(disbursement)
    if disbursement.status != Status.REQUESTED:
        raise _wrong_status(disbursement, "approved", Status.REQUESTED)
    if disbursement.requested_by_id == actor.pk:
        raise SelfApproval(SELF_APPROVAL)
    if disbursement.approvals.filter(approver=actor).exists():
        raise CaseError(
            "You have already approved this disbursement: a second, different treasurer must "
            "approve it."
        )
    try:
        with transaction.atomic():
            Approval.objects.create(disbursement=disbursement, approver=actor)
    except DatabaseError as error:
        if _sqlstate(error) == SELF_APPROVAL_DB_STATE:
            raise SelfApproval(SELF_APPROVAL) from error
        raise
    given = disbursement.approvals.count()
    if given < disbursement.approvals_needed:
        _log(disbursement, f"First of two approvals of {_amount(disbursement)}", actor)
        return disbursement
    disbursement.status = Status.APPROVED
    disbursement.decided_by = actor
    disbursement.save(update_fields=["status", "decided_by"])
    record_commitment(
        fund=disbursement.fund,
        amount_cents=disbursement.amount_cents,
        source_ref=disbursement.commitment_ref,
        actor=actor,
    )
    _log(disbursement, f"Approved {_amount(disbursement)}", actor)
    return disbursement


@transaction.atomic
def reject_disbursement(*, actor: User, disbursement: Disbursement, reason: str) -> Disbursement:
    """Reject a requested or approved (not yet paid) disbursement, with a reason.

    An approved one's commitment is released: the money is available again.
    """
    DISBURSEMENT_APPROVERS.check(actor)
    reason = _checked_reason(reason, "Say why the disbursement is rejected.")
    disbursement = _locked(disbursement)
    if disbursement.status not in (Status.REQUESTED, Status.APPROVED):
        raise _wrong_status(disbursement, "rejected", Status.REQUESTED, Status.APPROVED)
    if disbursement.status == Status.APPROVED:
        release_commitment(source_ref=disbursement.commitment_ref, actor=actor)
    disbursement.status = Status.REJECTED
    disbursement.decided_by = actor
    disbursement.reason = reason
    disbursement.save(update_fields=["status", "decided_by", "reason"])
    _log(disbursement, f"Rejected {_amount(disbursement)}: {reason}", actor)
    return disbursement


@transaction.atomic
def pay_disbursement(
    *, actor: User, disbursement: Disbursement, method: str, reference: str, paid_on: date
) -> Disbursement:
    """Pay an approved disbursement as a treasurer other than its requester: post it, release its
    commitment, mark it paid. Safe twice.

    One transaction, under a lock of the disbursement: two payments of one request at once pay
    it once (the second finds it paid and returns it). When the bank cannot cover it on that day,
    InsufficientFunds says so and nothing changes (it stays approved, its money set aside).
    """
    DISBURSEMENT_APPROVERS.check(actor)
    if method not in Disbursement.Method.values:
        raise CaseError(f"A disbursement is paid by {', '.join(Disbursement.Method.labels)}.")
    reference = _checked_text("reference", reference, REFERENCE_LIMIT)
    if not reference:
        raise CaseError("Enter the check number, ACH trace or wire reference.")
    disbursement = _locked(disbursement)
    if disbursement.requested_by_id == actor.pk:
        raise SelfApproval(SELF_PAYMENT)
    if disbursement.status == Status.PAID:
        return disbursement
    if disbursement.status != Status.APPROVED:
        raise _wrong_status(disbursement, "paid", Status.APPROVED)
    fund = disbursement.fund
    cents = disbursement.amount_cents
    txn = post_transaction(
        fund=fund,
        legs=[
            Leg(account_for(fund, EXPENSE_ROLES[disbursement.category]), cents),
            Leg(account_for(fund, Role.BANK), -cents),
        ],
        effective_date=paid_on,
        kind=Transaction.Kind.DISBURSEMENT,
        memo=f"{disbursement.get_category_display()}, disbursement #{disbursement.pk}",
        idempotency_key=f"disbursement:{disbursement.pk}:paid",
        actor=actor,
        source_ref=reference,
        case_ref=disbursement.case.ref,
    )
    release_commitment(source_ref=disbursement.commitment_ref, actor=actor)
    disbursement.status = Status.PAID
    disbursement.method = method
    disbursement.reference = reference
    disbursement.paid_on = paid_on
    disbursement.transaction = txn
    try:
        with transaction.atomic():
            disbursement.save(
                update_fields=["status", "method", "reference", "paid_on", "transaction"]
            )
    except DatabaseError as error:
        if _sqlstate(error) == SELF_PAYMENT_DB_STATE:
            raise SelfApproval(SELF_PAYMENT) from error
        raise
    text = (
        f"Paid {_amount(disbursement)} by {METHOD_WORDS[method]} {reference} "
        f"(ledger {txn.reference})"
    )
    _log(disbursement, text, actor)
    return disbursement


@transaction.atomic
def void_disbursement(*, actor: User, disbursement: Disbursement, reason: str) -> Disbursement:
    """Void a paid disbursement by reversing its ledger entry, with a reason. Safe twice."""
    DISBURSEMENT_APPROVERS.check(actor)
    reason = _checked_reason(reason, "Say why the payment is voided.")
    disbursement = _locked(disbursement)
    if disbursement.status == Status.VOIDED:
        return disbursement
    if disbursement.status != Status.PAID or disbursement.transaction is None:
        raise _wrong_status(disbursement, "voided", Status.PAID)
    reversal = reverse_transaction(
        original=disbursement.transaction,
        actor=actor,
        memo=f"Void of disbursement #{disbursement.pk}",
        effective_date=open_day(disbursement.fund, timezone.localdate()),
        by_workflow=True,
    )
    disbursement.status = Status.VOIDED
    disbursement.reason = reason
    disbursement.void_transaction = reversal
    disbursement.save(update_fields=["status", "reason", "void_transaction"])
    _log(disbursement, f"Voided the payment of {_amount(disbursement)}: {reason}", actor)
    return disbursement


def _locked(disbursement: Disbursement) -> Disbursement:
    # select_for_update in READ COMMITTED returns the row as the last writer committed it, so a
    # second caller that waited here sees the first one's work and stops or returns early.
    return (
        Disbursement.objects.select_for_update(of=("self",))
        .select_related("case", "fund", "transaction")
        .get(pk=disbursement.pk)
    )


def _log(disbursement: Disbursement, text: str, actor: User) -> None:
    TimelineEntry.objects.create(
        case=disbursement.case, kind=TimelineEntry.Kind.DISBURSEMENT, text=text, by=actor
    )


def _wrong_status(disbursement: Disbursement, wanted: str, *allowed: str) -> TransitionRefused:
    now = disbursement.get_status_display().lower()
    which = " or ".join(Status(status).label.lower() for status in allowed)
    article = "an" if which[0] in "aeiou" else "a"
    return TransitionRefused(
        f"Disbursement #{disbursement.pk} is {now}: only {article} {which} disbursement can be "
        f"{wanted}."
    )


def _check_amount(fund: Fund, amount_cents: int) -> None:
    if type(amount_cents) is not int or amount_cents <= 0:
        raise CaseError("Enter an amount above zero.")
    cap = money.max_amount(fund.currency)
    if amount_cents > cap:
        limit = money.format_amount(cap, fund.currency)
        raise CaseError(f"Enter at most {limit}, the largest amount accepted.")


def _checked_text(label: str, value: str, limit: int) -> str:
    if not isinstance(value, str):
        raise CaseError(f"The {label} must be text.")
    value = value.strip()
    if len(value) > limit:
        raise CaseError(f"The {label} is longer than {limit} characters.")
    if "\x00" in value:
        raise CaseError(f"The {label} contains a NUL character.")
    return value


def _checked_reason(reason: str, missing: str) -> str:
    reason = _checked_text("reason", reason, REASON_LIMIT)
    if not reason:
        raise CaseError(missing)
    return reason


def _amount(disbursement: Disbursement) -> str:
    return money.format_amount(disbursement.amount_cents, disbursement.fund.currency)


def _approvals(count: int) -> str:
    return "a treasurer's approval" if count == 1 else "the approvals of two treasurers"


def _sqlstate(error: DatabaseError) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)

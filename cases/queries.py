"""Reads of cases that decide who may see what: every one goes through `Case.objects.for_user`.

Out of scope is CaseNotFound (a 404), never a 403 that would say the case exists. Treasurers and
auditors see a case's reference, amounts and status; the person behind it only its coordinators,
legal directors and admins see, and each such read is written to the access log.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    CharField,
    Count,
    Max,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from cases.errors import CaseError, CaseNotFound
from cases.models import (
    COMMITMENT_PREFIX,
    Approval,
    Bond,
    Case,
    CaseQuerySet,
    Disbursement,
    Facility,
    Hearing,
    Payee,
)
from cases.services.cases import a_number_index, is_legal_director, validate_a_number
from fund.errors import NotAllowed
from fund.ledger.models import Commitment, Fund, Posting, Transaction
from fund.security.access import record_access
from fund.security.models import AccessLog
from fund.security.roles import CASE_WORKERS, PAYEE_KEEPERS, StaffRole, roles_of

REF = re.compile(r"C-\d{4}-\d{4,}", re.IGNORECASE)
# Something that can only be (part of) a reference: "C-2026", "c-2026-004", "2026-0042".
REF_LIKE = re.compile(r"(C-?)?\d{4}(-\d*)?", re.IGNORECASE)


@dataclass(frozen=True, repr=False)
class PersonDetails:
    """Who a case is about, decrypted. Its repr names the case only: a log line cannot leak it."""

    ref: str
    legal_name: str
    other_names: str
    a_number: str
    date_of_birth: str
    phone: str
    preferred_language: str
    family_contact: str
    employer: str
    union_local: str

    def __repr__(self) -> str:
        return f"PersonDetails({self.ref})"


def case_for_user(user: User | AnonymousUser, pk_or_ref: int | str) -> Case:
    """Return the case by primary key or reference, if the user may open it; else CaseNotFound."""
    # The facility is on every case's page: read it with the case rather than after it.
    cases = Case.objects.for_user(user).select_related("facility")
    key = str(pk_or_ref).strip()
    try:
        if REF.fullmatch(key):
            return cases.get(ref=key.upper())
        if key.isascii() and key.isdigit():
            return cases.get(pk=int(key))
    except Case.DoesNotExist:
        pass
    raise CaseNotFound("There is no such case.")


def cases_for_user(
    user: User | AnonymousUser,
    *,
    status: str | None = None,
    facility: Facility | int | None = None,
    coordinator: User | int | None = None,
    search: str = "",
) -> CaseQuerySet:
    """Return the user's cases, newest first, filtered and searched.

    Anyone in scope finds a case by (part of) its reference; by the person's name or A-number
    only those who may see the person. A name search decrypts the user's cases in Python.
    """
    cases = Case.objects.for_user(user).order_by("-year", "-number")
    if status:
        cases = cases.filter(status=status)
    if facility is not None:
        cases = cases.filter(facility=facility)
    if coordinator is not None:
        cases = cases.filter(coordinators=coordinator)
    search = search.strip()
    if not search:
        return cases
    if REF_LIKE.fullmatch(search):
        return cases.filter(ref__icontains=search.upper())
    if not isinstance(user, User):
        return cases.none()
    people = _cases_whose_person_user_may_see(user, cases)
    try:
        a_number = validate_a_number(search)
    except CaseError:
        a_number = ""
    if a_number:
        return people.filter(a_number_index=a_number_index(a_number))
    wanted = search.casefold()
    matches = [
        case.pk
        for case in people.only("pk", "row_key", "legal_name", "other_names")
        if wanted in (case.legal_name or "").casefold()
        or wanted in (case.other_names or "").casefold()
    ]
    return cases.filter(pk__in=matches)


def may_see_person(user: User | AnonymousUser, case: Case) -> bool:
    """Return whether the user may see who the case is about: an admin, a legal director, or a
    coordinator assigned to it. (Treasurers and auditors never.)"""
    if not isinstance(user, User):
        return False
    roles = roles_of(user)
    if StaffRole.ADMIN in roles or is_legal_director(user):
        return True
    return StaffRole.COORDINATOR in roles and case.coordinators.filter(pk=user.pk).exists()


def person_of(
    user: User | AnonymousUser, case: Case, *, detail: str = "case details"
) -> PersonDetails:
    """Return who the case is about, decrypted, and write the read to the access log.

    Out of the user's scope is CaseNotFound; a treasurer or an auditor (who may see the case's
    reference and money) is NotAllowed. `detail` names the page for the log, never the person.
    """
    person = person_if_allowed(user, case, detail=detail)
    if person is None:
        # Asked again only after a refusal, to tell out of scope (a 404) from not allowed.
        case_for_user(user, case.pk)
        raise NotAllowed(
            "Treasurers and auditors see a case's reference and money, not the person."
        )
    return person


def person_if_allowed(
    user: User | AnonymousUser, case: Case, *, detail: str
) -> PersonDetails | None:
    """Return who the case is about, decrypted, and write the read to the access log, if the
    user may see the person (as may_see_person decides); else None, and nothing is logged.

    The case is read again through for_user and the may-see-the-person filter: one query that
    proves both, whatever the caller's Case object is; treasurers and auditors cost none.
    """
    visible = (
        _cases_whose_person_user_may_see(user, Case.objects.for_user(user))
        if isinstance(user, User)
        else Case.objects.none()
    )
    found = visible.filter(pk=case.pk).first()
    if found is None:
        return None
    record_access(user=user, action=AccessLog.Action.VIEW, obj=found, detail=detail)
    return PersonDetails(
        ref=found.ref,
        legal_name=found.legal_name or "",
        other_names=found.other_names or "",
        a_number=found.a_number or "",
        date_of_birth=found.date_of_birth or "",
        phone=found.phone or "",
        preferred_language=found.preferred_language or "",
        family_contact=found.family_contact or "",
        employer=found.employer or "",
        union_local=found.union_local,
    )


def _cases_whose_person_user_may_see(user: User, cases: CaseQuerySet) -> CaseQuerySet:
    roles = roles_of(user)
    if StaffRole.ADMIN in roles or is_legal_director(user):
        return cases
    if StaffRole.COORDINATOR in roles:
        return cases.filter(coordinators=user)
    return cases.none()


# Bonds: the bonds engineer's queries follow below this line.

# Aging buckets of the outstanding-bonds screen: a label (with an en dash, as the treasurer's
# screen prints it) and the most days out it holds.
_DASH = "\N{EN DASH}"
BOND_AGING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    (f"0{_DASH}90", 90),
    (f"91{_DASH}180", 180),
    (f"181{_DASH}365", 365),
    ("> 365", None),
)


@dataclass(frozen=True)
class OutstandingBond:
    """A bond whose money is still out, by case reference and amount only (never the obligor)."""

    bond_id: int
    case_ref: str
    amount_cents: int
    status: str
    posted_on: date
    days_out: int
    bucket: str


@dataclass(frozen=True)
class BondAgingBucket:
    """How many bonds, and how much, have been out this long."""

    bucket: str
    bonds: int
    amount_cents: int


def bond_aging_bucket(days_out: int) -> str:
    """Return the label of the aging bucket of a bond out for this many days."""
    for label, most in BOND_AGING_BUCKETS:
        if most is None or days_out <= most:
            return label
    raise AssertionError("unreachable")  # pragma: no cover


def outstanding_bonds(fund: Fund, as_of: date) -> list[OutstandingBond]:
    """Return the fund's bonds whose money was out at the end of the day, oldest first.

    Out: posted on or before that day and not yet refunded or forfeited by then (posted, cancelled
    with the refund still due, or breached and not yet written off). The status is the bond's
    current one.
    """
    rows = (
        Bond.objects.filter(fund=fund, posted_on__lte=as_of)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=as_of))
        .order_by("posted_on", "pk")
        .values_list("pk", "case__ref", "amount_cents", "status", "posted_on")
    )
    return [
        OutstandingBond(
            bond_id=pk,
            case_ref=ref,
            amount_cents=cents,
            status=status,
            posted_on=posted_on,
            days_out=(as_of - posted_on).days,
            bucket=bond_aging_bucket((as_of - posted_on).days),
        )
        for pk, ref, cents, status, posted_on in rows
    ]


def bond_aging(fund: Fund, as_of: date) -> list[BondAgingBucket]:
    """Return the fund's outstanding bonds totalled per aging bucket: all four, youngest first."""
    bonds = outstanding_bonds(fund, as_of)
    return [
        BondAgingBucket(
            bucket=label,
            bonds=sum(1 for bond in bonds if bond.bucket == label),
            amount_cents=sum(bond.amount_cents for bond in bonds if bond.bucket == label),
        )
        for label, _ in BOND_AGING_BUCKETS
    ]


# Hearings: the hearings engineer's queries follow below this line.


def hearings_for_user(user: User | AnonymousUser) -> QuerySet[Hearing]:
    """Return the hearings of the cases the user works (a coordinator's assigned ones, a legal
    director's all), never those of a purged case; others get none."""
    if not CASE_WORKERS.allows(user):
        return Hearing.objects.none()
    return Hearing.objects.filter(
        case__in=Case.objects.for_user(user), case__purged_at__isnull=True
    ).select_related("case")


def hearings_between(
    user: User | AnonymousUser, start: datetime, end: datetime
) -> QuerySet[Hearing]:
    """Return the user's hearings from `start` up to (not including) `end`, soonest first."""
    return hearings_for_user(user).filter(at__gte=start, at__lt=end).order_by("at", "pk")


def upcoming_hearings(user: User | AnonymousUser, days: int = 14) -> QuerySet[Hearing]:
    """Return the user's hearings of the next `days` days, soonest first, for the dashboard.

    Each has its case loaded: show `hearing.case.ref`, `court`, `get_kind_display()`, `at`.
    """
    now = timezone.now()
    return hearings_between(user, now, now + timedelta(days=days))


# Reports: the reads behind cases/reports.py (disbursement register, bonds, 1099 summary). They
# return references, amounts, dates and staff usernames only; a payee's name is read only for
# the kinds a report names (payee_labels).


def paid_disbursements(fund: Fund, start: date, end: date) -> QuerySet[Disbursement, Any]:
    """Return the disbursements whose payment the ledger dates in the period, by payment day.

    Each is a dict of references, amounts, dates and usernames (`approvers` joined by ", ", in
    the order they approved); a voided one keeps its row, with its reversal's date and reference.
    """
    return _disbursement_rows(
        fund,
        Q(transaction__effective_date__range=(start, end)),
        "transaction__effective_date",
    )


def voided_disbursements(fund: Fund, start: date, end: date) -> QuerySet[Disbursement, Any]:
    """Return the disbursements whose payment was reversed by an entry dated in the period."""
    return _disbursement_rows(
        fund,
        Q(void_transaction__effective_date__range=(start, end)),
        "void_transaction__effective_date",
    )


def committed_disbursements(fund: Fund, on: date) -> QuerySet[Disbursement, Any]:
    """Return the disbursements approved by the end of the day and not yet paid by then.

    Approved now, paid later than the day, or rejected later than it: a rejection is dated by
    the release of the money its approval set aside (the ledger's commitment).
    """
    released = Commitment.objects.filter(
        source_ref=Concat(Value(COMMITMENT_PREFIX), Cast(OuterRef("pk"), CharField()))
    ).values("released_at")[:1]
    return _disbursement_rows(
        fund,
        Q(approved_at__date__lte=on)
        & (
            Q(status=Disbursement.Status.APPROVED)
            | Q(transaction__isnull=False, transaction__effective_date__gt=on)
            | Q(status=Disbursement.Status.REJECTED, released_at__date__gt=on)
        ),
        "approved_at",
        released_at=Subquery(released),
    )


def _disbursement_rows(
    fund: Fund, where: Q, order: str, **more: Subquery
) -> QuerySet[Disbursement, Any]:
    approvals = (
        Approval.objects.filter(disbursement=OuterRef("pk")).order_by().values("disbursement")
    )
    return (
        Disbursement.objects.filter(fund=fund)
        .annotate(
            approvers=Subquery(
                approvals.annotate(
                    names=StringAgg("approver__username", Value(", "), order_by="at")
                ).values("names")
            ),
            approved_at=Subquery(approvals.annotate(last=Max("at")).values("last")),
            **more,
        )
        .filter(where)
        .order_by(order, "pk")
        .values(
            "pk",
            "case__ref",
            "category",
            "payee_id",
            "payee__kind",
            "amount_cents",
            "status",
            "requested_by__username",
            "approvers",
            "approved_at",
            "paid_on",
            "method",
            "reference",
            "transaction__year",
            "transaction__number",
            "transaction__effective_date",
            "void_transaction__year",
            "void_transaction__number",
            "void_transaction__effective_date",
        )
    )


# Payees a report may name: a business or an office. A family member is as private as the
# worker, and an "other" payee may be a private person: reports never read their names.
NAMED_PAYEE_KINDS = frozenset({Payee.Kind.ATTORNEY, Payee.Kind.COURT, Payee.Kind.ICE})


def payee_labels(fund: Fund) -> dict[int, str]:
    """Return how reports name the fund's payees that may be named: attorneys (with their firm),
    courts and ICE, by payee id. Others are left out: their names are never read."""
    payees = (
        Payee.objects.filter(disbursements__fund=fund, kind__in=NAMED_PAYEE_KINDS)
        .distinct()
        .only("pk", "row_key", "name", "firm")
    )
    return {
        payee.pk: f"{payee.name} ({payee.firm})" if payee.firm else payee.name or ""
        for payee in payees
    }


@dataclass(frozen=True)
class PayeePayments:
    """What the fund paid one payee in a period, net of payments voided in it."""

    payee_id: int
    kind: str
    firm: str
    bar_number: str
    w9_received: bool
    payments: int
    paid_cents: int


def payments_by_payee(fund: Fund, start: date, end: date) -> list[PayeePayments]:
    """Return each payee paid in the period with its total, less the voids dated in the period,
    largest first."""
    paid = (
        Disbursement.objects.filter(fund=fund, transaction__effective_date__range=(start, end))
        .order_by()
        .values("payee")
        .annotate(payments=Count("pk"), cents=Sum("amount_cents"))
    )
    voided = (
        Disbursement.objects.filter(fund=fund, void_transaction__effective_date__range=(start, end))
        .order_by()
        .values("payee")
        .annotate(payments=Count("pk"), cents=Sum("amount_cents"))
    )
    net: dict[int, list[int]] = {}
    for row in paid:
        net[row["payee"]] = [row["payments"], row["cents"]]
    for row in voided:
        counts = net.setdefault(row["payee"], [0, 0])
        counts[0] -= row["payments"]
        counts[1] -= row["cents"]
    payees = Payee.objects.filter(pk__in=net).values_list(
        "pk", "kind", "firm", "bar_number", "w9_received"
    )
    found = [PayeePayments(pk, kind, firm, bar, w9, *net[pk]) for pk, kind, firm, bar, w9 in payees]
    return sorted(found, key=lambda p: (-p.paid_cents, p.payee_id))


def program_payments_booked(fund: Fund, start: date, end: date) -> int:
    """Return what the ledger booked as program payments (disbursement entries) in the period."""
    found = Posting.objects.filter(
        transaction__fund=fund,
        transaction__kind=Transaction.Kind.DISBURSEMENT,
        effective_date__range=(start, end),
        amount_cents__gt=0,
    ).aggregate(cents=Sum("amount_cents"))
    return int(found["cents"] or 0)


@dataclass(frozen=True)
class ClosedBond:
    """A bond refunded or forfeited, by case reference and amounts only (never the obligor)."""

    bond_id: int
    case_ref: str
    status: str
    posted_on: date
    closed_on: date
    amount_cents: int
    interest_cents: int


def closed_bonds(fund: Fund, start: date, end: date, status: str) -> list[ClosedBond]:
    """Return the fund's bonds refunded (or forfeited, or voided) in the period, in the order
    they closed."""
    rows = (
        Bond.objects.filter(fund=fund, status=status, closed_on__range=(start, end))
        .order_by("closed_on", "pk")
        .values_list(
            "pk", "case__ref", "status", "posted_on", "closed_on", "amount_cents", "interest_cents"
        )
    )
    return [
        ClosedBond(
            bond_id=pk,
            case_ref=ref,
            status=status,
            posted_on=posted_on,
            closed_on=closed_on or end,
            amount_cents=cents,
            interest_cents=interest,
        )
        for pk, ref, status, posted_on, closed_on, cents, interest in rows
    ]


def bond_status_on(bond_ids: Iterable[int], on: date) -> dict[int, str]:
    """Return the status each of these bonds, still out at the end of the day, had then."""
    found: dict[int, str] = {}
    rows = Bond.objects.filter(pk__in=set(bond_ids)).values_list(
        "pk", "cancelled_on", "breached_on"
    )
    for pk, cancelled_on, breached_on in rows:
        if cancelled_on is not None and cancelled_on <= on:
            found[pk] = Bond.Status.CANCELLED
        elif breached_on is not None and breached_on <= on:
            found[pk] = Bond.Status.BREACHED
        else:
            found[pk] = Bond.Status.POSTED
    return found


# Payees' names: personal data for a family member or a private person paid by the fund.


def shows_payee_names(user: User | AnonymousUser) -> bool:
    """Return whether the user sees payees' names: coordinators and treasurers, who choose and
    pay them. Auditors and admins see "Payee #12"."""
    return PAYEE_KEEPERS.allows(user)


def payee_label(payee: Payee, user: User | AnonymousUser) -> str:
    """Return a payee as the user may see it: its name, or "Payee #12"."""
    return (payee.name or "") if shows_payee_names(user) else str(payee)


def log_payees_shown(user: User, payees: Iterable[Payee], detail: str) -> None:
    """Record in the access log each payee whose name the user was just shown (once each)."""
    for payee in {payee.pk: payee for payee in payees}.values():
        record_access(user=user, action=AccessLog.Action.VIEW, obj=payee, detail=detail)

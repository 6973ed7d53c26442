"""Reads of cases that decide who may see what: every one goes through `Case.objects.for_user`.

Out of scope is CaseNotFound (a 404), never a 403 that would say the case exists. Treasurers and
auditors see a case's reference, amounts and status; the person behind it only its coordinators,
legal directors and admins see, and each such read is written to the access log.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils import timezone

from cases.errors import CaseError, CaseNotFound
from cases.models import Bond, Case, CaseQuerySet, Facility, Hearing
from cases.services.cases import a_number_index, is_legal_director, validate_a_number
from fund.errors import NotAllowed
from fund.ledger.models import Fund
from fund.security.access import record_access
from fund.security.models import AccessLog
from fund.security.roles import CASE_WORKERS, StaffRole, roles_of

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
    cases = Case.objects.for_user(user)
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
    case = case_for_user(user, case.pk)
    if not may_see_person(user, case):
        raise NotAllowed(
            "Treasurers and auditors see a case's reference and money, not the person."
        )
    record_access(user=user, action=AccessLog.Action.VIEW, obj=case, detail=detail)
    return PersonDetails(
        ref=case.ref,
        legal_name=case.legal_name or "",
        other_names=case.other_names or "",
        a_number=case.a_number or "",
        date_of_birth=case.date_of_birth or "",
        phone=case.phone or "",
        preferred_language=case.preferred_language or "",
        family_contact=case.family_contact or "",
        employer=case.employer or "",
        union_local=case.union_local,
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

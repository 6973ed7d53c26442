"""The cases API: cases, payees, disbursements and bonds, under /api/v1/ (mounted by fund.api).

Every operation calls the services and queries of this app, so the API sees exactly what the
screens see: a case out of the caller's scope is 404 (as if it did not exist), an action the
caller's role may not take is 403. Treasurers and auditors see a case's reference, status and
money, never the person: a name, A-number, contact or note text reaches only those who may see
the person (`cases.queries.may_see_person`), and each such answer is in the access log.

Payees' names are personal data too (an attorney, a family member): coordinators and treasurers,
who choose and pay them, see them (each answer logged); auditors and admins see "Payee #12".
A disbursement's memo and a bond's obligor and receipt number are written through the API and
never read back from it. Amounts are integer minor units of the fund's currency.
See docs/cases.md, "The API".
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import AwareDatetime

from cases.models import Bond, Case, Disbursement, Document, Facility, Hearing, Payee, TimelineEntry
from cases.queries import (
    bond_aging,
    case_for_user,
    cases_for_user,
    log_payees_shown,
    may_see_person,
    outstanding_bonds,
    payee_label,
    person_of,
    shows_payee_names,
)
from cases.services.bonds import (
    cancel_bond,
    forfeit_bond,
    post_bond,
    record_bond_breach,
    record_bond_refund,
    void_bond,
)
from cases.services.cases import KEEP, change_status, details_seen, open_case, update_person
from cases.services.disbursements import (
    approve_disbursement,
    disbursement_for_user,
    pay_disbursement,
    reject_disbursement,
    request_disbursement,
    void_disbursement,
)
from cases.services.hearings import add_hearing
from cases.services.payees import create_payee
from fund.ledger.api import book_day
from fund.ledger.dates import FIRST_BOOK_DAY, LAST_BOOK_DAY
from fund.ledger.posting import MAX_LEG_CENTS, SUPPLIED_KEY
from fund.ledger.queries import get_fund
from fund.schemas import LimitOffset, answers
from fund.security.api_auth import ApiRequest, staff_auth
from fund.security.roles import (
    BOND_RECORDERS,
    CASE_MONEY_READERS,
    CASE_WORKERS,
    DISBURSEMENT_APPROVERS,
    LEDGER_READERS,
    LEDGER_WRITERS,
    PAYEE_KEEPERS,
)

router = Router(tags=["cases"])
READ_CASES = staff_auth(CASE_MONEY_READERS)
WORK_CASES = staff_auth(CASE_WORKERS)
KEEP_PAYEES = staff_auth(PAYEE_KEEPERS)
APPROVE = staff_auth(DISBURSEMENT_APPROVERS)
RECORD_BONDS = staff_auth(BOND_RECORDERS)
BOOK_BONDS = staff_auth(LEDGER_WRITERS)
READ_BOOKS = staff_auth(LEDGER_READERS)

BIGINT = 2**63 - 1
REF_PATTERN = "^[Cc]-[0-9]{4}-[0-9]{4,9}$"
# (Part of) a reference, as cases.queries.REF_LIKE: "C-2026", "c-2026-004", "2026-0042". Only a
# reference is searched through the API: a name or an A-number never goes into a URL.
REF_SEARCH_PATTERN = "^([Cc]-?)?[0-9]{4}(-[0-9]{0,9})?$"
TIMELINE_SHOWN = 100

CaseRef = Annotated[
    str, Path(pattern=REF_PATTERN, max_length=20, description="The case's reference.")
]
RowId = Annotated[int, Path(ge=1, le=BIGINT, description="The row's id.")]
Amount = Annotated[int, Field(ge=1, le=MAX_LEG_CENTS, description="Minor units.")]
IdempotencyKey = Annotated[
    str,
    Field(
        pattern=f"^{SUPPLIED_KEY.pattern}$",
        description="Yours, e.g. a UUID: the same key again returns the same record.",
    ),
]
CaseStatus = Literal[
    "intake", "detained", "bond_set", "bond_posted", "released", "transferred", "removed", "closed"
]
Category = Literal["attorney_fee", "filing_fee", "family_support", "travel", "commissary", "other"]
DisbursementStatus = Literal["requested", "approved", "paid", "rejected", "voided"]
PayMethod = Literal["check", "ach", "wire"]
PayeeKind = Literal["attorney", "family", "court", "ice", "other"]
BondStatus = Literal["posted", "cancelled", "refunded", "breached", "forfeited", "voided"]


def _viewer(context: Any) -> User:
    user: User = context["request"].auth
    return user


def _username(user: User | None) -> str | None:
    return user.get_username() if user is not None else None


def _log_payees_shown(request: ApiRequest, payees: Iterable[Payee], detail: str) -> None:
    if shows_payee_names(request.auth):
        log_payees_shown(request.auth, payees, detail)


# Schemas: cases


class FacilityOut(Schema):
    id: int
    name: str


class CaseRowOut(Schema):
    ref: str
    status: CaseStatus
    facility: FacilityOut | None = None
    coordinators: list[str] = Field(..., description="Usernames of the assigned coordinators.")
    opened: datetime = Field(..., alias="opened_at")

    @staticmethod
    def resolve_coordinators(obj: Case) -> list[str]:
        return sorted(user.get_username() for user in obj.coordinators.all())


class CaseFilter(Schema):
    status: CaseStatus | None = None
    facility: int | None = Field(None, ge=1, le=BIGINT, description="A facility's id.")
    search: str | None = Field(
        None,
        pattern=REF_SEARCH_PATTERN,
        description="(Part of) a case reference: C-2026-0042, C-2026, 2026-004.",
    )


class CaseIn(Schema):
    """A new case. Only these fields are read; the reference, status and timeline are the
    service's. `coordinators` (usernames) only a legal director may give; blank: the opener."""

    legal_name: str = Field(..., min_length=1, max_length=200)
    other_names: str = Field("", max_length=500)
    a_number: str = Field("", max_length=20, description="8 or 9 digits, optionally after an A.")
    date_of_birth: str = Field("", max_length=20)
    phone: str = Field("", max_length=50)
    preferred_language: str = Field("", max_length=50)
    family_contact: str = Field("", max_length=500)
    employer: str = Field("", max_length=200)
    union_local: str = Field("", max_length=100)
    detained_on: Annotated[date | None, book_day("The day detained")] = None
    facility: int | None = Field(None, ge=1, le=BIGINT, description="A facility's id.")
    coordinators: list[Annotated[str, Field(min_length=1, max_length=150)]] = Field(
        default_factory=list, max_length=20
    )
    # Optional: with it, a retried POST returns the case it opened instead of opening another.
    idempotency_key: IdempotencyKey | None = None


class OpenedOut(Schema):
    ref: str
    status: CaseStatus
    duplicates: list[str] = Field(
        ..., description="Other cases with this A-number that you may see, by reference."
    )
    hidden_duplicates: int = Field(..., description="Such cases outside your scope.")


class TimelineOut(Schema):
    kind: str
    at: datetime
    by: str | None = Field(None, description="Username; null: the system.")
    text: str | None = Field(None, description="Only for those who may see the person.")


class PersonOut(Schema):
    legal_name: str
    other_names: str
    a_number: str
    date_of_birth: str
    phone: str
    preferred_language: str
    family_contact: str
    employer: str
    union_local: str


DETAILS_SEEN = (
    "A keyed digest of the person's details as answered (null where the person is not shown). "
    "Sent back with a correction, it refuses it (409) if someone corrected them meanwhile."
)


class CaseOut(Schema):
    ref: str
    status: CaseStatus
    facility: FacilityOut | None = None
    coordinators: list[str]
    opened: datetime
    closed_on: date | None = None
    timeline: list[TimelineOut] = Field(..., description=f"The latest {TIMELINE_SHOWN} entries.")
    timeline_count: int
    person: PersonOut | None = Field(
        None, description="Who the case is about; null for treasurers and auditors."
    )
    details_seen: str | None = Field(None, description=DETAILS_SEEN)


class PersonPatch(Schema):
    """Corrections to the person's details: only the fields sent change; "" clears one (not the
    legal name), and `detained_on: null` clears the day."""

    details_seen: str | None = Field(None, max_length=64, description=DETAILS_SEEN)

    legal_name: str | None = Field(None, min_length=1, max_length=200)
    other_names: str | None = Field(None, max_length=500)
    a_number: str | None = Field(
        None, max_length=20, description="8 or 9 digits, optionally after an A."
    )
    date_of_birth: str | None = Field(None, max_length=20)
    phone: str | None = Field(None, max_length=50)
    preferred_language: str | None = Field(None, max_length=50)
    family_contact: str | None = Field(None, max_length=500)
    employer: str | None = Field(None, max_length=200)
    union_local: str | None = Field(None, max_length=100)
    detained_on: Annotated[date | None, book_day("The day detained")] = None


class CorrectedOut(Schema):
    ref: str
    changed: list[str] = Field(..., description="The fields that changed; empty: none did.")
    duplicates: list[str] = Field(
        ..., description="Other cases with the new A-number that you may see, by reference."
    )
    hidden_duplicates: int = Field(..., description="Such cases outside your scope.")
    person: PersonOut
    detained_on: date | None = None
    details_seen: str = Field(..., description=DETAILS_SEEN)


class StatusIn(Schema):
    to: CaseStatus
    note: str = Field("", max_length=1000)


class StatusOut(Schema):
    ref: str
    status: CaseStatus


# Schemas: hearings

HearingKind = Literal["master", "bond", "individual"]


class HearingOut(Schema):
    id: int
    case: str = Field(..., description="The case's reference.")
    at: datetime
    court: str
    kind: HearingKind
    judge: str
    outcome: str | None = Field(None, description="Only for those who may see the person.")


class HearingIn(Schema):
    at: AwareDatetime = Field(..., description="With its time zone, between 2000 and 2099.")
    court: str = Field(..., min_length=1, max_length=200)
    kind: HearingKind
    judge: str = Field("", max_length=200)
    outcome: str = Field("", max_length=2000)


# Schemas: payees


class PayeeOut(Schema):
    id: int
    kind: PayeeKind
    name: str = Field(..., description='The name, or "Payee #12" for auditors and admins.')
    firm: str
    bar_number: str
    contact: str = Field(..., description="Empty for auditors and admins.")
    w9_received: bool

    @staticmethod
    def resolve_name(obj: Payee, context: Any) -> str:
        return payee_label(obj, _viewer(context))

    @staticmethod
    def resolve_contact(obj: Payee, context: Any) -> str:
        return (obj.contact or "") if shows_payee_names(_viewer(context)) else ""


class PayeeIn(Schema):
    kind: PayeeKind
    name: str = Field(..., min_length=1, max_length=200)
    firm: str = Field("", max_length=200)
    bar_number: str = Field("", max_length=50)
    contact: str = Field("", max_length=500)
    w9_received: bool = Field(False, description="Only a treasurer may set it.")


class PayeeFilter(Schema):
    kind: PayeeKind | None = None


# Schemas: disbursements


class DisbursementOut(Schema):
    id: int
    case: str = Field(..., alias="case.ref")
    fund: str = Field(..., alias="fund.slug")
    currency: str = Field(..., alias="fund.currency")
    category: Category
    payee: int = Field(..., alias="payee_id")
    payee_name: str = Field(..., description='The name, or "Payee #12" for auditors and admins.')
    amount: int = Field(..., alias="amount_cents")
    status: DisbursementStatus
    approvals_needed: int
    requested_by: str
    requested_at: datetime
    approvers: list[str] = Field(..., description="Usernames of the treasurers who approved.")
    decided_by: str | None = None
    reason: str = Field(
        ...,
        description="Why it was rejected or voided: shown to coordinators and treasurers; empty "
        "for auditors and admins (it may name someone).",
    )
    method: PayMethod | Literal[""]
    reference: str
    paid_on: date | None = None
    transaction: str | None = Field(None, description="Reference of the payment's transaction.")
    void_transaction: str | None = Field(
        None, description="Reference of the reversal that voided the payment."
    )
    document: int | None = Field(
        None, alias="document_id", description="The id of the case's supporting document."
    )

    @staticmethod
    def resolve_payee_name(obj: Disbursement, context: Any) -> str:
        return payee_label(obj.payee, _viewer(context))

    @staticmethod
    def resolve_requested_by(obj: Disbursement) -> str:
        return obj.requested_by.get_username()

    @staticmethod
    def resolve_approvers(obj: Disbursement) -> list[str]:
        approvals = sorted(obj.approvals.all(), key=lambda approval: (approval.at, approval.pk))
        return [approval.approver.get_username() for approval in approvals]

    @staticmethod
    def resolve_decided_by(obj: Disbursement) -> str | None:
        return _username(obj.decided_by)

    @staticmethod
    def resolve_reason(obj: Disbursement, context: Any) -> str:
        viewer = _viewer(context)
        shown = CASE_WORKERS.allows(viewer) or DISBURSEMENT_APPROVERS.allows(viewer)
        return (obj.reason or "") if shown else ""

    @staticmethod
    def resolve_transaction(obj: Disbursement) -> str | None:
        return obj.transaction.reference if obj.transaction is not None else None

    @staticmethod
    def resolve_void_transaction(obj: Disbursement) -> str | None:
        voided = obj.void_transaction
        return voided.reference if voided is not None else None


class DisbursementIn(Schema):
    case: str = Field(..., pattern=REF_PATTERN, description="The case's reference.")
    fund: str = Field(..., min_length=1, max_length=100, description="The fund's slug.")
    category: Category
    payee: int = Field(..., ge=1, le=BIGINT, description="The payee's id.")
    amount: Amount
    memo: str = Field("", max_length=1000, description="Write-only: never read back.")
    idempotency_key: IdempotencyKey
    document: int | None = Field(
        None, ge=1, le=BIGINT, description="The id of one of the case's documents supporting it."
    )


class DisbursementFilter(Schema):
    status: DisbursementStatus | None = None
    case: str | None = Field(None, pattern=REF_PATTERN, description="A case's reference.")
    fund: str | None = Field(None, max_length=100, description="A fund's slug.")


class RejectIn(Schema):
    reason: str = Field(..., max_length=450)


class VoidIn(Schema):
    reason: str = Field(
        ..., max_length=450, description="Kept encrypted on the disbursement, never in the ledger."
    )


class PayIn(Schema):
    method: PayMethod
    reference: str = Field(..., max_length=100, description="Check number, ACH trace, wire ref.")
    paid_on: Annotated[date, book_day("The day paid")]


# Schemas: bonds


class BondVoidIn(Schema):
    reason: str = Field(
        ..., max_length=450, description="Kept encrypted on the bond, never in the ledger."
    )


class BondOut(Schema):
    """A bond by its case's reference and amounts; never the obligor or ICE's receipt number."""

    id: int
    case: str = Field(..., alias="case.ref")
    fund: str = Field(..., alias="fund.slug")
    currency: str = Field(..., alias="fund.currency")
    amount: int = Field(..., alias="amount_cents")
    status: BondStatus
    posted_on: date
    cancelled_on: date | None = None
    breached_on: date | None = None
    closed_on: date | None = None
    interest: int = Field(..., alias="interest_cents")
    recorded_by: str
    posted_transaction: str | None = None
    closed_transaction: str | None = None

    @staticmethod
    def resolve_recorded_by(obj: Bond) -> str:
        return obj.recorded_by.get_username()

    @staticmethod
    def resolve_posted_transaction(obj: Bond) -> str | None:
        return obj.posted_transaction.reference if obj.posted_transaction is not None else None

    @staticmethod
    def resolve_closed_transaction(obj: Bond) -> str | None:
        return obj.closed_transaction.reference if obj.closed_transaction is not None else None


class BondIn(Schema):
    case: str = Field(..., pattern=REF_PATTERN, description="The case's reference.")
    fund: str = Field(..., min_length=1, max_length=100, description="The fund's slug.")
    amount: Amount
    obligor_name: str = Field(..., min_length=1, max_length=500, description="Write-only.")
    obligor_relationship: str = Field("", max_length=500, description="Write-only.")
    obligor_contact: str = Field("", max_length=500, description="Write-only.")
    obligor_attested: bool = Field(
        ..., description="The obligor attests being a US citizen or lawful permanent resident."
    )
    receipt_number: str = Field("", max_length=500, description="ICE's; write-only.")
    posted_on: Annotated[date, book_day("The day posted")]
    idempotency_key: IdempotencyKey


class CancelIn(Schema):
    cancelled_on: Annotated[date, book_day("The day ICE cancelled the bond")]


class BreachIn(Schema):
    breached_on: Annotated[date, book_day("The day ICE declared the bond breached")]


class ForfeitIn(Schema):
    forfeited_on: Annotated[date, book_day("The day the bond was forfeited")]


class RefundIn(Schema):
    principal: int = Field(..., ge=0, le=MAX_LEG_CENTS, description="The bond's amount.")
    interest: int = Field(0, ge=0, le=MAX_LEG_CENTS, description="ICE's interest.")
    received_on: Annotated[date, book_day("The day the refund reached the bank")]


class OutstandingFilter(Schema):
    fund: str = Field(..., min_length=1, max_length=100, description="The fund's slug.")
    as_of: Annotated[date | None, book_day("At the end of this day; default today")] = None


class OutstandingBondOut(Schema):
    id: int = Field(..., alias="bond_id")
    case: str = Field(..., alias="case_ref")
    amount: int = Field(..., alias="amount_cents")
    status: BondStatus
    posted_on: date
    days_out: int
    bucket: str


class AgingOut(Schema):
    bucket: str
    bonds: int
    amount: int = Field(..., alias="amount_cents")


class OutstandingOut(Schema):
    fund: str
    currency: str
    as_of: date
    bonds: list[OutstandingBondOut]
    aging: list[AgingOut]


# Cases


@router.get("/cases", response=answers(list[CaseRowOut], 400, 401, 403, 422), auth=READ_CASES)
@paginate(LimitOffset)
def cases(request: ApiRequest, filters: Query[CaseFilter]) -> QuerySet[Case]:
    """List the cases you may open, newest first, by status, facility or (part of) reference."""
    return (
        cases_for_user(
            request.auth,
            status=filters.status,
            facility=filters.facility,
            search=filters.search or "",
        )
        .select_related("facility")
        .prefetch_related("coordinators")
    )


@router.post("/cases", response=answers(OpenedOut, 400, 401, 403, 409, 422), auth=WORK_CASES)
def open_a_case(request: ApiRequest, payload: CaseIn) -> dict[str, object]:
    """Open a case (coordinators); it answers with its reference and, as a warning, the
    references of other cases you may see with the same A-number."""
    facility = None
    if payload.facility is not None:
        facility = Facility.objects.filter(pk=payload.facility).first()
        if facility is None:
            raise HttpError(400, f"There is no facility #{payload.facility}.")
    coordinators = []
    for username in dict.fromkeys(payload.coordinators):
        found = User.objects.filter(username=username).first()
        if found is None:
            raise HttpError(400, "There is no staff member with one of those usernames.")
        coordinators.append(found)
    opened = open_case(
        actor=request.auth,
        legal_name=payload.legal_name,
        a_number=payload.a_number,
        other_names=payload.other_names,
        date_of_birth=payload.date_of_birth,
        phone=payload.phone,
        preferred_language=payload.preferred_language,
        family_contact=payload.family_contact,
        employer=payload.employer,
        union_local=payload.union_local,
        detained_on=payload.detained_on,
        facility=facility,
        coordinators=coordinators,
        idempotency_key=payload.idempotency_key or "",
    )
    return {
        "ref": opened.case.ref,
        "status": opened.case.status,
        "duplicates": opened.duplicates,
        "hidden_duplicates": opened.hidden_duplicates,
    }


@router.get("/cases/{ref}", response=answers(CaseOut, 400, 401, 403, 404, 422), auth=READ_CASES)
def case_detail(request: ApiRequest, ref: CaseRef) -> dict[str, object]:
    """Return a case: its status, coordinators and timeline; the person and the timeline's
    words only for those who may see the person (each such answer is in the access log)."""
    case = case_for_user(request.auth, ref)
    person = None
    if may_see_person(request.auth, case):
        person = person_of(request.auth, case, detail="API case")
    entries: QuerySet[TimelineEntry] = case.timeline.select_related("by").order_by("-at", "-pk")
    return {
        "ref": case.ref,
        "status": case.status,
        "facility": case.facility,
        "coordinators": sorted(user.get_username() for user in case.coordinators.all()),
        "opened": case.opened_at,
        "closed_on": case.closed_on,
        "timeline": [
            {
                "kind": entry.kind,
                "at": entry.at,
                "by": _username(entry.by),
                "text": (entry.text or "") if person is not None else None,
            }
            for entry in entries[:TIMELINE_SHOWN]
        ],
        "timeline_count": entries.count(),
        "person": person,
        "details_seen": details_seen(case) if person is not None else None,
    }


@router.patch(
    "/cases/{ref}/person",
    response=answers(CorrectedOut, 400, 401, 403, 404, 409, 422),
    auth=WORK_CASES,
)
def correct_person(request: ApiRequest, ref: CaseRef, payload: PersonPatch) -> dict[str, object]:
    """Correct the person's details (the case's coordinators, legal directors): the timeline
    names the fields changed, never their values; the change is in the access log."""
    case = case_for_user(request.auth, ref)
    sent = payload.model_fields_set
    texts = {name: getattr(payload, name) for name in sent - {"detained_on", "details_seen"}}
    if "legal_name" in texts and texts["legal_name"] is None:
        raise HttpError(400, "A case needs the person's legal name.")
    corrected = update_person(
        actor=request.auth,
        case=case,
        detained_on=payload.detained_on if "detained_on" in sent else KEEP,
        seen=payload.details_seen or "",
        **{name: value if value is not None else "" for name, value in texts.items()},
    )
    return {
        "ref": corrected.case.ref,
        "changed": corrected.changed,
        "duplicates": corrected.duplicates,
        "hidden_duplicates": corrected.hidden_duplicates,
        "person": person_of(request.auth, corrected.case, detail="API person corrected"),
        "detained_on": corrected.case.detained_on,
        "details_seen": details_seen(corrected.case),
    }


@router.post(
    "/cases/{ref}/status", response=answers(StatusOut, 400, 401, 403, 404, 422), auth=WORK_CASES
)
def case_status(request: ApiRequest, ref: CaseRef, payload: StatusIn) -> Case:
    """Move the case along the workflow (its coordinators, legal directors)."""
    case = case_for_user(request.auth, ref)
    return change_status(actor=request.auth, case=case, to=payload.to, note=payload.note)


@router.get(
    "/cases/{ref}/bonds",
    response=answers(list[BondOut], 400, 401, 403, 404, 422),
    auth=READ_CASES,
)
def case_bonds(request: ApiRequest, ref: CaseRef) -> QuerySet[Bond]:
    """List the case's bonds, oldest first."""
    case = case_for_user(request.auth, ref)
    return _bonds().filter(case=case).order_by("posted_on", "pk")


# Hearings


def _hearing_out(hearing: Hearing, shows_outcome: bool) -> dict[str, object]:
    return {
        "id": hearing.pk,
        "case": hearing.case.ref,
        "at": hearing.at,
        "court": hearing.court,
        "kind": hearing.kind,
        "judge": hearing.judge,
        "outcome": (hearing.outcome or "") if shows_outcome else None,
    }


@router.get(
    "/cases/{ref}/hearings",
    response=answers(list[HearingOut], 400, 401, 403, 404, 422),
    auth=READ_CASES,
)
def hearings(request: ApiRequest, ref: CaseRef) -> list[dict[str, object]]:
    """List the case's hearings, soonest first; the outcomes (which may name people) only for
    those who may see the person."""
    case = case_for_user(request.auth, ref)
    shows_outcome = may_see_person(request.auth, case)
    found = case.hearings.select_related("case").order_by("at", "pk")
    return [_hearing_out(hearing, shows_outcome) for hearing in found]


@router.post(
    "/cases/{ref}/hearings",
    response=answers(HearingOut, 400, 401, 403, 404, 422),
    auth=WORK_CASES,
)
def schedule_hearing(request: ApiRequest, ref: CaseRef, payload: HearingIn) -> dict[str, object]:
    """Schedule a hearing on one of your cases (coordinators, legal directors)."""
    # Checked before any conversion to UTC, which a year 1 or 9999 would overflow.
    if not FIRST_BOOK_DAY.year <= payload.at.year <= LAST_BOOK_DAY.year:
        raise HttpError(400, "A hearing's time is between 2000 and 2099.")
    case = case_for_user(request.auth, ref)
    hearing = add_hearing(
        actor=request.auth,
        case=case,
        at=payload.at,
        court=payload.court,
        kind=payload.kind,
        judge=payload.judge,
        outcome=payload.outcome,
    )
    return _hearing_out(Hearing.objects.select_related("case").get(pk=hearing.pk), True)


# Payees


class PayeePage(Schema):
    items: list[PayeeOut]
    count: int


@router.get("/payees", response=answers(PayeePage, 400, 401, 403, 422), auth=READ_CASES)
def payees(
    request: ApiRequest, filters: Query[PayeeFilter], window: Query[LimitOffset.Input]
) -> dict[str, object]:
    """List payees, newest first; names and contacts for coordinators and treasurers only
    (each listing naming payees is in the access log)."""
    found = Payee.objects.order_by("-created_at", "-pk")
    if filters.kind:
        found = found.filter(kind=filters.kind)
    items = list(found[window.offset : window.offset + window.limit])
    _log_payees_shown(request, items, "API payees")
    return {"items": items, "count": found.count()}


@router.post("/payees", response=answers(PayeeOut, 400, 401, 403, 422), auth=KEEP_PAYEES)
def add_payee(request: ApiRequest, payload: PayeeIn) -> Payee:
    """Add a payee (coordinators, treasurers); only a treasurer may mark its W-9 received."""
    return create_payee(
        actor=request.auth,
        kind=payload.kind,
        name=payload.name,
        firm=payload.firm,
        bar_number=payload.bar_number,
        contact=payload.contact,
        w9_received=payload.w9_received,
    )


# Disbursements


def _disbursements() -> QuerySet[Disbursement]:
    return Disbursement.objects.select_related(
        "case", "fund", "payee", "requested_by", "decided_by", "transaction", "void_transaction"
    ).prefetch_related("approvals__approver")


def _shown(request: ApiRequest, disbursement: Disbursement) -> Disbursement:
    found = _disbursements().get(pk=disbursement.pk)
    _log_payees_shown(request, [found.payee], "API disbursement")
    return found


@router.get(
    "/disbursements",
    response=answers(list[DisbursementOut], 400, 401, 403, 404, 422),
    auth=READ_CASES,
)
@paginate(LimitOffset)
def disbursements(
    request: ApiRequest, filters: Query[DisbursementFilter]
) -> QuerySet[Disbursement]:
    """List the disbursements of the cases you may open, newest first."""
    found = _disbursements().filter(case__in=Case.objects.for_user(request.auth))
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.case:
        found = found.filter(case=case_for_user(request.auth, filters.case))
    if filters.fund:
        found = found.filter(fund=get_fund(filters.fund))
    return found.order_by("-requested_at", "-pk")


@router.post(
    "/disbursements",
    response=answers(DisbursementOut, 400, 401, 403, 404, 409, 422),
    auth=WORK_CASES,
)
def request_money(request: ApiRequest, payload: DisbursementIn) -> Disbursement:
    """Request money for one of your cases; the same idempotency key again returns the same
    request (409 with other values)."""
    case = case_for_user(request.auth, payload.case)
    fund = get_fund(payload.fund)
    payee = Payee.objects.filter(pk=payload.payee).first()
    if payee is None:
        raise HttpError(400, f"There is no payee #{payload.payee}.")
    document = None
    if payload.document is not None:
        document = Document.objects.filter(pk=payload.document, case=case).first()
        if document is None:
            raise HttpError(400, f"{case.ref} has no document #{payload.document}.")
    requested = request_disbursement(
        actor=request.auth,
        case=case,
        fund=fund,
        category=payload.category,
        payee=payee,
        amount_cents=payload.amount,
        memo=payload.memo,
        idempotency_key=payload.idempotency_key,
        document=document,
    )
    return _shown(request, requested)


@router.post(
    "/disbursements/{disbursement_id}/approve",
    response=answers(DisbursementOut, 400, 401, 403, 404, 422),
    auth=APPROVE,
)
def approve(request: ApiRequest, disbursement_id: RowId) -> Disbursement:
    """Approve a request (a treasurer who did not request it; two above the threshold)."""
    found = disbursement_for_user(request.auth, disbursement_id)
    return _shown(request, approve_disbursement(actor=request.auth, disbursement=found))


@router.post(
    "/disbursements/{disbursement_id}/reject",
    response=answers(DisbursementOut, 400, 401, 403, 404, 422),
    auth=APPROVE,
)
def reject(request: ApiRequest, disbursement_id: RowId, payload: RejectIn) -> Disbursement:
    """Reject a requested or approved disbursement, with a reason."""
    found = disbursement_for_user(request.auth, disbursement_id)
    rejected = reject_disbursement(actor=request.auth, disbursement=found, reason=payload.reason)
    return _shown(request, rejected)


@router.post(
    "/disbursements/{disbursement_id}/pay",
    response=answers(DisbursementOut, 400, 401, 403, 404, 422),
    auth=APPROVE,
)
def pay(request: ApiRequest, disbursement_id: RowId, payload: PayIn) -> Disbursement:
    """Pay an approved disbursement: the ledger posts it from the bank. Safe to repeat."""
    found = disbursement_for_user(request.auth, disbursement_id)
    paid = pay_disbursement(
        actor=request.auth,
        disbursement=found,
        method=payload.method,
        reference=payload.reference,
        paid_on=payload.paid_on,
    )
    return _shown(request, paid)


@router.post(
    "/disbursements/{disbursement_id}/void",
    response=answers(DisbursementOut, 400, 401, 403, 404, 409, 422),
    auth=APPROVE,
)
def void(request: ApiRequest, disbursement_id: RowId, payload: VoidIn) -> Disbursement:
    """Void a paid disbursement, with a reason: the ledger posts its reversal. Safe to repeat."""
    found = disbursement_for_user(request.auth, disbursement_id)
    voided = void_disbursement(actor=request.auth, disbursement=found, reason=payload.reason)
    return _shown(request, voided)


# Bonds


def _bonds() -> QuerySet[Bond]:
    return Bond.objects.select_related(
        "case", "fund", "recorded_by", "posted_transaction", "closed_transaction"
    )


def _bond_for(bond_id: int) -> Bond:
    # The services load (and lock) the bond by its id through its case's scope: out of it, or
    # missing, is CaseNotFound (404). The API hands them only the id.
    return Bond(pk=bond_id)


@router.get("/bonds", response=answers(OutstandingOut, 400, 401, 403, 404, 422), auth=READ_BOOKS)
def bonds(request: ApiRequest, filters: Query[OutstandingFilter]) -> dict[str, object]:
    """Return the fund's bonds still out at the end of a day, oldest first, and their aging."""
    fund = get_fund(filters.fund)
    as_of = filters.as_of or timezone.localdate()
    return {
        "fund": fund.slug,
        "currency": fund.currency,
        "as_of": as_of,
        "bonds": outstanding_bonds(fund, as_of),
        "aging": bond_aging(fund, as_of),
    }


@router.post("/bonds", response=answers(BondOut, 400, 401, 403, 404, 409, 422), auth=RECORD_BONDS)
def record_bond(request: ApiRequest, payload: BondIn) -> Bond:
    """Record a bond posted for one of your cases; the amount leaves the bank. The same
    idempotency key again returns the same bond (409 for another case, fund or amount)."""
    case = case_for_user(request.auth, payload.case)
    posted = post_bond(
        actor=request.auth,
        case=case,
        fund=get_fund(payload.fund),
        amount_cents=payload.amount,
        obligor_name=payload.obligor_name,
        obligor_relationship=payload.obligor_relationship,
        obligor_contact=payload.obligor_contact,
        obligor_attested=payload.obligor_attested,
        receipt_number=payload.receipt_number,
        posted_on=payload.posted_on,
        idempotency_key=payload.idempotency_key,
    )
    return _bonds().get(pk=posted.pk)


@router.post(
    "/bonds/{bond_id}/cancel",
    response=answers(BondOut, 400, 401, 403, 404, 422),
    auth=RECORD_BONDS,
)
def cancel(request: ApiRequest, bond_id: RowId, payload: CancelIn) -> Bond:
    """Record that ICE cancelled the bond: its refund is due."""
    done = cancel_bond(
        actor=request.auth, bond=_bond_for(bond_id), cancelled_on=payload.cancelled_on
    )
    return _bonds().get(pk=done.pk)


@router.post(
    "/bonds/{bond_id}/refund",
    response=answers(BondOut, 400, 401, 403, 404, 422),
    auth=BOOK_BONDS,
)
def refund(request: ApiRequest, bond_id: RowId, payload: RefundIn) -> Bond:
    """Record a cancelled bond's refund in the bank, with ICE's interest (treasurers)."""
    done = record_bond_refund(
        actor=request.auth,
        bond=_bond_for(bond_id),
        principal_cents=payload.principal,
        interest_cents=payload.interest,
        received_on=payload.received_on,
    )
    return _bonds().get(pk=done.pk)


@router.post(
    "/bonds/{bond_id}/void",
    response=answers(BondOut, 400, 401, 403, 404, 422),
    auth=BOOK_BONDS,
)
def void_a_bond(request: ApiRequest, bond_id: RowId, payload: BondVoidIn) -> Bond:
    """Void a bond recorded by mistake, with a reason: the ledger posts the reversal of its
    posting (treasurers). Only a posted bond; safe to repeat."""
    done = void_bond(actor=request.auth, bond=_bond_for(bond_id), reason=payload.reason)
    return _bonds().get(pk=done.pk)


@router.post(
    "/bonds/{bond_id}/breach",
    response=answers(BondOut, 400, 401, 403, 404, 422),
    auth=RECORD_BONDS,
)
def breach(request: ApiRequest, bond_id: RowId, payload: BreachIn) -> Bond:
    """Record that ICE declared the bond breached."""
    done = record_bond_breach(
        actor=request.auth, bond=_bond_for(bond_id), breached_on=payload.breached_on
    )
    return _bonds().get(pk=done.pk)


@router.post(
    "/bonds/{bond_id}/forfeit",
    response=answers(BondOut, 400, 401, 403, 404, 422),
    auth=BOOK_BONDS,
)
def forfeit(request: ApiRequest, bond_id: RowId, payload: ForfeitIn) -> Bond:
    """Book a breached bond's forfeiture as a loss (treasurers)."""
    done = forfeit_bond(
        actor=request.auth, bond=_bond_for(bond_id), forfeited_on=payload.forfeited_on
    )
    return _bonds().get(pk=done.pk)

"""The donations API: gifts, deposits, pledges and payouts for GIFT_READERS (treasurers, auditors,
admins); who gave for DONOR_READERS (treasurers, admins); recording an offline gift, a deposit and
a pledge for GIFT_RECORDERS (treasurers). Mounted at /api/v1/ by fund.api.

As on the screens, an auditor sees a donor as "Donor #12" and an anonymous gift names no donor to
anyone; every answer that carries a donor's personal data is recorded in the access log.
Amounts are integer minor units of the fund's currency.
"""

from datetime import date
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from donations.models import Deposit, Donor, Gift, Payout, Pledge, RecurringGift
from donations.queries import (
    donor_gifts,
    donor_label,
    donor_monthly_gifts,
    donor_name,
    get_deposit,
    get_donor,
    get_gift,
    list_deposits,
    list_donors,
    list_gifts,
    list_payouts,
    list_pledges,
    outstanding_cents,
    personal_donors,
    pseudonym,
    shows_donors,
)
from donations.services.offline import (
    DonorDetails,
    ReturnReason,
    record_deposit,
    record_offline_gift,
    record_pledge,
    return_offline_gift,
    void_deposit,
)
from fund.ledger.api import book_day
from fund.ledger.posting import MAX_LEG_CENTS, SUPPLIED_KEY
from fund.ledger.queries import get_fund
from fund.schemas import LimitOffset, answers
from fund.security.access import record_access
from fund.security.api_auth import ApiRequest, staff_auth
from fund.security.models import AccessLog
from fund.security.roles import DONOR_READERS, GIFT_READERS, GIFT_RECORDERS

router = Router(tags=["donations"])
READ_GIFTS = staff_auth(GIFT_READERS)
READ_DONORS = staff_auth(DONOR_READERS)
RECORD_GIFTS = staff_auth(GIFT_RECORDERS)
BIGINT = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=BIGINT, description="The row's id.")]

GiftMethod = Literal["card", "check", "cash", "ach", "wire"]
OfflineMethod = Literal["check", "cash", "ach", "wire"]
GiftStatus = Literal["pending", "expired", "failed", "paid", "partially_refunded", "refunded"]


def _viewer(context: Any) -> Any:
    return context["request"].auth


class GiftOut(Schema):
    """A gift. `donor` is null for an anonymous gift; `donor_label` is who gave as the caller may
    see it: "Anonymous", "Donor #12", or (for DONOR_READERS) the name."""

    id: int
    fund: str = Field(..., alias="fund.slug")
    currency: str = Field(..., alias="fund.currency")
    method: GiftMethod
    status: GiftStatus
    frequency: Literal["once", "monthly"]
    amount: int = Field(..., alias="amount_cents", description="Minor units, fee cover included.")
    cover_fee: int = Field(..., alias="cover_fee_cents")
    fee: int = Field(..., alias="fee_cents", description="Stripe's fee, once known.")
    refunded: int = Field(..., alias="refunded_cents")
    disputed: int = Field(..., alias="disputed_cents")
    anonymous: bool
    received_on: date | None
    reference: str = Field(..., description="E.g. the check number.")
    donor: int | None = Field(None, description="The donor's id; null for an anonymous gift.")
    donor_label: str
    pledge: int | None = Field(None, alias="pledge_id")
    deposit: int | None = Field(None, alias="deposit_id")
    monthly_gift: int | None = Field(None, alias="recurring_id")
    transaction: str | None = Field(None, description="Reference of its ledger transaction.")
    receipt_sent: bool

    @staticmethod
    def resolve_donor(obj: Gift) -> int | None:
        return None if obj.anonymous else obj.donor_id

    @staticmethod
    def resolve_donor_label(obj: Gift, context: Any) -> str:
        return donor_label(obj, _viewer(context))

    @staticmethod
    def resolve_transaction(obj: Gift) -> str | None:
        return obj.transaction.reference if obj.transaction is not None else None

    @staticmethod
    def resolve_receipt_sent(obj: Gift) -> bool:
        return obj.receipt_sent_at is not None


class GiftPage(Schema):
    items: list[GiftOut]
    count: int


class GiftFilter(Schema):
    start: Annotated[date | None, book_day("First day received")] = None
    end: Annotated[date | None, book_day("Last day received")] = None
    method: GiftMethod | None = None
    status: GiftStatus | None = None


class DonorIn(Schema):
    """Who gave: a person (by e-mail address, required) or an organisation (by name)."""

    kind: Literal["person", "organisation"]
    email: str = Field("", max_length=254)
    name: str = Field("", max_length=200)
    organisation: str = Field("", max_length=200, description="An organisation's name.")
    address: str = Field("", max_length=500)
    employer: str = Field("", max_length=200)


class OfflineGiftIn(Schema):
    """A check, cash, ACH or wire gift, booked at once and receipted by e-mail."""

    method: OfflineMethod
    amount: int = Field(..., ge=1, le=MAX_LEG_CENTS, description="Minor units, at most MAX_AMOUNT.")
    received_on: Annotated[date, book_day("The day the gift was received")]
    reference: str = Field("", max_length=100, description="The check number (required for one).")
    donor: DonorIn | None = Field(None, description="Null for a gift toward a pledge.")
    pledge: int | None = Field(None, ge=1, le=BIGINT, description="The pledge it pays toward.")
    anonymous: bool = False
    language: Literal["en", "es"] = Field("en", description="The receipt's language.")
    idempotency_key: str = Field(
        ...,
        pattern=f"^{SUPPLIED_KEY.pattern}$",
        description="Yours, e.g. a UUID: the same key again returns the same gift.",
    )


IdempotencyKey = Annotated[
    str,
    Field(
        pattern=f"^{SUPPLIED_KEY.pattern}$",
        description="Yours, e.g. a UUID: the same key again returns the same record.",
    ),
]


class DepositIn(Schema):
    """Undeposited checks and cash taken to the bank together, by their gift ids."""

    gifts: list[Annotated[int, Field(ge=1, le=BIGINT)]] = Field(..., min_length=1, max_length=500)
    deposited_on: Annotated[date, book_day("The day deposited")]
    reference: str = Field("", max_length=100, description="The bank's slip number.")
    idempotency_key: IdempotencyKey


class GiftReturnIn(Schema):
    """Taking back an offline gift that did not hold (a bounced check, one recorded by mistake)."""

    reason: ReturnReason
    returned_on: Annotated[date, book_day("The day it is taken back")]


class DepositVoidIn(Schema):
    """Undoing a deposit recorded by mistake."""

    voided_on: Annotated[date, book_day("The day it is voided")]


class PledgeIn(Schema):
    """An organisation's promise to give an amount by a day."""

    organisation: str = Field(..., min_length=1, max_length=200)
    amount: int = Field(..., ge=1, le=MAX_LEG_CENTS, description="Minor units.")
    due_on: Annotated[date, book_day("The day it is due")]
    note: str = Field("", max_length=500)
    idempotency_key: IdempotencyKey


class DepositOut(Schema):
    id: int
    fund: str = Field(..., alias="fund.slug")
    deposited_on: date
    reference: str = Field(..., description="The bank's slip number.")
    amount: int = Field(..., alias="amount_cents")
    gifts: list[int]
    transaction: str | None = None
    void_transaction: str | None = Field(
        None, description="The reversal of a deposit voided as recorded by mistake."
    )

    @staticmethod
    def resolve_void_transaction(obj: Deposit) -> str | None:
        return obj.void_transaction.reference if obj.void_transaction is not None else None

    @staticmethod
    def resolve_gifts(obj: Deposit) -> list[int]:
        return sorted(gift.pk for gift in obj.gifts.all())

    @staticmethod
    def resolve_transaction(obj: Deposit) -> str | None:
        return obj.transaction.reference if obj.transaction is not None else None


class PledgeOut(Schema):
    id: int
    fund: str = Field(..., alias="fund.slug")
    donor: int = Field(..., alias="donor_id")
    donor_label: str = Field(..., description='The organisation, or "Donor #12".')
    amount: int = Field(..., alias="amount_cents")
    received: int = Field(..., alias="received_cents")
    outstanding: int
    due_on: date
    overdue: bool = Field(..., description="Due before today and not fully received.")
    note: str

    @staticmethod
    def resolve_donor_label(obj: Pledge, context: Any) -> str:
        return donor_name(obj.donor) if shows_donors(_viewer(context)) else pseudonym(obj.donor)

    @staticmethod
    def resolve_outstanding(obj: Pledge) -> int:
        return outstanding_cents(obj)


class PayoutOut(Schema):
    id: int
    fund: str = Field(..., alias="fund.slug")
    stripe_payout: str
    amount: int = Field(..., alias="amount_cents")
    arrival_date: date
    status: Literal["paid", "failed"]
    reconciliation: Literal["pending", "matched", "mismatched"]
    differences: list[str] = Field(..., description="What differs from the ledger, line by line.")
    transaction: str | None = None

    @staticmethod
    def resolve_transaction(obj: Payout) -> str | None:
        return obj.transaction.reference if obj.transaction is not None else None


class DonorOut(Schema):
    id: int
    kind: Literal["person", "organisation"]
    name: str
    organisation: str
    email: str
    address: str
    employer: str
    language: str
    list_as_supporter: bool


class DonorPage(Schema):
    items: list[DonorOut]
    count: int


class DonorFilter(Schema):
    kind: Literal["person", "organisation"] | None = None


class DonorGiftOut(Schema):
    id: int
    fund: str = Field(..., alias="fund.slug")
    method: GiftMethod
    status: GiftStatus
    amount: int = Field(..., alias="amount_cents")
    refunded: int = Field(..., alias="refunded_cents")
    received_on: date | None
    anonymous: bool


class MonthlyGiftOut(Schema):
    id: int
    fund: str = Field(..., alias="fund.slug")
    amount: int = Field(..., alias="amount_cents")
    status: Literal["incomplete", "active", "past_due", "canceled"]


class DonorDetailOut(DonorOut):
    gifts: list[DonorGiftOut]
    monthly_gifts: list[MonthlyGiftOut]
    pledges: list[int]


# Gifts


@router.get(
    "/funds/{slug}/gifts",
    response=answers(GiftPage, 400, 401, 403, 404, 422),
    auth=READ_GIFTS,
)
def gifts(
    request: ApiRequest,
    slug: str,
    filters: Query[GiftFilter],
    window: Query[LimitOffset.Input],
) -> dict[str, object]:
    """List the fund's gifts, newest received first, filtered by day received, method, status."""
    fund = get_fund(slug)
    if filters.start and filters.end and filters.start > filters.end:
        raise HttpError(400, "start must be on or before end.")
    found = list_gifts(
        fund=fund,
        start=filters.start,
        end=filters.end,
        method=filters.method,
        status=filters.status,
    )
    items = list(found[window.offset : window.offset + window.limit])
    _record_shown(request, personal_donors(items, request.auth), "API gifts")
    return {"items": items, "count": found.count()}


@router.get("/gifts/{gift_id}", response=answers(GiftOut, 400, 401, 403, 404, 422), auth=READ_GIFTS)
def gift(request: ApiRequest, gift_id: RowId) -> Gift:
    """Return one gift."""
    found = get_gift(gift_id)
    _record_shown(request, personal_donors([found], request.auth), "API gift")
    return found


@router.post(
    "/funds/{slug}/gifts",
    response=answers(GiftOut, 400, 401, 403, 404, 409, 422),
    auth=RECORD_GIFTS,
)
def record_gift(request: ApiRequest, slug: str, payload: OfflineGiftIn) -> Gift:
    """Record a check, cash, ACH or wire gift; the same idempotency key again returns it (409
    with other values)."""
    fund = get_fund(slug)
    pledge = None
    if payload.pledge is not None:
        pledge = Pledge.objects.filter(pk=payload.pledge).first()
        if pledge is None:
            raise HttpError(400, f"There is no pledge #{payload.pledge}.")
    donor = None
    if payload.donor is not None:
        donor = DonorDetails(
            kind=payload.donor.kind,
            email=payload.donor.email,
            name=payload.donor.name,
            organisation=payload.donor.organisation,
            address=payload.donor.address,
            employer=payload.donor.employer,
        )
    recorded = record_offline_gift(
        actor=request.auth,
        fund=fund,
        method=payload.method,
        amount_cents=payload.amount,
        received_on=payload.received_on,
        donor=donor,
        reference=payload.reference,
        pledge=pledge,
        anonymous=payload.anonymous,
        language=payload.language,
        idempotency_key=payload.idempotency_key,
    )
    return get_gift(recorded.pk)


# Deposits, pledges, payouts


@router.get(
    "/funds/{slug}/deposits",
    response=answers(list[DepositOut], 400, 401, 403, 404, 422),
    auth=READ_GIFTS,
)
@paginate(LimitOffset)
def deposits(request: ApiRequest, slug: str) -> QuerySet[Deposit]:
    """List the fund's deposits, newest first, with the gifts in each."""
    return list_deposits(fund=get_fund(slug)).prefetch_related("gifts")


@router.get(
    "/deposits/{deposit_id}",
    response=answers(DepositOut, 400, 401, 403, 404, 422),
    auth=READ_GIFTS,
)
def deposit(request: ApiRequest, deposit_id: RowId) -> Deposit:
    """Return one deposit with its gifts."""
    return get_deposit(deposit_id)


@router.post(
    "/funds/{slug}/deposits",
    response=answers(DepositOut, 400, 401, 403, 404, 409, 422),
    auth=RECORD_GIFTS,
)
def record_a_deposit(request: ApiRequest, slug: str, payload: DepositIn) -> Deposit:
    """Record a deposit of the fund's undeposited checks and cash (Undeposited funds → Bank);
    the same idempotency key again returns it (409 with other values)."""
    recorded = record_deposit(
        actor=request.auth,
        fund=get_fund(slug),
        gift_ids=payload.gifts,
        deposited_on=payload.deposited_on,
        reference=payload.reference,
        idempotency_key=payload.idempotency_key,
    )
    return get_deposit(recorded.pk)


@router.post(
    "/gifts/{gift_id}/return",
    response=answers(GiftOut, 400, 401, 403, 404, 422),
    auth=RECORD_GIFTS,
)
def return_a_gift(request: ApiRequest, gift_id: RowId, payload: GiftReturnIn) -> Gift:
    """Take back an offline gift (Refunds ← Undeposited funds or Bank); again, nothing more."""
    return_offline_gift(
        actor=request.auth,
        gift=get_gift(gift_id),
        returned_on=payload.returned_on,
        reason=payload.reason,
    )
    found = get_gift(gift_id)
    _record_shown(request, personal_donors([found], request.auth), "API gift")
    return found


@router.post(
    "/deposits/{deposit_id}/void",
    response=answers(DepositOut, 400, 401, 403, 404, 422),
    auth=RECORD_GIFTS,
)
def void_a_deposit(request: ApiRequest, deposit_id: RowId, payload: DepositVoidIn) -> Deposit:
    """Void a deposit recorded by mistake: its checks and cash are undeposited again."""
    void_deposit(actor=request.auth, deposit=get_deposit(deposit_id), voided_on=payload.voided_on)
    return get_deposit(deposit_id)


@router.post(
    "/funds/{slug}/pledges",
    response=answers(PledgeOut, 400, 401, 403, 404, 409, 422),
    auth=RECORD_GIFTS,
)
def record_a_pledge(request: ApiRequest, slug: str, payload: PledgeIn) -> Pledge:
    """Record an organisation's pledge; the same idempotency key again returns it (409 with
    other values)."""
    recorded = record_pledge(
        actor=request.auth,
        fund=get_fund(slug),
        organisation=payload.organisation,
        amount_cents=payload.amount,
        due_on=payload.due_on,
        note=payload.note,
        idempotency_key=payload.idempotency_key,
    )
    return list_pledges(fund=recorded.fund).get(pk=recorded.pk)


@router.get(
    "/funds/{slug}/pledges",
    response=answers(list[PledgeOut], 400, 401, 403, 404, 422),
    auth=READ_GIFTS,
)
@paginate(LimitOffset)
def pledges(request: ApiRequest, slug: str) -> QuerySet[Pledge]:
    """List the fund's pledges, soonest due first: pledged, received, outstanding, overdue."""
    return list_pledges(fund=get_fund(slug))


@router.get(
    "/funds/{slug}/payouts",
    response=answers(list[PayoutOut], 400, 401, 403, 404, 422),
    auth=READ_GIFTS,
)
@paginate(LimitOffset)
def payouts(request: ApiRequest, slug: str) -> QuerySet[Payout]:
    """List the fund's Stripe payouts, newest first, each matched or with its differences."""
    return list_payouts(fund=get_fund(slug))


# Donors


@router.get("/donors", response=answers(DonorPage, 400, 401, 403, 422), auth=READ_DONORS)
def donors(
    request: ApiRequest, filters: Query[DonorFilter], window: Query[LimitOffset.Input]
) -> dict[str, object]:
    """List donors, newest first, with their personal data (each listing is recorded)."""
    found = list_donors(kind=filters.kind)
    items = list(found[window.offset : window.offset + window.limit])
    _record_shown(request, items, "API donors")
    return {"items": items, "count": found.count()}


@router.get(
    "/donors/{donor_id}",
    response=answers(DonorDetailOut, 400, 401, 403, 404, 422),
    auth=READ_DONORS,
)
def donor(request: ApiRequest, donor_id: RowId) -> dict[str, object]:
    """Return a donor with their gifts (anonymous ones too), monthly gifts and pledges."""
    found = get_donor(donor_id)
    _record_shown(request, [found], "API donor")
    monthly: list[RecurringGift] = list(donor_monthly_gifts(found))
    return {
        **{field: getattr(found, field) for field in DonorOut.model_fields},
        "gifts": list(donor_gifts(found)),
        "monthly_gifts": monthly,
        "pledges": list(found.pledges.order_by("pk").values_list("pk", flat=True)),
    }


def _record_shown(request: ApiRequest, shown: list[Donor], detail: str) -> None:
    for donor_ in shown:
        record_access(user=request.auth, action=AccessLog.Action.VIEW, obj=donor_, detail=detail)

"""Reads of gifts, donors, deposits, pledges and payouts for the treasurer screens and the API, and
who may see whom.

Gifts are for GIFT_READERS; who gave them is for DONOR_READERS only: anyone else (an auditor) sees
a donor as "Donor #12". An anonymous gift shows "Anonymous" everywhere, to everyone, except on its
donor's own page. The views and the API record every showing of a donor's personal data
(fund.security.access.record_access); `personal_donors` says which donors a page shows so.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from donations.errors import DonationError
from donations.models import (
    Deposit,
    Donor,
    DonorEvent,
    Gift,
    Payout,
    Pledge,
    RecurringGift,
)
from donations.services.donors import email_index
from fund.ledger.models import Account, Fund, Posting
from fund.security.roles import DONOR_READERS

Viewer = User | AnonymousUser
ANONYMOUS = "Anonymous"


def received(prefix: str = "") -> Coalesce:
    """What gifts still count for (booked, less what was refunded or lost in a dispute), summed;
    `prefix` reaches them through a relation ("gifts__" from donors)."""
    return Coalesce(
        Sum(
            F(f"{prefix}amount_cents")
            - F(f"{prefix}refunded_cents")
            - F(f"{prefix}disputed_cents"),
            filter=Q(**{f"{prefix}transaction__isnull": False}),
        ),
        Value(0),
    )


RECEIVED = received("gifts__")


def shows_donors(viewer: Viewer) -> bool:
    """Return whether the viewer may see who gave (names, e-mail, addresses)."""
    return DONOR_READERS.allows(viewer)


def pseudonym(donor: Donor | int) -> str:
    """Return how a donor is named to those who may not see who gave: "Donor #12"."""
    return f"Donor #{donor if isinstance(donor, int) else donor.pk}"


def donor_name(donor: Donor) -> str:
    """Return a donor's name as a treasurer sees it: the organisation's, or the person's."""
    if donor.kind == Donor.Kind.ORGANISATION:
        return donor.organisation
    return donor.name or pseudonym(donor)


def donor_label(gift: Gift, viewer: Viewer) -> str:
    """Return who gave a gift, as this viewer may see it, anywhere but the donor's own page."""
    if gift.anonymous:
        return ANONYMOUS
    if not shows_donors(viewer):
        return pseudonym(gift.donor_id)
    return donor_name(gift.donor)


def personal_donors(gifts: Iterable[Gift], viewer: Viewer) -> list[Donor]:
    """Return the persons whose names donor_label shows this viewer for these gifts, once each.

    An organisation's name is not personal data, and an anonymous gift shows no one.
    """
    if not shows_donors(viewer):
        return []
    found: dict[int, Donor] = {}
    for gift in gifts:
        if not gift.anonymous and gift.donor.kind == Donor.Kind.PERSON and gift.donor.name:
            found.setdefault(gift.donor_id, gift.donor)
    return list(found.values())


# Gifts


def list_gifts(
    *,
    fund: Fund | None = None,
    start: date | None = None,
    end: date | None = None,
    method: str | None = None,
    status: str | None = None,
) -> QuerySet[Gift]:
    """Return gifts, newest received first (checkouts not yet paid last), filtered.

    Dates are the day a gift was received; a date filter leaves out gifts never received.
    """
    gifts = Gift.objects.all()
    if fund is not None:
        gifts = gifts.filter(fund=fund)
    if start:
        gifts = gifts.filter(received_on__gte=start)
    if end:
        gifts = gifts.filter(received_on__lte=end)
    if method:
        gifts = gifts.filter(method=method)
    if status:
        gifts = gifts.filter(status=status)
    return gifts.select_related("fund", "donor", "transaction", "deposit").order_by(
        F("received_on").desc(nulls_last=True), "-pk"
    )


def get_gift(pk: int) -> Gift:
    """Return the gift with this id or raise Http404."""
    return get_object_or_404(
        Gift.objects.select_related(
            "fund", "donor", "transaction", "fee_transaction", "deposit", "pledge", "recorded_by"
        ),
        pk=pk,
    )


def list_undeposited(fund: Fund) -> QuerySet[Gift]:
    """Return the fund's checks and cash received and not yet taken to the bank, oldest first."""
    return (
        Gift.objects.filter(
            fund=fund,
            method__in=(Gift.Method.CHECK, Gift.Method.CASH),
            status=Gift.Status.PAID,
            transaction__isnull=False,
            deposit__isnull=True,
        )
        .select_related("donor")
        .order_by("received_on", "pk")
    )


# Deposits


def list_deposits(*, fund: Fund | None = None) -> QuerySet[Deposit]:
    """Return deposits, newest first, each with its count of gifts."""
    deposits = Deposit.objects.all() if fund is None else Deposit.objects.filter(fund=fund)
    return (
        deposits.select_related("fund", "transaction", "void_transaction")
        .annotate(gift_count=Count("gifts"))
        .order_by("-deposited_on", "-pk")
    )


def get_deposit(pk: int) -> Deposit:
    """Return the deposit with this id or raise Http404."""
    return get_object_or_404(
        Deposit.objects.select_related("fund", "transaction", "void_transaction", "recorded_by"),
        pk=pk,
    )


def deposit_gifts(deposit: Deposit) -> QuerySet[Gift]:
    """Return the gifts of a deposit in slip order: checks by number, then cash."""
    return deposit.gifts.select_related("donor").order_by("-method", "reference", "pk")


# Pledges


def list_pledges(*, fund: Fund | None = None, donor: Donor | None = None) -> QuerySet[Pledge]:
    """Return pledges, soonest due first, each with what was received toward it, what is
    outstanding, and whether it is overdue (due before today and not fully received)."""
    pledges = Pledge.objects.all()
    if fund is not None:
        pledges = pledges.filter(fund=fund)
    if donor is not None:
        pledges = pledges.filter(donor=donor)
    return (
        pledges.select_related("fund", "donor")
        .annotate(received_cents=RECEIVED)
        .annotate(
            overdue=ExpressionWrapper(
                Q(due_on__lt=timezone.localdate()) & Q(received_cents__lt=F("amount_cents")),
                output_field=BooleanField(),
            )
        )
        .order_by("due_on", "pk")
    )


def count_overdue(pledges: QuerySet[Pledge]) -> int:
    """Return how many pledges from list_pledges are overdue."""
    return pledges.filter(Q(overdue=True)).count()


def get_pledge(pk: int) -> Pledge:
    """Return the pledge with this id, with received_cents and overdue, or raise Http404."""
    return get_object_or_404(list_pledges(), pk=pk)


def outstanding_cents(pledge: Pledge) -> int:
    """Return what is still to come of a pledge from list_pledges (never below zero)."""
    received: int = getattr(pledge, "received_cents", 0)
    return max(pledge.amount_cents - received, 0)


# Donors


@dataclass(frozen=True)
class DonorTotals:
    """What a donor gave: gifts booked, their gross, and what was refunded."""

    gifts: int
    given_cents: int
    refunded_cents: int


def list_donors(*, kind: str | None = None) -> QuerySet[Donor]:
    """Return donors, newest first, each with its count of gifts booked and what they came to."""
    donors = Donor.objects.all() if not kind else Donor.objects.filter(kind=kind)
    booked = Q(gifts__transaction__isnull=False)
    return donors.annotate(
        gift_count=Count("gifts", filter=booked),
        given_cents=Coalesce(Sum("gifts__amount_cents", filter=booked), Value(0)),
    ).order_by("-pk")


def get_donor(pk: int) -> Donor:
    """Return the donor with this id or raise Http404."""
    return get_object_or_404(Donor, pk=pk)


def find_donor_by_email(email: str) -> Donor | None:
    """Return the person donor with this e-mail address (any case), found by its blind index."""
    try:
        index = email_index(email)
    except DonationError:
        return None
    return Donor.objects.filter(email_index=index).first()


def donor_gifts(donor: Donor) -> QuerySet[Gift]:
    """Return a donor's gifts, anonymous ones included, newest first."""
    return donor.gifts.select_related("fund", "transaction").order_by(
        F("received_on").desc(nulls_last=True), "-pk"
    )


def donor_totals(donor: Donor) -> DonorTotals:
    """Return what a donor's booked gifts came to."""
    found = donor.gifts.filter(transaction__isnull=False).aggregate(
        gifts=Count("pk"), given=Sum("amount_cents"), refunded=Sum("refunded_cents")
    )
    return DonorTotals(
        gifts=found["gifts"], given_cents=found["given"] or 0, refunded_cents=found["refunded"] or 0
    )


def donor_monthly_gifts(donor: Donor) -> QuerySet[RecurringGift]:
    """Return a donor's monthly gifts, newest first."""
    return donor.recurring_gifts.select_related("fund").order_by("-pk")


# Payouts


def list_payouts(*, fund: Fund | None = None) -> QuerySet[Payout]:
    """Return Stripe payouts, newest first, with their reconciliation."""
    payouts = Payout.objects.all() if fund is None else Payout.objects.filter(fund=fund)
    return payouts.select_related("fund", "transaction").order_by("-arrival_date", "-pk")


# History


@dataclass(frozen=True)
class HistoryEntry:
    """One change to a donor's record: when, by whom (None: the system), which fields."""

    at: datetime
    by: str | None
    what: str


def donor_history(donor: Donor) -> list[HistoryEntry]:
    """Return the changes to a donor's record, newest first, naming fields, never their values."""
    # pghistory makes DonorEvent at import time, so its fields are unknown to the type checker.
    events: list[Any] = list(
        DonorEvent._default_manager.filter(pgh_obj=donor)
        .select_related("pgh_context")
        .order_by("-pgh_created_at", "-pgh_id")
    )
    user_ids = {user for event in events if (user := _user_of(event)) is not None}
    names = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))
    entries = []
    # A row whose changed_at moved is a treasurer's correction (update_donor); any other update
    # (a donor giving again with a new language) carries the last correction's fields unchanged.
    earlier_change = None
    for event in reversed(events):
        if event.pgh_label == "insert":
            what = "Record created"
        elif event.changed_at != earlier_change and event.changed_fields:
            what = f"Corrected: {event.changed_fields}"
        else:
            what = "Record updated"
        earlier_change = event.changed_at
        user = _user_of(event)
        by = names.get(user) if user is not None else None
        entries.append(HistoryEntry(at=event.pgh_created_at, by=by, what=what))
    return entries[::-1]


def _user_of(event: Any) -> int | None:
    context = getattr(event, "pgh_context", None)
    user = (context.metadata or {}).get("user") if context is not None else None
    return user if isinstance(user, int) else None


# Reports: the reads behind donations/reports.py (gifts register, pledges, Stripe
# reconciliation). They return ids, amounts, dates and an organisation's name, never a person's
# name or contact: a report names a person donor "Donor #12" (report_donor).


def report_donor(*, anonymous: bool, donor_id: int, kind: str, organisation: str) -> str:
    """Return who gave, as every report prints it: "Anonymous", an organisation's name, or
    "Donor #12" for a person (reports go to auditors, who never see who a person donor is)."""
    if anonymous:
        return ANONYMOUS
    if kind == Donor.Kind.ORGANISATION and organisation:
        return organisation
    return pseudonym(donor_id)


def booked_gifts(fund: Fund, start: date, end: date) -> QuerySet[Gift, Any]:
    """Return the gifts the ledger booked in the period (by the entry's date), in that order."""
    return (
        Gift.objects.filter(fund=fund, transaction__effective_date__range=(start, end))
        .order_by("transaction__effective_date", "pk")
        .values(
            "pk",
            "transaction__effective_date",
            "donor_id",
            "donor__kind",
            "donor__organisation",
            "anonymous",
            "method",
            "status",
            "amount_cents",
            "fee_cents",
            "refunded_cents",
            "disputed_cents",
        )
    )


def pledges_at(fund: Fund, start: date, end: date) -> QuerySet[Pledge, Any]:
    """Return the pledges recorded by the period's end that were due in or after it, or still
    short then, soonest due first, each with what gifts booked by the end gave toward it."""
    received = Coalesce(
        Sum(
            F("gifts__amount_cents") - F("gifts__refunded_cents"),
            filter=Q(gifts__transaction__effective_date__lte=end),
        ),
        Value(0),
    )
    return (
        Pledge.objects.filter(fund=fund, created_at__date__lte=end)
        .annotate(received_cents=received)
        .filter(Q(due_on__gte=start) | Q(received_cents__lt=F("amount_cents")))
        .order_by("due_on", "pk")
        .values("pk", "donor__organisation", "amount_cents", "due_on", "received_cents")
    )


def stripe_clearing_flows(fund: Fund, start: date, end: date) -> list[tuple[str, str, int]]:
    """Return what moved Stripe clearing in the period, as (entry kind, other account's role,
    cents into clearing): the other legs of every entry that touched it, summed."""
    clearing = Account.objects.get(fund=fund, role=Account.Role.STRIPE_CLEARING)
    touched = Posting.objects.filter(account=clearing, effective_date__range=(start, end))
    rows = (
        Posting.objects.filter(transaction__in=touched.values("transaction"))
        .exclude(account=clearing)
        .order_by()
        .values_list("transaction__kind", "account__role")
        .annotate(cents=Sum("amount_cents"))
    )
    return [(kind, role, -int(cents)) for kind, role, cents in rows]


def payouts_arriving(fund: Fund, start: date, end: date) -> QuerySet[Payout]:
    """Return the fund's Stripe payouts that arrived (or were due to) in the period, in order."""
    return (
        Payout.objects.filter(fund=fund, arrival_date__range=(start, end))
        .only(
            "pk",
            "stripe_payout",
            "amount_cents",
            "arrival_date",
            "status",
            "reconciliation",
            "differences",
        )
        .order_by("arrival_date", "pk")
    )


def contributions_booked(fund: Fund, start: date, end: date) -> int:
    """Return the ledger's contributions of the period: what the Contributions account was
    credited, less any debit (a correction), by effective date."""
    found = Posting.objects.filter(
        account__fund=fund,
        account__role=Account.Role.CONTRIBUTIONS,
        effective_date__range=(start, end),
    ).aggregate(cents=Sum("amount_cents"))
    return -int(found["cents"] or 0)

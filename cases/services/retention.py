"""Retention: a closed case's personal data is purged once CASE_RETENTION_DAYS have passed.

A purge blanks every encrypted field of the case and of what hangs on it (timeline texts, hearing
outcomes, bond obligors and receipt numbers, disbursement memos), deletes its documents (rows
and files), clears the A-number's index and sets `purged_at`. What stays is the pseudonymous
case: its reference, status, dates and money, which the ledger needs and which name no one (the
ledger only ever had the reference). The change history (pghistory) never held the encrypted
columns, so it keeps no copy. Payees are the fund's (an attorney paid for many cases, a W-9 kept
for 1099s): they stay.

Not purged: a case on legal hold, and a case whose money is still in flight (a bond not yet
refunded or forfeited, whose refund ICE pays to the obligor; a disbursement requested or
approved but not paid). See docs/cases.md, "Retention".
"""

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from cases.errors import CaseError, CaseNotFound
from cases.models import Bond, Case, Disbursement, Hearing, TimelineEntry
from cases.services.cases import add_timeline_entry, is_legal_director
from cases.services.documents import delete_case_documents
from fund.errors import NotAllowed
from fund.security.fields import EncryptedTextField
from fund.security.roles import CASE_PURGERS, StaffRole, roles_of

logger = logging.getLogger(__name__)

REASON_LIMIT = 500
PURGED_TEXT = "Personal data purged under the retention policy."
# Money still in flight keeps the case's details: ICE refunds a cancelled bond to its obligor.
OPEN_BONDS = frozenset({Bond.Status.POSTED, Bond.Status.CANCELLED, Bond.Status.BREACHED})
OPEN_DISBURSEMENTS = frozenset({Disbursement.Status.REQUESTED, Disbursement.Status.APPROVED})


@dataclass(frozen=True)
class PurgedCase:
    """One case a purge blanked (or, in a dry run, would blank), and how much of each kind."""

    ref: str
    timeline_entries: int
    hearings: int
    bonds: int
    disbursements: int
    documents: int


@dataclass(frozen=True)
class PurgeReport:
    """What a purge did (`applied`) or would do: the cases, and the expired ones it left alone."""

    applied: bool
    closed_before: date
    cases: list[PurgedCase] = field(default_factory=list)
    on_hold: list[str] = field(default_factory=list)
    money_open: list[str] = field(default_factory=list)

    @property
    def refs(self) -> list[str]:
        return [case.ref for case in self.cases]


def retention_cutoff(today: date) -> date:
    """Return the day a case must have closed before to be purged on `today`."""
    return today - timedelta(days=settings.CASE_RETENTION_DAYS)


def expired_cases(today: date) -> models.QuerySet[Case]:
    """Return the closed, not yet purged cases that closed more than CASE_RETENTION_DAYS ago
    (legal hold or not), oldest reference first."""
    return Case.objects.filter(
        status=Case.Status.CLOSED,
        closed_on__lt=retention_cutoff(today),
        purged_at__isnull=True,
    ).order_by("year", "number")


def _has_open_money(case: Case) -> bool:
    return (
        Bond.objects.filter(case=case, status__in=OPEN_BONDS).exists()
        or Disbursement.objects.filter(case=case, status__in=OPEN_DISBURSEMENTS).exists()
    )


def purge_expired(
    *, actor: User | None = None, apply: bool = False, today: date | None = None
) -> PurgeReport:
    """Purge the personal data of every expired case (see the module); a dry run unless `apply`.

    None is the operator at the command line; a person must be an admin. Each case is purged in
    a transaction of its own, under its lock, and logged by reference.
    """
    CASE_PURGERS.check(actor)
    today = today or timezone.localdate()
    report = PurgeReport(applied=apply, closed_before=retention_cutoff(today))
    for case in expired_cases(today):
        if case.legal_hold:
            report.on_hold.append(case.ref)
        elif _has_open_money(case):
            report.money_open.append(case.ref)
        elif apply:
            purged = _purge(case=case, actor=actor, today=today)
            if purged is not None:
                report.cases.append(purged)
        else:
            report.cases.append(_counts(case))
    return report


def _counts(case: Case) -> PurgedCase:
    return PurgedCase(
        ref=case.ref,
        timeline_entries=TimelineEntry.objects.filter(case=case).count(),
        hearings=Hearing.objects.filter(case=case).count(),
        bonds=Bond.objects.filter(case=case).count(),
        disbursements=Disbursement.objects.filter(case=case).count(),
        documents=case.documents.count(),
    )


def _blank(instance: models.Model) -> None:
    names = [f.name for f in instance._meta.concrete_fields if isinstance(f, EncryptedTextField)]
    for name in names:
        setattr(instance, name, "")
    # save() encrypts the blank for its row; a queryset update() cannot (and is refused).
    instance.save(update_fields=names)


@transaction.atomic
def _purge(*, case: Case, actor: User | None, today: date) -> PurgedCase | None:
    case = Case.objects.select_for_update().get(pk=case.pk)
    # Looked at again under the lock: a hold placed, or a purge run, since the list was read.
    if (
        case.purged_at is not None
        or case.legal_hold
        or case.closed_on is None
        or case.closed_on >= retention_cutoff(today)
        or _has_open_money(case)
    ):
        return None
    counts = _counts(case)
    for model in (TimelineEntry, Hearing, Bond, Disbursement):
        for row in model._default_manager.select_for_update().filter(case=case).order_by("pk"):
            _blank(row)
    delete_case_documents(case)
    case.a_number_index = ""
    case.purged_at = timezone.now()
    case.save(update_fields=["a_number_index", "purged_at"])
    _blank(case)
    add_timeline_entry(case=case, kind=TimelineEntry.Kind.STATUS, text=PURGED_TEXT, actor=actor)
    logger.info(
        "purged the personal data of %s (closed %s): %s timeline entries, %s hearings, %s bonds, "
        "%s disbursements, %s documents",
        case.ref,
        case.closed_on,
        counts.timeline_entries,
        counts.hearings,
        counts.bonds,
        counts.disbursements,
        counts.documents,
    )
    return counts


def may_set_legal_hold(user: User) -> bool:
    """Return whether the user may place or lift a legal hold (a legal director or an admin)."""
    return StaffRole.ADMIN in roles_of(user) or is_legal_director(user)


@transaction.atomic
def set_legal_hold(*, actor: User, case: Case, hold: bool, reason: str) -> Case:
    """Place a case on legal hold (its data is kept past the retention period) or lift it.

    A legal director or an admin, with a reason that goes on the timeline. Setting the hold the
    case already has changes nothing; a purged case cannot be held (its data is gone).
    """
    if not may_set_legal_hold(actor):
        raise NotAllowed("Only a legal director or an admin can place or lift a legal hold.")
    reason = reason.strip()
    if not reason:
        raise CaseError("Say why the legal hold is placed or lifted.")
    if len(reason) > REASON_LIMIT:
        raise CaseError(f"A legal hold's reason is at most {REASON_LIMIT} characters.")
    try:
        case = Case.objects.for_user(actor).select_for_update().get(pk=case.pk)
    except Case.DoesNotExist:
        raise CaseNotFound("There is no such case.") from None
    if case.legal_hold == hold:
        return case
    if case.purged_at is not None:
        raise CaseError(f"{case.ref} was purged: there is nothing left to hold.")
    case.legal_hold = hold
    case.save(update_fields=["legal_hold"])
    verb = "placed" if hold else "lifted"
    add_timeline_entry(
        case=case,
        kind=TimelineEntry.Kind.STATUS,
        text=f"Legal hold {verb}: {reason}",
        actor=actor,
    )
    logger.info("legal hold %s on %s", verb, case.ref)
    return case

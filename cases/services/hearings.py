"""Hearings of a case, their reminders, and the coordinator's private calendar address.

A hearing is the case's reference, a time, a court and a kind: nothing in it says who the person
is, so reminders and the calendar feed carry those and never a name. Only the outcome, which the
coordinator types, is encrypted (it may name people). Every change goes on the case's timeline.

Who: legal coordinators (CASE_WORKERS), on cases they may open (a legal director on any); out of
scope is CaseNotFound. See docs/cases.md, "Hearings and the calendar".
"""

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cases.errors import CaseError, CaseNotFound
from cases.models import CalendarFeed, Case, Hearing, TimelineEntry
from cases.services.cases import add_timeline_entry
from fund.security.roles import CASE_WORKERS, StaffRole, roles_of
from fund.tasks import send_staff_email

logger = logging.getLogger(__name__)

COURT_LIMIT = 200
JUDGE_LIMIT = 200
OUTCOME_LIMIT = 2000
FEED_PATH = "/cases/calendar/{token}.ics"
REMINDER_TEMPLATE = "cases/email/hearing_reminder"


def kind_label(kind: str) -> str:
    """Return how people name a hearing of this kind ("Bond hearing")."""
    label = str(Hearing.Kind(kind).label)
    return label if label.endswith("hearing") else f"{label} hearing"


def when(at: datetime) -> str:
    """Return a hearing's time in the fund's time zone, as the timeline and e-mails print it."""
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M %Z}"


def _checked(name: str, value: str, limit: int, *, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise CaseError(f"A hearing needs its {name}.")
    if len(value) > limit:
        raise CaseError(f"A hearing's {name} is at most {limit} characters.")
    return value


def _checked_time(at: datetime) -> datetime:
    if timezone.is_naive(at):
        raise CaseError("A hearing's time needs its time zone.")
    # Checked before any conversion to UTC, which a year 1 or 9999 would overflow.
    if not 2000 <= at.year <= 2099:
        raise CaseError("A hearing's time is between 2000 and 2099.")
    # Every place on Earth is within UTC-12:00 and UTC+14:00; PostgreSQL refuses beyond ±15:59.
    offset = at.utcoffset()
    if offset is None or not timedelta(hours=-12) <= offset <= timedelta(hours=14):
        raise CaseError("A hearing's time zone is between UTC-12:00 and UTC+14:00.")
    return at


def _locked_case(actor: User, case: Case) -> Case:
    try:
        case = Case.objects.for_user(actor).select_for_update().get(pk=case.pk)
    except Case.DoesNotExist:
        raise CaseNotFound("There is no such case.") from None
    if case.purged_at is not None:
        raise CaseError(f"{case.ref} was purged: it takes no more hearings.")
    return case


def _locked_hearing(actor: User, hearing: Hearing) -> Hearing:
    try:
        found = (
            Hearing.objects.select_for_update(of=("self",))
            .select_related("case")
            .get(pk=hearing.pk, case__in=Case.objects.for_user(actor))
        )
    except Hearing.DoesNotExist:
        raise CaseNotFound("There is no such hearing.") from None
    if found.case.purged_at is not None:
        raise CaseError(f"{found.case.ref} was purged: its hearings cannot change.")
    return found


@transaction.atomic
def add_hearing(
    *,
    actor: User,
    case: Case,
    at: datetime,
    court: str,
    kind: str,
    judge: str = "",
    outcome: str = "",
) -> Hearing:
    """Schedule a hearing on one of the actor's cases and write it on the timeline.

    Refuses a closed case (its proceedings are over), a time without a time zone, an unknown
    kind and a blank court.
    """
    CASE_WORKERS.check(actor)
    if kind not in Hearing.Kind.values:
        raise CaseError("A hearing is a master calendar, bond or individual hearing.")
    at = _checked_time(at)
    court = _checked("court", court, COURT_LIMIT, required=True)
    judge = _checked("judge", judge, JUDGE_LIMIT)
    outcome = _checked("outcome", outcome, OUTCOME_LIMIT)
    case = _locked_case(actor, case)
    if case.status == Case.Status.CLOSED:
        raise CaseError(f"{case.ref} is closed: it takes no more hearings.")
    hearing = Hearing.objects.create(
        case=case,
        at=at,
        court=court,
        kind=kind,
        judge=judge,
        outcome=outcome,
        created_by=actor,
    )
    add_timeline_entry(
        case=case,
        kind=TimelineEntry.Kind.HEARING,
        text=f"{kind_label(kind)} scheduled for {when(at)} at {court}."
        + (f"\nOutcome: {outcome}" if outcome else ""),
        actor=actor,
    )
    return hearing


@transaction.atomic
def record_outcome(*, actor: User, hearing: Hearing, outcome: str) -> Hearing:
    """Record what came of a hearing (encrypted; it may name people). The same outcome again
    changes nothing."""
    CASE_WORKERS.check(actor)
    outcome = _checked("outcome", outcome, OUTCOME_LIMIT, required=True)
    hearing = _locked_hearing(actor, hearing)
    if hearing.outcome == outcome:
        return hearing
    hearing.outcome = outcome
    hearing.save(update_fields=["outcome"])
    add_timeline_entry(
        case=hearing.case,
        kind=TimelineEntry.Kind.HEARING,
        text=f"Outcome of the {kind_label(hearing.kind).lower()} of {when(hearing.at)}: {outcome}",
        actor=actor,
    )
    return hearing


@transaction.atomic
def reschedule(*, actor: User, hearing: Hearing, at: datetime, court: str | None = None) -> Hearing:
    """Move a hearing to another time (and court); it will be reminded of again.

    Moving it to the time and court it has changes nothing.
    """
    CASE_WORKERS.check(actor)
    at = _checked_time(at)
    hearing = _locked_hearing(actor, hearing)
    court = hearing.court if court is None else _checked("court", court, COURT_LIMIT, required=True)
    if hearing.at == at and hearing.court == court:
        return hearing
    was = hearing.at
    hearing.at = at
    hearing.court = court
    # A reminder of the old time is no reminder of the new one.
    hearing.reminded_at = None
    hearing.save(update_fields=["at", "court", "reminded_at"])
    add_timeline_entry(
        case=hearing.case,
        kind=TimelineEntry.Kind.HEARING,
        text=f"{kind_label(hearing.kind)} of {when(was)} moved to {when(at)} at {court}.",
        actor=actor,
    )
    return hearing


# Reminders: `manage.py send_hearing_reminders` (daily) enqueues the task below for each hearing
# due; the task decides, under the hearing's lock, and e-mails on commit.


def reminder_window() -> timedelta:
    """Return how long before a hearing its coordinators are reminded (HEARING_REMINDER_DAYS)."""
    return timedelta(days=settings.HEARING_REMINDER_DAYS)


def is_due_for_reminder(hearing: Hearing, now: datetime) -> bool:
    """Return whether a hearing is ahead, within the reminder window, and not yet reminded of."""
    return (
        hearing.reminded_at is None
        and hearing.case.purged_at is None
        and now < hearing.at <= now + reminder_window()
    )


@transaction.atomic
def remind_of_hearing(*, hearing_id: int, now: datetime | None = None) -> bool:
    """Mark a hearing reminded and e-mail its case's coordinators, once; False if not due.

    The hearing is locked and `reminded_at` set in this transaction, so two runs at once send
    one reminder; the e-mails are enqueued when it commits. The e-mail names the case by its
    reference, with the court and the time, never the person.
    """
    now = now or timezone.now()
    try:
        hearing = (
            Hearing.objects.select_for_update(of=("self",))
            .select_related("case")
            .get(pk=hearing_id)
        )
    except Hearing.DoesNotExist:
        return False
    if not is_due_for_reminder(hearing, now):
        return False
    hearing.reminded_at = now
    hearing.save(update_fields=["reminded_at"])
    coordinators = list(
        hearing.case.coordinators.filter(is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    context: dict[str, str | int] = {
        "ref": hearing.case.ref,
        "kind": kind_label(hearing.kind),
        "court": hearing.court,
        "at": when(hearing.at),
    }
    for user_id in coordinators:
        transaction.on_commit(
            partial(send_staff_email.enqueue, user_id, REMINDER_TEMPLATE, context)
        )
    logger.info(
        "hearing #%s of %s: reminder to %s coordinators",
        hearing.pk,
        hearing.case.ref,
        len(coordinators),
    )
    return True


def hearings_due_for_reminder(now: datetime | None = None) -> list[int]:
    """Return the ids of the hearings whose reminder is due now, soonest first."""
    now = now or timezone.now()
    return list(
        Hearing.objects.filter(
            reminded_at__isnull=True,
            case__purged_at__isnull=True,
            at__gt=now,
            at__lte=now + reminder_window(),
        )
        .order_by("at", "pk")
        .values_list("pk", flat=True)
    )


# The calendar feed: a secret address per coordinator, stored as its SHA-256 only.


def token_hash(token: str) -> str:
    """Return the SHA-256 (hex) a calendar token is stored and found by."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_feed(*, actor: User) -> str:
    """Make a private calendar address of the actor's hearings and return its path, once.

    Only the token's hash is stored: the path cannot be shown again, only revoked and replaced.
    """
    CASE_WORKERS.check(actor)
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.create(user=actor, token_hash=token_hash(token))
    return FEED_PATH.format(token=token)


@transaction.atomic
def revoke_feed(*, actor: User, feed: CalendarFeed) -> CalendarFeed:
    """Stop a calendar address from answering (its owner's, or any by an admin). Safe twice."""
    try:
        feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    except CalendarFeed.DoesNotExist:
        raise CaseNotFound("There is no such calendar address.") from None
    if feed.user_id != actor.pk and StaffRole.ADMIN not in roles_of(actor):
        raise CaseNotFound("There is no such calendar address.")
    if feed.revoked_at is not None:
        return feed
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    return feed

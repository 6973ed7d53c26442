"""The case itself: opening it, correcting the person's details, its status, its coordinators,
consent, notes and facility.

Every service checks its actor against the permission policy (fund.security.roles), loads the case
through `Case.objects.for_user(actor)` (out of scope is CaseNotFound, as if it did not exist),
locks what it changes and writes the case's timeline in the same transaction. Messages name a case
by its reference at most, never the person.
"""

import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from cases.errors import CaseError, CaseNotFound, DetailsChanged, NoteLocked, TransitionRefused
from cases.models import Assignment, Case, CaseCounter, Facility, TimelineEntry
from fund.errors import IdempotencyConflict, NotAllowed
from fund.ledger.posting import supplied_key
from fund.locks import hold_lock
from fund.security import crypto
from fund.security.access import record_access
from fund.security.models import AccessLog
from fund.security.roles import (
    CASE_WORKERS,
    FACILITY_ADMINS,
    VIEW_ALL_CASES,
    StaffRole,
    roles_of,
)

Status = Case.Status
Kind = TimelineEntry.Kind

# The workflow, in one place: intake → detained → bond set → bond posted / released → closed,
# with transferred and removed as branches. A closed case stays closed.
ALLOWED: dict[str, frozenset[str]] = {
    Status.INTAKE: frozenset({Status.DETAINED, Status.RELEASED, Status.CLOSED}),
    Status.DETAINED: frozenset(
        {Status.BOND_SET, Status.RELEASED, Status.TRANSFERRED, Status.REMOVED, Status.CLOSED}
    ),
    Status.BOND_SET: frozenset(
        {Status.BOND_POSTED, Status.DETAINED, Status.TRANSFERRED, Status.REMOVED}
    ),
    Status.BOND_POSTED: frozenset({Status.RELEASED, Status.CLOSED}),
    Status.RELEASED: frozenset({Status.CLOSED, Status.DETAINED}),
    Status.TRANSFERRED: frozenset(
        {Status.DETAINED, Status.BOND_SET, Status.RELEASED, Status.REMOVED}
    ),
    Status.REMOVED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}

NOTE_EDIT_WINDOW = timedelta(minutes=15)
UNION_LOCAL_MAX: int = Case._meta.get_field("union_local").max_length  # type: ignore[assignment]
EDITABLE_KINDS = frozenset({Kind.NOTE, Kind.CALL})
A_NUMBER_CONTEXT = "cases.Case.a_number"
# Typed A-numbers may carry an "A" prefix and separators: "A012-345-678", "a 12 345 678".
_A_NUMBER_SEPARATORS = re.compile(r"[\s.\-_/]")


@dataclass(frozen=True)
class OpenedCase:
    """A new case, and the references of other cases (that the opener may see) with its A-number.

    A duplicate is a warning, not a refusal: the same person may have an old closed case.
    `hidden_duplicates` counts such cases outside the opener's scope (a legal director sees them).
    """

    case: Case
    duplicates: list[str] = field(default_factory=list)
    hidden_duplicates: int = 0


@dataclass(frozen=True)
class CorrectedPerson:
    """A case after its person's details were corrected: which fields changed (names, in form
    order; empty if nothing did) and, for a changed A-number, the other cases that have it."""

    case: Case
    changed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    hidden_duplicates: int = 0


class Keep(enum.Enum):
    """A field `update_person` leaves as it is (for a date, where None means "no date")."""

    KEEP = "keep"


KEEP = Keep.KEEP
# The person's fields a coordinator may correct, as the timeline names them: never their values.
PERSON_FIELDS: dict[str, str] = {
    "legal_name": "legal name",
    "other_names": "other names",
    "a_number": "A-number",
    "date_of_birth": "date of birth",
    "phone": "phone",
    "preferred_language": "preferred language",
    "family_contact": "family contact",
    "employer": "employer",
    "union_local": "union local",
    "detained_on": "detained on",
}


@dataclass(frozen=True)
class FacilityRow:
    """One facility from the list admins keep."""

    name: str
    city: str = ""
    state: str = ""


@dataclass(frozen=True)
class FacilityImport:
    """How many facilities an import added, updated and found unchanged."""

    added: int
    updated: int
    unchanged: int


def status_label(status: str) -> str:
    """Return a status as people say it ("bond set")."""
    return str(Status(status).label).lower()


def allowed_moves(status: str) -> list[str]:
    """Return the statuses a case in this status may move to, in workflow order."""
    return [s for s in Status.values if s in ALLOWED[status]]


def refusal_for(status: str) -> str:
    """Return the message refusing a move from this status, naming the allowed ones."""
    moves = allowed_moves(status)
    if not moves:
        return f"A case that is {status_label(status)} cannot change status."
    names = ", ".join(status_label(s) for s in moves)
    return f"A case that is {status_label(status)} can move to: {names}."


def validate_a_number(value: str) -> str:
    """Return the A-number in its written form ("A012345678"), or "" if blank.

    Refuses anything but an optional "A" prefix, separators and 8 or 9 digits.
    """
    compact = _A_NUMBER_SEPARATORS.sub("", unicodedata.normalize("NFKC", value).strip())
    if not compact:
        return ""
    if compact[:1] in {"A", "a"}:
        compact = compact[1:]
    if not (compact.isascii() and compact.isdigit() and 8 <= len(compact) <= 9):
        # Never echo the value: it identifies the person.
        raise CaseError("An A-number has 8 or 9 digits, optionally after an A (A012-345-678).")
    if not crypto.normalise_a_number(compact):
        raise CaseError("An A-number has 8 or 9 digits, optionally after an A (A012-345-678).")
    return "A" + compact.zfill(9)


def a_number_index(a_number: str) -> str:
    """Return the blind index a case's A-number is found by ("" for none)."""
    if not a_number:
        return ""
    return crypto.a_number_index(a_number, context=A_NUMBER_CONTEXT)


def is_legal_director(user: User) -> bool:
    """Return whether the user is a coordinator who may see and assign all cases."""
    return StaffRole.COORDINATOR in roles_of(user) and user.has_perm(VIEW_ALL_CASES)


def may_assign(user: User) -> bool:
    """Return whether the user may assign coordinators to cases (a legal director or an admin)."""
    return StaffRole.ADMIN in roles_of(user) or is_legal_director(user)


def add_timeline_entry(*, case: Case, kind: str, text: str, actor: User | None) -> TimelineEntry:
    """Write an entry on the case's timeline (for other services of this app, inside their
    transaction; it checks nothing). The text is encrypted: it may name people."""
    return TimelineEntry.objects.create(case=case, kind=kind, text=text, by=actor)


def apply_status(
    *, case: Case, to: str, actor: User | None, note: str = "", only_if_allowed: bool = False
) -> Case:
    """Move a case to another status and write it on the timeline, without a permission check.

    For services that already checked their actor (a bond posted moves the case to bond posted):
    call it inside your transaction; it locks the case. Raises TransitionRefused for a move the
    workflow does not allow, unless `only_if_allowed`, which leaves the case as it is.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_status must run inside transaction.atomic.")
    to = Status(to)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status == to:
        return case
    if to not in ALLOWED[case.status]:
        if only_if_allowed:
            return case
        raise TransitionRefused(refusal_for(case.status))
    was = case.status
    case.status = to
    case.closed_on = timezone.localdate() if to == Status.CLOSED else None
    case.save(update_fields=["status", "closed_on"])
    text = f"Status changed from {status_label(was)} to {status_label(to)}."
    if note.strip():
        text = f"{text}\n{note.strip()}"
    add_timeline_entry(case=case, kind=Kind.STATUS, text=text, actor=actor)
    return case


@transaction.atomic
def open_case(
    *,
    actor: User,
    legal_name: str,
    a_number: str = "",
    other_names: str = "",
    date_of_birth: str = "",
    phone: str = "",
    preferred_language: str = "",
    family_contact: str = "",
    employer: str = "",
    union_local: str = "",
    detained_on: date | None = None,
    facility: Facility | None = None,
    coordinators: Sequence[User] = (),
    idempotency_key: str = "",
) -> OpenedCase:
    """Open a case with the next reference of the year (C-2026-0042), in intake.

    The opener is assigned unless they list other coordinators, which only a legal director may.
    References are gap-free: the year's counter is locked and advanced in this transaction, so a
    rolled-back open gives its number back. With an idempotency key (the new-case form's, an API
    client's), sending it again returns the case it opened; the same key for another person is
    refused.
    """
    CASE_WORKERS.check(actor)
    legal_name = legal_name.strip()
    if not legal_name:
        raise CaseError("A case needs the person's legal name.")
    a_number = validate_a_number(a_number)
    request_key = supplied_key(idempotency_key, supplier=actor) if idempotency_key else None
    if request_key is not None:
        hold_lock(request_key)
        earlier = Case.objects.filter(request_key=request_key).first()
        if earlier is not None:
            if earlier.legal_name != legal_name or earlier.a_number != a_number:
                raise IdempotencyConflict(
                    "This form was already used to open another case: reload the page to open "
                    "a new one."
                )
            return OpenedCase(case=earlier, duplicates=[], hidden_duplicates=0)
    union_local = union_local.strip()
    if len(union_local) > UNION_LOCAL_MAX:
        raise CaseError("A union local is at most 100 characters.")
    assigned = _coordinators_for_opening(actor, coordinators)
    if facility is not None and not facility.active:
        raise CaseError("That facility is no longer on the list.")

    year = timezone.localdate().year
    number = _next_number(year)
    index = a_number_index(a_number)
    case = Case.objects.create(
        ref=f"C-{year}-{number:04d}",
        year=year,
        number=number,
        status=Status.INTAKE,
        legal_name=legal_name,
        other_names=other_names.strip(),
        a_number=a_number,
        a_number_index=index,
        date_of_birth=date_of_birth.strip(),
        phone=phone.strip(),
        preferred_language=preferred_language.strip(),
        family_contact=family_contact.strip(),
        employer=employer.strip(),
        union_local=union_local,
        detained_on=detained_on,
        detained_at=facility if detained_on is not None else None,
        facility=facility,
        request_key=request_key,
    )
    for coordinator in assigned:
        Assignment.objects.create(case=case, coordinator=coordinator, assigned_by=actor)
    add_timeline_entry(case=case, kind=Kind.OPENED, text="Case opened.", actor=actor)

    duplicates, hidden = _same_a_number(actor, case)
    return OpenedCase(case=case, duplicates=duplicates, hidden_duplicates=hidden)


def _same_a_number(actor: User, case: Case) -> tuple[list[str], int]:
    """Return the other cases with the case's A-number that the actor may see, by reference,
    and how many more there are outside their scope."""
    if not case.a_number_index:
        return [], 0
    same = Case.objects.filter(a_number_index=case.a_number_index).exclude(pk=case.pk)
    seen = list(same.for_user(actor).order_by("year", "number").values_list("ref", flat=True))
    return seen, same.count() - len(seen)


@transaction.atomic
def update_person(
    *,
    actor: User,
    case: Case,
    legal_name: str | None = None,
    other_names: str | None = None,
    a_number: str | None = None,
    date_of_birth: str | None = None,
    phone: str | None = None,
    preferred_language: str | None = None,
    family_contact: str | None = None,
    employer: str | None = None,
    union_local: str | None = None,
    detained_on: date | Keep | None = KEEP,
    seen: str = "",
) -> CorrectedPerson:
    """Correct who the case is about, after intake: a misspelt name, a new phone, an A-number
    learned later. None (KEEP for the date) leaves a field as it is; "" clears it.

    Values are checked as open_case checks them. Only the fields that really change are saved;
    the timeline says which ones, never their values; the change is in the access log. A new
    A-number gets its blind index again, and the other cases with it come back as a warning.
    A purged case has no details left to correct. With `seen` (the `details_seen` of the
    details a form showed), a correction made meanwhile by someone else is refused, not undone.
    """
    CASE_WORKERS.check(actor)
    case = _locked_case_for(actor, case)
    if case.purged_at is not None:
        raise CaseError(f"{case.ref}'s personal details were purged: there is nothing to correct.")
    if seen and seen != details_seen(case):
        raise DetailsChanged(
            f"Someone corrected {case.ref}'s details while you had them open: they are shown "
            "as they are now. Make your correction again."
        )
    wanted: dict[str, object] = {
        name: value.strip()
        for name, value in {
            "legal_name": legal_name,
            "other_names": other_names,
            "date_of_birth": date_of_birth,
            "phone": phone,
            "preferred_language": preferred_language,
            "family_contact": family_contact,
            "employer": employer,
            "union_local": union_local,
        }.items()
        if value is not None
    }
    if "legal_name" in wanted and not wanted["legal_name"]:
        raise CaseError("A case needs the person's legal name.")
    if len(str(wanted.get("union_local", ""))) > UNION_LOCAL_MAX:
        raise CaseError("A union local is at most 100 characters.")
    if a_number is not None:
        wanted["a_number"] = validate_a_number(a_number)
    if not isinstance(detained_on, Keep):
        wanted["detained_on"] = detained_on
    # Blank encrypted fields read back as None or "": either is "nothing recorded".
    changed = [
        name
        for name, value in wanted.items()
        if value != (getattr(case, name) if name == "detained_on" else getattr(case, name) or "")
    ]
    changed.sort(key=list(PERSON_FIELDS).index)
    if not changed:
        return CorrectedPerson(case=case)
    for name in changed:
        setattr(case, name, wanted[name])
    saved = list(changed)
    if "a_number" in changed:
        case.a_number_index = a_number_index(str(wanted["a_number"]))
        saved.append("a_number_index")
    if "detained_on" in changed:
        # Where the person was first held: the facility of intake, kept through later moves.
        if case.detained_on is None:
            case.detained_at = None
        elif case.detained_at is None:
            case.detained_at = case.facility
        saved.append("detained_at")
    case.save(update_fields=saved)
    record_access(user=actor, action=AccessLog.Action.CHANGE, obj=case, detail="person corrected")
    names = ", ".join(PERSON_FIELDS[name] for name in changed)
    add_timeline_entry(case=case, kind=Kind.DETAILS, text=f"Corrected: {names}.", actor=actor)
    duplicates, hidden = _same_a_number(actor, case) if "a_number" in changed else ([], 0)
    return CorrectedPerson(
        case=case, changed=changed, duplicates=duplicates, hidden_duplicates=hidden
    )


def details_seen(case: Case) -> str:
    """Return a keyed digest of the person's details as they are: a form carries it, so that a
    correction is made to what its author saw. Keyed, so that it cannot be matched to a guess."""
    values = [str(getattr(case, name) or "") for name in PERSON_FIELDS]
    return salted_hmac("cases.details_seen", "\x1f".join(values), algorithm="sha256").hexdigest()


def _coordinators_for_opening(actor: User, coordinators: Iterable[User]) -> list[User]:
    listed = list({c.pk: c for c in coordinators}.values())
    if not listed:
        return [actor]
    if [c.pk for c in listed] != [actor.pk] and not is_legal_director(actor):
        raise NotAllowed("Only a legal director can assign a case to other coordinators.")
    for coordinator in listed:
        _check_coordinator(coordinator)
    return listed


def _next_number(year: int) -> int:
    # The counter row is created once per year; ignore_conflicts makes two first opens of a
    # year race safely, and the row lock then serialises them until this transaction ends.
    CaseCounter.objects.bulk_create([CaseCounter(year=year, last=0)], ignore_conflicts=True)
    counter = CaseCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def _check_coordinator(user: User) -> None:
    if StaffRole.COORDINATOR not in roles_of(user):
        raise CaseError("Only a legal coordinator can be assigned a case.")


def _locked_case_for(actor: User, case: Case) -> Case:
    try:
        return Case.objects.for_user(actor).select_for_update().get(pk=case.pk)
    except Case.DoesNotExist:
        raise CaseNotFound("There is no such case.") from None


@transaction.atomic
def change_status(*, actor: User, case: Case, to: str, note: str = "") -> Case:
    """Move one of the actor's cases along the workflow; refuses moves it does not allow.

    Closing sets `closed_on`; the change and the note go on the timeline. Moving to the status
    the case already has changes nothing.
    """
    CASE_WORKERS.check(actor)
    if to not in Status.values:
        raise CaseError("That is not a case status.")
    case = _locked_case_for(actor, case)
    return apply_status(case=case, to=to, actor=actor, note=note)


@transaction.atomic
def assign(*, actor: User, case: Case, coordinator: User) -> Assignment:
    """Assign a coordinator to a case (legal directors and admins). Safe to call twice."""
    if not may_assign(actor):
        raise NotAllowed("Only a legal director or an admin can assign cases.")
    _check_coordinator(coordinator)
    case = _locked_case_for(actor, case)
    existing = Assignment.objects.filter(case=case, coordinator=coordinator).first()
    if existing is not None:
        return existing
    assignment = Assignment.objects.create(case=case, coordinator=coordinator, assigned_by=actor)
    add_timeline_entry(
        case=case, kind=Kind.ASSIGNMENT, text=f"Assigned to {coordinator.username}.", actor=actor
    )
    return assignment


@transaction.atomic
def unassign(*, actor: User, case: Case, coordinator: User) -> Case:
    """Take a coordinator off a case (legal directors and admins); refuses removing the last one."""
    if not may_assign(actor):
        raise NotAllowed("Only a legal director or an admin can assign cases.")
    case = _locked_case_for(actor, case)
    assignments = Assignment.objects.filter(case=case)
    if not assignments.filter(coordinator=coordinator).exists():
        return case
    if assignments.count() == 1:
        raise CaseError(f"{case.ref} keeps at least one coordinator: assign another one first.")
    assignments.filter(coordinator=coordinator).delete()
    add_timeline_entry(
        case=case, kind=Kind.ASSIGNMENT, text=f"Unassigned {coordinator.username}.", actor=actor
    )
    return case


@transaction.atomic
def record_consent(*, actor: User, case: Case, scope: Iterable[str]) -> Case:
    """Record that the person consented to the fund's help, and to what (Case.Consent values),
    with who recorded it and when. The same scope again changes nothing."""
    CASE_WORKERS.check(actor)
    chosen = set(scope)
    if not chosen:
        raise CaseError("Choose what the person consented to.")
    unknown = chosen - set(Case.Consent.values)
    if unknown:
        allowed, refused = ", ".join(Case.Consent.values), ", ".join(sorted(unknown))
        raise CaseError(f"Consent is given to: {allowed}; not {refused}.")
    value = ",".join(choice for choice in Case.Consent.values if choice in chosen)
    case = _locked_case_for(actor, case)
    if case.consent_scope == value and case.consent_at is not None:
        return case
    case.consent_by = actor
    case.consent_at = timezone.now()
    case.consent_scope = value
    case.save(update_fields=["consent_by", "consent_at", "consent_scope"])
    add_timeline_entry(
        case=case,
        kind=Kind.CONSENT,
        text=f"Consent recorded: {'; '.join(case.consented_to)}.",
        actor=actor,
    )
    return case


@transaction.atomic
def add_note(*, actor: User, case: Case, kind: str = Kind.NOTE, text: str) -> TimelineEntry:
    """Write a note or a call on one of the actor's cases."""
    CASE_WORKERS.check(actor)
    if kind not in EDITABLE_KINDS:
        raise CaseError("A note is a note or a call.")
    text = text.strip()
    if not text:
        raise CaseError("A note needs some text.")
    case = _locked_case_for(actor, case)
    return add_timeline_entry(case=case, kind=kind, text=text, actor=actor)


@transaction.atomic
def edit_note(*, actor: User, entry: TimelineEntry, text: str) -> TimelineEntry:
    """Change a note's text: only its author, only within 15 minutes of writing it.

    The earlier text is kept as a timeline entry of its own, written by nobody (so nobody can
    edit it) and encrypted like every note.
    """
    CASE_WORKERS.check(actor)
    text = text.strip()
    if not text:
        raise CaseError("A note needs some text.")
    try:
        entry = TimelineEntry.objects.select_for_update().get(
            pk=entry.pk, case__in=Case.objects.for_user(actor)
        )
    except TimelineEntry.DoesNotExist:
        raise CaseNotFound("There is no such note.") from None
    if entry.kind not in EDITABLE_KINDS:
        raise NoteLocked("Only notes and calls can be edited.")
    if entry.by_id != actor.pk:
        raise NoteLocked("Only the note's author can edit it.")
    now = timezone.now()
    if now - entry.at > NOTE_EDIT_WINDOW:
        raise NoteLocked(
            "A note can be edited for 15 minutes after it is written; add a new note instead."
        )
    if entry.text == text:
        return entry
    written = timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M")
    add_timeline_entry(
        case=entry.case,
        kind=entry.kind,
        text=f"Earlier text of the {entry.get_kind_display().lower()} of {written} by "
        f"{actor.username}, edited at {timezone.localtime(now):%H:%M}:\n{entry.text}",
        actor=None,
    )
    entry.text = text
    entry.edited_at = now
    entry.save(update_fields=["text", "edited_at"])
    return entry


@transaction.atomic
def move_facility(*, actor: User, case: Case, facility: Facility, note: str = "") -> Case:
    """Record that the person was moved to another facility; the case becomes transferred when
    the workflow allows it. Moving to the current facility changes nothing."""
    CASE_WORKERS.check(actor)
    case = _locked_case_for(actor, case)
    if case.facility_id == facility.pk:
        return case
    if not facility.active:
        raise CaseError("That facility is no longer on the list.")
    was = case.facility
    case.facility = facility
    case.save(update_fields=["facility"])
    text = f"Moved from {was.name} to {facility.name}." if was else f"Held at {facility.name}."
    if note.strip():
        text = f"{text}\n{note.strip()}"
    add_timeline_entry(case=case, kind=Kind.STATUS, text=text, actor=actor)
    return apply_status(case=case, to=Status.TRANSFERRED, actor=actor, only_if_allowed=True)


@transaction.atomic
def import_facilities(*, actor: User | None, rows: Sequence[FacilityRow]) -> FacilityImport:
    """Add or update facilities by name, all or none; None is the operator at the command line."""
    FACILITY_ADMINS.check(actor)
    existing = {f.name: f for f in Facility.objects.select_for_update().order_by("pk")}
    added = updated = unchanged = 0
    for row in rows:
        facility = existing.get(row.name)
        if facility is None:
            existing[row.name] = Facility.objects.create(
                name=row.name, city=row.city, state=row.state
            )
            added += 1
        elif (facility.city, facility.state) != (row.city, row.state):
            facility.city, facility.state = row.city, row.state
            facility.save(update_fields=["city", "state"])
            updated += 1
        else:
            unchanged += 1
    return FacilityImport(added=added, updated=updated, unchanged=unchanged)

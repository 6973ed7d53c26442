"""Hearings: scheduling, outcomes, rescheduling, the coordinator's calendar feed and reminders."""

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from cases.calendar import LINE_OCTETS, escape_text, fold, render_calendar
from cases.errors import CaseError, CaseNotFound
from cases.models import CalendarFeed, Case, Hearing, TimelineEntry
from cases.queries import upcoming_hearings
from cases.services.cases import assign, open_case, unassign
from cases.services.hearings import (
    add_hearing,
    create_feed,
    record_outcome,
    remind_of_hearing,
    reschedule,
    revoke_feed,
)
from cases.tasks import send_hearing_reminder
from fund.errors import NotAllowed
from tests.cases.test_bonds import run_together
from tests.conftest import run

CANARY_NAME = "Zyxwvut Canaryname"
CANARY_A_NUMBER = "A246813579"
COURT = "Invented Immigration Court"
# 16:00 UTC is 09:00 in Los Angeles (PDT), the suite's TIME_ZONE.
JULY_FIRST = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
FEED = re.compile(r"/cases/calendar/(?P<token>[A-Za-z0-9_-]{43})\.ics")
BOND = Hearing.Kind.BOND


def opened(actor, name: str = CANARY_NAME, **fields) -> Case:
    return open_case(actor=actor, legal_name=name, a_number=CANARY_A_NUMBER, **fields).case


def texts(case: Case) -> list[str]:
    entries = TimelineEntry.objects.filter(case=case, kind=TimelineEntry.Kind.HEARING)
    return [entry.text for entry in entries.order_by("pk")]


def hearing(actor, case, at=JULY_FIRST, court=COURT, kind=BOND, **extra) -> Hearing:
    return add_hearing(actor=actor, case=case, at=at, court=court, kind=kind, **extra)


def exactly(message: str) -> str:
    """Return the pattern that matches this message and nothing more."""
    return f"^{re.escape(message)}$"


@pytest.mark.django_db
def test_a_hearing_is_scheduled_on_the_timeline_by_kind_court_and_local_time(coordinator):
    case = opened(coordinator)

    scheduled = hearing(coordinator, case, judge="Judge Invented")

    assert (scheduled.case, scheduled.at, scheduled.court, scheduled.kind) == (
        case,
        JULY_FIRST,
        COURT,
        BOND,
    )
    assert (scheduled.judge, scheduled.outcome, scheduled.created_by) == (
        "Judge Invented",
        "",
        coordinator,
    )
    assert scheduled.reminded_at is None
    assert str(scheduled) == f"hearing #{scheduled.pk}"
    assert texts(case) == [f"Bond hearing scheduled for 2026-07-01 09:00 PDT at {COURT}."]
    entry = TimelineEntry.objects.get(case=case, kind=TimelineEntry.Kind.HEARING)
    assert entry.by == coordinator


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"court": "  "}, "A hearing needs its court."),
        ({"court": "x" * 201}, "A hearing's court is at most 200 characters."),
        ({"kind": "appeal"}, "A hearing is a master calendar, bond or individual hearing."),
        ({"at": datetime(2026, 7, 1, 9, 0)}, "A hearing's time needs its time zone."),  # noqa: DTZ001
        ({"judge": "j" * 201}, "A hearing's judge is at most 200 characters."),
        (
            {"at": datetime(9999, 12, 31, 23, 0, tzinfo=UTC)},
            "A hearing's time is between 2000 and 2099.",
        ),
        (
            {"at": datetime(2027, 1, 5, 10, 0, tzinfo=dt_timezone(timedelta(hours=16)))},
            "A hearing's time zone is between UTC-12:00 and UTC+14:00.",
        ),
        (
            {"at": datetime(2027, 1, 5, 10, 0, tzinfo=dt_timezone(-timedelta(hours=13)))},
            "A hearing's time zone is between UTC-12:00 and UTC+14:00.",
        ),
    ],
)
def test_a_malformed_hearing_is_refused_and_nothing_is_written(coordinator, changes, message):
    case = opened(coordinator)
    before = TimelineEntry.objects.count()

    with pytest.raises(CaseError, match=exactly(message)):
        hearing(coordinator, case, **changes)

    assert not Hearing.objects.exists()
    assert TimelineEntry.objects.count() == before


@pytest.mark.django_db
def test_only_the_cases_coordinators_schedule_its_hearings(
    coordinator, other_coordinator, legal_director, treasurer
):
    case = opened(coordinator)

    with pytest.raises(
        NotAllowed, match=exactly("Only legal coordinators can open and work cases.")
    ):
        hearing(treasurer, case)
    with pytest.raises(CaseNotFound, match=exactly("There is no such case.")):
        hearing(other_coordinator, case)
    scheduled = hearing(legal_director, case)
    with pytest.raises(CaseNotFound, match=exactly("There is no such hearing.")):
        record_outcome(actor=other_coordinator, hearing=scheduled, outcome="Granted")
    with pytest.raises(CaseNotFound, match=exactly("There is no such hearing.")):
        reschedule(actor=other_coordinator, hearing=scheduled, at=JULY_FIRST + timedelta(days=1))
    assert Hearing.objects.count() == 1


@pytest.mark.django_db
def test_a_closed_case_takes_no_new_hearing(coordinator):
    case = opened(coordinator)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED, closed_on=JULY_FIRST.date())

    with pytest.raises(CaseError, match=f"^{case.ref} is closed: it takes no more hearings.$"):
        hearing(coordinator, case)


@pytest.mark.django_db
def test_an_outcome_is_encrypted_on_the_timeline_and_repeating_it_writes_nothing(coordinator):
    case = opened(coordinator)
    scheduled = hearing(coordinator, case)

    record_outcome(actor=coordinator, hearing=scheduled, outcome=f"Bond set for {CANARY_NAME}")
    record_outcome(actor=coordinator, hearing=scheduled, outcome=f"Bond set for {CANARY_NAME}")

    assert Hearing.objects.get(pk=scheduled.pk).outcome == f"Bond set for {CANARY_NAME}"
    assert texts(case)[1:] == [
        f"Outcome of the bond hearing of 2026-07-01 09:00 PDT: Bond set for {CANARY_NAME}"
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT outcome FROM cases_hearing WHERE id = %s", [scheduled.pk])
        assert CANARY_NAME not in cursor.fetchone()[0]
    with pytest.raises(CaseError, match=exactly("A hearing needs its outcome.")):
        record_outcome(actor=coordinator, hearing=scheduled, outcome=" ")


@pytest.mark.django_db
def test_rescheduling_moves_the_hearing_and_clears_its_reminder(coordinator):
    case = opened(coordinator)
    scheduled = hearing(coordinator, case)
    Hearing.objects.filter(pk=scheduled.pk).update(reminded_at=timezone.now())
    later = JULY_FIRST + timedelta(days=7, hours=2)

    moved = reschedule(actor=coordinator, hearing=scheduled, at=later, court="Other Court")
    again = reschedule(actor=coordinator, hearing=scheduled, at=later, court="Other Court")

    assert (moved.at, moved.court, moved.reminded_at) == (later, "Other Court", None)
    assert again.pk == moved.pk
    assert texts(case)[1:] == [
        "Bond hearing of 2026-07-01 09:00 PDT moved to 2026-07-08 11:00 PDT at Other Court."
    ]


@pytest.mark.django_db
def test_upcoming_hearings_are_the_users_next_ones_soonest_first(
    coordinator, other_coordinator, legal_director, treasurer
):
    now = timezone.now()
    mine = opened(coordinator, "Ana Invented")
    theirs = opened(other_coordinator, "Beto Invented")
    later = hearing(coordinator, mine, at=now + timedelta(days=10), kind=Hearing.Kind.INDIVIDUAL)
    soon = hearing(coordinator, mine, at=now + timedelta(days=1), court="Court B")
    hearing(coordinator, mine, at=now - timedelta(hours=1))
    hearing(coordinator, mine, at=now + timedelta(days=15))
    other = hearing(other_coordinator, theirs, at=now + timedelta(days=2))

    assert list(upcoming_hearings(coordinator)) == [soon, later]
    assert [
        (h.case.ref, h.court, h.get_kind_display()) for h in upcoming_hearings(coordinator)
    ] == [
        (mine.ref, "Court B", "Bond hearing"),
        (mine.ref, COURT, "Individual (merits)"),
    ]
    assert list(upcoming_hearings(coordinator, days=5)) == [soon]
    assert list(upcoming_hearings(legal_director)) == [soon, other, later]
    assert list(upcoming_hearings(treasurer)) == []


# The calendar feed.


def fetch(client, path: str):
    """GET a calendar address as a calendar app does: no session, no headers."""
    return client.get(path)


def unfolded(body: str) -> list[str]:
    """Return the content lines of an iCalendar text, checking every physical line on the way."""
    assert body.endswith("\r\n")
    physical = body[:-2].split("\r\n")
    for line in physical:
        assert "\n" not in line
        assert "\r" not in line
        assert len(line.encode()) <= LINE_OCTETS
    lines: list[str] = []
    for line in physical:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def events(lines: list[str]) -> list[dict[str, str]]:
    """Return each VEVENT's properties by name."""
    found: list[dict[str, str]] = []
    for line in lines:
        if line == "BEGIN:VEVENT":
            found.append({})
        elif found and not line.startswith("END:"):
            name, value = line.split(":", 1)
            found[-1][name] = value
    return found


@pytest.mark.django_db
def test_the_feed_lists_the_owners_hearings_by_ref_and_court_and_never_the_person(
    client, coordinator, other_coordinator
):
    now = timezone.now().replace(microsecond=0)
    mine = opened(coordinator, family_contact=f"{CANARY_NAME}'s sister")
    theirs = opened(other_coordinator, "Cruz Invented")
    court = "Court, Room 3; Floor\\2\nAnnex"
    soon = hearing(coordinator, mine, at=now + timedelta(days=3), court=court)
    past = hearing(coordinator, mine, at=now - timedelta(days=29), kind=Hearing.Kind.MASTER)
    hearing(coordinator, mine, at=now - timedelta(days=31))
    hearing(coordinator, mine, at=now + timedelta(days=181))
    hearing(other_coordinator, theirs, at=now + timedelta(days=3))
    record_outcome(actor=coordinator, hearing=soon, outcome=f"{CANARY_NAME} released")

    path = create_feed(actor=coordinator)
    response = fetch(client, path)

    assert FEED.fullmatch(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    body = response.content.decode()
    for needle in (CANARY_NAME, "Canaryname", CANARY_A_NUMBER, "246813579", "Cruz"):
        assert needle not in body
    lines = unfolded(body)
    assert lines[:6] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Defense Fund//Hearings//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Hearings",
    ]
    assert lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 2
    stamp = re.compile(r"\d{8}T\d{6}Z")
    found = events(lines)
    assert [e["SUMMARY"] for e in found] == [
        f"{mine.ref} — Master calendar hearing",
        f"{mine.ref} — Bond hearing",
    ]
    assert [e["LOCATION"] for e in found] == [COURT, "Court\\, Room 3\\; Floor\\\\2\\nAnnex"]
    assert [e["DTSTART"] for e in found] == [
        past.at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"),
        soon.at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"),
    ]
    assert [e["UID"] for e in found] == [
        f"{past.row_key}@hearings.defense-fund",
        f"{soon.row_key}@hearings.defense-fund",
    ]
    assert all(stamp.fullmatch(e["DTSTAMP"]) for e in found)


@pytest.mark.django_db
def test_only_the_tokens_hash_is_stored_and_the_path_is_shown_once(coordinator, treasurer):
    path = create_feed(actor=coordinator)
    token = FEED.fullmatch(path)["token"]

    feed = CalendarFeed.objects.get()
    assert (feed.user, feed.token_hash) == (coordinator, hashlib.sha256(token.encode()).hexdigest())
    assert token not in str(CalendarFeed.objects.values_list())
    assert create_feed(actor=coordinator) != path
    with pytest.raises(NotAllowed):
        create_feed(actor=treasurer)


@pytest.mark.django_db
def test_a_revoked_unknown_or_malformed_address_is_not_found(
    client, coordinator, other_coordinator
):
    path = create_feed(actor=coordinator)
    feed = CalendarFeed.objects.get()
    assert fetch(client, path).status_code == 200

    with pytest.raises(CaseNotFound, match=exactly("There is no such calendar address.")):
        revoke_feed(actor=other_coordinator, feed=feed)
    assert fetch(client, path).status_code == 200
    revoked = revoke_feed(actor=coordinator, feed=feed)
    assert revoke_feed(actor=coordinator, feed=feed).revoked_at == revoked.revoked_at

    assert fetch(client, path).status_code == 404
    assert fetch(client, "/cases/calendar/" + "A" * 43 + ".ics").status_code == 404
    assert fetch(client, "/cases/calendar/short.ics").status_code == 404
    assert client.post(create_feed(actor=coordinator)).status_code == 405


@pytest.mark.django_db
def test_the_feed_follows_the_owners_current_scope_and_dies_with_the_account(
    client, coordinator, other_coordinator, legal_director
):
    now = timezone.now()
    theirs = opened(other_coordinator, "Cruz Invented")
    hearing(other_coordinator, theirs, at=now + timedelta(days=3))
    path = create_feed(actor=coordinator)
    assert "BEGIN:VEVENT" not in fetch(client, path).content.decode()

    assign(actor=legal_director, case=theirs, coordinator=coordinator)
    assert f"SUMMARY:{theirs.ref}" in fetch(client, path).content.decode()
    unassign(actor=legal_director, case=theirs, coordinator=coordinator)
    assert "BEGIN:VEVENT" not in fetch(client, path).content.decode()

    coordinator.is_active = False
    coordinator.save()
    assert fetch(client, path).status_code == 404


@pytest.mark.django_db
def test_the_feed_request_is_not_logged_with_its_token(client, coordinator, caplog):
    path = create_feed(actor=coordinator)
    token = FEED.fullmatch(path)["token"]
    caplog.set_level("DEBUG")
    # django.request logs a 404 with its path at WARNING; the settings keep it to ERROR and it
    # does not propagate, so listen to it directly at its configured level.
    request_logger = logging.getLogger("django.request")
    request_logger.addHandler(caplog.handler)
    try:
        assert fetch(client, path).status_code == 200
        CalendarFeed.objects.update(revoked_at=timezone.now())
        assert fetch(client, path).status_code == 404
    finally:
        request_logger.removeHandler(caplog.handler)

    assert request_logger.getEffectiveLevel() == logging.ERROR
    assert token not in caplog.text


def test_text_is_escaped_as_rfc_5545_says():
    assert escape_text("a,b;c\\d\ne\r\nf\rg") == "a\\,b\\;c\\\\d\\ne\\nf\\ng"


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    line = "LOCATION:" + "Tribunal de Inmigración — Sala número " * 5

    folded = fold(line)

    physical = folded.split("\r\n")
    assert physical[-1] == ""
    assert all(len(part.encode()) <= 75 for part in physical)
    assert all(part.startswith(" ") for part in physical[1:-1])
    assert max(len(part.encode()) for part in physical) >= 73
    assert "".join([physical[0], *(part[1:] for part in physical[1:-1])]) == line
    assert fold("SHORT:x") == "SHORT:x\r\n"


def test_an_empty_calendar_is_still_a_calendar():
    now = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    assert render_calendar([], now=now).split("\r\n")[-2:] == ["END:VCALENDAR", ""]


# Reminders.


@pytest.mark.django_db
def test_the_coordinators_are_reminded_once_by_ref_court_and_time_never_the_name(
    coordinator, other_coordinator, legal_director, django_capture_on_commit_callbacks
):
    case = opened(coordinator)
    assign(actor=legal_director, case=case, coordinator=other_coordinator)
    at = timezone.now() + timedelta(days=1)
    due = hearing(coordinator, case, at=at)
    hearing(coordinator, case, at=timezone.now() + timedelta(days=3))
    hearing(coordinator, case, at=timezone.now() - timedelta(hours=1))
    local = f"{timezone.localtime(at):%Y-%m-%d %H:%M %Z}"

    with django_capture_on_commit_callbacks(execute=True):
        out = run("send_hearing_reminders")
    with django_capture_on_commit_callbacks(execute=True):
        again = run("send_hearing_reminders")
        assert send_hearing_reminder.call(due.pk) is False

    assert (out, again) == ("Hearing reminders enqueued: 1.\n", "Hearing reminders enqueued: 0.\n")
    assert sorted(m.to[0] for m in mail.outbox) == ["cole@example.org", "cora@example.org"]
    subject = f"Hearing reminder: {case.ref}, Bond hearing on {local}"
    assert {m.subject for m in mail.outbox} == {subject}
    for message in mail.outbox:
        assert f"{case.ref}: Bond hearing on {local} at {COURT}." in message.body
        for needle in (CANARY_NAME, "Canaryname", CANARY_A_NUMBER, "246813579"):
            assert needle not in message.subject + message.body
    assert Hearing.objects.get(pk=due.pk).reminded_at is not None


@pytest.mark.django_db
def test_a_rescheduled_hearing_is_reminded_of_again(
    coordinator, django_capture_on_commit_callbacks
):
    case = opened(coordinator)
    due = hearing(coordinator, case, at=timezone.now() + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_of_hearing(hearing_id=due.pk) is True
        assert remind_of_hearing(hearing_id=due.pk) is False

    reschedule(actor=coordinator, hearing=due, at=timezone.now() + timedelta(days=1, hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert run("send_hearing_reminders") == "Hearing reminders enqueued: 1.\n"

    assert len(mail.outbox) == 2
    assert mail.outbox[0].subject != mail.outbox[1].subject


@pytest.mark.django_db
def test_an_inactive_coordinator_gets_no_reminder_and_a_gone_hearing_is_not_due(
    coordinator, other_coordinator, legal_director, django_capture_on_commit_callbacks
):
    case = opened(coordinator)
    assign(actor=legal_director, case=case, coordinator=other_coordinator)
    due = hearing(coordinator, case, at=timezone.now() + timedelta(days=1))
    other_coordinator.is_active = False
    other_coordinator.save()

    with django_capture_on_commit_callbacks(execute=True):
        assert send_hearing_reminder.call(due.pk) is True
        assert send_hearing_reminder.call(due.pk + 1000) is False

    assert [m.to for m in mail.outbox] == [["cora@example.org"]]


@pytest.mark.django_db(transaction=True)
def test_four_reminder_runs_at_once_send_one_reminder(coordinator):
    case = opened(coordinator)
    due = hearing(coordinator, case, at=timezone.now() + timedelta(days=1))

    results = run_together(*[lambda: remind_of_hearing(hearing_id=due.pk)] * 4)

    assert sorted(results) == [False, False, False, True]
    assert [m.to for m in mail.outbox] == [["cora@example.org"]]

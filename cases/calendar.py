"""A coordinator's hearings as an iCalendar feed (RFC 5545), written by hand.

The feed is read by calendar apps that cannot send a header, so its address carries a secret
token; the feed itself holds case references, courts and times only, never a name or an A-number.
Each request reads the owner's scope as it is now: a case taken off them drops out, and a
deactivated owner's feed answers nothing.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from cases.models import CalendarFeed, Hearing
from cases.queries import hearings_between
from cases.services.hearings import kind_label, token_hash
from fund.security.roles import CASE_WORKERS

PAST = timedelta(days=30)
AHEAD = timedelta(days=180)
LINE_OCTETS = 75
PRODID = "-//Defense Fund//Hearings//EN"
UID_DOMAIN = "hearings.defense-fund"


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT: what a calendar app shows of a hearing."""

    uid: str
    start: datetime
    summary: str
    location: str


def escape_text(value: str) -> str:
    """Return a TEXT value escaped as RFC 5545 §3.3.11 says: \\ ; , and line breaks."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Return a content line folded into lines of at most 75 octets, CRLF-terminated.

    A continuation line starts with one space (counted in its 75); a character's UTF-8 octets
    are never split across lines.
    """
    lines: list[str] = []
    current, size, limit = "", 0, LINE_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            lines.append(current)
            current, size, limit = " ", 1, LINE_OCTETS
        current += char
        size += octets
    lines.append(current)
    return "".join(f"{part}\r\n" for part in lines)


def utc(moment: datetime) -> str:
    """Return a moment as an RFC 5545 UTC DATE-TIME (20260701T160000Z)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_of(hearing: Hearing) -> CalendarEvent:
    """Return the calendar event of a hearing (its case must be loaded)."""
    return CalendarEvent(
        uid=f"{hearing.row_key}@{UID_DOMAIN}",
        start=hearing.at,
        summary=f"{hearing.case.ref} \N{EM DASH} {kind_label(hearing.kind)}",
        location=hearing.court,
    )


def render_calendar(events: Iterable[CalendarEvent], *, now: datetime) -> str:
    """Return a VCALENDAR with one VEVENT per event, every line folded and CRLF-terminated."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Hearings",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{utc(now)}",
            f"DTSTART:{utc(event.start)}",
            f"SUMMARY:{escape_text(event.summary)}",
            f"LOCATION:{escape_text(event.location)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)


def feed_for_token(token: str) -> CalendarFeed | None:
    """Return the live feed of a token: not revoked, its owner active and still a coordinator."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not CASE_WORKERS.allows(feed.user):
        return None
    return feed


def calendar_for_token(token: str, *, now: datetime | None = None) -> str | None:
    """Return the iCalendar text of a token's feed (hearings of the last 30 and next 180 days in
    its owner's current scope), or None when the token is unknown, revoked or its owner gone."""
    feed = feed_for_token(token)
    if feed is None:
        return None
    now = now or timezone.now()
    hearings = hearings_between(feed.user, now - PAST, now + AHEAD)
    return render_calendar((event_of(h) for h in hearings), now=now)

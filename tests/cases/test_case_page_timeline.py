"""A long case's page shows its newest 50 timeline entries, with links to older ones, in the same
number of queries however long the timeline is; the board's queries do not grow with its cases
(bench/cases.py measures both at 10,000 cases and 100,000 entries)."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case, Facility, TimelineEntry
from cases.services.cases import change_status, open_case
from cases.services.hearings import add_hearing
from cases.views.case import TIMELINE_PAGE

pytestmark = pytest.mark.django_db

DASH = "\N{EN DASH}"


@pytest.fixture
def facility(db) -> Facility:
    return Facility.objects.create(name="Invented Processing Center", city="Adelanto", state="CA")


def a_case(coordinator, facility, name: str = "Zyxwvut Canaryname") -> Case:
    opened = open_case(
        actor=coordinator,
        legal_name=name,
        detained_on=date(2026, 11, 2),
        facility=facility,
    )
    return change_status(actor=coordinator, case=opened.case, to=Case.Status.DETAINED)


def add_notes(case: Case, by, count: int, start: int = 0) -> None:
    TimelineEntry.objects.bulk_create(
        TimelineEntry(case=case, kind=TimelineEntry.Kind.NOTE, text=f"Note number {n}.", by=by)
        for n in range(start, start + count)
    )


def queries_of(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_a_long_timeline_shows_the_newest_50_and_links_to_older_ones(client, coordinator, facility):
    case = a_case(coordinator, facility)
    add_notes(case, coordinator, 118)  # with "Case opened" and the status change: 120 entries
    client.force_login(coordinator)
    url = reverse("cases_case_detail", args=[case.ref])

    first = client.get(url).content.decode()
    last = client.get(f"{url}?timeline=3").content.decode()
    beyond = client.get(f"{url}?timeline=99").content.decode()

    assert TIMELINE_PAGE == 50
    assert first.count("<li><strong>") == 50
    assert "Note number 117." in first
    assert "Note number 68." in first
    assert "Note number 67." not in first
    assert "Case opened" not in first
    assert f"Entries 1{DASH}50 of 120, newest first" in first
    assert 'href="?timeline=2#timeline" rel="next">Older entries</a>' in first
    assert "Newer entries" not in first
    assert last.count("<li><strong>") == 20
    assert f"Entries 101{DASH}120 of 120, newest first" in last
    assert "Case opened" in last
    assert "Note number 17." in last
    assert "Note number 18." not in last
    assert 'href="?timeline=2#timeline" rel="prev">Newer entries</a>' in last
    assert "Older entries" not in last
    # A page past the end shows the last one, like the board's pages.
    assert f"Entries 101{DASH}120 of 120, newest first" in beyond


def test_a_short_timeline_has_no_page_links(client, coordinator, facility):
    case = a_case(coordinator, facility)
    client.force_login(coordinator)

    shown = client.get(reverse("cases_case_detail", args=[case.ref])).content.decode()

    assert "Case opened" in shown
    assert 'aria-label="Timeline pages"' not in shown


def test_the_case_page_takes_as_many_queries_with_60_entries_as_with_600(
    client, coordinator, facility
):
    case = a_case(coordinator, facility)
    add_notes(case, coordinator, 58)
    client.force_login(coordinator)
    url = reverse("cases_case_detail", args=[case.ref])
    client.get(url)
    short, _ = queries_of(client, url)

    add_notes(case, coordinator, 540, start=58)
    long, shown = queries_of(client, url)

    assert f"Entries 1{DASH}50 of 600, newest first" in shown
    assert long == short


def test_the_board_takes_as_many_queries_with_3_cases_as_with_30(
    client, coordinator, legal_director, facility
):
    for n in range(3):
        case = a_case(coordinator, facility, name=f"Person {n}")
        add_hearing(
            actor=coordinator,
            case=case,
            at=datetime(2027, 1, 10 + n, 9, 30, tzinfo=UTC),
            court="Adelanto Immigration Court",
            kind="master",
        )
    board = reverse("cases_board")
    counts = {}
    for user in (coordinator, legal_director):
        client.force_login(user)
        client.get(board)
        counts[user.username] = queries_of(client, board)[0]
    for n in range(3, 30):
        a_case(coordinator, facility, name=f"Person {n}")

    for user in (coordinator, legal_director):
        client.force_login(user)
        client.get(board)  # a fresh session is renewed on its first request, as above
        count, shown = queries_of(client, board)
        assert "30 cases, newest first." in shown
        assert count == counts[user.username], user.username


def test_timeline_texts_are_escaped_keep_their_line_breaks_and_only_fresh_own_notes_are_editable(
    client, coordinator, other_coordinator, legal_director, facility
):
    from cases.services.cases import add_note, assign

    case = a_case(coordinator, facility)
    assign(actor=legal_director, case=case, coordinator=other_coordinator)
    mine = add_note(actor=coordinator, case=case, kind="note", text="<script>x()</script>\nline 2")
    theirs = add_note(actor=other_coordinator, case=case, kind="call", text="Their call")
    client.force_login(coordinator)

    shown = client.get(reverse("cases_case_detail", args=[case.ref])).content.decode()

    assert "<script>x()</script>" not in shown
    assert "&lt;script&gt;x()&lt;/script&gt;<br>line 2" in shown
    assert reverse("cases_note_edit", args=[case.ref, mine.pk]) in shown
    assert reverse("cases_note_edit", args=[case.ref, theirs.pk]) not in shown
    assert f"by {other_coordinator.get_username()}" in shown

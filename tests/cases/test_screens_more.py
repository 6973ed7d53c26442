"""The case screens of cases/views/extras.py: editing a note, a hearing's outcome and new time,
taking a coordinator off, a legal hold, the calendar addresses and the payees, as each role sees
them; each refusal shows its message and changes nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CalendarFeed, Case, Facility, Hearing, Payee, TimelineEntry
from cases.services.cases import add_note, assign, change_status, open_case
from cases.services.hearings import add_hearing, token_hash
from cases.services.payees import create_payee

pytestmark = pytest.mark.django_db

CANARY_NAME = "Qwertzu Canaryname"
Kind = TimelineEntry.Kind


def page(response) -> str:
    return response.content.decode()


def detail(client, case: Case) -> str:
    return page(client.get(reverse("cases_case_detail", args=[case.ref])))


@pytest.fixture
def case(coordinator) -> Case:
    facility = Facility.objects.create(name="Invented Processing Center")
    opened = open_case(actor=coordinator, legal_name=CANARY_NAME, facility=facility)
    return change_status(actor=coordinator, case=opened.case, to=Case.Status.DETAINED)


@pytest.fixture
def note(coordinator, case) -> TimelineEntry:
    return add_note(actor=coordinator, case=case, kind=Kind.CALL, text="Spoke to the sister")


@pytest.fixture
def hearing(coordinator, case) -> Hearing:
    return add_hearing(
        actor=coordinator,
        case=case,
        at=timezone.now() + timedelta(days=5),
        court="Adelanto Immigration Court",
        kind=Hearing.Kind.BOND,
    )


# Editing a note


def test_the_author_edits_a_note_and_its_earlier_text_is_kept(client, coordinator, case, note):
    client.force_login(coordinator)
    url = reverse("cases_note_edit", args=[case.ref, note.pk])

    assert url in detail(client, case)
    form = client.get(url)
    assert form.status_code == 200
    assert "Spoke to the sister</textarea>" in page(form)
    assert 'name="csrfmiddlewaretoken"' in page(form)
    response = client.post(url, {"text": "Spoke to the sister and the lawyer"})

    assert response.status_code == 302
    assert response["Location"].endswith("#timeline")
    note.refresh_from_db()
    assert note.text == "Spoke to the sister and the lawyer"
    assert note.edited_at is not None
    earlier = case.timeline.filter(by=None, kind=Kind.CALL).get()
    assert earlier.text.endswith("\nSpoke to the sister")
    shown = page(client.get(response["Location"]))
    assert "Call changed; its earlier text is kept." in shown
    assert "Spoke to the sister and the lawyer" in shown


def test_an_empty_edit_is_a_form_error_and_changes_nothing(client, coordinator, case, note):
    client.force_login(coordinator)

    response = client.post(reverse("cases_note_edit", args=[case.ref, note.pk]), {"text": ""})

    assert response.status_code == 400
    assert "A note needs some text." in page(response)
    note.refresh_from_db()
    assert (note.text, note.edited_at) == ("Spoke to the sister", None)


def test_after_15_minutes_the_edit_link_is_gone_and_a_forced_post_is_refused(
    client, coordinator, case, note
):
    TimelineEntry.objects.filter(pk=note.pk).update(at=timezone.now() - timedelta(minutes=16))
    client.force_login(coordinator)
    url = reverse("cases_note_edit", args=[case.ref, note.pk])

    assert url not in detail(client, case)
    locked = client.get(url)
    assert locked.status_code == 200
    assert "can no longer be edited here" in page(locked)
    assert "<textarea" not in page(locked)
    response = client.post(url, {"text": "rewriting history"})

    assert response.status_code == 400
    assert (
        "A note can be edited for 15 minutes after it is written; add a new note instead."
        in page(response)
    )
    note.refresh_from_db()
    assert (note.text, note.edited_at) == ("Spoke to the sister", None)
    assert case.timeline.filter(by=None).count() == 0


def test_a_coordinator_not_the_author_cannot_edit_the_note(
    client, coordinator, other_coordinator, legal_director, case, note
):
    assign(actor=legal_director, case=case, coordinator=other_coordinator)
    client.force_login(other_coordinator)
    url = reverse("cases_note_edit", args=[case.ref, note.pk])

    assert url not in detail(client, case)
    response = client.post(url, {"text": "not mine"})

    assert response.status_code == 400
    assert "Only the note&#x27;s author can edit it." in page(response)
    note.refresh_from_db()
    assert note.text == "Spoke to the sister"


def test_an_unassigned_coordinator_finds_no_note_and_a_treasurer_no_edit(
    client, other_coordinator, treasurer, case, note
):
    url = reverse("cases_note_edit", args=[case.ref, note.pk])
    client.force_login(other_coordinator)
    assert client.get(url).status_code == 404
    assert client.post(url, {"text": "x"}).status_code == 404
    client.force_login(treasurer)
    assert client.get(url).status_code == 403
    assert url not in detail(client, case)
    note.refresh_from_db()
    assert note.text == "Spoke to the sister"


def test_a_status_entry_is_no_note_to_edit(client, coordinator, case):
    status = case.timeline.filter(kind=Kind.STATUS).first()
    client.force_login(coordinator)
    assert client.get(reverse("cases_note_edit", args=[case.ref, status.pk])).status_code == 404


# Hearings: outcome and a new time


def test_a_coordinator_records_a_hearings_outcome(client, coordinator, case, hearing):
    client.force_login(coordinator)
    url = reverse("cases_hearing_detail", args=[case.ref, hearing.pk])
    assert url in detail(client, case)
    assert client.get(url).status_code == 200

    response = client.post(
        reverse("cases_hearing_outcome", args=[case.ref, hearing.pk]),
        {"outcome": "Bond set at $5,000"},
    )

    assert response.status_code == 302
    hearing.refresh_from_db()
    assert hearing.outcome == "Bond set at $5,000"
    shown = page(client.get(response["Location"]))
    assert f"Outcome recorded for the hearing of {case.ref}." in shown
    assert "Bond set at $5,000" in shown


def test_an_empty_outcome_is_refused_and_changes_nothing(client, coordinator, case, hearing):
    client.force_login(coordinator)

    response = client.post(
        reverse("cases_hearing_outcome", args=[case.ref, hearing.pk]), {"outcome": " "}
    )

    assert response.status_code == 400
    assert "Say what came of the hearing." in page(response)
    hearing.refresh_from_db()
    assert hearing.outcome == ""


def test_a_hearing_is_rescheduled_and_a_bad_time_is_refused(client, coordinator, case, hearing):
    client.force_login(coordinator)
    url = reverse("cases_hearing_reschedule", args=[case.ref, hearing.pk])
    was = hearing.at

    bad = client.post(url, {"at": "2150-01-01T09:00", "court": "Adelanto"})
    assert bad.status_code == 400
    assert "A hearing&#x27;s time is between 2000 and 2099." in page(bad)
    hearing.refresh_from_db()
    assert hearing.at == was

    moved = client.post(url, {"at": "2026-12-20T10:30", "court": "San Diego Immigration Court"})
    assert moved.status_code == 302
    hearing.refresh_from_db()
    assert timezone.localtime(hearing.at).strftime("%Y-%m-%d %H:%M") == "2026-12-20 10:30"
    assert hearing.court == "San Diego Immigration Court"
    assert f"The hearing of {case.ref} was moved." in page(client.get(moved["Location"]))


def test_hearings_are_for_the_cases_coordinators_only(
    client, other_coordinator, treasurer, case, hearing
):
    urls = [
        reverse("cases_hearing_detail", args=[case.ref, hearing.pk]),
        reverse("cases_hearing_outcome", args=[case.ref, hearing.pk]),
    ]
    client.force_login(other_coordinator)
    assert client.get(urls[0]).status_code == 404
    assert client.post(urls[1], {"outcome": "x"}).status_code == 404
    client.force_login(treasurer)
    assert client.get(urls[0]).status_code == 403
    assert client.post(urls[1], {"outcome": "x"}).status_code == 403
    hearing.refresh_from_db()
    assert hearing.outcome == ""


# Taking a coordinator off


def test_a_legal_director_takes_a_coordinator_off_but_not_the_last_one(
    client, coordinator, other_coordinator, legal_director, case
):
    assign(actor=legal_director, case=case, coordinator=other_coordinator)
    client.force_login(legal_director)
    url = reverse("cases_case_unassign", args=[case.ref])
    coordinators = reverse("cases_case_assign", args=[case.ref])
    assert coordinators in detail(client, case)
    assert "Take a coordinator off" in page(client.get(coordinators))

    done = client.post(url, {"coordinator": other_coordinator.pk})
    assert done.status_code == 302
    assert list(case.coordinators.all()) == [coordinator]
    assert f"cole no longer works {case.ref}." in page(client.get(done["Location"]))

    last = client.post(url, {"coordinator": coordinator.pk})
    assert last.status_code == 400
    assert f"{case.ref} keeps at least one coordinator: assign another one first." in page(last)
    assert "Take a coordinator off" in page(last)
    assert list(case.coordinators.all()) == [coordinator]


def test_a_treasurer_or_a_coordinator_cannot_take_anyone_off(
    client, coordinator, other_coordinator, legal_director, treasurer, case
):
    assign(actor=legal_director, case=case, coordinator=other_coordinator)
    url = reverse("cases_case_unassign", args=[case.ref])
    for user in (treasurer, coordinator):
        client.force_login(user)
        assert "Assign or take off coordinators" not in detail(client, case)
        assert client.get(reverse("cases_case_assign", args=[case.ref])).status_code == 403
        assert client.post(url, {"coordinator": other_coordinator.pk}).status_code == 403
    assert set(case.coordinators.all()) == {coordinator, other_coordinator}


# A legal hold


def test_a_legal_director_places_and_lifts_a_legal_hold_with_a_reason(client, legal_director, case):
    client.force_login(legal_director)
    url = reverse("cases_case_legal_hold", args=[case.ref])
    assert f'href="{url}">Place a legal hold</a>' in detail(client, case)
    form = client.get(url)
    assert form.status_code == 200
    assert "Say why" not in page(form)
    assert 'name="reason"' in page(form)

    blank = client.post(url, {"hold": "place", "reason": ""})
    assert blank.status_code == 400
    assert "Say why the legal hold is placed or lifted." in page(blank)
    assert "The legal hold did not change." in page(blank)
    case.refresh_from_db()
    assert case.legal_hold is False

    placed = client.post(url, {"hold": "place", "reason": "Litigation pending"})
    assert placed.status_code == 302
    case.refresh_from_db()
    assert case.legal_hold is True
    shown = page(client.get(placed["Location"]))
    assert f"{case.ref} is on legal hold." in shown
    assert f'href="{url}">Lift the legal hold</a>' in shown
    assert "Legal hold placed: Litigation pending" in shown
    assert 'value="lift"' in page(client.get(url))

    lifted = client.post(url, {"hold": "lift", "reason": "Settled"})
    assert lifted.status_code == 302
    case.refresh_from_db()
    assert case.legal_hold is False


def test_a_coordinator_or_a_treasurer_cannot_place_a_legal_hold(
    client, coordinator, treasurer, case
):
    url = reverse("cases_case_legal_hold", args=[case.ref])
    entries = case.timeline.count()
    for user in (coordinator, treasurer):
        client.force_login(user)
        assert "Place a legal hold" not in detail(client, case)
        assert client.get(url).status_code == 403
        assert client.post(url, {"hold": "place", "reason": "x"}).status_code == 403
    case.refresh_from_db()
    assert case.legal_hold is False
    assert case.timeline.count() == entries


def test_an_admin_places_a_legal_hold(client, admin_user, case):
    client.force_login(admin_user)
    response = client.post(
        reverse("cases_case_legal_hold", args=[case.ref]), {"hold": "place", "reason": "Subpoena"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.legal_hold is True


# The calendar addresses


def test_a_coordinator_makes_a_calendar_address_sees_it_once_and_revokes_it(
    client, coordinator, case, hearing
):
    client.force_login(coordinator)
    url = reverse("cases_calendar")
    assert client.get(url).status_code == 200

    made = client.post(url)

    assert made.status_code == 200
    assert made["Cache-Control"] == "private, no-store"
    shown = page(made)
    feed = CalendarFeed.objects.get(user=coordinator)
    start = shown.index('value="http://testserver/cases/calendar/') + len('value="')
    address = shown[start : shown.index('"', start)]
    token = address.rsplit("/", 1)[1].removesuffix(".ics")
    assert feed.token_hash == token_hash(token)
    assert "It carries case references only, no names." in shown
    assert "revoke it" in shown
    assert client.get(address).status_code == 200
    assert case.ref in page(client.get(address))
    assert token not in page(client.get(url))

    revoked = client.post(reverse("cases_calendar_revoke", args=[feed.pk]))
    assert revoked.status_code == 302
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert f"Calendar address #{feed.pk} revoked" in page(client.get(revoked["Location"]))
    assert client.get(address).status_code == 404


def test_someone_elses_calendar_address_cannot_be_revoked(
    client, coordinator, other_coordinator, treasurer
):
    client.force_login(other_coordinator)
    client.post(reverse("cases_calendar"))
    theirs = CalendarFeed.objects.get()
    client.force_login(coordinator)
    assert client.post(reverse("cases_calendar_revoke", args=[theirs.pk])).status_code == 404
    assert f"#{theirs.pk}" not in page(client.get(reverse("cases_calendar")))
    client.force_login(treasurer)
    assert client.get(reverse("cases_calendar")).status_code == 403
    assert client.post(reverse("cases_calendar")).status_code == 403
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert CalendarFeed.objects.count() == 1


# Payees


@pytest.fixture
def attorney(coordinator) -> Payee:
    return create_payee(
        actor=coordinator,
        kind=Payee.Kind.ATTORNEY,
        name="Ana Abogada",
        firm="Valley Law",
        bar_number="CA-12345",
    )


def test_a_treasurer_lists_payees_and_records_a_w9(client, treasurer, attorney):
    client.force_login(treasurer)
    url = reverse("cases_payees")

    shown = page(client.get(url))
    assert "Ana Abogada" in shown
    assert "Valley Law" in shown
    assert "CA-12345" in shown
    assert f"Mark W-9 received: #{attorney.pk}" in shown

    done = client.post(reverse("cases_payee_w9", args=[attorney.pk]), {"received": "yes"})
    assert done.status_code == 302
    assert done["Location"] == f"{url}#payee-{attorney.pk}"
    attorney.refresh_from_db()
    assert attorney.w9_received is True
    assert f"Payee #{attorney.pk}: W-9 received." in page(client.get(done["Location"]))

    bad = client.post(reverse("cases_payee_w9", args=[attorney.pk]), {"received": "maybe"})
    assert bad.status_code == 302
    assert "say whether the W-9 was received" in page(client.get(bad["Location"]))
    attorney.refresh_from_db()
    assert attorney.w9_received is True


def test_an_auditor_sees_payees_by_number_with_no_w9_toggle(client, auditor, admin_user, attorney):
    client.force_login(auditor)

    shown = page(client.get(reverse("cases_payees")))

    assert f"Payee #{attorney.pk}" in shown
    assert "Not received" in shown
    assert "Ana Abogada" not in shown
    assert "Valley Law" not in shown
    assert "Mark W-9" not in shown
    refused = client.post(reverse("cases_payee_w9", args=[attorney.pk]), {"received": "yes"})
    assert refused.status_code == 403
    attorney.refresh_from_db()
    assert attorney.w9_received is False

    client.force_login(admin_user)
    shown = page(client.get(reverse("cases_payees")))
    assert "Ana Abogada" in shown
    assert "Mark W-9" not in shown


def test_coordinators_and_outsiders_do_not_open_the_payees(client, coordinator, outsider):
    for user in (coordinator, outsider):
        client.force_login(user)
        assert client.get(reverse("cases_payees")).status_code == 403


def test_unknown_numbers_are_404s(client, treasurer, coordinator, case):
    client.force_login(treasurer)
    assert (
        client.post(reverse("cases_payee_w9", args=[999999]), {"received": "yes"}).status_code
        == 404
    )
    client.force_login(coordinator)
    assert client.get(reverse("cases_hearing_detail", args=[case.ref, 999999])).status_code == 404
    assert client.get(reverse("cases_note_edit", args=[case.ref, 999999])).status_code == 404
    assert client.post(reverse("cases_calendar_revoke", args=[999999])).status_code == 404

"""A case's facility page: a coordinator records that the person was moved to another facility."""

import re
from datetime import date

import pytest

from cases.models import Case, Facility, TimelineEntry
from cases.services.cases import change_status, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def facilities(db) -> list[Facility]:
    return [
        Facility.objects.create(name="Invented Processing Center", city="Adelanto", state="CA"),
        Facility.objects.create(name="Made-up Detention Annex", city="Tacoma", state="WA"),
    ]


@pytest.fixture
def case(coordinator, facilities) -> Case:
    opened = open_case(
        actor=coordinator,
        legal_name="Zyxwvut Canaryname",
        detained_on=date(2026, 11, 2),
        facility=facilities[0],
    )
    return change_status(actor=coordinator, case=opened.case, to=Case.Status.DETAINED)


def url(case: Case) -> str:
    return f"/cases/{case.ref}/facility/"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_coordinator_records_a_move_and_the_case_becomes_transferred(
    client, coordinator, case, facilities
):
    client.force_login(coordinator)
    annex = facilities[1]

    page = client.get(url(case))
    moved = client.post(url(case), {"facility": annex.pk, "note": "Told by the family"})

    assert page.status_code == 200
    assert "Held at Invented Processing Center, Adelanto, CA." in text(page)
    assert moved.status_code == 302
    assert moved["Location"] == f"/cases/{case.ref}/"
    case.refresh_from_db()
    assert (case.facility, case.status) == (annex, Case.Status.TRANSFERRED)
    entry = case.timeline.filter(kind=TimelineEntry.Kind.STATUS).order_by("-at", "-pk")[1]
    assert entry.text == (
        "Moved from Invented Processing Center to Made-up Detention Annex.\nTold by the family"
    )
    case_page = client.get(f"/cases/{case.ref}/")
    assert "Made-up Detention Annex" in text(case_page)
    assert f'href="{url(case)}">Record a move</a>' in case_page.content.decode()


def test_no_facility_chosen_is_refused_and_nothing_changes(client, coordinator, case, facilities):
    client.force_login(coordinator)

    refused = client.post(url(case), {"facility": ""})
    retired = facilities[1]
    Facility.objects.filter(pk=retired.pk).update(active=False)
    gone = client.post(url(case), {"facility": retired.pk})

    assert refused.status_code == 400
    assert "Choose the facility the person is held at now." in text(refused)
    assert gone.status_code == 400
    case.refresh_from_db()
    assert (case.facility, case.status) == (facilities[0], Case.Status.DETAINED)


def test_only_the_cases_workers_reach_it(client, treasurer, other_coordinator, case, facilities):
    client.force_login(other_coordinator)
    assert client.get(url(case)).status_code == 404
    assert client.post(url(case), {"facility": facilities[1].pk}).status_code == 404
    client.force_login(treasurer)
    assert client.get(url(case)).status_code == 403
    assert "Record a move" not in client.get(f"/cases/{case.ref}/").content.decode()
    case.refresh_from_db()
    assert case.facility == facilities[0]

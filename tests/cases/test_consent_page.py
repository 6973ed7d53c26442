"""A case's consent page: a coordinator ticks what the person agreed to; anyone who may open the
case reads it; nobody can type a name into it."""

import re
from datetime import date

import pytest

from cases.models import Case, TimelineEntry
from cases.services.cases import change_status, open_case

pytestmark = pytest.mark.django_db

CANARY_NAME = "Zyxwvut Canaryname"


@pytest.fixture
def case(coordinator) -> Case:
    opened = open_case(actor=coordinator, legal_name=CANARY_NAME, detained_on=date(2026, 11, 2))
    return change_status(actor=coordinator, case=opened.case, to=Case.Status.DETAINED)


def url(case: Case) -> str:
    return f"/cases/{case.ref}/consent/"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_coordinator_records_consent_by_ticking_the_list(client, coordinator, case):
    client.force_login(coordinator)

    blank = client.get(url(case))
    recorded = client.post(url(case), {"scope": ["bond", "share_attorney"]})
    shown = client.get(url(case))

    assert blank.status_code == 200
    assert "No consent is recorded" in text(blank)
    assert 'type="checkbox" name="scope" value="family"' in blank.content.decode()
    assert recorded.status_code == 302
    assert recorded["Location"] == f"/cases/{case.ref}/#consent"
    case.refresh_from_db()
    assert (case.consent_by, case.consent_scope) == (coordinator, "bond,share_attorney")
    assert "Pay and post an immigration bond" in text(shown)
    assert "Recorded by cora" in text(shown)
    # The form opens with what is recorded ticked, to change it.
    assert re.search(r'value="bond"[^>]*checked', shown.content.decode())
    assert case.timeline.filter(kind=TimelineEntry.Kind.CONSENT).count() == 1
    # The case page says it too, and links here.
    case_page = client.get(f"/cases/{case.ref}/")
    assert "Consent Pay and post an immigration bond; Share the case with" in text(case_page)
    assert f'href="{url(case)}">Record consent</a>' in case_page.content.decode()


def test_nothing_ticked_or_something_typed_is_refused_and_nothing_recorded(
    client, coordinator, case
):
    client.force_login(coordinator)

    empty = client.post(url(case), {})
    typed = client.post(url(case), {"scope": ["bond", "Maria may call"]})

    assert empty.status_code == 400
    assert "Choose what the person consented to." in text(empty)
    assert typed.status_code == 400
    assert "Maria may call is not one of the available choices" in text(typed)
    case.refresh_from_db()
    assert (case.consent_scope, case.consent_at) == ("", None)


def test_a_treasurer_reads_the_consent_but_cannot_record_it(client, coordinator, treasurer, case):
    client.force_login(coordinator)
    client.post(url(case), {"scope": ["bond"]})
    client.force_login(treasurer)

    page = client.get(url(case))
    refused = client.post(url(case), {"scope": ["family"]})

    assert page.status_code == 200
    assert "Pay and post an immigration bond" in text(page)
    assert "<form" not in page.content.decode().split("<main", 1)[-1]
    assert CANARY_NAME not in page.content.decode()
    assert refused.status_code == 403
    case.refresh_from_db()
    assert case.consent_scope == "bond"


def test_a_coordinator_not_on_the_case_gets_a_404(client, other_coordinator, case):
    client.force_login(other_coordinator)

    assert client.get(url(case)).status_code == 404
    assert client.post(url(case), {"scope": ["bond"]}).status_code == 404
    case.refresh_from_db()
    assert case.consent_scope == ""

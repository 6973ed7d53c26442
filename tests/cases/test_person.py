"""Correcting the person's details after intake: a misspelt name, a new phone, an A-number
learned later. The case's coordinators correct them on the person page or through the API; the
timeline names the fields changed, never the values; the access log has every correction."""

import json
import re
from datetime import date

import pytest
from django.utils import timezone

from cases.errors import CaseError, CaseNotFound, DetailsChanged
from cases.models import Case, CaseEvent, TimelineEntry
from cases.queries import cases_for_user
from cases.services.cases import details_seen, open_case, update_person
from fund.errors import NotAllowed
from fund.security.models import AccessLog
from fund.security.tokens import issue_api_token
from tests.conftest import bearer

pytestmark = pytest.mark.django_db

CANARY_NAME = "Zyxwvut Canaryname"
FIXED_NAME = "Zyxwvut Canarynombre"
NEW_A_NUMBER = "A076543210"
NEW_PHONE = "555-0142"


@pytest.fixture
def case(coordinator) -> Case:
    return open_case(
        actor=coordinator,
        legal_name=CANARY_NAME,
        phone="555-0100",
        date_of_birth="1990-04-02",
        union_local="Local 26",
        detained_on=date(2026, 11, 2),
    ).case


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def corrections(case: Case) -> list[str]:
    return [e.text for e in case.timeline.filter(kind=TimelineEntry.Kind.DETAILS).order_by("pk")]


def changes_logged(case: Case) -> int:
    return AccessLog.objects.filter(
        action=AccessLog.Action.CHANGE, object_type="cases.Case", object_ref=str(case.pk)
    ).count()


# The service


def test_a_correction_saves_what_changed_and_names_only_the_fields(coordinator, case):
    corrected = update_person(
        actor=coordinator,
        case=case,
        legal_name=f"  {FIXED_NAME} ",
        phone=NEW_PHONE,
        union_local="Local 26",  # as it was: not a change
        employer="",  # nothing recorded, nothing given: not a change
    )

    case.refresh_from_db()
    assert corrected.changed == ["legal_name", "phone"]
    assert (case.legal_name, case.phone, case.union_local) == (FIXED_NAME, NEW_PHONE, "Local 26")
    assert case.date_of_birth == "1990-04-02"
    assert corrections(case) == ["Corrected: legal name, phone."]
    assert changes_logged(case) == 1
    log = AccessLog.objects.get(action=AccessLog.Action.CHANGE)
    assert (log.user, log.detail) == (coordinator, "person corrected")
    # The change history has the case's row, never the details.
    history = " ".join(str(v) for v in CaseEvent.objects.values_list())
    assert FIXED_NAME not in history
    assert NEW_PHONE not in history


def test_the_same_details_again_change_nothing_and_write_nothing(coordinator, case):
    corrected = update_person(
        actor=coordinator,
        case=case,
        legal_name=CANARY_NAME,
        phone=" 555-0100 ",
        other_names="",
        detained_on=date(2026, 11, 2),
    )

    assert corrected.changed == []
    assert corrections(case) == []
    assert changes_logged(case) == 0


def test_a_new_a_number_is_found_by_its_index_and_warns_of_another_case(
    coordinator, legal_director, case
):
    other = open_case(actor=legal_director, legal_name="Someone Else", a_number=NEW_A_NUMBER).case

    corrected = update_person(actor=coordinator, case=case, a_number="a076-543-210")

    case.refresh_from_db()
    assert case.a_number == NEW_A_NUMBER
    assert corrected.changed == ["a_number"]
    # The other case is the legal director's, out of the coordinator's scope: counted only.
    assert (corrected.duplicates, corrected.hidden_duplicates) == ([], 1)
    assert list(cases_for_user(coordinator, search="076543210")) == [case]
    seen_by_director = update_person(actor=legal_director, case=case, a_number=NEW_A_NUMBER)
    assert seen_by_director.changed == []
    assert set(cases_for_user(legal_director, search=NEW_A_NUMBER)) == {case, other}
    # Cleared, the number finds the case no more.
    update_person(actor=coordinator, case=case, a_number="")
    case.refresh_from_db()
    assert (case.a_number, case.a_number_index) == ("", "")
    assert list(cases_for_user(coordinator, search=NEW_A_NUMBER)) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"legal_name": "  "}, "A case needs the person's legal name."),
        ({"a_number": "A12"}, "An A-number has 8 or 9 digits"),
        ({"union_local": "L" * 101}, "A union local is at most 100 characters."),
    ],
)
def test_a_bad_value_is_refused_and_nothing_changes(coordinator, case, fields, message):
    with pytest.raises(CaseError, match=re.escape(message)):
        update_person(actor=coordinator, case=case, phone=NEW_PHONE, **fields)

    case.refresh_from_db()
    assert case.phone == "555-0100"
    assert corrections(case) == []
    assert changes_logged(case) == 0


def test_only_the_cases_coordinators_correct_it(
    coordinator, other_coordinator, legal_director, treasurer, auditor, admin_user, case
):
    with pytest.raises(CaseNotFound):
        update_person(actor=other_coordinator, case=case, phone=NEW_PHONE)
    for outsider in (treasurer, auditor, admin_user):
        with pytest.raises(NotAllowed):
            update_person(actor=outsider, case=case, phone=NEW_PHONE)
    update_person(actor=legal_director, case=case, phone=NEW_PHONE)

    case.refresh_from_db()
    assert case.phone == NEW_PHONE
    assert [e.by for e in case.timeline.filter(kind=TimelineEntry.Kind.DETAILS)] == [legal_director]


def test_the_detention_day_is_corrected_or_cleared(coordinator, case):
    update_person(actor=coordinator, case=case, detained_on=date(2026, 10, 30))
    case.refresh_from_db()
    assert case.detained_on == date(2026, 10, 30)

    update_person(actor=coordinator, case=case, detained_on=None)
    case.refresh_from_db()
    assert case.detained_on is None
    assert corrections(case) == ["Corrected: detained on.", "Corrected: detained on."]


def test_details_changed_since_the_form_was_shown_are_not_undone(coordinator, legal_director, case):
    shown = details_seen(case)
    update_person(actor=legal_director, case=case, phone=NEW_PHONE)

    with pytest.raises(DetailsChanged, match="while you had them open"):
        update_person(actor=coordinator, case=case, phone="555-0100", seen=shown)

    case.refresh_from_db()
    assert case.phone == NEW_PHONE
    # The digest is keyed: it holds no detail a guess could be checked against without the key.
    assert len(shown) == 64
    assert shown != details_seen(case)


def test_a_purged_case_has_nothing_to_correct(coordinator, case):
    Case.objects.filter(pk=case.pk).update(purged_at=timezone.now())

    with pytest.raises(CaseError, match="purged"):
        update_person(actor=coordinator, case=case, phone=NEW_PHONE)


# The person page


def url(case: Case) -> str:
    return f"/cases/{case.ref}/person/"


def form_of(client, case: Case) -> dict[str, str]:
    """The person page's form as the browser would send it back unchanged."""
    html = client.get(url(case)).content.decode()
    fields = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', html))
    fields.update(re.findall(r'<textarea[^>]*name="(\w+)"[^>]*>\s*([^<]*)</textarea>', html))
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def test_a_coordinator_corrects_the_details_on_the_person_page(client, coordinator, case):
    client.force_login(coordinator)

    page = client.get(url(case))
    sent = form_of(client, case) | {"legal_name": FIXED_NAME, "a_number": NEW_A_NUMBER}
    saved = client.post(url(case), sent)
    shown = client.get(f"/cases/{case.ref}/")

    assert page.status_code == 200
    assert f'value="{CANARY_NAME}"' in page.content.decode()
    assert 'value="1990-04-02"' in page.content.decode()
    assert saved.status_code == 302
    assert saved["Location"] == f"/cases/{case.ref}/#person-heading"
    assert FIXED_NAME not in saved["Location"]
    assert f"Corrected on {case.ref}: legal name, A-number." in text(shown)
    assert FIXED_NAME in text(shown)
    assert CANARY_NAME not in text(shown)
    assert f'href="{url(case)}">Correct the details</a>' in shown.content.decode()
    assert corrections(case) == ["Corrected: legal name, A-number."]
    views = AccessLog.objects.filter(action=AccessLog.Action.VIEW, detail="correct details page")
    assert views.filter(user=coordinator).exists()


def test_the_page_sent_back_unchanged_changes_nothing(client, coordinator, case):
    client.force_login(coordinator)

    saved = client.post(url(case), form_of(client, case))

    assert saved.status_code == 302
    assert f"Nothing changed on {case.ref}." in text(client.get(f"/cases/{case.ref}/"))
    assert corrections(case) == []


def test_a_bad_a_number_is_a_form_error_that_does_not_echo_it(client, coordinator, case):
    client.force_login(coordinator)

    refused = client.post(url(case), form_of(client, case) | {"a_number": "A9876"})

    assert refused.status_code == 400
    assert "An A-number has 8 or 9 digits" in text(refused)
    assert "Nothing was changed." in text(refused)
    assert 'value="A9876"' in refused.content.decode()  # the field keeps what was typed
    assert "A9876" not in text(refused).replace('value="A9876"', "")
    assert corrections(case) == []


def test_a_second_coordinator_sees_the_first_ones_correction_instead_of_undoing_it(
    client, coordinator, legal_director, case
):
    client.force_login(coordinator)
    stale = form_of(client, case) | {"phone": "555-0177"}
    update_person(actor=legal_director, case=case, legal_name=FIXED_NAME)

    refused = client.post(url(case), stale)

    assert refused.status_code == 409
    assert "while you had them open" in text(refused)
    # The form shows the details as they are now, ready to correct again.
    assert f'value="{FIXED_NAME}"' in refused.content.decode()
    case.refresh_from_db()
    assert (case.legal_name, case.phone) == (FIXED_NAME, "555-0100")
    again = client.post(url(case), form_of(client, case) | {"phone": "555-0177"})
    assert again.status_code == 302
    case.refresh_from_db()
    assert (case.legal_name, case.phone) == (FIXED_NAME, "555-0177")


def test_a_date_of_birth_recorded_as_text_is_kept_when_the_page_is_sent_back(client, coordinator):
    case = open_case(actor=coordinator, legal_name=CANARY_NAME, date_of_birth="about 1985").case
    client.force_login(coordinator)

    page = client.get(url(case))
    saved = client.post(url(case), form_of(client, case))

    assert 'type="text" name="date_of_birth" value="about 1985"' in page.content.decode()
    assert saved.status_code == 302
    case.refresh_from_db()
    assert case.date_of_birth == "about 1985"


def test_others_cannot_reach_the_person_page(client, case, other_coordinator, treasurer, auditor):
    client.force_login(other_coordinator)
    assert client.get(url(case)).status_code == 404
    assert client.post(url(case), {"legal_name": FIXED_NAME}).status_code == 404
    for outsider in (treasurer, auditor):
        client.force_login(outsider)
        assert client.get(url(case)).status_code == 403
        assert client.post(url(case), {"legal_name": FIXED_NAME}).status_code == 403
    case.refresh_from_db()
    assert case.legal_name == CANARY_NAME


def test_a_purged_case_page_offers_no_form(client, coordinator, case):
    Case.objects.filter(pk=case.pk).update(purged_at=timezone.now())
    client.force_login(coordinator)

    page = client.get(url(case))

    assert page.status_code == 200
    assert "nothing left to correct" in text(page)
    assert "<form" not in page.content.decode().split("<main", 1)[-1]


# The API


def patch(client, user, case: Case, body: dict[str, object]):
    return client.patch(
        f"/api/v1/cases/{case.ref}/person",
        data=json.dumps(body),
        content_type="application/json",
        **bearer(issue_api_token(actor=None, user=user)[1]),
    )


def test_the_api_corrects_only_the_fields_sent(client, coordinator, case):
    answer = patch(client, coordinator, case, {"phone": NEW_PHONE, "detained_on": None})

    assert answer.status_code == 200
    body = answer.json()
    assert body["changed"] == ["phone", "detained_on"]
    assert body["person"]["phone"] == NEW_PHONE
    assert body["person"]["legal_name"] == CANARY_NAME
    assert body["detained_on"] is None
    case.refresh_from_db()
    assert (case.phone, case.detained_on, case.union_local) == (NEW_PHONE, None, "Local 26")
    assert changes_logged(case) == 1


def test_an_api_correction_made_to_stale_details_is_refused_not_undone(
    client, coordinator, case, legal_director
):
    read = client.get(
        f"/api/v1/cases/{case.ref}", **bearer(issue_api_token(actor=None, user=coordinator)[1])
    )
    seen = read.json()["details_seen"]
    first = patch(client, legal_director, case, {"phone": NEW_PHONE, "details_seen": seen})
    assert first.status_code == 200

    stale = patch(client, coordinator, case, {"phone": "555-0199", "details_seen": seen})

    assert stale.status_code == 409
    assert "while you had them open" in stale.json()["detail"]
    case.refresh_from_db()
    assert case.phone == NEW_PHONE
    assert changes_logged(case) == 1
    # The digest a correction answers is the one to send with the next.
    again = patch(
        client,
        coordinator,
        case,
        {"phone": "555-0199", "details_seen": first.json()["details_seen"]},
    )
    assert again.status_code == 200
    assert again.json()["changed"] == ["phone"]


def test_only_those_who_see_the_person_get_the_details_digest(client, case, treasurer):
    read = client.get(
        f"/api/v1/cases/{case.ref}", **bearer(issue_api_token(actor=None, user=treasurer)[1])
    )

    assert read.status_code == 200
    assert read.json()["person"] is None
    assert read.json()["details_seen"] is None


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"a_number": "12345"}, 400, "An A-number has 8 or 9 digits"),
        ({"legal_name": None}, 400, "A case needs the person's legal name."),
        ({"legal_name": ""}, 422, ""),
    ],
)
def test_the_api_refuses_bad_values_with_a_message(client, coordinator, case, body, status, detail):
    answer = patch(client, coordinator, case, body)

    assert answer.status_code == status
    assert detail in json.dumps(answer.json())
    assert "12345" not in json.dumps(answer.json())
    case.refresh_from_db()
    assert case.legal_name == CANARY_NAME


def test_the_api_hides_the_case_from_others_and_refuses_money_roles(
    client, case, other_coordinator, treasurer, auditor
):
    assert patch(client, other_coordinator, case, {"phone": NEW_PHONE}).status_code == 404
    for outsider in (treasurer, auditor):
        answer = patch(client, outsider, case, {"phone": NEW_PHONE})
        assert answer.status_code == 403
        assert CANARY_NAME not in answer.content.decode()
    case.refresh_from_db()
    assert case.phone == "555-0100"

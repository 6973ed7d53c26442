"""The case page's rarely used actions on pages of their own: requesting money, recording a bond,
assigning or taking off coordinators, a legal hold. The case page links to each; its GET shows
the form, a refused POST shows the error there and saves nothing, a good POST does the work and
goes back to the case. Out of scope is a 404; the pages never show the person."""

import re

import pytest
from django.urls import reverse

from cases.models import Bond, Case, Disbursement, Document, Facility, Payee
from cases.services.cases import change_status, open_case
from cases.services.payees import create_payee
from fund.security.models import AccessLog
from tests.cases.test_documents import pdf_bytes, upload

pytestmark = pytest.mark.django_db

CANARY_NAME = "Plokmijn Canaryname"


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def case(coordinator) -> Case:
    facility = Facility.objects.create(name="Invented Processing Center")
    opened = open_case(actor=coordinator, legal_name=CANARY_NAME, facility=facility)
    return change_status(actor=coordinator, case=opened.case, to=Case.Status.DETAINED)


@pytest.fixture
def attorney(coordinator) -> Payee:
    return create_payee(
        actor=coordinator, kind=Payee.Kind.ATTORNEY, name="Ana Abogada", firm="Valley Law"
    )


def urls(case: Case) -> dict[str, str]:
    return {
        name: reverse(f"cases_case_{name}", args=[case.ref])
        for name in ("request", "bond", "assign", "unassign", "legal_hold")
    }


def test_the_case_page_links_to_each_action_page_and_draws_none_of_their_forms(
    client, legal_director, case, fund
):
    client.force_login(legal_director)
    shown = page(client.get(reverse("cases_case_detail", args=[case.ref])))
    to = urls(case)

    assert f'href="{to["request"]}">Request money</a>' in shown
    assert f'href="{to["bond"]}">Record a bond the fund posted</a>' in shown
    assert f'href="{to["assign"]}">Assign or take off coordinators</a>' in shown
    assert f'href="{to["legal_hold"]}">Place a legal hold</a>' in shown
    for field in ('name="payee"', 'name="obligor_name"', 'name="coordinator"', 'name="reason"'):
        assert field not in shown
    for name, field in [
        ("request", 'name="payee"'),
        ("bond", 'name="obligor_name"'),
        ("assign", 'name="coordinator"'),
        ("legal_hold", 'name="reason"'),
    ]:
        response = client.get(to[name])
        assert response.status_code == 200
        assert field in page(response)
        assert f'href="{reverse("cases_case_detail", args=[case.ref])}' in page(response)


def test_the_case_page_gives_each_element_its_own_id_so_each_label_names_one_field(
    client, coordinator, legal_director, case
):
    for user in (coordinator, legal_director):
        client.force_login(user)
        shown = page(client.get(reverse("cases_case_detail", args=[case.ref])))
        ids = re.findall(r' id="([^"]+)"', shown)
        assert [name for name in set(ids) if ids.count(name) > 1] == []
        assert 'for="id_hearing_kind"' in shown


def test_a_coordinator_out_of_scope_finds_no_action_page_and_changes_nothing(
    client, coordinator, other_coordinator, case, fund, attorney
):
    client.force_login(other_coordinator)
    entries = case.timeline.count()

    for name, url in urls(case).items():
        if name != "unassign":
            assert client.get(url).status_code == 404, name
        assert client.post(url, {"coordinator": other_coordinator.pk}).status_code == 404, name
    posted = {
        "fund": fund.slug,
        "category": "attorney_fee",
        "payee": attorney.pk,
        "amount": "100",
        "obligor_name": "Obligor Person",
        "obligor_attested": "on",
        "posted_on": "2026-11-20",
        "idempotency_key": "k-1",
    }
    assert client.post(urls(case)["request"], posted).status_code == 404
    assert client.post(urls(case)["bond"], posted).status_code == 404

    assert not Disbursement.objects.exists()
    assert not Bond.objects.exists()
    assert list(case.coordinators.all()) == [coordinator]
    assert case.timeline.count() == entries


def test_a_bad_request_shows_its_error_on_its_page_and_a_good_one_requests_the_money(
    client, coordinator, case, fund, attorney
):
    client.force_login(coordinator)
    url = urls(case)["request"]
    data = {
        "fund": fund.slug,
        "category": "attorney_fee",
        "payee": attorney.pk,
        "amount": "12.345",
        "idempotency_key": "req-1",
    }

    bad = client.post(url, data)
    assert bad.status_code == 400
    shown = page(bad)
    assert f"<h1>Request money · {case.ref}</h1>" in shown
    assert "No money was requested." in shown
    assert "has-error" in shown
    assert 'id="timeline-heading"' not in shown
    assert not Disbursement.objects.exists()

    good = client.post(url, data | {"amount": "1,500.00"})
    assert good.status_code == 302
    assert good["Location"] == reverse("cases_case_detail", args=[case.ref]) + "#money"
    made = Disbursement.objects.get()
    assert (made.case, made.amount_cents, made.payee) == (case, 150_000, attorney)
    assert "Requested $1,500.00 for" in page(client.get(good["Location"]))


def test_a_request_names_its_supporting_document_from_the_cases_own(
    client, coordinator, case, fund, attorney, settings, tmp_path
):
    settings.CASE_DOCUMENT_ROOT = tmp_path / "documents"
    other = open_case(actor=coordinator, legal_name="Someone Else").case
    invoice = upload(
        coordinator, case, pdf_bytes(), f"{CANARY_NAME}.pdf", kind=Document.Kind.INVOICE
    )
    elsewhere = upload(coordinator, other, pdf_bytes(), kind=Document.Kind.INVOICE)
    client.force_login(coordinator)
    url = urls(case)["request"]
    data = {
        "fund": fund.slug,
        "category": "attorney_fee",
        "payee": attorney.pk,
        "amount": "1,500.00",
        "idempotency_key": "req-doc",
    }

    form = page(client.get(url))
    refused = client.post(url, data | {"document": elsewhere.pk})
    made = client.post(url, data | {"document": invoice.pk})

    day = f"{invoice.uploaded_at:%Y-%m-%d}"
    assert f'<option value="{invoice.pk}">#{invoice.pk} Invoice, {day}</option>' in form
    assert f'value="{elsewhere.pk}"' not in form
    assert CANARY_NAME not in form
    assert refused.status_code == 400
    assert "Select a valid choice" in page(refused)
    assert made.status_code == 302
    assert Disbursement.objects.get().document == invoice


def test_a_bad_bond_shows_its_error_on_its_page_and_a_good_one_is_recorded(
    client, treasurer, case, fund
):
    client.force_login(treasurer)
    url = urls(case)["bond"]
    assert f'href="{url}"' in page(client.get(reverse("cases_case_detail", args=[case.ref])))
    data = {
        "fund": fund.slug,
        "amount": "5000",
        "obligor_name": "Obligor Person",
        "posted_on": "2026-11-20",
        "idempotency_key": "bond-1",
    }

    refused = client.post(url, data)
    assert refused.status_code == 400
    shown = page(refused)
    assert f"<h1>Record a bond · {case.ref}</h1>" in shown
    assert "No bond was recorded." in shown
    assert "ICE accepts no other obligor." in shown
    assert not Bond.objects.exists()

    recorded = client.post(url, data | {"obligor_attested": "on"})
    assert recorded.status_code == 302
    assert recorded["Location"] == reverse("cases_case_detail", args=[case.ref]) + "#bonds"
    assert Bond.objects.get().amount_cents == 500_000


def test_a_bad_assignment_shows_its_error_on_the_coordinators_page(
    client, coordinator, other_coordinator, legal_director, case
):
    client.force_login(legal_director)
    url = urls(case)["assign"]
    listed = page(client.get(url))
    assert f"<h1>Coordinators · {case.ref}</h1>" in listed
    assert "Working the case now: cora." in listed

    bad = client.post(url, {"coordinator": 999_999})
    assert bad.status_code == 400
    assert "Nobody was assigned." in page(bad)
    assert list(case.coordinators.all()) == [coordinator]

    good = client.post(url, {"coordinator": other_coordinator.pk})
    assert good.status_code == 302
    assert set(case.coordinators.all()) == {coordinator, other_coordinator}
    assert "Working the case now: cole, cora." in page(client.get(url))


def test_a_closed_case_offers_no_request_or_bond_form(client, coordinator, case):
    closed = change_status(actor=coordinator, case=case, to=Case.Status.CLOSED)
    client.force_login(coordinator)

    shown = page(client.get(reverse("cases_case_detail", args=[closed.ref])))
    request_page = page(client.get(urls(closed)["request"]))
    bond_page = page(client.get(urls(closed)["bond"]))

    assert urls(closed)["request"] not in shown
    assert urls(closed)["bond"] not in shown
    assert f"{closed.ref} is closed: no money can be requested for it." in request_page
    assert 'name="payee"' not in request_page
    assert f"{closed.ref} is closed: no bond can be recorded on it." in bond_page
    assert 'name="obligor_name"' not in bond_page


def test_the_action_pages_show_no_person_and_log_no_view_of_one(client, legal_director, case, fund):
    client.force_login(legal_director)
    logged = AccessLog.objects.count()

    for name, url in urls(case).items():
        if name != "unassign":
            assert CANARY_NAME not in page(client.get(url)), name

    assert AccessLog.objects.count() == logged

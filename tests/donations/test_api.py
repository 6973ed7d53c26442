"""The donations API: treasurers record offline gifts once per key; treasurers, auditors and admins
read gifts, deposits, pledges and payouts; only treasurers and admins see who gave, and each
answer naming a donor is in the access log."""

import json
from datetime import timedelta

import pytest

from donations.models import Gift, Payout
from fund.ledger.models import Transaction
from fund.security.models import AccessLog
from fund.security.tokens import issue_api_token
from tests.conftest import bearer
from tests.donations.conftest import Role, balances
from tests.donations.test_offline import LOCAL_26, deposit, give, key, pledge, received_day
from tests.donations.test_staff_screens import ROSA
from tests.fund.conftest import days_resolved, today, tomorrow

pytestmark = pytest.mark.django_db

API = "/api/v1"


def token_for(user) -> dict[str, str]:
    return bearer(issue_api_token(actor=None, user=user)[1])


def post_gift(client, user, body, slug="valley"):
    return client.post(
        f"{API}/funds/{slug}/gifts",
        data=json.dumps(body),
        content_type="application/json",
        **token_for(user),
    )


def check_body(**fields) -> dict:
    body = {
        "method": "check",
        "amount": 25_000,
        "received_on": received_day().isoformat(),
        "reference": "1207",
        "donor": {"kind": "person", "email": "ana@example.org", "name": "Ana Flores"},
        "idempotency_key": key(),
    }
    return body | fields


@pytest.fixture
def gifts(fund, treasurer):
    promise = pledge(fund, treasurer, 1_000_000, today() - timedelta(days=1))
    check = give(fund, treasurer, 12_345, reference="991")
    return {
        "check": check,
        "cash": give(fund, treasurer, 5_000, "cash", donor=ROSA, anonymous=True),
        "wire": give(fund, treasurer, 400_000, "wire", donor=None, pledge=promise, reference="W"),
        "pledge": promise,
        "deposit": deposit(fund, treasurer, [check], on=today()),
    }


# Recording


def test_a_treasurer_records_a_check_through_the_api(client, fund, treasurer):
    response = post_gift(client, treasurer, check_body())

    assert response.status_code == 200, response.content
    found = response.json()
    gift = Gift.objects.get()
    assert found == {
        "id": gift.pk,
        "fund": "valley",
        "currency": "USD",
        "method": "check",
        "status": "paid",
        "frequency": "once",
        "amount": 25_000,
        "cover_fee": 0,
        "fee": 0,
        "refunded": 0,
        "disputed": 0,
        "anonymous": False,
        "received_on": received_day().isoformat(),
        "reference": "1207",
        "donor": gift.donor_id,
        "donor_label": "Ana Flores",
        "pledge": None,
        "deposit": None,
        "monthly_gift": None,
        "transaction": gift.transaction.reference,
        "receipt_sent": False,
    }
    assert balances(fund) == {Role.UNDEPOSITED: 25_000, Role.CONTRIBUTIONS: -25_000}


def test_the_same_key_returns_the_same_gift_and_other_values_are_a_conflict(
    client, fund, treasurer
):
    body = check_body()

    first = post_gift(client, treasurer, body)
    again = post_gift(client, treasurer, body)
    other = post_gift(client, treasurer, body | {"amount": 25_001})

    assert first.json()["id"] == again.json()["id"]
    assert other.status_code == 409
    assert "already submitted with other values" in other.json()["detail"]
    assert Gift.objects.count() == 1
    assert Transaction.objects.filter(kind=Transaction.Kind.GIFT_OFFLINE).count() == 1


def test_a_gift_toward_a_pledge_by_api_is_the_pledging_organisations(client, fund, treasurer):
    promise = pledge(fund, treasurer, 100_000, today())

    response = post_gift(
        client, treasurer, check_body(method="ach", donor=None, pledge=promise.pk, reference="")
    )

    assert response.status_code == 200, response.content
    assert response.json()["pledge"] == promise.pk
    assert response.json()["donor_label"] == "Teamsters Local 26"
    assert balances(fund) == {Role.BANK: 25_000, Role.CONTRIBUTIONS: -25_000}


@pytest.mark.parametrize(
    ("fields", "status", "detail"),
    [
        ({"amount": 10**12}, 400, "Enter at most $10,000,000.00, the largest amount accepted."),
        ({"reference": ""}, 400, "Enter the check number."),
        (
            {"donor": None},
            400,
            "Say who gave: a person's e-mail address or an organisation's name.",
        ),
        ({"donor": {"kind": "person", "email": "not-an-address"}}, 400, "Enter an e-mail address"),
        ({"pledge": 424242}, 400, "There is no pledge #424242."),
        ({"received_on": lambda: tomorrow().isoformat()}, 400, "cannot be in the future"),
        ({"amount": 0}, 422, None),
        ({"amount": "12.50"}, 422, None),
        ({"method": "card"}, 422, None),
        ({"received_on": "1999-12-31"}, 422, None),
        ({"idempotency_key": "stripe:gift:pi_1"}, 422, None),
    ],
)
def test_a_refused_gift_is_a_clear_error_and_writes_nothing(
    client, fund, treasurer, fields, status, detail
):
    fields = days_resolved(fields)
    response = post_gift(client, treasurer, check_body(**fields))

    assert response.status_code == status, response.content
    if detail:
        assert detail in response.json()["detail"]
    assert not Gift.objects.exists()
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("auditor", 403), ("admin_user", 403)])
def test_only_treasurers_record_gifts_through_the_api(client, fund, request, persona, status):
    response = post_gift(client, request.getfixturevalue(persona), check_body())

    assert response.status_code == status
    assert response.json() == {"detail": "Only a treasurer can record gifts, deposits and pledges."}
    assert not Gift.objects.exists()


def test_no_token_is_a_401_and_an_unknown_fund_a_404(client, fund, treasurer):
    anonymous = client.post(
        f"{API}/funds/valley/gifts", data=json.dumps(check_body()), content_type="application/json"
    )

    assert anonymous.status_code == 401
    assert post_gift(client, treasurer, check_body(), slug="nowhere").status_code == 404
    assert not Gift.objects.exists()


# Reading


def test_an_auditor_reads_gifts_with_donors_by_number_only(client, auditor, gifts):
    response = client.get(f"{API}/funds/valley/gifts", **token_for(auditor))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    labels = {item["id"]: (item["donor"], item["donor_label"]) for item in body["items"]}
    check, cash, wire = gifts["check"], gifts["cash"], gifts["wire"]
    assert labels == {
        check.pk: (check.donor_id, f"Donor #{check.donor_id}"),
        cash.pk: (None, "Anonymous"),
        wire.pk: (wire.donor_id, f"Donor #{wire.donor_id}"),
    }
    for secret in ("Ana", "Rosa", "Local 26", "example.org"):
        assert secret not in response.content.decode()
    assert client.get(f"{API}/donors", **token_for(auditor)).status_code == 403
    assert client.get(f"{API}/donors/{check.donor_id}", **token_for(auditor)).status_code == 403
    assert not AccessLog.objects.exists()


def test_a_treasurer_reads_names_but_never_who_gave_anonymously(client, treasurer, gifts):
    response = client.get(f"{API}/funds/valley/gifts?method=cash", **token_for(treasurer))

    (item,) = response.json()["items"]
    assert (item["donor"], item["donor_label"], item["anonymous"]) == (None, "Anonymous", True)
    assert "Rosa" not in response.content.decode()
    named = client.get(f"{API}/gifts/{gifts['check'].pk}", **token_for(treasurer)).json()
    assert named["donor_label"] == "Ana Flores"
    assert named["deposit"] == gifts["deposit"].pk
    logged = AccessLog.objects.values_list("object_type", "object_ref", "detail")
    assert list(logged) == [("donations.Donor", str(gifts["check"].donor_id), "API gift")]


def test_the_gift_filters_and_their_bounds(client, treasurer, gifts):
    url = f"{API}/funds/valley/gifts"
    headers = token_for(treasurer)

    assert client.get(url, {"method": "wire"}, **headers).json()["count"] == 1
    assert client.get(url, {"start": today().isoformat()}, **headers).json()["count"] == 0
    assert client.get(url, {"limit": 1, "offset": 1}, **headers).json()["count"] == 3
    assert len(client.get(url, {"limit": 1}, **headers).json()["items"]) == 1
    bad = client.get(
        url, {"start": today().isoformat(), "end": received_day().isoformat()}, **headers
    )
    assert (bad.status_code, bad.json()) == (400, {"detail": "start must be on or before end."})
    assert client.get(url, {"start": "1999-01-01"}, **headers).status_code == 422
    assert client.get(url, {"limit": 501}, **headers).status_code == 422
    assert client.get(f"{API}/gifts/{2**62}", **headers).status_code == 404
    assert client.get(f"{API}/gifts/{2**64}", **headers).status_code == 422


def test_deposits_pledges_and_payouts_read_for_gift_readers(client, auditor, fund, gifts):
    Payout.objects.create(
        fund=fund,
        stripe_payout="po_1",
        amount_cents=9_000,
        arrival_date=today(),
        reconciliation=Payout.Reconciliation.MISMATCHED,
        differences=["fees: Stripe $3.20, ledger $3.10"],
    )
    headers = token_for(auditor)

    (slip,) = client.get(f"{API}/funds/valley/deposits", **headers).json()["items"]
    assert slip == {
        "id": gifts["deposit"].pk,
        "fund": "valley",
        "deposited_on": today().isoformat(),
        "reference": "SLIP-7",
        "amount": 12_345,
        "gifts": [gifts["check"].pk],
        "transaction": gifts["deposit"].transaction.reference,
        "void_transaction": None,
    }
    assert client.get(f"{API}/deposits/{slip['id']}", **headers).json() == slip
    (promise,) = client.get(f"{API}/funds/valley/pledges", **headers).json()["items"]
    assert {k: promise[k] for k in ("amount", "received", "outstanding", "overdue")} == {
        "amount": 1_000_000,
        "received": 400_000,
        "outstanding": 600_000,
        "overdue": True,
    }
    assert promise["donor_label"] == f"Donor #{gifts['pledge'].donor_id}"
    (payout,) = client.get(f"{API}/funds/valley/payouts", **headers).json()["items"]
    assert (payout["reconciliation"], payout["differences"]) == (
        "mismatched",
        ["fees: Stripe $3.20, ledger $3.10"],
    )


def test_admins_read_donors_and_each_one_shown_is_logged(client, admin_user, gifts):
    headers = token_for(admin_user)

    listed = client.get(f"{API}/donors", {"kind": "person"}, **headers).json()
    rosa = gifts["cash"].donor
    detail = client.get(f"{API}/donors/{rosa.pk}", **headers).json()

    assert listed["count"] == 2
    assert {item["email"] for item in listed["items"]} == {
        "Ana.Flores@example.org",
        "rosa@example.org",
    }
    assert (detail["email"], detail["address"]) == ("rosa@example.org", "9 Vine St")
    assert [(g["id"], g["anonymous"]) for g in detail["gifts"]] == [(gifts["cash"].pk, True)]
    shown = AccessLog.objects.filter(user=admin_user).values_list("object_ref", "detail")
    assert sorted(shown) == sorted(
        [
            (str(gifts["check"].donor_id), "API donors"),
            (str(rosa.pk), "API donors"),
            (str(rosa.pk), "API donor"),
        ]
    )


def test_an_organisation_donor_through_the_api(client, treasurer, fund):
    give(fund, treasurer, 10_000, donor=LOCAL_26)

    (item,) = client.get(f"{API}/donors?kind=organisation", **token_for(treasurer)).json()["items"]

    assert (item["kind"], item["organisation"], item["email"]) == (
        "organisation",
        "Teamsters Local 26",
        "",
    )


# Deposits and pledges, recorded


def post(client, user, path, body):
    return client.post(
        f"{API}{path}", data=json.dumps(body), content_type="application/json", **token_for(user)
    )


def test_a_treasurer_deposits_checks_and_cash_through_the_api_once_per_key(client, fund, treasurer):
    check = give(fund, treasurer, 12_345, reference="991")
    cash = give(fund, treasurer, 5_000, "cash")
    body = {
        "gifts": [cash.pk, check.pk],
        "deposited_on": today().isoformat(),
        "reference": "SLIP-12",
        "idempotency_key": key(),
    }

    first = post(client, treasurer, "/funds/valley/deposits", body)
    again = post(client, treasurer, "/funds/valley/deposits", body)
    other = post(client, treasurer, "/funds/valley/deposits", body | {"reference": "SLIP-13"})

    assert first.status_code == 200
    slip = first.json()
    assert (slip["amount"], slip["gifts"], slip["reference"]) == (
        17_345,
        sorted([check.pk, cash.pk]),
        "SLIP-12",
    )
    assert slip["transaction"]
    assert again.json() == slip
    assert other.status_code == 409
    after = balances(fund)
    assert after[Role.BANK] == 17_345
    assert after.get(Role.UNDEPOSITED, 0) == 0


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [
        ({"gifts": []}, 422, ""),
        ({"deposited_on": "2026-02-30"}, 422, ""),
        ({"idempotency_key": "has spaces"}, 422, ""),
        (
            {"deposited_on": lambda: (received_day() - timedelta(days=1)).isoformat()},
            400,
            "received",
        ),
    ],
)
def test_a_bad_deposit_is_a_clear_error_and_moves_nothing(
    client, fund, treasurer, change, status, detail
):
    change = days_resolved(change)
    check = give(fund, treasurer, 12_345, reference="991")
    body = {"gifts": [check.pk], "deposited_on": today().isoformat(), "idempotency_key": key()}

    answer = post(client, treasurer, "/funds/valley/deposits", body | change)

    assert answer.status_code == status
    assert detail in json.dumps(answer.json())
    assert balances(fund).get(Role.BANK, 0) == 0
    check.refresh_from_db()
    assert check.deposit_id is None


def test_a_treasurer_records_a_pledge_through_the_api(client, fund, treasurer):
    body = {
        "organisation": "Teamsters Local 26",
        "amount": 1_000_000,
        "due_on": (today() + timedelta(days=90)).isoformat(),
        "note": "Pledged at the membership meeting",
        "idempotency_key": key(),
    }

    first = post(client, treasurer, "/funds/valley/pledges", body)
    again = post(client, treasurer, "/funds/valley/pledges", body)
    other = post(client, treasurer, "/funds/valley/pledges", body | {"amount": 900_000})
    listed = client.get(f"{API}/funds/valley/pledges", **token_for(treasurer)).json()["items"]

    assert first.status_code == 200
    promise = first.json()
    assert (promise["donor_label"], promise["amount"], promise["received"]) == (
        "Teamsters Local 26",
        1_000_000,
        0,
    )
    assert (promise["outstanding"], promise["overdue"]) == (1_000_000, False)
    assert again.json() == promise
    assert other.status_code == 409
    assert [item["id"] for item in listed] == [promise["id"]]
    # A pledge is a promise, not money: the books do not move.
    assert balances(fund) == {}


@pytest.mark.parametrize("persona", ["auditor", "admin_user", "coordinator"])
def test_only_treasurers_record_deposits_and_pledges(client, fund, treasurer, request, persona):
    check = give(fund, treasurer, 12_345, reference="991")
    user = request.getfixturevalue(persona)

    deposit_answer = post(
        client,
        user,
        "/funds/valley/deposits",
        {"gifts": [check.pk], "deposited_on": today().isoformat(), "idempotency_key": key()},
    )
    pledge_answer = post(
        client,
        user,
        "/funds/valley/pledges",
        {
            "organisation": "Local 5",
            "amount": 100,
            "due_on": today().isoformat(),
            "idempotency_key": key(),
        },
    )

    assert (deposit_answer.status_code, pledge_answer.status_code) == (403, 403)
    check.refresh_from_db()
    assert check.deposit_id is None


def test_a_treasurer_takes_a_gift_back_and_voids_a_deposit_through_the_api(
    client, fund, treasurer, auditor
):
    bounced = give(fund, treasurer, 30_000, reference="333")
    slip = deposit(fund, treasurer, [bounced], on=today())
    other = give(fund, treasurer, 20_000, reference="444")
    second = deposit(fund, treasurer, [other], on=today())
    when = {"returned_on": today().isoformat()}

    refused = post(client, auditor, f"/gifts/{bounced.pk}/return", {"reason": "bounced", **when})
    unknown = post(client, treasurer, f"/gifts/{bounced.pk}/return", {"reason": "no", **when})
    taken = post(client, treasurer, f"/gifts/{bounced.pk}/return", {"reason": "bounced", **when})
    held = post(client, treasurer, f"/deposits/{slip.pk}/void", {"voided_on": today().isoformat()})
    voided = post(
        client, treasurer, f"/deposits/{second.pk}/void", {"voided_on": today().isoformat()}
    )

    assert (refused.status_code, unknown.status_code) == (403, 422)
    assert taken.status_code == 200
    assert (taken.json()["status"], taken.json()["refunded"]) == ("refunded", 30_000)
    assert held.status_code == 400
    assert "which was taken back" in held.json()["detail"]
    assert voided.status_code == 200
    second.refresh_from_db()
    assert voided.json()["void_transaction"] == second.void_transaction.reference
    assert balances(fund) == {
        Role.UNDEPOSITED: 20_000,
        Role.CONTRIBUTIONS: -50_000,
        Role.REFUNDS: 30_000,
    }

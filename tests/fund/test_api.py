"""The ledger API: public progress for anyone, the books for treasurers, auditors and admins."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from fund.api import api
from fund.errors import AlreadyReversed, IdempotencyConflict, InsufficientFunds
from fund.ledger.services import create_fund
from fund.models import Fund, Transaction
from fund.security.roles import StaffRole
from fund.security.tokens import issue_api_token
from tests.conftest import PASSWORD, bearer, make_staff
from tests.fund.conftest import OPENED, give_check, pay_attorney
from tests.fund.scenario import (
    ATTORNEY_NAME,
    DONOR_NAME,
    EXPECTED_PROGRESS,
    months_ago,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"
STAFF_ENDPOINTS = [
    "/funds",
    "/funds/valley/accounts",
    "/funds/valley/transactions",
    "/funds/valley/trial-balance",
    "/ledger/verify",
    "/ledger/verify?fund=valley",
]


def token_for(user) -> dict[str, str]:
    return bearer(issue_api_token(actor=None, user=user)[1])


# Public progress


def test_progress_returns_the_hand_computed_figures_in_minor_units(client, seeded):
    response = client.get(f"{API}/funds/valley/progress")

    assert response.status_code == 200
    assert response.json() == EXPECTED_PROGRESS
    assert all(type(v) is int for k, v in response.json().items() if k not in {"fund", "currency"})


def test_progress_has_every_key_of_the_public_contract(client, fund):
    response = client.get(f"{API}/funds/valley/progress")

    # The contract's keys (ARCHITECTURE §8) are all there; further keys explain `available`.
    assert set(response.json()) >= {
        "fund",
        "currency",
        "goal",
        "raised",
        "spent",
        "in_bonds",
        "available",
        "gifts",
        "cases_supported",
    }
    assert response.json()["raised"] == 0


def test_progress_of_an_unknown_or_private_fund_is_a_json_404(client, fund):
    Fund.objects.filter(pk=fund.pk).update(is_public=False)

    for slug in ("valley", "nope"):
        response = client.get(f"{API}/funds/{slug}/progress")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": "Not Found"}


def test_progress_contains_no_case_refs_names_or_memos(client, seeded, treasurer):
    body = client.get(f"{API}/funds/valley/progress").content.decode()

    assert "C-2026-" not in body
    assert DONOR_NAME not in body
    assert ATTORNEY_NAME not in body
    assert treasurer.username not in body
    assert treasurer.email not in body


def test_progress_ignores_a_bad_token_because_it_is_public(client, fund):
    response = client.get(f"{API}/funds/valley/progress", **bearer("dfk_not-a-token"))

    assert response.status_code == 200


# Who may read the books


@pytest.mark.parametrize("persona", ["treasurer", "auditor", "admin_user"])
@pytest.mark.parametrize("path", STAFF_ENDPOINTS)
def test_treasurers_auditors_and_admins_read_the_books_with_a_token(
    client, fund, request, persona, path
):
    user = request.getfixturevalue(persona)

    response = client.get(API + path, **token_for(user))

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("persona", ["coordinator", "legal_director", "outsider"])
@pytest.mark.parametrize("path", STAFF_ENDPOINTS)
def test_coordinators_and_outsiders_get_403(client, fund, request, persona, path):
    user = request.getfixturevalue(persona)

    response = client.get(API + path, **token_for(user))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only treasurers, auditors and admins can read the ledger."
    }


@pytest.mark.parametrize("path", STAFF_ENDPOINTS)
@pytest.mark.parametrize("authorization", [None, "Bearer dfk_never-issued", "Token abc"])
def test_no_or_an_invalid_token_gets_401(client, fund, path, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get(API + path, **headers)

    assert response.status_code == 401


def test_a_signed_in_session_with_a_second_factor_reads_the_books(client, fund, auditor):
    client.force_login(auditor)

    assert client.get(f"{API}/funds").status_code == 200


def test_a_session_without_a_second_factor_never_reads_the_books(client, fund, django_user_model):
    make_staff(django_user_model, "nofactor", StaffRole.AUDITOR, mfa=False)
    assert client.login(username="nofactor", password=PASSWORD)

    response = client.get(f"{API}/funds")

    # The site-wide middleware sends such a user to enrolment before the API sees the request.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_coordinator_session_gets_403(client, fund, coordinator):
    client.force_login(coordinator)

    assert client.get(f"{API}/funds").status_code == 403


# What the books say


def test_funds_lists_every_fund_public_or_not(client, fund, treasurer):
    create_fund(actor=None, opened_on=OPENED, name="Internal reserve", slug="reserve", goal_cents=0)
    Fund.objects.filter(slug="reserve").update(is_public=False)

    response = client.get(f"{API}/funds", **token_for(treasurer))

    assert response.json() == [
        {
            "slug": "reserve",
            "name": "Internal reserve",
            "currency": "USD",
            "goal": 0,
            "restricted": False,
            "tax_status": "501c5",
            "is_public": False,
            "opened_on": OPENED.isoformat(),
            "closed_through": None,
        },
        {
            "slug": "valley",
            "name": "Valley Labor Council Legal Fund",
            "currency": "USD",
            "goal": 15_000_000,
            "restricted": False,
            "tax_status": "501c5",
            "is_public": True,
            "opened_on": OPENED.isoformat(),
            "closed_through": None,
        },
    ]


def test_accounts_list_the_chart_with_balances(client, seeded, auditor):
    response = client.get(f"{API}/funds/valley/accounts", **token_for(auditor))

    accounts = {row["code"]: row for row in response.json()}
    assert len(accounts) == 15
    assert accounts["1000"] == {
        "code": "1000",
        "name": "Stripe clearing",
        "kind": "asset",
        "role": "stripe_clearing",
        "balance": 191_395,
    }
    assert accounts["1010"]["balance"] == 61_750
    assert accounts["1020"]["balance"] == 123_456
    assert accounts["1100"]["balance"] == 750_000
    assert accounts["4000"]["balance"] == -2_048_456
    assert accounts["4200"]["balance"] == -3_250
    assert sum(row["balance"] for row in accounts.values()) == 0


def test_accounts_of_an_unknown_fund_is_404(client, fund, auditor):
    response = client.get(f"{API}/funds/nope/accounts", **token_for(auditor))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_transactions_carry_postings_case_refs_hashes_and_reversal_links(client, seeded, auditor):
    response = client.get(f"{API}/funds/valley/transactions?limit=500", **token_for(auditor))

    body = response.json()
    assert body["count"] == Transaction.objects.filter(fund=seeded).count() == 24
    items = body["items"]
    assert len(items) == 24
    dates = [item["effective_date"] for item in items]
    assert dates == sorted(dates, reverse=True)

    forfeiture = items[0]
    assert forfeiture["kind"] == "bond_forfeited"
    assert forfeiture["case_ref"] == "C-2026-0031"
    assert forfeiture["effective_date"] == months_ago(1).isoformat()
    assert forfeiture["postings"] == [
        {"account": "1100", "amount": -200_000, "balance_after": 750_000},
        {"account": "5200", "amount": 200_000, "balance_after": 200_000},
    ]
    stored = Transaction.objects.get(fund=seeded, kind="bond_forfeited")
    assert forfeiture["reference"] == stored.reference
    assert forfeiture["hash"] == stored.hash
    assert forfeiture["prev_hash"] == stored.prev_hash
    assert set(forfeiture) == {
        "reference",
        "effective_date",
        "kind",
        "memo",
        "reason",
        "source_ref",
        "case_ref",
        "recorded_at",
        "recorded_by",
        "idempotency_key",
        "prev_hash",
        "hash",
        "reverses",
        "postings",
    }
    assert forfeiture["recorded_by"] == stored.recorded_by.get_username()
    assert forfeiture["idempotency_key"] == stored.idempotency_key

    (reversal,) = [item for item in items if item["kind"] == "reversal"]
    original = Transaction.objects.get(idempotency_key="scenario:valley:check2")
    assert reversal["reverses"] == original.reference
    assert reversal["memo"] == "Entered twice"
    assert all(item["reverses"] is None for item in items if item["kind"] != "reversal")

    (refund,) = [item for item in items if item["kind"] == "refund"]
    assert refund["source_ref"] == "re_g3"


def test_transactions_filter_by_date_kind_and_account(client, seeded, treasurer):
    headers = token_for(treasurer)
    url = f"{API}/funds/valley/transactions"

    def kinds(query: str) -> list[str]:
        response = client.get(f"{url}?{query}", **headers)
        assert response.status_code == 200, response.content
        return [item["kind"] for item in response.json()["items"]]

    assert kinds("kind=bond_posted") == ["bond_posted", "bond_posted", "bond_posted"]
    assert kinds(f"start={months_ago(2)}&end={months_ago(2)}") == ["bond_posted", "bond_posted"]
    assert kinds(f"start={months_ago(1)}") == ["bond_forfeited"]
    assert sorted(kinds("account=1100")) == [
        "bond_forfeited",
        "bond_posted",
        "bond_posted",
        "bond_posted",
        "bond_refunded",
    ]
    assert kinds(f"account=5000&end={months_ago(4)}") == ["disbursement"]


def test_transactions_are_paginated(client, seeded, treasurer):
    headers = token_for(treasurer)
    url = f"{API}/funds/valley/transactions"

    first = client.get(f"{url}?limit=10", **headers).json()
    last = client.get(f"{url}?limit=10&offset=20", **headers).json()

    assert first["count"] == last["count"] == 24
    assert len(first["items"]) == 10
    assert len(last["items"]) == 4
    default = client.get(url, **headers).json()
    assert len(default["items"]) == 24


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("start=2026-02-30", 422, "valid date"),
        ("end=yesterday", 422, "valid date"),
        ("kind=gift", 422, "gift_online"),
        ("start=2026-05-01&end=2026-04-01", 400, "start must be on or before end."),
        ("account=9999", 400, "Fund valley has no account 9999."),
        ("limit=0", 422, "greater than or equal to 1"),
    ],
)
def test_bad_transaction_filters_get_a_4xx_with_a_clear_message(
    client, fund, treasurer, query, status, message
):
    response = client.get(f"{API}/funds/valley/transactions?{query}", **token_for(treasurer))

    assert response.status_code == status
    assert message in response.content.decode()


def test_listing_transactions_takes_the_same_queries_for_5_or_50(client, fund, auditor):
    headers = token_for(auditor)
    client.get(f"{API}/funds", **headers)  # the token's last-used stamp is written once a minute
    for n in range(5):
        give_check(fund, 1_000, key=f"a{n}")
    counts = []
    for extra in (0, 45):
        for n in range(extra):
            pay_attorney(fund, 10, key=f"b{n}", case_ref=f"C-2026-{n:04d}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}/funds/valley/transactions", **headers)
        assert len(response.json()["items"]) == 5 + extra
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_trial_balance_now_balances_and_lists_every_account(client, seeded, auditor):
    response = client.get(f"{API}/funds/valley/trial-balance", **token_for(auditor))

    body = response.json()
    assert body["fund"] == "valley"
    assert body["currency"] == "USD"
    assert body["on"] is None
    assert body["total_debits"] == body["total_credits"] == 2_051_706
    rows = {row["code"]: row for row in body["rows"]}
    assert len(rows) == 15
    assert rows["4000"] == {
        "code": "4000",
        "name": "Contributions",
        "kind": "revenue",
        "role": "contributions",
        "debit": 0,
        "credit": 2_048_456,
        "balance": -2_048_456,
    }
    assert rows["1100"]["debit"] == 750_000


def test_trial_balance_on_a_past_day(client, seeded, auditor):
    on = months_ago(9, day=28)

    response = client.get(f"{API}/funds/valley/trial-balance?on={on}", **token_for(auditor))

    body = response.json()
    assert body["on"] == on.isoformat()
    rows = {row["code"]: row["balance"] for row in body["rows"]}
    # Month 10: $10,000 online, $321.05 fee, $5,000 check; month 9: $1,750 online, $8,000 payout.
    assert rows["1000"] == 1_000_000 - 32_105 + 175_000 - 800_000
    assert rows["1010"] == 500_000 + 800_000
    assert rows["4000"] == -(1_000_000 + 500_000 + 175_000)
    assert rows["1100"] == 0
    assert body["total_debits"] == body["total_credits"] == 1_675_000


def test_trial_balance_refuses_a_bad_date(client, fund, auditor):
    response = client.get(f"{API}/funds/valley/trial-balance?on=31/12/2026", **token_for(auditor))

    assert response.status_code == 422
    assert "valid date" in response.content.decode()


def test_verify_reports_the_chain_head_and_counts_for_one_or_all_funds(client, seeded, auditor):
    other = create_fund(
        actor=None, opened_on=OPENED, name="Harbor Strike Defense", slug="harbor", goal_cents=100
    )
    give_check(other, 500, key="harbor-1", on=date(2026, 1, 5))
    head = Transaction.objects.filter(fund=seeded).order_by("-id").first().hash

    one = client.get(f"{API}/ledger/verify?fund=valley", **token_for(auditor)).json()
    every = client.get(f"{API}/ledger/verify", **token_for(auditor)).json()

    assert one == {
        "ok": True,
        "funds": [
            {
                "fund": "valley",
                "ok": True,
                "chain_head": head,
                "counts": {"transactions": 24, "postings": 50},
                "problem": "",
                "bad_transaction": "",
                "problems": [],
                "more_problems": 0,
                "seals_checked": 0,
            }
        ],
    }
    assert every["ok"] is True
    assert [row["fund"] for row in every["funds"]] == ["harbor", "valley"]
    assert every["funds"][0]["counts"] == {"transactions": 1, "postings": 2}


def test_verify_of_an_unknown_fund_is_404(client, fund, auditor):
    response = client.get(f"{API}/ledger/verify?fund=nope", **token_for(auditor))

    assert response.status_code == 404


def test_the_books_show_case_refs_to_staff_but_the_public_api_never_does(client, seeded, treasurer):
    staff = client.get(f"{API}/funds/valley/transactions?limit=500", **token_for(treasurer))
    public = client.get(f"{API}/funds/valley/progress")

    assert "C-2026-0007" in staff.content.decode()
    assert not re.search(r"C-\d{4}-\d{4}", public.content.decode())


def test_posting_is_not_exposed(client, fund, treasurer):
    headers = token_for(treasurer)

    for path in ("/funds/valley/transactions", "/funds/valley/accounts", "/funds"):
        assert (
            client.post(API + path, {}, content_type="application/json", **headers).status_code
            == 405
        )


# Refusals of domain services map to JSON errors, once, for every app's router


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InsufficientFunds("Insufficient funds in Bank."), 400),
        (IdempotencyConflict("Idempotency key reused with a different payload."), 409),
        (AlreadyReversed("Transaction 2026-000001 is already reversed."), 409),
    ],
)
def test_fund_errors_answer_400_or_409_with_their_message(error, status):
    request = RequestFactory().get(f"{API}/funds")

    response = api.on_exception(request, error)

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.content.decode() == f'{{"detail": "{error}"}}'


# The schema and its docs: for staff tools with a token as for a browser session


def test_the_schema_and_docs_are_served_to_a_staff_bearer_token(client, fund, auditor):
    headers = token_for(auditor)

    schema = client.get(f"{API}/openapi.json", **headers)
    docs = client.get(f"{API}/docs", **headers)

    assert schema.status_code == 200
    assert f"{API}/funds/{{slug}}/transactions" in schema.json()["paths"]
    assert docs.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in docs.text


@pytest.mark.parametrize("authorization", ["Bearer dfk_unknown", "Bearer ", "bearer not-a-token"])
def test_the_schema_refuses_a_bad_token_with_a_json_401(client, fund, authorization):
    response = client.get(f"{API}/openapi.json", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_the_schema_refuses_the_token_of_an_account_holding_no_role(client, fund, outsider):
    response = client.get(f"{API}/openapi.json", **token_for(outsider))

    assert response.status_code == 403
    assert response.json() == {"detail": "This is for staff only."}


def test_every_operation_documents_its_errors_in_the_detail_shape(client, fund, auditor):
    schema = client.get(f"{API}/openapi.json", **token_for(auditor)).json()

    shapes = schema["components"]["schemas"]
    assert shapes["ErrorOut"]["required"] == ["detail"]
    assert shapes["ErrorOut"]["properties"]["detail"]["type"] == "string"
    assert shapes["ValidationErrorOut"]["properties"]["detail"]["type"] == "array"
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            answers = operation["responses"]
            # Every request may carry a NUL character; staff operations check credentials.
            expected = {"400"} | ({"401", "403"} if "security" in operation else set())
            assert expected <= set(answers), path
            # Success is 200, or 201/202 for a report made at once or queued.
            assert {"200", "201", "202"} & set(answers), path
            for status, answer in answers.items():
                if status in ("200", "201", "202"):
                    continue
                shape = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                assert shape == ("ValidationErrorOut" if status == "422" else "ErrorOut"), path
    transactions = schema["paths"][f"{API}/funds/{{slug}}/transactions"]["get"]["responses"]
    assert set(transactions) == {"200", "400", "401", "403", "404", "422"}

"""No input makes a 500: NUL characters, numbers and dates out of range, amounts above the cap and
bad admin input are each a 4xx with a message (or a form error), and nothing is written."""

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from fund.errors import FundError, InvalidTransaction, LockError
from fund.ledger.dates import BOOK_DAY_PATTERN, FIRST_BOOK_DAY, LAST_BOOK_DAY, OUTSIDE_THE_BOOKS
from fund.ledger.entries import Leg
from fund.ledger.posting import post_transaction
from fund.ledger.services import close_books, create_fund
from fund.models import Fund, Transaction
from fund.security.inputs import REFUSAL, carries_nul
from fund.security.tokens import issue_api_token
from tests.conftest import bearer
from tests.fund.conftest import DAY, Kind, Role, account, give_check

pytestmark = pytest.mark.django_db

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
CAP = "$10,000,000.00"


def token_for(user) -> dict[str, str]:
    return bearer(issue_api_token(actor=None, user=user)[1])


def journal(fund, *, on="2026-03-01", debit="25.00", credit="25.00", memo="Recode", key="entry-1"):
    """Return the journal form's POST data for a two-leg entry, bank against net assets."""
    return {
        "effective_date": on,
        "memo": memo,
        "reason": "Typo",
        "idempotency_key": key,
        "legs-TOTAL_FORMS": "2",
        "legs-INITIAL_FORMS": "0",
        "legs-0-account": account(fund, Role.BANK).pk,
        "legs-0-debit": debit,
        "legs-1-account": account(fund, Role.NET_ASSETS).pk,
        "legs-1-credit": credit,
    }


# NUL characters: PostgreSQL cannot store one, so they are refused before any view.


@pytest.mark.parametrize(
    "path",
    [
        "/funds/%00/progress",
        "/ledger/verify?fund=%00",
        "/funds/valley/transactions?account=%00",
        "/funds/valley/transactions?kind=gift%00",
    ],
)
def test_a_nul_in_an_api_path_or_query_is_a_json_400_saying_so(client, fund, auditor, path):
    response = client.get(f"{API}{path}", **token_for(auditor))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": REFUSAL}


def test_a_nul_in_the_public_progress_path_is_refused_without_signing_in(client, fund):
    response = client.get(f"{API}/funds/%00/progress")

    assert response.status_code == 400
    assert "NUL character" in response.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/staff/ledger/valley/accounts/%00/", "/staff/ledger/valley/?start=%00", "/f/%00/"]
)
def test_a_nul_in_a_page_address_is_a_400_page_saying_so(client, fund, treasurer, path):
    client.force_login(treasurer)

    response = client.get(path)

    assert response.status_code == 400
    assert "text/html" in response["Content-Type"]
    assert "NUL character" in response.content.decode()


def test_a_journal_entry_with_a_nul_in_its_memo_is_refused_and_nothing_is_posted(
    client, fund, treasurer
):
    client.force_login(treasurer)

    response = client.post(reverse("ledger_journal", args=[fund.slug]), journal(fund, memo="a\x00"))

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert not Transaction.objects.exists()


def test_a_nul_in_the_session_cookie_is_a_400_not_a_server_error(client, fund):
    client.cookies["sessionid"] = "\x00" * 32

    response = client.get(reverse("dashboard"))

    assert response.status_code == 400


def test_a_nul_in_a_json_body_sent_to_the_api_is_refused(client, fund, treasurer):
    response = client.post(
        f"{API}/funds",
        data=json.dumps({"memo": ["ok", {"nested\u0000key": 1}]}),
        content_type="application/json",
        **token_for(treasurer),
    )

    assert response.status_code == 400
    assert response.json() == {"detail": REFUSAL}


@pytest.mark.parametrize(
    ("method", "path", "data", "content_type", "carries"),
    [
        ("get", "/f/valley/", {"q": "fine"}, None, False),
        ("get", "/f/val\x00ley/", {}, None, True),
        ("get", "/f/valley/", {"q": "a\x00"}, None, True),
        ("get", "/f/valley/", {"a\x00": "key"}, None, True),
        ("post", "/accounts/login/", {"login": "ada", "password": "x\x00"}, None, True),
        ("post", "/api/v1/x", '{"a": "\\\\u0000 is text, not NUL"}', "application/json", False),
        ("post", "/api/v1/x", '{"a": [[{"b": "\\u0000"}]]}', "application/json", True),
        ("post", "/api/v1/x", "[" * 50_000 + "]" * 50_000, "application/json", False),
        ("post", "/api/v1/x", "not json", "application/json", False),
        # The API parses JSON whatever the Content-Type claims: so does the check.
        ("post", "/api/v1/x", '{"a": "\\u0000"}', "text/plain", True),
        ("post", "/api/v1/x", '{"a": "\\u0000"}', "application/vnd.api+json", True),
        ("post", "/api/v1/x", '{"a": "\\u0000"}', "application/x-www-form-urlencoded", True),
    ],
)
def test_a_nul_is_found_wherever_a_view_could_read_it(method, path, data, content_type, carries):
    factory = RequestFactory()
    extra = {"content_type": content_type} if content_type else {}
    request = getattr(factory, method)(path, data, **extra)

    assert carries_nul(request) is carries


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream"])
def test_a_nul_in_an_api_body_is_refused_whatever_its_content_type(
    client, fund, treasurer, content_type
):
    body = {"name": "Bond\u0000 Fund", "slug": "bonds", "goal_cents": 0, "opened_on": "2026-01-01"}
    response = client.post(
        f"{API}/funds", data=json.dumps(body), content_type=content_type, **token_for(treasurer)
    )

    assert response.status_code == 400
    assert response.json() == {"detail": REFUSAL}
    assert not Fund.objects.filter(slug="bonds").exists()


def test_a_form_posted_to_the_api_is_a_400_not_a_server_error(client, fund, treasurer):
    # multipart/form-data: the API reads JSON only, and must still be able to read the body.
    response = client.post(
        f"{API}/funds/valley/pledges", {"organisation": "Local 26"}, **token_for(treasurer)
    )

    assert response.status_code == 400
    assert "detail" in response.json()


# Numbers out of range: bounded before they reach the database.


@pytest.mark.parametrize(
    ("query", "where", "message"),
    [
        ("offset=9223372036854775808", "offset", "less than or equal to 1000000000"),
        ("offset=1000000001", "offset", "less than or equal to 1000000000"),
        ("offset=-1", "offset", "greater than or equal to 0"),
        ("limit=9223372036854775808", "limit", "less than or equal to 500"),
        ("limit=501", "limit", "less than or equal to 500"),
    ],
)
def test_offsets_and_limits_out_of_range_are_422_naming_the_parameter(
    client, fund, auditor, query, where, message
):
    response = client.get(f"{API}/funds/valley/transactions?{query}", **token_for(auditor))

    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", where]
    assert message in problem["msg"]


def test_the_largest_offset_and_limit_answer_an_empty_page(client, fund, auditor):
    give_check(fund, 1_000, key="gift")

    response = client.get(
        f"{API}/funds/valley/transactions?offset=1000000000&limit=500", **token_for(auditor)
    )

    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 1}


# Dates: the books take 2000-01-01 to 2099-12-31 (fund.ledger.dates), one range everywhere.


def test_the_book_day_pattern_in_the_schema_is_the_same_range():
    assert re.match(BOOK_DAY_PATTERN, FIRST_BOOK_DAY.isoformat())
    assert re.match(BOOK_DAY_PATTERN, LAST_BOOK_DAY.isoformat())
    assert not re.match(BOOK_DAY_PATTERN, "1999-12-31")
    assert not re.match(BOOK_DAY_PATTERN, "2100-01-01")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/funds/valley/transactions?start=0001-01-01", "greater than or equal to 2000-01-01"),
        ("/funds/valley/transactions?end=2100-01-01", "less than or equal to 2099-12-31"),
        ("/funds/valley/trial-balance?on=1999-12-31", "greater than or equal to 2000-01-01"),
        ("/funds/valley/trial-balance?on=9999-12-31", "less than or equal to 2099-12-31"),
    ],
)
def test_api_dates_outside_the_books_are_422(client, fund, auditor, path, message):
    response = client.get(f"{API}{path}", **token_for(auditor))

    assert response.status_code == 422
    assert message in response.json()["detail"][0]["msg"]


def test_api_dates_at_the_ends_of_the_range_are_accepted(client, fund, auditor):
    headers = token_for(auditor)

    assert client.get(
        f"{API}/funds/valley/transactions?start=2000-01-01&end=2099-12-31", **headers
    ).json() == {"items": [], "count": 0}
    assert client.get(f"{API}/funds/valley/trial-balance?on=2099-12-31", **headers).json()["on"]


@pytest.mark.parametrize("on", ["0001-01-01", "1999-12-31", "2100-01-01"])
def test_a_journal_entry_dated_outside_the_books_is_a_form_error_and_nothing_is_posted(
    client, fund, treasurer, on
):
    client.force_login(treasurer)

    response = client.post(reverse("ledger_journal", args=[fund.slug]), journal(fund, on=on))

    assert response.status_code == 400
    assert OUTSIDE_THE_BOOKS in response.content.decode()
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/staff/ledger/valley/accounts/1010/?start=0001-01-01",
        "/staff/ledger/valley/transactions/?end=9999-12-31",
        "/staff/ledger/valley/trial-balance/?on=0001-01-01",
        "/staff/ledger/valley/books/close/?through=0001-01-01",
    ],
)
def test_page_filters_dated_outside_the_books_are_a_400_with_the_message(
    client, fund, treasurer, path
):
    client.force_login(treasurer)

    response = client.get(path)

    assert response.status_code == 400
    assert OUTSIDE_THE_BOOKS in response.content.decode()


def test_closing_the_books_through_year_1_is_a_form_error_and_changes_nothing(
    client, fund, treasurer
):
    client.force_login(treasurer)

    response = client.post(
        reverse("ledger_books_close", args=[fund.slug]),
        {"through": "0001-01-01", "confirmed": "yes"},
    )

    assert response.status_code == 400
    assert OUTSIDE_THE_BOOKS in response.content.decode()
    fund.head.refresh_from_db()
    assert fund.head.closed_through is None


def test_the_services_refuse_days_outside_the_books_too(fund, treasurer):
    with pytest.raises(InvalidTransaction, match="2000-01-01 to 2099-12-31"):
        give_check(fund, 1_000, key="year-1", on=date(1, 1, 1))
    with pytest.raises(LockError, match="2000-01-01 to 2099-12-31"):
        close_books(fund=fund, through=date(1, 1, 1), actor=treasurer)
    with pytest.raises(FundError, match="2000-01-01 to 2099-12-31"):
        create_fund(
            actor=None, name="Old", slug="old", goal_cents=100, opened_on=date(1999, 12, 31)
        )
    assert not Transaction.objects.exists()
    assert not Fund.objects.filter(slug="old").exists()


# Amounts: ASCII digits only (tests/fund/test_money.py) and at most MAX_AMOUNT per leg.


def test_a_journal_leg_above_the_cap_is_a_form_error_and_nothing_is_posted(client, fund, treasurer):
    client.force_login(treasurer)
    data = journal(fund, debit="10,000,000.01", credit="10,000,000.01")

    response = client.post(reverse("ledger_journal", args=[fund.slug]), data)

    assert response.status_code == 400
    assert f"Enter at most {CAP}, the largest amount accepted." in response.content.decode()
    assert not Transaction.objects.exists()


def test_a_journal_leg_at_the_cap_is_posted(client, fund, treasurer):
    client.force_login(treasurer)
    data = journal(fund, debit="10,000,000", credit="10,000,000")

    response = client.post(reverse("ledger_journal", args=[fund.slug]), data)

    assert response.status_code == 302
    assert Transaction.objects.get().postings.get(amount_cents__gt=0).amount_cents == 10**9


def test_post_transaction_refuses_a_leg_above_the_cap_with_a_clear_message(fund):
    cents = 10**9 + 1

    with pytest.raises(InvalidTransaction) as refused:
        post_transaction(
            fund=fund,
            legs=[
                Leg(account(fund, Role.BANK), cents),
                Leg(account(fund, Role.NET_ASSETS), -cents),
            ],
            effective_date=DAY,
            kind=Kind.JOURNAL,
            memo="Too much",
            idempotency_key="too-much",
            actor=None,
        )

    assert str(refused.value) == (
        f"A leg of $10,000,000.01 is above the largest amount accepted, {CAP} (MAX_AMOUNT)."
    )
    assert not Transaction.objects.exists()


def test_post_transaction_follows_the_max_amount_setting(fund, settings):
    settings.MAX_AMOUNT = 500
    give_check(fund, 50_000, key="at-cap")

    with pytest.raises(InvalidTransaction, match=r"above the largest amount accepted, \$500\.00"):
        give_check(fund, 50_001, key="above-cap")
    assert Transaction.objects.count() == 1


def run_settings(**env: str) -> subprocess.CompletedProcess[str]:
    probe = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.MAX_AMOUNT, settings.MESSAGE_STORAGE)"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(DJANGO_SETTINGS_MODULE="tests.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_max_amount_comes_from_the_environment_and_must_be_sane():
    assert run_settings(MAX_AMOUNT="250000").stdout.split()[0] == "250000"
    for bad in ("0", "-5", "100000000000000"):
        refused = run_settings(MAX_AMOUNT=bad)
        assert refused.returncode != 0
        assert "MAX_AMOUNT must be a whole number from 1 to 10000000000000." in refused.stderr


# Django admin


@pytest.mark.parametrize(
    ("changelist", "key"),
    [
        ("admin:auth_group_changelist", "abc"),
        ("admin:auth_group_changelist", "99999999999999999999"),
        ("admin:django_tasks_database_dbtaskresult_changelist", "not-a-uuid"),
    ],
)
def test_an_admin_action_on_a_key_that_cannot_exist_is_a_400(client, admin_user, changelist, key):
    client.force_login(admin_user)
    groups = Group.objects.count()

    response = client.post(
        reverse(changelist),
        {"action": "delete_selected", "index": "0", "_selected_action": [key]},
    )

    assert response.status_code == 400
    assert "The selection names a record that cannot exist." in response.content.decode()
    assert Group.objects.count() == groups


def test_an_admin_action_on_a_real_record_still_asks_to_confirm(client, admin_user):
    client.force_login(admin_user)
    group = Group.objects.create(name="Volunteers")

    response = client.post(
        reverse("admin:auth_group_changelist"),
        {"action": "delete_selected", "index": "0", "_selected_action": [str(group.pk)]},
    )

    assert response.status_code == 200
    assert "Are you sure" in response.content.decode()


def test_admin_refuses_a_goal_above_the_cap_with_a_form_error(client, admin_user):
    client.force_login(admin_user)
    data = {
        "name": "Bond Fund",
        "slug": "bonds",
        "goal": "999,999,999,999,999",
        "currency": "USD",
        "tax_status": Fund.TaxStatus.LABOR,
    }

    response = client.post(reverse("admin:fund_fund_add"), data)

    assert response.status_code == 200
    assert f"Enter at most {CAP}, the largest amount accepted." in response.content.decode()
    assert not Fund.objects.exists()


def test_admin_with_an_unknown_currency_is_a_form_error_and_adds_nothing(client, admin_user):
    client.force_login(admin_user)
    data = {
        "name": "Bond Fund",
        "slug": "bonds",
        "goal": "5,000",
        "currency": "12$",
        "tax_status": Fund.TaxStatus.LABOR,
    }

    response = client.post(reverse("admin:fund_fund_add"), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice. 12$ is not one of the available choices." in page
    assert "Choose a currency above: the goal is read in it." in page
    assert not Fund.objects.exists()


@pytest.mark.parametrize("posted_currency", ["12$", "JPY"])
def test_admin_reads_a_changed_goal_in_the_funds_own_currency(
    client, admin_user, fund, posted_currency
):
    client.force_login(admin_user)
    data = {
        "name": fund.name,
        "goal": "5.50",
        "currency": posted_currency,
        "tax_status": fund.tax_status,
        "is_public": "on",
    }

    response = client.post(reverse("admin:fund_fund_change", args=[fund.pk]), data)

    assert response.status_code == 302
    fund.refresh_from_db()
    assert (fund.currency, fund.goal_cents) == ("USD", 550)


def test_admin_never_takes_a_typed_last_login_that_would_break_the_account(
    client, admin_user, treasurer
):
    client.force_login(admin_user)
    data = {
        "username": treasurer.username,
        "is_active": "on",
        "date_joined_0": "9999-12-31",
        "date_joined_1": "23:59:59",
        "last_login_0": "9999-12-31",
        "last_login_1": "23:59:59",
    }

    response = client.post(reverse("admin:auth_user_change", args=[treasurer.pk]), data)

    assert response.status_code == 302
    joined = treasurer.date_joined
    treasurer.refresh_from_db()
    assert (treasurer.last_login, treasurer.date_joined) == (None, joined)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200

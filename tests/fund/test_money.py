"""One money module: typed amounts are parsed by one set of rules wherever they are typed, and
minor units are formatted by each currency's own exponent."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from fund.errors import InvalidAmount
from fund.ledger.models import Fund, Transaction
from fund.money import format_amount, format_compact, max_amount, parse_amount
from tests.fund.conftest import Role, account

ARABIC_INDIC = "\u0661\u0662\u0663"
FULL_WIDTH = "\uff11\uff12\uff13"
MATH_BOLD = "\U0001d7cf\U0001d7d0\U0001d7d1"
REFUSED = {
    "1,2,3": "Enter an amount like $1,234.56.",
    "12,34.00": "Enter an amount like $1,234.56.",
    "1e3": "Enter an amount like $1,234.56.",
    "NaN": "Enter an amount like $1,234.56.",
    "Infinity": "Enter an amount like $1,234.56.",
    ARABIC_INDIC: "Enter an amount like $1,234.56.",
    FULL_WIDTH: "Enter an amount like $1,234.56.",
    MATH_BOLD: "Enter an amount like $1,234.56.",
    "12 000": "Enter an amount like $1,234.56.",
    "+5": "Enter an amount like $1,234.56.",
    "": "Enter an amount like $1,234.56.",
    "0": "Enter an amount above zero.",
    "0.00": "Enter an amount above zero.",
    "-5": "Enter a positive amount.",
    "10.001": "Amounts in USD have at most 2 decimal places.",
}


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("1,234.56", 123_456),
        ("$1,234.56", 123_456),
        ("1234.5", 123_450),
        (".25", 25),
        ("150,000", 15_000_000),
        ("12.", 1_200),
        (" 7 ", 700),
    ],
)
def test_typed_dollars_become_exact_cents(typed, cents):
    assert parse_amount(typed, "USD") == cents


@pytest.mark.parametrize(("typed", "message"), sorted(REFUSED.items()))
def test_malformed_amounts_are_refused_with_a_message(typed, message):
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(typed, "USD")

    assert str(refused.value) == message


def test_a_currency_without_minor_units_counts_whole_yen():
    assert parse_amount("150,000", "JPY") == 150_000
    assert format_amount(150_000, "JPY") == "¥150,000"
    with pytest.raises(InvalidAmount, match=r"Amounts in JPY have no decimals\."):
        parse_amount("150.5", "JPY")


def test_an_unknown_currency_is_refused_not_guessed():
    with pytest.raises(InvalidAmount, match="Unknown currency 'XYZ'"):
        parse_amount("10", "XYZ")


@pytest.mark.parametrize(
    ("currency", "largest", "refused", "message"),
    [
        ("USD", "10,000,000.00", "10,000,000.01", "Enter at most $10,000,000.00"),
        ("JPY", "10,000,000", "10,000,001", "Enter at most ¥10,000,000"),
    ],
)
def test_amounts_are_capped_at_max_amount_whole_units(currency, largest, refused, message):
    assert parse_amount(largest, currency) == max_amount(currency)
    with pytest.raises(InvalidAmount) as too_large:
        parse_amount(refused, currency)

    assert str(too_large.value) == f"{message}, the largest amount accepted."
    assert too_large.value.code == "too_large"


def test_the_cap_is_the_max_amount_setting(settings):
    settings.MAX_AMOUNT = 500

    assert parse_amount("500", "USD") == 50_000
    with pytest.raises(InvalidAmount, match=r"Enter at most \$500\.00"):
        parse_amount("500.01", "USD")


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1_234_567, "USD", "$12,345.67"),
        (-50, "USD", "-$0.50"),
        (5, "EUR", "€0.05"),
        (1_500, "JPY", "¥1,500"),
    ],
)
def test_minor_units_are_formatted_by_the_currency(minor, currency, text):
    assert format_amount(minor, currency) == text


def test_whole_and_compact_forms_round_half_up():
    assert format_amount(8_741_050, "USD", whole=True) == "$87,411"
    assert format_amount(-50, "USD", whole=True) == "-$1"
    assert format_compact(250_000, "USD") == "$2.5k"
    assert format_compact(150_000_000, "USD") == "$1.5M"
    assert format_compact(2_500, "JPY") == "¥2.5k"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["1,2,3", "0", "1e3", "NaN", ARABIC_INDIC])
def test_create_fund_refuses_the_same_amounts_with_the_same_message(typed):
    with pytest.raises(CommandError) as refused:
        call_command("create_fund", "A fund", "--slug", "a-fund", "--goal", typed)

    assert str(refused.value) == REFUSED[typed]
    assert not Fund.objects.exists()


@pytest.mark.django_db
def test_a_yen_fund_keeps_its_goal_in_whole_yen():
    call_command(
        "create_fund", "Tokyo", "--slug", "tokyo", "--goal", "150,000", "--currency", "JPY"
    )

    assert Fund.objects.get(slug="tokyo").goal_cents == 150_000


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["1,2,3", "1e3", "NaN", ARABIC_INDIC, FULL_WIDTH, MATH_BOLD])
def test_the_journal_form_refuses_the_same_amounts_with_the_same_message(
    client, treasurer, fund, typed
):
    client.force_login(treasurer)
    response = client.post(
        reverse("ledger_journal", args=[fund.slug]),
        {
            "effective_date": "2026-03-01",
            "memo": "Correction",
            "reason": "Typo",
            "idempotency_key": "money",
            "legs-TOTAL_FORMS": "2",
            "legs-INITIAL_FORMS": "0",
            "legs-0-account": account(fund, Role.BANK).pk,
            "legs-0-debit": typed,
            "legs-1-account": account(fund, Role.NET_ASSETS).pk,
            "legs-1-credit": typed,
        },
    )

    assert response.status_code == 400
    assert REFUSED[typed] in response.content.decode()
    assert not Transaction.objects.exists()


@pytest.mark.django_db
def test_django_admin_takes_and_shows_a_goal_in_dollars(client, admin_user, fund):
    client.force_login(admin_user)
    url = reverse("admin:fund_fund_change", args=[fund.pk])

    assert 'value="150,000.00"' in client.get(url).content.decode()
    response = client.post(
        url,
        {"name": fund.name, "goal": "175,000", "tax_status": fund.tax_status, "is_public": "on"},
    )

    assert response.status_code == 302
    fund.refresh_from_db()
    assert fund.goal_cents == 17_500_000
    assert "$175,000" in client.get(reverse("admin:fund_fund_changelist")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("goal", "1e3", "Enter an amount like $1,234.56."), ("currency", "12$", "Select a valid")],
)
def test_django_admin_refuses_a_bad_goal_or_currency_with_a_form_error(
    client, admin_user, field, value, message
):
    client.force_login(admin_user)
    data = {"name": "Bond Fund", "slug": "bonds", "goal": "5,000", "currency": "USD"}
    data[field] = value
    data["tax_status"] = Fund.TaxStatus.LABOR

    response = client.post(reverse("admin:fund_fund_add"), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Fund.objects.exists()

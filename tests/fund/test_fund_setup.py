"""Creating a fund: with its chart, from the command line or Django admin; bad input refused."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fund.ledger.services import CHART
from fund.models import Account, Fund, LedgerHead

pytestmark = pytest.mark.django_db


def test_create_fund_command_creates_the_fund_its_head_and_its_chart(capsys):
    call_command(
        "create_fund", "Valley Legal Fund", "--slug", "valley", "--goal", "150,000", "--restricted"
    )

    fund = Fund.objects.get(slug="valley")
    assert (fund.goal_cents, fund.currency, fund.restricted) == (15_000_000, "USD", True)
    assert LedgerHead.objects.filter(fund=fund).exists()
    assert Account.objects.filter(fund=fund).count() == len(CHART)
    assert "Created fund valley" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--slug", "Not A Slug", "--goal", "10"], "slug is lowercase"),
        (["--slug", "ok", "--goal", "ten"], r"Enter an amount like \$1,234\.56\."),
        (["--slug", "ok", "--goal", "10.001"], "Amounts in USD have at most 2 decimal places"),
        (["--slug", "ok", "--goal", "10", "--currency", "DOLLARS"], "three-letter"),
    ],
)
def test_create_fund_command_refuses_bad_input_in_one_line(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_fund", "A fund", *arguments)
    assert not Fund.objects.exists()


def test_a_second_fund_with_the_same_slug_is_refused():
    call_command("create_fund", "One", "--slug", "valley", "--goal", "1")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_fund", "Two", "--slug", "valley", "--goal", "1")
    assert Fund.objects.count() == 1


def test_an_admin_adds_a_fund_in_django_admin_and_gets_its_chart(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        "/admin/fund/fund/add/",
        {
            "name": "Bond Fund",
            "slug": "bonds",
            "goal": "50,000",
            "currency": "USD",
            "tax_status": Fund.TaxStatus.CHARITY,
            "is_public": "on",
            "public_summary": "",
        },
    )

    assert response.status_code == 302
    fund = Fund.objects.get(slug="bonds")
    assert fund.goal_cents == 5_000_000
    assert Account.objects.filter(fund=fund).count() == len(CHART)
    assert LedgerHead.objects.filter(fund=fund).exists()
    assert client.get(f"/admin/fund/fund/{fund.pk}/delete/").status_code == 403


def test_an_admin_turns_the_supporters_list_on_and_off(client, admin_user):
    client.force_login(admin_user)
    form = {
        "name": "Bond Fund",
        "goal": "50,000",
        "tax_status": Fund.TaxStatus.LABOR,
        "is_public": "on",
        "public_summary": "",
    }
    client.post("/admin/fund/fund/add/", form | {"slug": "bonds", "currency": "USD"})
    fund = Fund.objects.get(slug="bonds")
    assert fund.show_supporters is False  # off unless the fund enables it

    on = client.post(f"/admin/fund/fund/{fund.pk}/change/", form | {"show_supporters": "on"})
    fund.refresh_from_db()
    assert on.status_code == 302
    assert fund.show_supporters is True

    client.post(f"/admin/fund/fund/{fund.pk}/change/", form)
    fund.refresh_from_db()
    assert fund.show_supporters is False


def test_create_fund_command_can_list_supporters_from_the_start():
    call_command("create_fund", "Valley", "--slug", "valley", "--goal", "1", "--show-supporters")
    call_command("create_fund", "Reserve", "--slug", "reserve", "--goal", "1")

    shown = dict(Fund.objects.values_list("slug", "show_supporters"))
    assert shown == {"valley": True, "reserve": False}

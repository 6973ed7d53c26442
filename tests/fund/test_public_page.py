"""The public fund page: thermometer, monthly chart, spending, and nothing private."""

import re
from datetime import date
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fund.ledger.progress import MonthFlow, Progress, fund_progress
from fund.ledger.services import create_fund
from fund.ledger.verify import verify_fund
from fund.public.charts import monthly_chart
from fund.templatetags.money import cents, cents_compact, cents_whole
from tests.fund.conftest import OPENED, give_check, pay_attorney
from tests.fund.scenario import (
    ATTORNEY_NAME,
    CASE_REFS,
    DONOR_NAME,
    EXPECTED_CATEGORIES,
    EXPECTED_FLOWS,
    EXPECTED_PROGRESS,
    months_ago,
)

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    """Return the page's visible text with tags removed and whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(title|desc)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def figure(response, label: str) -> str:
    match = re.search(rf"<dt>{label}</dt>\s*<dd>([^<]*)</dd>", response.content.decode())
    assert match, f"no figure {label!r} on the page"
    return unescape(match.group(1))


def test_progress_of_the_scenario_matches_the_hand_computed_figures(seeded):
    assert fund_progress(seeded) == Progress(**EXPECTED_PROGRESS)
    assert verify_fund(seeded).ok


def test_the_fund_page_shows_the_thermometer_and_figures_formatted(client, seeded):
    response = client.get("/f/valley/")

    assert response.status_code == 200
    assert response.templates[0].name == "fund/fund_detail.html"
    content = response.content.decode()
    assert "<h1>Valley Labor Council Legal Fund</h1>" in content
    assert "Bail and lawyers for detained workers in the valley." in content
    assert '<p class="headline">$18,985 of $150,000 raised</p>' in content
    assert "12% of the goal" in content
    assert figure(response, "Raised") == "$18,984.56"
    assert figure(response, "Spent helping workers") == "$7,415.00"
    assert figure(response, "Out in bonds") == "$7,500.00"
    assert figure(response, "Available now") == "$2,966.01"
    assert figure(response, "Gifts") == "7"
    assert figure(response, "Workers helped") == "5"


def sums_table(content: str) -> tuple[list[tuple[str, int]], int]:
    """Return the "from raised to available" rows as (label, signed cents) and the total shown."""
    table = content.split('id="sums"')[1].split("</table>")[0]
    rows = re.findall(
        r'<th scope="row">(.*?)</th><td class="num"[^>]*>(-?\$[\d,]+\.\d\d)</td>', table
    )
    signed = []
    for label, amount in rows:
        cents = int(amount.replace("$", "").replace(",", "").replace(".", ""))
        sign = -1 if unescape(label).startswith("\u2212") else 1
        signed.append((unescape(label), sign * cents))
    *items, (total_label, total) = signed
    assert total_label == "Available now"
    return items, total


def test_the_public_figures_add_up_to_what_is_available(client, seeded):
    content = client.get("/f/valley/").content.decode()

    items, total = sums_table(content)

    # From gifts received, the rows the page shows (less refunds, disputes, fees, spending, bonds
    # and money set aside; plus interest) come to exactly the available figure, to the cent.
    labels = [label for label, _ in items]
    assert labels == [
        "Gifts received",
        "\u2212 Refunded to donors",
        "\u2212 Lost to card disputes",
        "Raised",
        "\u2212 Card processing fees",
        "+ Interest on bonds returned",
        "\u2212 Spent helping workers",
        "\u2212 Out in bonds",
        "\u2212 Set aside for approved payments",
    ]
    steps = [cents for label, cents in items if label != "Raised"]
    assert sum(steps) == total == EXPECTED_PROGRESS["available"]
    assert dict(items)["Raised"] == sum(steps[:3]) == EXPECTED_PROGRESS["raised"]
    assert fund_progress(seeded).figures_add_up()


def test_the_thermometer_draws_spent_bonds_and_the_rest_to_scale_with_svg_attributes(
    client, seeded
):
    content = client.get("/f/valley/").content.decode()

    # Goal $150,000 = 1000 units: spent $7,415 = 49.4, bonds $7,500 = 50.0, rest $4,069.56 = 27.1.
    assert '<rect class="fill-spent" x="0.0" y="0" width="49.4" height="40"/>' in content
    assert '<rect class="fill-bonds" x="49.4" y="0" width="50.0" height="40"/>' in content
    assert '<rect class="fill-raised" x="99.4" y="0" width="27.1" height="40"/>' in content
    assert 'role="img" aria-labelledby="thermometer-title"' in content
    # The CSP allows no inline style attributes and the page needs no script.
    assert "style=" not in content
    assert "<script" not in content


def test_the_monthly_chart_is_svg_with_a_title_a_description_and_a_data_table(client, seeded):
    response = client.get("/f/valley/")
    content = response.content.decode()
    text = text_of(response)

    assert '<svg class="flows"' in content
    assert '<title id="flows-title">Money raised and spent in each of the last 12 months' in content
    assert f"Bar chart from {months_ago(11):%B %Y} to {months_ago(0):%B %Y}" in content
    assert content.count('<rect class="fill-raised" x=') == 12 + 1  # 12 months + thermometer
    for back in range(12):
        raised, spent = EXPECTED_FLOWS.get(back, (0, 0))
        row = f"{months_ago(back):%B %Y} {cents(raised)} {cents(spent)}"
        assert row in text, row
    assert f"{months_ago(13):%B %Y}" not in text


def test_spending_by_category_lists_program_costs_largest_first(client, seeded):
    text = text_of(client.get("/f/valley/"))

    shares = [63, 27, 6, 4]  # of $7,415.00 spent
    rows = [
        f"{name} {cents(amount)} {share}%"
        for (name, amount), share in zip(EXPECTED_CATEGORIES, shares, strict=True)
    ]
    positions = [text.index(row) for row in rows]
    assert positions == sorted(positions)
    assert "Total spent $7,415.00" in text
    assert "Processing fees" not in text


def test_the_page_and_home_show_no_names_case_refs_or_donor_details(client, seeded, treasurer):
    for url in ("/f/valley/", "/"):
        content = client.get(url).content.decode()

        assert "C-2026-" not in content
        for case_ref in CASE_REFS:
            assert case_ref not in content
        assert DONOR_NAME not in content
        assert ATTORNEY_NAME not in content
        assert "UFCW" not in content
        assert treasurer.email not in content
        assert not re.search(rf"\b{treasurer.username}\b", content)
        assert "ch_g1" not in content
        assert "Entered twice" not in content


def test_home_shows_the_default_fund(client, seeded):
    response = client.get("/")

    assert response.status_code == 200
    assert "$18,985 of $150,000 raised" in response.content.decode()


def test_home_shows_the_fund_named_by_default_fund_slug(client, seeded, settings):
    create_fund(
        actor=None,
        opened_on=OPENED,
        name="Harbor Strike Defense",
        slug="harbor",
        goal_cents=2_000_000,
    )
    settings.DEFAULT_FUND_SLUG = "harbor"

    content = client.get("/").content.decode()

    assert "<h1>Harbor Strike Defense</h1>" in content
    assert "$0 of $20,000 raised" in content


def test_home_welcomes_visitors_when_there_is_no_fund(client, db):
    response = client.get("/")

    assert response.status_code == 200
    assert response.templates[0].name == "fund/home.html"
    assert "Defense Fund" in response.content.decode()


def test_a_new_fund_shows_an_empty_thermometer_and_nothing_spent(client, fund):
    response = client.get("/f/valley/")

    content = response.content.decode()
    assert "$0 of $150,000 raised" in content
    assert 'fill-spent" x="0.0" y="0"' not in content
    assert "Nothing has been spent yet." in content
    assert figure(response, "Workers helped") == "0"


def test_unknown_and_private_funds_are_404(client, fund):
    create_fund(actor=None, opened_on=OPENED, name="Internal reserve", slug="reserve", goal_cents=0)
    fund.__class__.objects.filter(slug="reserve").update(is_public=False)

    assert client.get("/f/nope/").status_code == 404
    assert client.get("/f/reserve/").status_code == 404
    assert client.get("/f/valley/").status_code == 200


def test_page_queries_do_not_grow_with_the_number_of_gifts(client, django_assert_max_num_queries):
    few = create_fund(
        actor=None, opened_on=OPENED, name="Few gifts", slug="few", goal_cents=1_000_000
    )
    many = create_fund(
        actor=None, opened_on=OPENED, name="Many gifts", slug="many", goal_cents=1_000_000
    )
    for n in range(3):
        give_check(few, 1_000 + n, key=f"few-{n}", on=months_ago(n % 12))
    for n in range(150):
        give_check(many, 1_000 + n, key=f"many-{n}", on=months_ago(n % 12))
    pay_attorney(few, 500, key="few-pay", on=months_ago(1))
    pay_attorney(many, 500, key="many-pay", on=months_ago(1))

    counts = {}
    for slug in ("few", "many"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/f/{slug}/").status_code == 200
        counts[slug] = len(queries)

    assert counts["few"] == counts["many"]
    with django_assert_max_num_queries(counts["few"]):
        client.get("/f/many/")
    assert counts["many"] <= 8


def test_a_fund_past_its_goal_marks_the_goal_on_the_thermometer(client, fund):
    give_check(fund, 20_000_000, key="big")

    content = client.get("/f/valley/").content.decode()

    assert "$200,000 of $150,000 raised" in content
    assert '<line class="goal-line" x1="750.0"' in content
    assert "133% of the goal" in content


@pytest.mark.parametrize(
    ("amount", "currency", "full", "whole", "compact"),
    [
        (1_234_567, "USD", "$12,345.67", "$12,346", "$12.3k"),
        (8_741_049, "USD", "$87,410.49", "$87,410", "$87.4k"),
        (0, "USD", "$0.00", "$0", "$0"),
        (5, "USD", "$0.05", "$0", "$0.1"),
        (-150, "USD", "-$1.50", "-$2", "-$1.5"),
        (150_000_000, "usd", "$1,500,000.00", "$1,500,000", "$1.5M"),
        (250_000, "EUR", "€2,500.00", "€2,500", "€2.5k"),
        (1_000, "JPY", "¥1,000", "¥1,000", "¥1k"),
        (1_999, "CHF", "CHF 19.99", "CHF 20", "CHF 20"),
    ],
)
def test_money_filters_format_integer_minor_units(amount, currency, full, whole, compact):
    assert cents(amount, currency) == full
    assert cents_whole(amount, currency) == whole
    assert cents_compact(amount, currency) == compact


def test_money_filters_leave_missing_amounts_blank():
    assert cents(None) == ""
    assert cents_whole(None) == ""
    assert cents(1_234_567) == "$12,345.67"


def test_the_monthly_chart_has_round_ticks_and_labels_years_without_crowding():
    flows = [MonthFlow(date(2025, 12, 1), 1_500_000, 0)] + [
        MonthFlow(date(2026, month, 1), 0, 421_500 if month == 5 else 0) for month in range(1, 12)
    ]

    chart = monthly_chart(flows)

    assert [tick.cents for tick in chart.ticks] == [0, 500_000, 1_000_000, 1_500_000, 2_000_000]
    assert [tick.y for tick in chart.ticks] == ["252.0", "193.0", "134.0", "75.0", "16.0"]
    assert [column.year_label for column in chart.columns] == ["", "2026"] + [""] * 10
    december, may = chart.columns[0], chart.columns[5]
    assert (december.raised.y, december.raised.height) == ("75.0", "177.0")
    assert (december.spent.y, december.spent.height) == ("252.0", "0.0")
    assert may.spent.height == "49.7"
    assert monthly_chart([MonthFlow(date(2026, 3, 1), 0, 0)]).ticks[-1].cents == 400

"""The ledger's reports agree with the ledger to the cent: figures recomputed here from postings."""

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from fund.ledger.entries import Leg
from fund.ledger.posting import post_transaction
from fund.ledger.progress import fund_progress
from fund.ledger.services import create_fund
from fund.models import Account, Fund, Posting
from fund.money import format_amount
from fund.reports.engine import render
from fund.reports.registry import Period, Row, Style, Total, get_report
from tests.fund.conftest import OPENED, Kind, Role, account, give_check, post, today
from tests.fund.scenario import EXPECTED_FLOWS, EXPECTED_PROGRESS, months_ago

pytestmark = pytest.mark.django_db

# Hand-computed from tests/fund/scenario.py (cents).
TOTAL_ASSETS = 191_395 + 61_750 + 123_456 + 750_000  # Stripe, bank, undeposited, bonds
ACTIVITY_LINES = {
    "4000": 2_048_456,  # contributions
    "4200": 3_250,  # interest on the refunded bond
    "4100": 50_000,  # refund
    "4110": 100_000,  # the lost dispute (the won one nets to zero)
    "5000": 470_000,  # attorney fees
    "5010": 41_500,  # filing fees
    "5020": 30_000,  # family support
    "5090": 0,  # other program costs
    "5100": 33_605,  # Stripe fee and dispute fee
    "5200": 200_000,  # forfeited bond
}
EXPENSES = 470_000 + 41_500 + 30_000 + 33_605 + 200_000


def the_year() -> Period:
    """The scenario's whole year, to today."""
    return Period(months_ago(12, day=1), today())


def the_period(which: str) -> Period:
    """The whole year, or a stretch in its middle (so that accounts open with balances)."""
    if which == "year":
        return the_year()
    return Period(months_ago(6, day=1), months_ago(2, day=28))


# Figures from the posting rows themselves -------------------------------------------------------


def postings_of(fund: Fund, *, start: date | None = None, end: date | None = None):
    found = Posting.objects.filter(account__fund=fund)
    if start:
        found = found.filter(effective_date__gte=start)
    if end:
        found = found.filter(effective_date__lte=end)
    return found.select_related("account", "transaction").order_by("effective_date", "id")


def balances_from_postings(fund: Fund, on: date) -> dict[str, int]:
    balances = dict.fromkeys(Account.objects.filter(fund=fund).values_list("code", flat=True), 0)
    for posting in postings_of(fund, end=on):
        balances[posting.account.code] += posting.amount_cents
    return balances


def net_assets_from_postings(fund: Fund, on: date) -> int:
    """Net assets are the assets (the chart has no liabilities)."""
    return sum(p.amount_cents for p in postings_of(fund, end=on) if p.account.kind == "asset")


def rows_of(kind: str, fund: Fund, period: Period) -> list[Row]:
    report = get_report(kind)
    rows = list(report.rows(fund, period))
    assert report.count(fund, period) == len(rows)
    return rows


def totals_of(kind: str, fund: Fund, period: Period) -> dict[str, int]:
    return {total.label: total.cents for total in get_report(kind).totals(fund, period)}


def amounts_by_label(rows: list[Row]) -> dict[str, int]:
    return {row.values[1]: row.values[2] for row in rows if row.values[2] is not None}


# General ledger ----------------------------------------------------------------------------------


def grouped(rows: list[Row]) -> dict[str, tuple[Row, list[Row], Row]]:
    groups: dict[str, tuple[Row, list[Row], Row]] = {}
    heading: Row | None = None
    lines: list[Row] = []
    for row in rows:
        if row.style == Style.HEADING:
            heading, lines = row, []
        elif row.style == Style.LINE:
            lines.append(row)
        else:
            assert heading is not None
            code = heading.values[3].split()[0]
            assert row.values[3] == heading.values[3].replace("opening", "closing")
            groups[code] = (heading, lines, row)
            heading = None
    return groups


@pytest.mark.parametrize("which", ["year", "middle"])
def test_the_general_ledger_lists_every_posting_by_account_with_running_balances(
    seeded, which, django_assert_max_num_queries
):
    period = the_period(which)
    with django_assert_max_num_queries(4):
        rows = list(get_report("general-ledger").rows(seeded, period))
    groups = grouped(rows)
    before = balances_from_postings(seeded, period.start - timedelta(days=1))
    in_period = defaultdict(list)
    for posting in postings_of(seeded, start=period.start, end=period.end):
        in_period[posting.account.code].append(posting)

    shown = {code for code, balance in before.items() if balance} | set(in_period)
    assert list(groups) == sorted(shown)
    for code, (heading, lines, subtotal) in groups.items():
        balance = before[code]
        assert heading.values[7] == balance
        assert [line.values[0] for line in lines] == [p.effective_date for p in in_period[code]]
        for line, posting in zip(lines, in_period[code], strict=True):
            balance += posting.amount_cents
            debit, credit = line.values[5], line.values[6]
            assert (debit or 0) - (credit or 0) == posting.amount_cents
            assert line.values[1] == posting.transaction.reference
            assert line.values[7] == balance
        assert subtotal.values[5:] == (
            sum(p.amount_cents for p in in_period[code] if p.amount_cents > 0),
            -sum(p.amount_cents for p in in_period[code] if p.amount_cents < 0),
            balance,
        )
    assert len(rows) == get_report("general-ledger").count(seeded, period)
    debits = sum(p.amount_cents for ps in in_period.values() for p in ps if p.amount_cents > 0)
    assert get_report("general-ledger").totals(seeded, period) == (
        Total("Total debits", debits),
        Total("Total credits", debits),
    )


def test_the_general_ledger_shows_an_idle_account_with_a_balance_and_leaves_out_an_empty_one(
    seeded,
):
    groups = grouped(rows_of("general-ledger", seeded, the_period("middle")))

    heading, lines, subtotal = groups["1020"]  # the rally's cash, never deposited
    assert (heading.values[7], lines, subtotal.values[5:]) == (123_456, [], (0, 0, 123_456))
    assert "5090" not in groups  # other program costs: never used
    (filing,) = groups["5010"][1]
    assert filing.values[2:7] == (
        "Program payment",
        "disbursement pay-filing",
        "C-2026-0011",
        41_500,
        None,
    )


# Trial balance -----------------------------------------------------------------------------------


@pytest.mark.parametrize("months", [0, 7], ids=["today", "seven-months-ago"])
def test_the_trial_balance_balances_and_each_account_is_the_sum_of_its_postings(seeded, months):
    on = months_ago(7, day=28) if months else today()
    period = Period(on, on)
    expected = balances_from_postings(seeded, on)

    rows = rows_of("trial-balance", seeded, period)

    assert {row.values[0]: (row.values[3], row.values[4]) for row in rows} == {
        code: (balance if balance > 0 else None, -balance if balance < 0 else None)
        for code, balance in expected.items()
    }
    debits = sum(balance for balance in expected.values() if balance > 0)
    assert debits > 0
    assert totals_of("trial-balance", seeded, period) == {
        "Total debits": debits,
        "Total credits": debits,
    }


# Statement of financial position -----------------------------------------------------------------


def test_the_financial_position_shows_assets_by_account_equal_to_net_assets(seeded):
    rows = rows_of("financial-position", seeded, the_year())

    assets = {row.values[0]: row.values[2] for row in rows if row.values[0]}
    assert assets == {
        code: balance
        for code, balance in balances_from_postings(seeded, today()).items()
        if code.startswith("1")
    }
    assert assets == {"1000": 191_395, "1010": 61_750, "1020": 123_456, "1100": 750_000}
    assert amounts_by_label(rows)["Total assets"] == TOTAL_ASSETS
    assert totals_of("financial-position", seeded, the_year()) == {
        "Total assets": TOTAL_ASSETS,
        "Net assets without donor restrictions": TOTAL_ASSETS,
        "Net assets with donor restrictions": 0,
        "Total net assets": TOTAL_ASSETS,
    }


def test_a_donor_restricted_funds_net_assets_are_all_with_donor_restrictions(db):
    restricted = create_fund(
        actor=None, opened_on=OPENED, name="Bail Fund", slug="bail", goal_cents=1, restricted=True
    )
    give_check(restricted, 5_000, key="restricted-gift")

    assert totals_of("financial-position", restricted, the_year()) == {
        "Total assets": 5_000,
        "Net assets without donor restrictions": 0,
        "Net assets with donor restrictions": 5_000,
        "Total net assets": 5_000,
    }


# Statement of activities -------------------------------------------------------------------------


def test_the_statement_of_activities_shows_the_years_revenue_refunds_and_expenses(seeded):
    rows = rows_of("activities", seeded, the_year())

    assert {row.values[0]: row.values[2] for row in rows if row.values[0]} == ACTIVITY_LINES
    assert totals_of("activities", seeded, the_year()) == {
        "Total revenue": 2_048_456 + 3_250,
        "Total contra-revenue": 150_000,
        "Total expenses": EXPENSES,
        "Change in net assets from activities": TOTAL_ASSETS,
        "Change in net assets": TOTAL_ASSETS,
        "Net assets, beginning of period": 0,
        "Net assets, end of period": TOTAL_ASSETS,
    }


@pytest.mark.parametrize("which", ["year", "middle"])
def test_the_change_in_net_assets_equals_the_financial_positions_and_the_ledgers(seeded, which):
    period = the_period(which)
    change = totals_of("activities", seeded, period)["Change in net assets"]

    day_before = Period(period.start - timedelta(days=1), period.start - timedelta(days=1))
    at_end = Period(period.end, period.end)
    position_change = (
        totals_of("financial-position", seeded, at_end)["Total net assets"]
        - totals_of("financial-position", seeded, day_before)["Total net assets"]
    )
    ledger_change = -sum(
        p.amount_cents
        for p in postings_of(seeded, start=period.start, end=period.end)
        if p.account.kind != "asset"
    )
    assert change == position_change == ledger_change
    assert change == net_assets_from_postings(seeded, period.end) - net_assets_from_postings(
        seeded, period.start - timedelta(days=1)
    )
    assert change != 0


def test_opening_balances_change_net_assets_apart_from_activities(fund):
    post(fund, Role.BANK, Role.NET_ASSETS, 100_000, kind=Kind.OPENING_BALANCE, key="opening")
    give_check(fund, 2_500, key="gift")

    totals = totals_of("activities", fund, the_year())

    assert totals["Change in net assets from activities"] == 2_500
    assert totals["Change in net assets"] == 102_500
    assert totals_of("financial-position", fund, the_year())["Total net assets"] == 102_500
    rows = amounts_by_label(rows_of("activities", fund, the_year()))
    assert rows["Opening balances and adjustments to net assets"] == 100_000


# Fund progress -----------------------------------------------------------------------------------


def test_progress_to_today_gives_the_public_figures(seeded):
    totals = totals_of("progress", seeded, the_year())

    assert totals == {
        "Goal": EXPECTED_PROGRESS["goal"],
        "Raised, to the end of the period": EXPECTED_PROGRESS["raised"],
        "Spent, to the end of the period": EXPECTED_PROGRESS["spent"],
        "Out in bonds": EXPECTED_PROGRESS["in_bonds"],
        "Set aside for approved payments": EXPECTED_PROGRESS["committed"],
        "Available": EXPECTED_PROGRESS["available"],
    }
    public = fund_progress(seeded)
    assert (public.raised, public.spent, public.in_bonds, public.available) == (
        totals["Raised, to the end of the period"],
        totals["Spent, to the end of the period"],
        totals["Out in bonds"],
        totals["Available"],
    )


def test_progress_for_a_past_period_gives_the_figures_of_its_last_day(seeded):
    last_day = months_ago(7, day=1) - timedelta(days=1)  # all gifts in, nothing paid out yet
    period = Period(months_ago(12, day=1), last_day)

    assert totals_of("progress", seeded, period) == {
        "Goal": 15_000_000,
        "Raised, to the end of the period": 1_898_456,
        "Spent, to the end of the period": 0,
        "Out in bonds": 0,
        # The commitments were made today, after the period.
        "Set aside for approved payments": 0,
        "Available": 1_898_456 - 33_605,
    }


def test_progress_lists_each_month_raised_and_spent_and_charts_them(seeded):
    rows = rows_of("progress", seeded, the_year())

    *months, total = rows
    assert [row.values for row in months] == [
        (f"{months_ago(ago):%Y-%m}", *EXPECTED_FLOWS.get(ago, (0, 0))) for ago in range(12, -1, -1)
    ]
    assert total.style == Style.SUBTOTAL
    assert total.values == ("Total for the period", 1_898_456, 741_500)
    svg = get_report("progress").chart(seeded, the_year())
    chart = ET.fromstring(svg)  # noqa: S314  (our own markup)
    bars = chart.findall("{http://www.w3.org/2000/svg}rect")
    assert len(bars) == 2 * 13 + 2  # raised and spent per month, and the legend's two swatches
    assert max(float(bar.get("height")) for bar in bars) > 0


# Rendered through the engine ---------------------------------------------------------------------


def expected_totals(kind: str, fund: Fund) -> dict[str, int]:
    """The figures a user checks on each report for the scenario's year, computed by hand."""
    debits = sum(p.amount_cents for p in postings_of(fund) if p.amount_cents > 0)
    balance_debits = sum(b for b in balances_from_postings(fund, today()).values() if b > 0)
    return {
        "general-ledger": {"Total debits": debits, "Total credits": debits},
        "trial-balance": {"Total debits": balance_debits, "Total credits": balance_debits},
        "financial-position": {
            "Total assets": TOTAL_ASSETS,
            "Net assets without donor restrictions": TOTAL_ASSETS,
            "Net assets with donor restrictions": 0,
            "Total net assets": TOTAL_ASSETS,
        },
        "activities": {
            "Total revenue": 2_051_706,
            "Total contra-revenue": 150_000,
            "Total expenses": EXPENSES,
            "Change in net assets from activities": TOTAL_ASSETS,
            "Change in net assets": TOTAL_ASSETS,
            "Net assets, beginning of period": 0,
            "Net assets, end of period": TOTAL_ASSETS,
        },
        "progress": {
            "Goal": 15_000_000,
            "Raised, to the end of the period": 1_898_456,
            "Spent, to the end of the period": 741_500,
            "Out in bonds": 750_000,
            "Set aside for approved payments": 80_000,
            "Available": 296_601,
        },
    }[kind]


KINDS = ["general-ledger", "trial-balance", "financial-position", "activities", "progress"]


def rendered(kind: str, fund: Fund, fmt: str) -> bytes:
    out = io.BytesIO()
    render(
        get_report(kind),
        fund=fund,
        period=the_year(),
        fmt=fmt,
        generated_at=datetime(2026, 12, 1, 12, tzinfo=UTC),
        generated_by="treasurer",
        out=out,
    )
    return out.getvalue()


@pytest.mark.parametrize("kind", KINDS)
def test_each_ledger_report_prints_the_ledgers_totals_in_its_csv(seeded, kind):
    expected = expected_totals(kind, seeded)

    lines = list(csv.reader(io.StringIO(rendered(kind, seeded, "csv").decode())))

    header, *body = lines
    assert header == [column.title for column in get_report(kind).columns]
    assert len(body) == get_report(kind).count(seeded, the_year()) + len(expected)
    last = body[-len(expected) :]
    totals = {line[0]: next(cell for cell in reversed(line) if cell) for line in last}
    assert {label: int(Decimal(value) * 100) for label, value in totals.items()} == expected


@pytest.mark.parametrize("kind", KINDS)
def test_each_ledger_report_prints_the_ledgers_totals_in_its_pdf(seeded, kind):
    expected = expected_totals(kind, seeded)

    reader = PdfReader(io.BytesIO(rendered(kind, seeded, "pdf")))
    text = "\n".join(page.extract_text() for page in reader.pages)

    for label, cents in expected.items():
        assert re.search(rf"{re.escape(label)}\s*{re.escape(format_amount(cents))}", text), label


def test_the_progress_pdf_carries_the_monthly_chart(seeded):
    reader = PdfReader(io.BytesIO(rendered("progress", seeded, "pdf")))
    text = "\n".join(page.extract_text() for page in reader.pages)

    # The chart's axis runs to $20k (the largest month raised $15,000) and labels each month.
    assert re.search(r"^\$20k$", text, re.MULTILINE)
    assert re.search(rf"^{months_ago(10):%b}$", text, re.MULTILINE)


# What a staff member may type as a memo: longer than its field (33 characters), with markup.
LONG_MEMO = (
    "Payment of the <b>retainer</b> & filing fees for the habeas petition and the bond "
    "hearing at the Tacoma immigration court, second instalment"
)
# The largest amount a leg may have: twice that, the revenue account's balance (-$20,…)
# overflows its field of 14 characters.
LARGE = 999_999_999
# Where the PDF line's fields start and end (fund/reports/ledger.py): date, reference, kind, memo
# and case, then debit, credit and balance right-aligned.
MEMO_START, MEMO_END = 44, 77
DEBIT_END, CREDIT_END, BALANCE_END = 92, 107, 122
POSTING = re.compile(r"^\d{4}-\d\d-\d\d \d{4}-\d{6} ")


def test_the_general_ledger_pdf_prints_each_posting_of_its_csv_as_one_line(seeded):
    for n, memo in enumerate((LONG_MEMO, "Second gift toward the appeal")):
        post_transaction(
            fund=seeded,
            legs=[
                Leg(account(seeded, Role.BANK), LARGE),
                Leg(account(seeded, Role.CONTRIBUTIONS), -LARGE),
            ],
            effective_date=today(),
            kind=Kind.JOURNAL,
            memo=memo,
            idempotency_key=f"large-{n}",
            actor=None,
            case_ref="C-2026-0042",
        )
    lines = list(csv.reader(io.StringIO(rendered("general-ledger", seeded, "csv").decode())))
    postings = [line for line in lines[1:] if line[1]]
    closings = [line for line in lines[1:] if line[3].endswith(": closing balance")]

    reader = PdfReader(io.BytesIO(rendered("general-ledger", seeded, "pdf")))
    pages = [page.extract_text().splitlines() for page in reader.pages]
    text = [line for page in pages for line in page]

    assert len(lines[0]) == 8
    # The headings are a line of the same fields, on every page (the table's head).
    heading = next(line for line in text if line.startswith("Date"))
    assert heading.split() == [
        "Date",
        "Reference",
        "Kind",
        "Memo",
        "·",
        "case",
        "Debit",
        "Credit",
        "Balance",
    ]
    assert heading.index("Memo") == MEMO_START
    assert len(heading) == BALANCE_END
    assert all(heading in page for page in pages if any(map(POSTING.match, page)))
    # Every posting of the CSV, in its order, is one line (and its memo's continuation lines).
    printed = [i for i, line in enumerate(text) if POSTING.match(line)]
    assert len(printed) == len(postings)
    memos, overflowed = {}, []
    for at, (day, ref, kind, memo, case, debit, credit, balance) in zip(
        printed, postings, strict=True
    ):
        line = text[at]
        assert line[:23] == f"{day} {ref} ", ref
        assert line[23:MEMO_START].rstrip() == kind, ref
        memos[ref] = [line[MEMO_START:MEMO_END].rstrip()]
        for more in text[at + 1 :]:
            if not more.startswith(" " * MEMO_START) or not more.strip():
                break
            memos[ref].append(more[MEMO_START:].rstrip())
        shown = " ".join(memos[ref]).replace("\u00a0", " ")
        assert shown == " · ".join(text for text in (memo, case) if text), ref
        # The amounts whole, the balance where its field ends (a long one pushed left).
        assert line[MEMO_END:].split() == [dollars(debit or credit), dollars(balance)], ref
        assert line.endswith(dollars(balance)), ref
        assert len(line) == BALANCE_END, ref
        if len(dollars(balance)) > 14:
            overflowed.append(ref)
        else:
            assert line[: DEBIT_END if debit else CREDIT_END].endswith(dollars(debit or credit))
    # The long memo wrapped onto lines of their own under the memo field, never cut.
    long_memo = next(memos[row[1]] for row in postings if row[3] == LONG_MEMO)
    assert len(long_memo) >= 5
    assert all(len(piece) <= MEMO_END - MEMO_START for piece in long_memo)
    # The revenue account's balance (-$20,…) overflowed its field, printed whole.
    assert overflowed
    # Each account's closing balance: its debits, credits and balance.
    for _, _, _, label, _, debits, credits, balance in closings:
        closing = next(line for line in text if line.startswith(label))
        figures = [dollars(value) for value in (debits, credits, balance) if value]
        assert closing[len(label) :].split() == figures, label


def dollars(value: str) -> str:
    return format_amount(int(Decimal(value) * 100)) if value else ""


def test_the_general_ledger_pdf_is_the_same_bytes_for_the_same_generation_time(seeded):
    assert rendered("general-ledger", seeded, "pdfa") == rendered("general-ledger", seeded, "pdfa")

"""The ledger's own reports: general ledger, trial balance, the two financial statements, progress.

Money cells are integer cents. The statements present each figure positive on its own side
(fund.reports.statements); the general ledger and the trial balance show debits and credits as
separate positive columns and balances signed as the ledger keeps them (debits positive).
"""

from collections.abc import Iterator
from datetime import date, timedelta
from html import escape

from django.db.models import Count, Q, QuerySet, Sum

from fund.ledger.models import Account, Fund, Posting, TransactionKind
from fund.ledger.progress import MonthFlow
from fund.ledger.queries import balances_as_of, list_accounts, trial_balance
from fund.money import format_compact
from fund.public.charts import monthly_chart
from fund.reports.registry import Cell, Column, LineField, Period, Report, Row, Style, Total
from fund.reports.statements import (
    ACTIVITY_KINDS,
    activities,
    financial_position,
    months_between,
    progress_as_of,
)

KIND_LABELS = dict(TransactionKind.choices)
# The posting fields a general ledger line needs, read in one query with the transaction's.
LINE_FIELDS = (
    "account_id",
    "effective_date",
    "transaction__year",
    "transaction__number",
    "transaction__kind",
    "transaction__memo",
    "transaction__case_ref",
    "amount_cents",
)
# Rows are read from the database in batches of this many postings.
CHUNK = 2000


def _postings_in(fund: Fund, period: Period) -> QuerySet[Posting]:
    return Posting.objects.filter(
        account__fund=fund, effective_date__gte=period.start, effective_date__lte=period.end
    )


def _day_before(period: Period) -> date:
    return period.start - timedelta(days=1)


# General ledger ------------------------------------------------------------------------------


def general_ledger_rows(fund: Fund, period: Period) -> Iterator[Row]:
    """Yield each account's opening balance, its postings of the period by date, and its closing.

    Three queries, the postings streamed by a server-side cursor. An account without postings
    in the period is shown only if it has a balance (opening equals closing).
    """
    openings = balances_as_of(fund, _day_before(period))
    lines = (
        _postings_in(fund, period)
        .order_by("account__code", "effective_date", "id")
        .values_list(*LINE_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    pending = next(lines, None)
    for account in list_accounts(fund):
        balance = openings[account.pk]
        if balance == 0 and (pending is None or pending[0] != account.pk):
            continue
        label = f"{account.code} {account.name}"
        opening = (None, None, None, f"{label}: opening balance", None, None, None, balance)
        yield Row(opening, Style.HEADING)
        debits = credits = 0
        while pending is not None and pending[0] == account.pk:
            _, day, year, number, kind, memo, case_ref, cents = pending
            balance += cents
            if cents > 0:
                debits += cents
            else:
                credits -= cents
            yield Row(
                (
                    day,
                    f"{year}-{number:06d}",
                    KIND_LABELS.get(kind, kind),
                    memo,
                    case_ref or None,
                    cents if cents > 0 else None,
                    -cents if cents < 0 else None,
                    balance,
                )
            )
            pending = next(lines, None)
        closing = (None, None, None, f"{label}: closing balance", None, debits, credits, balance)
        yield Row(closing, Style.SUBTOTAL)


def general_ledger_count(fund: Fund, period: Period) -> int:
    """Return the general ledger's rows: its postings, and a heading and a subtotal per account."""
    openings = balances_as_of(fund, _day_before(period))
    per_account = dict(
        _postings_in(fund, period).values_list("account_id").annotate(n=Count("id")).order_by()
    )
    shown = {pk for pk, balance in openings.items() if balance} | set(per_account)
    return sum(per_account.values()) + 2 * len(shown)


def general_ledger_totals(fund: Fund, period: Period) -> tuple[Total, ...]:
    """Return the period's total debits and credits, which are equal."""
    sums = _postings_in(fund, period).aggregate(
        debits=Sum("amount_cents", filter=Q(amount_cents__gt=0)),
        credits=Sum("amount_cents", filter=Q(amount_cents__lt=0)),
    )
    return (
        Total("Total debits", sums["debits"] or 0),
        Total("Total credits", -(sums["credits"] or 0)),
    )


# Trial balance -------------------------------------------------------------------------------


def trial_balance_rows(fund: Fund, period: Period) -> Iterator[Row]:
    """Yield every account with its balance at the end of the period on its debit or credit side."""
    for row in trial_balance(fund, period.end).rows:
        yield Row(
            (
                row.account.code,
                row.account.name,
                row.account.get_kind_display(),
                row.debit_cents or None,
                row.credit_cents or None,
            )
        )


def trial_balance_totals(fund: Fund, period: Period) -> tuple[Total, ...]:
    """Return total debits and total credits at the end of the period, which are equal."""
    balance = trial_balance(fund, period.end)
    return (
        Total("Total debits", balance.total_debits),
        Total("Total credits", balance.total_credits),
    )


def account_count(fund: Fund, period: Period) -> int:
    """Return the number of accounts in the fund's chart."""
    return list_accounts(fund).count()


# Statement of financial position ---------------------------------------------------------------

WITHOUT_RESTRICTIONS = "Without donor restrictions"
WITH_RESTRICTIONS = "With donor restrictions"


def financial_position_rows(fund: Fund, period: Period) -> Iterator[Row]:
    """Yield the assets by account and the net assets by restriction at the end of the period."""
    position = financial_position(fund, period.end)
    yield Row((None, "Assets", None), Style.HEADING)
    for line in position.assets:
        yield Row((line.code, line.name, line.cents))
    yield Row((None, "Total assets", position.total_assets), Style.SUBTOTAL)
    yield Row((None, "Net assets", None), Style.HEADING)
    yield Row((None, WITHOUT_RESTRICTIONS, position.without_restrictions))
    yield Row((None, WITH_RESTRICTIONS, position.with_restrictions))
    yield Row((None, "Total net assets", position.total_net_assets), Style.SUBTOTAL)


def financial_position_totals(fund: Fund, period: Period) -> tuple[Total, ...]:
    """Return total assets, net assets by restriction and total net assets (equal to assets)."""
    position = financial_position(fund, period.end)
    return (
        Total("Total assets", position.total_assets),
        Total(f"Net assets {WITHOUT_RESTRICTIONS.lower()}", position.without_restrictions),
        Total(f"Net assets {WITH_RESTRICTIONS.lower()}", position.with_restrictions),
        Total("Total net assets", position.total_net_assets),
    )


def financial_position_count(fund: Fund, period: Period) -> int:
    """Return the statement's rows: the asset accounts and six headings, lines and totals."""
    return list_accounts(fund).filter(kind=Account.Kind.ASSET).count() + 6


# Statement of activities -----------------------------------------------------------------------


def activities_rows(fund: Fund, period: Period) -> Iterator[Row]:
    """Yield revenue, contra-revenue and expenses by account and the change in net assets."""
    figures = activities(fund, period.start, period.end)
    yield Row((None, "Revenue", None), Style.HEADING)
    yield from (Row((line.code, line.name, line.cents)) for line in figures.revenue)
    yield Row((None, "Total revenue", figures.total_revenue), Style.SUBTOTAL)
    yield Row((None, "Less refunds and disputes (contra-revenue)", None), Style.HEADING)
    yield from (Row((line.code, line.name, line.cents)) for line in figures.contra_revenue)
    yield Row((None, "Total contra-revenue", figures.total_contra_revenue), Style.SUBTOTAL)
    yield Row((None, "Net revenue", figures.net_revenue), Style.SUBTOTAL)
    yield Row((None, "Expenses", None), Style.HEADING)
    yield from (Row((line.code, line.name, line.cents)) for line in figures.expenses)
    yield Row((None, "Total expenses", figures.total_expenses), Style.SUBTOTAL)
    yield Row(
        (None, "Change in net assets from activities", figures.change_from_activities),
        Style.SUBTOTAL,
    )
    yield Row(
        (None, "Opening balances and adjustments to net assets", figures.direct_to_net_assets)
    )
    yield Row((None, "Change in net assets", figures.change_in_net_assets), Style.SUBTOTAL)
    yield Row((None, "Net assets, beginning of period", figures.net_assets_before))
    yield Row((None, "Net assets, end of period", figures.net_assets_after), Style.SUBTOTAL)


def activities_totals(fund: Fund, period: Period) -> tuple[Total, ...]:
    """Return the statement's totals; the change in net assets is end less beginning."""
    figures = activities(fund, period.start, period.end)
    return (
        Total("Total revenue", figures.total_revenue),
        Total("Total contra-revenue", figures.total_contra_revenue),
        Total("Total expenses", figures.total_expenses),
        Total("Change in net assets from activities", figures.change_from_activities),
        Total("Change in net assets", figures.change_in_net_assets),
        Total("Net assets, beginning of period", figures.net_assets_before),
        Total("Net assets, end of period", figures.net_assets_after),
    )


def activities_count(fund: Fund, period: Period) -> int:
    """Return the statement's rows: the activity accounts and twelve headings, lines and totals."""
    return list_accounts(fund).filter(kind__in=ACTIVITY_KINDS).count() + 12


# Fund progress ---------------------------------------------------------------------------------

# The chart shows at most this many months (the last ones of the period); the table shows all.
CHART_MONTHS = 24
RAISED_FILL = "#2e7d32"
SPENT_FILL = "#1565c0"


def progress_rows(fund: Fund, period: Period) -> Iterator[Row]:
    """Yield money raised and spent in each month of the period, then the period's sums."""
    months = months_between(fund, period.start, period.end)
    for month in months:
        yield Row((f"{month.month:%Y-%m}", month.raised_cents, month.spent_cents))
    yield Row(
        (
            "Total for the period",
            sum(month.raised_cents for month in months),
            sum(month.spent_cents for month in months),
        ),
        Style.SUBTOTAL,
    )


def progress_totals(fund: Fund, period: Period) -> tuple[Total, ...]:
    """Return the goal and what was raised, spent, in bonds, set aside and available at the end."""
    progress = progress_as_of(fund, period.end)
    return (
        Total("Goal", progress.goal),
        Total("Raised, to the end of the period", progress.raised),
        Total("Spent, to the end of the period", progress.spent),
        Total("Out in bonds", progress.in_bonds),
        Total("Set aside for approved payments", progress.committed),
        Total("Available", progress.available),
    )


def progress_count(fund: Fund, period: Period) -> int:
    """Return the report's rows: one per month of the period and the sums."""
    return (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 2


def progress_chart(fund: Fund, period: Period) -> str:
    """Return an SVG bar chart of money raised and spent per month, the period's last months."""
    months = months_between(fund, period.start, period.end)[-CHART_MONTHS:]
    chart = monthly_chart([MonthFlow(m.month, m.raised_cents, m.spent_cents) for m in months])
    title = escape(f"Money raised (green) and spent (blue) per month, {fund.currency}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {chart.width} {chart.height}" '
        f'width="{chart.width}" height="{chart.height}" role="img" aria-label="{title}">',
        f"<title>{title}</title>",
    ]
    for tick in chart.ticks:
        label = escape(format_compact(tick.cents, fund.currency))
        parts.append(
            f'<line x1="{chart.plot_left}" x2="{chart.plot_right}" y1="{tick.y}" y2="{tick.y}" '
            'stroke="#cccccc" stroke-width="1"/>'
            f'<text x="{chart.plot_left - 6}" y="{tick.y}" dy="3" text-anchor="end" '
            f'font-size="10" fill="#333333">{label}</text>'
        )
    for column in chart.columns:
        parts.append(
            f'<rect x="{column.raised.x}" y="{column.raised.y}" width="{chart.bar_width}" '
            f'height="{column.raised.height}" fill="{RAISED_FILL}"/>'
            f'<rect x="{column.spent.x}" y="{column.spent.y}" width="{chart.bar_width}" '
            f'height="{column.spent.height}" fill="{SPENT_FILL}"/>'
            f'<text x="{column.label_x}" y="{chart.label_y}" text-anchor="middle" '
            f'font-size="10" fill="#333333">{column.month:%b}</text>'
        )
        if column.year_label:
            parts.append(
                f'<text x="{column.label_x}" y="{chart.year_y}" text-anchor="middle" '
                f'font-size="10" fill="#333333">{escape(column.year_label)}</text>'
            )
    parts.append(
        f'<line x1="{chart.plot_left}" x2="{chart.plot_right}" y1="{chart.plot_bottom}" '
        f'y2="{chart.plot_bottom}" stroke="#333333" stroke-width="1"/>'
        f'<rect x="{chart.plot_right - 130}" y="2" width="10" height="10" fill="{RAISED_FILL}"/>'
        f'<text x="{chart.plot_right - 116}" y="11" font-size="10" fill="#333333">Raised</text>'
        f'<rect x="{chart.plot_right - 60}" y="2" width="10" height="10" fill="{SPENT_FILL}"/>'
        f'<text x="{chart.plot_right - 46}" y="11" font-size="10" fill="#333333">Spent</text>'
        "</svg>"
    )
    return "".join(parts)


MONEY = Cell.MONEY
CODE = Cell.CODE

REPORTS: tuple[Report, ...] = (
    Report(
        kind="general-ledger",
        title="General ledger",
        description="Every posting of the period by account, with opening and closing balances.",
        columns=(
            Column("Date", Cell.DATE),
            Column("Reference", CODE),
            Column("Kind"),
            Column("Memo"),
            Column("Case", CODE),
            Column("Debit", MONEY),
            Column("Credit", MONEY),
            Column("Balance", MONEY),
        ),
        # One preformatted line a posting, in one cell: the 10,000-posting ledger renders in
        # about half the CPU of three cells (measured, docs/performance.md). 33 characters
        # keep "Attorney fee 49999 · C-2026-0042" on one line; a longer memo wraps under its
        # field, the "·" kept with the memo's last word (a no-break space) so that a wrapped
        # case reference starts its line.
        pdf_line=(
            LineField("Date", (0,), 10, Cell.DATE),
            LineField("Reference", (1,), 11, CODE),
            LineField("Kind", (2,), 20),
            LineField("Memo · case", (3, 4), 33, joiner="\u00a0· "),
            LineField("Debit", (5,), 14, MONEY),
            LineField("Credit", (6,), 14, MONEY),
            LineField("Balance", (7,), 14, MONEY),
        ),
        rows=general_ledger_rows,
        totals=general_ledger_totals,
        count=general_ledger_count,
        notes=(
            "Postings by effective date. Balances are signed as the ledger keeps them: debits "
            "positive, credits negative, so revenue and net assets show negative balances.",
            "An account's opening balance is its balance at the end of the day before the "
            "period; accounts with no postings and no balance are left out.",
        ),
    ),
    Report(
        kind="trial-balance",
        title="Trial balance",
        description="Every account's balance at the end of a day, debits equal to credits.",
        columns=(
            Column("Code"),
            Column("Account"),
            Column("Kind"),
            Column("Debit", MONEY),
            Column("Credit", MONEY),
        ),
        rows=trial_balance_rows,
        totals=trial_balance_totals,
        count=account_count,
        as_of=True,
        notes=("Balances at the end of the day, by effective date.",),
    ),
    Report(
        kind="financial-position",
        title="Statement of financial position",
        description="Assets and net assets, with and without donor restrictions, at a day's end.",
        columns=(Column("Code"), Column("Line"), Column("Amount", MONEY)),
        rows=financial_position_rows,
        totals=financial_position_totals,
        count=financial_position_count,
        as_of=True,
        notes=(
            "At the end of the day, by effective date. The fund has no liabilities: its net "
            "assets equal its assets. Bonds posted are assets (receivable), not spending.",
            "The ledger records donor restrictions per fund, not per gift: a donor-restricted "
            "fund's net assets are all with donor restrictions (every gift is held for the "
            "fund's purpose); any other fund's are all without donor restrictions, and its "
            "with-restrictions line is zero.",
        ),
    ),
    Report(
        kind="activities",
        title="Statement of activities",
        description="Revenue, refunds and disputes, expenses by category, change in net assets.",
        columns=(Column("Code"), Column("Line"), Column("Amount", MONEY)),
        rows=activities_rows,
        totals=activities_totals,
        count=activities_count,
        notes=(
            "By effective date, both days of the period included. Every amount is positive on "
            "its own side; refunds, disputes and expenses are subtracted.",
            "Opening balances and adjustments posted straight to net assets are not activities; "
            "they are shown apart so that the change in net assets equals the statement of "
            "financial position's.",
        ),
    ),
    Report(
        kind="progress",
        title="Fund progress",
        description="Goal, raised, spent, in bonds and available, and money in and out by month.",
        columns=(Column("Month"), Column("Raised", MONEY), Column("Spent", MONEY)),
        rows=progress_rows,
        totals=progress_totals,
        count=progress_count,
        chart=progress_chart,
        notes=(
            "The figures are the books' at the end of the period's last day, not today's. "
            "Raised is gifts less refunds and disputes; spent is program payments and forfeited "
            "bonds; bonds come back when a case ends; available is cash less money set aside "
            "for approved payments.",
            f"The chart shows the period's last {CHART_MONTHS} months at most; the table, all.",
        ),
    ),
)

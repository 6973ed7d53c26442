"""The cases app's reports: the disbursement register, immigration bonds, the 1099 summary.

The engine in `fund.reports` renders them (fund.reports.registry). They name a case by its
reference only: never the detained person, their A-number or contact, nor a bond's obligor. Of
the payees, attorneys (with their firm), courts and ICE are named; a family member is shown as
"Family member (C-2026-0042)", and a payee of the kind "other", who may be a private person, as
"Payee #12" (the treasurer looks the name up on the payee's screen). See docs/reports.md.
"""

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from cases import queries
from cases.models import Bond, Disbursement, Payee
from fund.ledger.models import Account, Fund
from fund.ledger.queries import account_for, balance_on
from fund.reports.registry import Cell, Column, Period, Report, Row, Style, Total

HEADING, SUBTOTAL = Style.HEADING, Style.SUBTOTAL
CATEGORIES = dict(Disbursement.Category.choices)
METHODS = dict(Disbursement.Method.choices)
PAYEE_KINDS = dict(Payee.Kind.choices)
BOND_STATUSES = dict(Bond.Status.choices)

# Disbursement register

DISBURSEMENT_COLUMNS = (
    Column("Case", Cell.CODE),
    Column("Category"),
    Column("Payee"),
    Column("Requested by"),
    Column("Approved by"),
    Column("Date", Cell.DATE),
    Column("Status"),
    Column("Method"),
    Column("Reference"),
    Column("Ledger entry", Cell.CODE),
    Column("Amount", Cell.MONEY),
)
_BLANK_DISBURSEMENT = (None,) * (len(DISBURSEMENT_COLUMNS) - 1)


def _payee(row: dict[str, Any], labels: dict[int, str]) -> str:
    if row["payee__kind"] == Payee.Kind.FAMILY:
        return f"Family member ({row['case__ref']})"
    return labels.get(row["payee_id"]) or f"Payee #{row['payee_id']}"


def _entry(year: int | None, number: int | None) -> str | None:
    return None if year is None or number is None else f"{year}-{number:06d}"


def _disbursement_line(
    row: dict[str, Any], labels: dict[int, str], *, day: date | None, status: str, entry: str | None
) -> tuple[object, ...]:
    return (
        row["case__ref"],
        CATEGORIES.get(row["category"], row["category"]),
        _payee(row, labels),
        row["requested_by__username"],
        row["approvers"] or "",
        day,
        status,
        METHODS.get(row["method"], ""),
        row["reference"],
        entry,
    )


def _heading(text: str, blank: tuple[None, ...]) -> Row:
    return Row((text, *blank), HEADING)


def _subtotal(text: str, cents: int, width: int) -> Row:
    return Row((text, *(None,) * (width - 2), cents), SUBTOTAL)


def disbursement_rows(fund: Fund, period: Period) -> Iterator[Row]:
    """Yield the payments of the period, the voids of the period, then what was approved and
    not yet paid at its end, each section closed by its subtotal."""
    labels = queries.payee_labels(fund)
    width = len(DISBURSEMENT_COLUMNS)
    yield _heading("Paid in the period", _BLANK_DISBURSEMENT)
    paid = 0
    for row in queries.paid_disbursements(fund, period.start, period.end).iterator():
        voided = row["void_transaction__effective_date"]
        status = "Paid" if voided is None else f"Paid, voided {voided.isoformat()}"
        entry = _entry(row["transaction__year"], row["transaction__number"])
        line = _disbursement_line(row, labels, day=row["paid_on"], status=status, entry=entry)
        paid += row["amount_cents"]
        yield Row((*line, row["amount_cents"]))
    yield _subtotal("Paid", paid, width)

    yield _heading("Voided in the period (reversed in the ledger)", _BLANK_DISBURSEMENT)
    voided_total = 0
    for row in queries.voided_disbursements(fund, period.start, period.end).iterator():
        paid_entry = _entry(row["transaction__year"], row["transaction__number"])
        entry = _entry(row["void_transaction__year"], row["void_transaction__number"])
        day = row["void_transaction__effective_date"]
        status = f"Void of {paid_entry}"
        line = _disbursement_line(row, labels, day=day, status=status, entry=entry)
        voided_total -= row["amount_cents"]
        yield Row((*line, -row["amount_cents"]))
    yield _subtotal("Voided", voided_total, width)

    yield _heading(
        f"Approved, not paid by {period.end.isoformat()} (committed)", _BLANK_DISBURSEMENT
    )
    committed = 0
    for row in queries.committed_disbursements(fund, period.end).iterator():
        approved = row["approved_at"]
        approved_on = timezone.localdate(approved) if approved is not None else None
        line = _disbursement_line(row, labels, day=approved_on, status="Approved", entry=None)
        committed += row["amount_cents"]
        yield Row((*line, row["amount_cents"]))
    yield _subtotal("Committed", committed, width)


def disbursement_totals(fund: Fund, period: Period) -> tuple[Total, ...]:
    """Return what was paid, voided and committed, and the ledger's own program payments."""
    paid = _sum(queries.paid_disbursements(fund, period.start, period.end))
    voided = _sum(queries.voided_disbursements(fund, period.start, period.end))
    committed = _sum(queries.committed_disbursements(fund, period.end))
    return (
        Total("Paid in the period", paid),
        Total("Voided in the period", -voided),
        Total("Net paid", paid - voided),
        Total(
            "Program payments in the ledger (disbursement entries)",
            queries.program_payments_booked(fund, period.start, period.end),
        ),
        Total(f"Approved, not paid by {period.end.isoformat()}", committed),
    )


def disbursement_count(fund: Fund, period: Period) -> int:
    """Return how many rows disbursement_rows yields: three sections of heading and subtotal."""
    return (
        6
        + queries.paid_disbursements(fund, period.start, period.end).count()
        + queries.voided_disbursements(fund, period.start, period.end).count()
        + queries.committed_disbursements(fund, period.end).count()
    )


def _sum(rows: QuerySet[Disbursement, Any]) -> int:
    return int(rows.aggregate(cents=Sum("amount_cents"))["cents"] or 0)


DISBURSEMENTS = Report(
    kind="disbursements",
    title="Disbursement register",
    description="Every payment for a case in the period, its approvals, voids and commitments.",
    columns=DISBURSEMENT_COLUMNS,
    rows=disbursement_rows,
    totals=disbursement_totals,
    count=disbursement_count,
    notes=(
        "Payments are listed on the day the ledger books them (the day paid); a payment voided "
        "later stays listed, and its reversal is listed in the period of the void.",
        "The last section lists what was approved by the period's end and not paid by then: "
        "money set aside (committed), not yet spent.",
        "Payees: attorneys (with their firm), courts and ICE by name; a family member as "
        '"Family member" with the case reference; any other payee as "Payee #" and its number. '
        "Cases by reference only.",
    ),
)

# Immigration bonds

BOND_COLUMNS = (
    Column("Case", Cell.CODE),
    Column("Status"),
    Column("Posted on", Cell.DATE),
    Column("Closed on", Cell.DATE),
    Column("Days out", Cell.NUMBER),
    Column("Principal", Cell.MONEY),
    Column("Interest", Cell.MONEY),
)
_BLANK_BOND = (None,) * (len(BOND_COLUMNS) - 1)


def bond_rows(fund: Fund, period: Period) -> Iterator[Row]:
    """Yield the bonds out at the period's end by aging bucket, then those refunded and those
    forfeited in the period."""
    end = period.end
    out = queries.outstanding_bonds(fund, end)
    status_then = queries.bond_status_on([bond.bond_id for bond in out], end)
    yield _heading(f"Outstanding on {end.isoformat()}", _BLANK_BOND)
    for label, _ in queries.BOND_AGING_BUCKETS:
        yield _heading(f"Out {label} days", _BLANK_BOND)
        bucket = [bond for bond in out if bond.bucket == label]
        for bond in bucket:
            status = BOND_STATUSES[status_then[bond.bond_id]]
            yield Row(
                (
                    bond.case_ref,
                    status,
                    bond.posted_on,
                    None,
                    bond.days_out,
                    bond.amount_cents,
                    None,
                )
            )
        count = f"{len(bucket)} bond{'' if len(bucket) == 1 else 's'}"
        cents = sum(bond.amount_cents for bond in bucket)
        yield Row((f"{label} days: {count}", None, None, None, None, cents, None), SUBTOTAL)
    total = sum(bond.amount_cents for bond in out)
    yield Row(("Outstanding", None, None, None, None, total, None), SUBTOTAL)

    for status, title in (
        (Bond.Status.REFUNDED, "Refunded in the period"),
        (Bond.Status.FORFEITED, "Forfeited in the period"),
    ):
        yield _heading(title, _BLANK_BOND)
        closed = queries.closed_bonds(fund, period.start, end, status)
        yield from _closed_bond_rows(closed, interest=status == Bond.Status.REFUNDED)
        principal = sum(done.amount_cents for done in closed)
        interest_total = (
            sum(done.interest_cents for done in closed) if status == Bond.Status.REFUNDED else None
        )
        label = "Refunded" if status == Bond.Status.REFUNDED else "Forfeited"
        yield Row((label, None, None, None, None, principal, interest_total), SUBTOTAL)

    # Only when there are some: a bond recorded by mistake, whose posting was reversed.
    voided = queries.closed_bonds(fund, period.start, end, Bond.Status.VOIDED)
    if voided:
        yield _heading("Voided in the period (recorded by mistake, posting reversed)", _BLANK_BOND)
        yield from _closed_bond_rows(voided, interest=False)
        cents = sum(done.amount_cents for done in voided)
        yield Row(("Voided", None, None, None, None, cents, None), SUBTOTAL)


def _closed_bond_rows(closed: Sequence[queries.ClosedBond], *, interest: bool) -> Iterator[Row]:
    # A bond closed in the period: how long it was out, and ICE's interest where it was refunded.
    for done in closed:
        yield Row(
            (
                done.case_ref,
                BOND_STATUSES[done.status],
                done.posted_on,
                done.closed_on,
                (done.closed_on - done.posted_on).days,
                done.amount_cents,
                done.interest_cents if interest else None,
            )
        )


def bond_totals(fund: Fund, period: Period) -> tuple[Total, ...]:
    """Return the bonds out at the end (and the ledger's receivable then), refunds and losses."""
    end = period.end
    refunded = queries.closed_bonds(fund, period.start, end, Bond.Status.REFUNDED)
    forfeited = queries.closed_bonds(fund, period.start, end, Bond.Status.FORFEITED)
    receivable = balance_on(account_for(fund, Account.Role.BOND_DEPOSITS), end)
    return (
        Total(
            f"Outstanding on {end.isoformat()}",
            sum(bond.amount_cents for bond in queries.outstanding_bonds(fund, end)),
        ),
        Total(f"Bond deposits receivable in the ledger on {end.isoformat()}", receivable),
        Total("Refunded in the period: principal", sum(b.amount_cents for b in refunded)),
        Total("Refunded in the period: interest", sum(b.interest_cents for b in refunded)),
        Total("Forfeited in the period", sum(b.amount_cents for b in forfeited)),
    )


def bond_count(fund: Fund, period: Period) -> int:
    """Return how many rows bond_rows yields (a fund has few bonds: they are simply counted)."""
    return sum(1 for _ in bond_rows(fund, period))


BONDS = Report(
    kind="bonds",
    title="Immigration bonds",
    description="Bonds out at the period's end by age, and bonds refunded or forfeited in it.",
    columns=BOND_COLUMNS,
    rows=bond_rows,
    totals=bond_totals,
    count=bond_count,
    notes=(
        "Outstanding: posted by the period's end and not refunded or forfeited by then, with "
        "its status on that day and the days since it was posted.",
        "The outstanding total equals the ledger's Bond deposits receivable on the period's end.",
        "Cases by reference only: a bond's obligor and ICE's receipt number are never printed.",
    ),
)

# 1099 summary

# Payments of $600 or more in a calendar year to a payee in business are reported on a 1099.
FORM_1099_THRESHOLD_CENTS = 60_000
# Attorneys (legal fees are reported whatever the firm's form) and other payees, who may be in
# business. Courts and ICE are government; family support pays for no service.
FORM_1099_KINDS = frozenset({Payee.Kind.ATTORNEY, Payee.Kind.OTHER})

FORM_1099_COLUMNS = (
    Column("Payee"),
    Column("Kind"),
    Column("Firm"),
    Column("Bar number"),
    Column("W-9 on file"),
    Column("Payments", Cell.NUMBER),
    Column("Paid", Cell.MONEY),
)


def calendar_year(period: Period) -> Period:
    """Return the calendar year of the period's end, the year a 1099 covers."""
    year = period.end.year
    return Period(date(year, 1, 1), date(year, 12, 31))


def reportable_payees(fund: Fund, period: Period) -> list[queries.PayeePayments]:
    """Return the payees a 1099 is due for: of the kinds above, paid the threshold or more."""
    year = calendar_year(period)
    return [
        payee
        for payee in queries.payments_by_payee(fund, year.start, year.end)
        if payee.kind in FORM_1099_KINDS and payee.paid_cents >= FORM_1099_THRESHOLD_CENTS
    ]


def form_1099_rows(fund: Fund, period: Period) -> Iterator[Row]:
    """Yield the calendar year, then each payee a 1099 is due for, largest first."""
    year = calendar_year(period)
    labels = queries.payee_labels(fund)
    yield Row(
        (f"Calendar year {year.end.year} ({year.start.isoformat()} to {year.end.isoformat()})",)
        + (None,) * (len(FORM_1099_COLUMNS) - 1),
        HEADING,
    )
    payees = reportable_payees(fund, period)
    for payee in payees:
        yield Row(
            (
                labels.get(payee.payee_id) or f"Payee #{payee.payee_id}",
                PAYEE_KINDS.get(payee.kind, payee.kind),
                payee.firm,
                payee.bar_number,
                "Yes" if payee.w9_received else "No",
                payee.payments,
                payee.paid_cents,
            )
        )
    total = sum(payee.paid_cents for payee in payees)
    yield Row(("Total", None, None, None, None, len(payees), total), SUBTOTAL)


def form_1099_totals(fund: Fund, period: Period) -> tuple[Total, ...]:
    """Return what the payees listed were paid, and how much of it went to payees with no W-9."""
    payees = reportable_payees(fund, period)
    return (
        Total("Paid to the payees listed", sum(p.paid_cents for p in payees)),
        Total(
            "Of which to payees without a W-9 on file",
            sum(p.paid_cents for p in payees if not p.w9_received),
        ),
    )


def form_1099_count(fund: Fund, period: Period) -> int:
    """Return how many rows form_1099_rows yields: the year, the payees and the total."""
    return 2 + len(reportable_payees(fund, period))


FORM_1099 = Report(
    kind="1099",
    title="1099 summary",
    description="Payees paid $600 or more in a calendar year, with whether their W-9 is on file.",
    columns=FORM_1099_COLUMNS,
    rows=form_1099_rows,
    totals=form_1099_totals,
    count=form_1099_count,
    notes=(
        "It covers the calendar year of the period's end (1 January to 31 December), whatever "
        "the period's start.",
        "Listed: attorneys and other payees paid $600.00 or more in the year, net of payments "
        "voided in it. Courts and ICE (government) and family members (support, not a service) "
        "are not reported on a 1099.",
        'A payee of the kind "other" is shown by number: the treasurer finds the name and '
        "address for the form on the payee's screen.",
    ),
)

REPORTS: tuple[Report, ...] = (DISBURSEMENTS, BONDS, FORM_1099)

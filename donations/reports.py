"""The donations app's reports: the gifts register with pledges, and the Stripe reconciliation.

The engine in `fund.reports` renders them (fund.reports.registry). Reports go to auditors, and a
report is the same whoever generates it, so a person who gave is always "Donor #12": an
anonymous gift says "Anonymous", and an organisation (a union local, a church) is named, as its
name is not personal data. The treasurer finds a person donor by number on the donors' screen.
See docs/reports.md.
"""

from collections.abc import Iterator
from datetime import date, timedelta

from django.db.models import Sum

from donations import queries
from donations.models import Gift, Payout
from fund.ledger.models import Account, Fund, Transaction
from fund.ledger.queries import account_for, balance_on
from fund.reports.registry import Cell, Column, Period, Report, Row, Style, Total

HEADING, SUBTOTAL = Style.HEADING, Style.SUBTOTAL
METHODS = dict(Gift.Method.choices)
STATUSES = dict(Gift.Status.choices)
Kind = Transaction.Kind
Role = Account.Role

# Gifts register and pledges

GIFT_COLUMNS = (
    Column("Gift"),
    Column("Date", Cell.DATE),
    Column("Donor"),
    Column("Method"),
    Column("Status"),
    Column("Gross", Cell.MONEY),
    Column("Fee", Cell.MONEY),
    Column("Refunded", Cell.MONEY),
    Column("Disputed", Cell.MONEY),
    Column("Net (pledges: received)", Cell.MONEY),
)
_BLANK_GIFT = (None,) * (len(GIFT_COLUMNS) - 1)


def gift_rows(fund: Fund, period: Period) -> Iterator[Row]:
    """Yield the gifts booked in the period, then the pledges and what was received toward
    them by its end."""
    yield Row(("Gifts booked in the period", *_BLANK_GIFT), HEADING)
    totals = [0, 0, 0, 0, 0]
    for gift in queries.booked_gifts(fund, period.start, period.end).iterator():
        amounts = (
            gift["amount_cents"],
            gift["fee_cents"],
            gift["refunded_cents"],
            gift["disputed_cents"],
        )
        net = amounts[0] - sum(amounts[1:])
        totals = [a + b for a, b in zip(totals, (*amounts, net), strict=True)]
        yield Row(
            (
                f"Gift #{gift['pk']}",
                gift["transaction__effective_date"],
                _donor(gift),
                METHODS.get(gift["method"], gift["method"]),
                STATUSES.get(gift["status"], gift["status"]),
                *amounts,
                net,
            )
        )
    yield Row(("Gifts", None, None, None, None, *totals), SUBTOTAL)

    yield Row((f"Pledges, and received by {period.end.isoformat()}", *_BLANK_GIFT), HEADING)
    pledged = received = 0
    for pledge in queries.pledges_at(fund, period.start, period.end).iterator():
        pledged += pledge["amount_cents"]
        received += pledge["received_cents"]
        yield Row(
            (
                f"Pledge #{pledge['pk']}",
                pledge["due_on"],
                pledge["donor__organisation"],
                None,
                _standing(pledge, period.end),
                pledge["amount_cents"],
                None,
                None,
                None,
                pledge["received_cents"],
            )
        )
    yield Row(("Pledges", None, None, None, None, pledged, None, None, None, received), SUBTOTAL)


def _donor(gift: dict[str, object]) -> str:
    return queries.report_donor(
        anonymous=bool(gift["anonymous"]),
        donor_id=int(str(gift["donor_id"])),
        kind=str(gift["donor__kind"]),
        organisation=str(gift["donor__organisation"] or ""),
    )


def _standing(pledge: dict[str, object], end: date) -> str:
    pledged, received = int(str(pledge["amount_cents"])), int(str(pledge["received_cents"]))
    due = pledge["due_on"]
    if received >= pledged:
        return "Received in full"
    if isinstance(due, date) and due < end:
        return "Overdue"
    return "Open"


def gift_totals(fund: Fund, period: Period) -> tuple[Total, ...]:
    """Return the gifts' gross (and the ledger's contributions, which it equals), what came off
    them, and the pledges' standing at the period's end."""
    sums = queries.booked_gifts(fund, period.start, period.end).aggregate(
        gross=Sum("amount_cents"),
        fees=Sum("fee_cents"),
        refunded=Sum("refunded_cents"),
        disputed=Sum("disputed_cents"),
    )
    gross, fees, refunded, disputed = (
        int(sums[name] or 0) for name in ("gross", "fees", "refunded", "disputed")
    )
    pledges = list(queries.pledges_at(fund, period.start, period.end))
    pledged = sum(p["amount_cents"] for p in pledges)
    received = sum(p["received_cents"] for p in pledges)
    to_come = sum(max(p["amount_cents"] - p["received_cents"], 0) for p in pledges)
    return (
        Total("Gifts booked in the period (gross)", gross),
        Total(
            "Contributions in the ledger for the period",
            queries.contributions_booked(fund, period.start, period.end),
        ),
        Total("Fees on these gifts", fees),
        Total("Refunded of these gifts", refunded),
        Total("Disputed of these gifts (not reinstated)", disputed),
        Total("Net of these gifts", gross - fees - refunded - disputed),
        Total("Pledged", pledged),
        Total(f"Received toward pledges by {period.end.isoformat()}", received),
        Total(f"Still to come on pledges after {period.end.isoformat()}", to_come),
    )


def gift_count(fund: Fund, period: Period) -> int:
    """Return how many rows gift_rows yields: two sections of heading and subtotal."""
    return (
        4
        + queries.booked_gifts(fund, period.start, period.end).count()
        + queries.pledges_at(fund, period.start, period.end).count()
    )


GIFTS = Report(
    kind="gifts",
    title="Gifts register",
    description="Every gift booked in the period, online and offline, then pledges vs received.",
    columns=GIFT_COLUMNS,
    rows=gift_rows,
    totals=gift_totals,
    count=gift_count,
    notes=(
        "Gifts are listed on the day the ledger booked them (the day received, or the next "
        "open day); their gross equals the ledger's contributions for the period. Fee, "
        "refunded and disputed are each gift's to date, whenever they were booked.",
        'Donors: an anonymous gift is "Anonymous", an organisation is named, and a person is '
        '"Donor #" and a number, in every report, whoever generates it.',
        "Pledges: recorded by the period's end and due in or after it, or still short then. "
        "Gross is the amount pledged, the last column what gifts booked by the end gave toward "
        "it; a pledge short after its due day is overdue.",
    ),
)

# Stripe reconciliation

RECONCILIATION_COLUMNS = (
    Column("Item"),
    Column("Date", Cell.DATE),
    Column("Stripe id"),
    Column("Status"),
    Column("Amount", Cell.MONEY),
)
_BLANK_RECONCILIATION = (None,) * (len(RECONCILIATION_COLUMNS) - 1)

# The steps from gross to payouts, in order: (label, entry kinds, the other leg's role). What
# moved Stripe clearing and matches none of them (a journal entry) is "Other entries".
FLOWS: tuple[tuple[str, frozenset[str], str], ...] = (
    ("Online gifts (gross)", frozenset({Kind.GIFT_ONLINE}), Role.CONTRIBUTIONS),
    ("Stripe fees", frozenset({Kind.STRIPE_FEE}), Role.PROCESSING_FEES),
    ("Refunds", frozenset({Kind.REFUND}), Role.REFUNDS),
    ("Disputes: funds withdrawn", frozenset({Kind.DISPUTE}), Role.DISPUTES),
    ("Disputes: funds reinstated", frozenset({Kind.DISPUTE_WON}), Role.DISPUTES),
    ("Dispute fees", frozenset({Kind.DISPUTE, Kind.DISPUTE_WON}), Role.PROCESSING_FEES),
    ("Payouts to the bank", frozenset({Kind.PAYOUT}), Role.BANK),
    ("Payouts returned by the bank", frozenset({Kind.REVERSAL}), Role.BANK),
)
OTHER_ENTRIES = "Other entries (journal, reversals)"
RECONCILED: dict[str, str] = {
    Payout.Reconciliation.PENDING: "Paid; not checked yet",
    Payout.Reconciliation.MATCHED: "Paid; matches the ledger",
    Payout.Reconciliation.MISMATCHED: "Paid; differs from the ledger",
}


def clearing_walk(fund: Fund, period: Period) -> list[tuple[str, int]]:
    """Return each step of Stripe clearing in the period, in FLOWS order, then other entries."""
    steps = dict.fromkeys([label for label, _, _ in FLOWS] + [OTHER_ENTRIES], 0)
    for kind, role, cents in queries.stripe_clearing_flows(fund, period.start, period.end):
        label = next(
            (label for label, kinds, other in FLOWS if kind in kinds and role == other),
            OTHER_ENTRIES,
        )
        steps[label] += cents
    return list(steps.items())


def _clearing_on(fund: Fund, day: date) -> int:
    return balance_on(account_for(fund, Role.STRIPE_CLEARING), day)


def reconciliation_rows(fund: Fund, period: Period) -> Iterator[Row]:
    """Yield the walk of Stripe clearing from its opening to its closing balance, then each
    payout of the period with its reconciliation and every difference found."""
    before = period.start - timedelta(days=1)
    opening = _clearing_on(fund, before)
    yield Row(("Stripe clearing, from gross to payouts", *_BLANK_RECONCILIATION), HEADING)
    yield Row((f"Balance at Stripe on {before.isoformat()}", before, None, None, opening))
    walked = opening
    for label, cents in clearing_walk(fund, period):
        walked += cents
        yield Row((label, None, None, None, cents))
    yield Row(
        (f"Balance at Stripe on {period.end.isoformat()}", period.end, None, None, walked), SUBTOTAL
    )

    yield Row(("Payouts arriving in the period", *_BLANK_RECONCILIATION), HEADING)
    paid = differing = unchecked = 0
    for payout in queries.payouts_arriving(fund, period.start, period.end).iterator():
        failed = payout.status == Payout.Status.FAILED
        status = "Failed: returned by the bank" if failed else RECONCILED[payout.reconciliation]
        paid += 0 if failed else payout.amount_cents
        differing += payout.reconciliation == Payout.Reconciliation.MISMATCHED
        unchecked += payout.reconciliation == Payout.Reconciliation.PENDING and not failed
        yield Row(
            (
                f"Payout #{payout.pk}",
                payout.arrival_date,
                payout.stripe_payout,
                status,
                payout.amount_cents,
            )
        )
        for difference in payout.differences or []:
            yield Row((f"Difference: {difference}", None, payout.stripe_payout, None, None))
    yield Row(
        (
            f"Paid out to the bank; {differing} differ from the ledger, {unchecked} not checked",
            None,
            None,
            None,
            paid,
        ),
        SUBTOTAL,
    )


def reconciliation_totals(fund: Fund, period: Period) -> tuple[Total, ...]:
    """Return the opening balance at Stripe, each step, the ledger's closing balance, and what
    Stripe reported paying out."""
    before = period.start - timedelta(days=1)
    payouts = queries.payouts_arriving(fund, period.start, period.end)
    reported = sum(p.amount_cents for p in payouts if p.status == Payout.Status.PAID)
    return (
        Total(f"Balance at Stripe on {before.isoformat()}", _clearing_on(fund, before)),
        *(Total(label, cents) for label, cents in clearing_walk(fund, period)),
        Total(f"Balance at Stripe on {period.end.isoformat()}", _clearing_on(fund, period.end)),
        Total("Payouts Stripe reported paid in the period", reported),
    )


def reconciliation_count(fund: Fund, period: Period) -> int:
    """Return how many rows reconciliation_rows yields."""
    payouts = list(queries.payouts_arriving(fund, period.start, period.end))
    steps = len(FLOWS) + 1
    return 3 + steps + 2 + len(payouts) + sum(len(p.differences or []) for p in payouts)


STRIPE_RECONCILIATION = Report(
    kind="stripe-reconciliation",
    title="Stripe reconciliation",
    description="Gross to fees, refunds, disputes and payouts to the bank, with every mismatch.",
    columns=RECONCILIATION_COLUMNS,
    rows=reconciliation_rows,
    totals=reconciliation_totals,
    count=reconciliation_count,
    notes=(
        "The walk reads the ledger's Stripe clearing account: every entry that moved it in the "
        "period, by what it moved against; money into Stripe is positive, out is negative.",
        "Each payout is checked against Stripe's own line items when it arrives; every "
        "difference found is listed under it, by Stripe id and amount.",
    ),
)

REPORTS: tuple[Report, ...] = (GIFTS, STRIPE_RECONCILIATION)

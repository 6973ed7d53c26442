"""The cases app's reports (disbursement register, bonds, 1099 summary): what a treasurer hands
an auditor, row for row, with totals that equal the ledger's own postings."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from django.db.models import Sum
from django.utils import timezone

from cases.models import Approval, Case, Disbursement, Payee
from cases.queries import BOND_AGING_BUCKETS, bond_aging_bucket
from cases.reports import BONDS, DISBURSEMENTS, FORM_1099, REPORTS
from cases.services.bonds import (
    cancel_bond,
    forfeit_bond,
    post_bond,
    record_bond_breach,
    record_bond_refund,
)
from cases.services.cases import open_case
from cases.services.disbursements import (
    approve_disbursement,
    pay_disbursement,
    reject_disbursement,
    request_disbursement,
    void_disbursement,
)
from cases.services.payees import create_payee
from fund.models import Account, Posting, Transaction
from fund.reports.registry import Period, Row, Style, catalogue
from tests.fund.conftest import give_check

pytestmark = pytest.mark.django_db

Role = Account.Role
Kind = Transaction.Kind
HEADING, SUBTOTAL, LINE = Style.HEADING, Style.SUBTOTAL, Style.LINE
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


def through_today() -> Period:
    """The year 2026, or up to today if later: voids are dated the day they are made."""
    return Period(YEAR.start, max(YEAR.end, timezone.localdate()))


@dataclass
class CaseBooks:
    """The cases scenario: who is who, and what was paid and posted."""

    cases: list[Case]
    attorney: Payee
    junior: Payee
    family: Payee
    court: Payee
    other: Payee
    paid: dict[str, Disbursement]


def make_case(actor, legal_name: str, **details) -> Case:
    return open_case(actor=actor, legal_name=legal_name, **details).case


def ask(actor, case, fund, payee, cents, key, category="attorney_fee") -> Disbursement:
    return request_disbursement(
        actor=actor,
        case=case,
        fund=fund,
        category=category,
        payee=payee,
        amount_cents=cents,
        memo=f"Request {key}",
        idempotency_key=key,
    )


def paid(fund, requester, approvers, case, payee, cents, key, on, *, category="attorney_fee"):
    """A disbursement requested, approved by each approver, and paid by check `key`."""
    disbursement = ask(requester, case, fund, payee, cents, key, category)
    for approver in approvers:
        disbursement = approve_disbursement(actor=approver, disbursement=disbursement)
    return pay_disbursement(
        actor=approvers[0], disbursement=disbursement, method="check", reference=key, paid_on=on
    )


def seed_cases(
    fund,
    *,
    coordinator,
    treasurer,
    other_treasurer,
    person=None,
    family_name="Rosa Familiar",
    obligor="Olga Obligada",
    reason="Sent twice",
) -> CaseBooks:
    """Cases, payees, disbursements (paid, voided, approved, of last year) and five bonds.

    `person` (open_case's details), the family payee's name, the obligor's and the reason of a
    void are the private text the privacy test plants.
    """
    give_check(fund, 10_000_000, key="gift:reports-cases", on=date(2025, 9, 1))
    first = make_case(coordinator, **({"legal_name": "Worker One"} | (person or {})))
    cases = [first] + [make_case(coordinator, f"Worker {n}") for n in range(2, 7)]
    attorney = create_payee(
        actor=treasurer,
        kind=Payee.Kind.ATTORNEY,
        name="Ana Abogada",
        firm="Valley Immigration Law",
        bar_number="CA-123456",
        w9_received=True,
    )
    junior = create_payee(actor=treasurer, kind=Payee.Kind.ATTORNEY, name="Beto Licenciado")
    family = create_payee(
        actor=coordinator,
        kind=Payee.Kind.FAMILY,
        name=family_name,
        contact="555-0100",
    )
    court = create_payee(actor=coordinator, kind=Payee.Kind.COURT, name="Valley Immigration Court")
    other = create_payee(actor=coordinator, kind=Payee.Kind.OTHER, name="Pat Interpreter")
    books = CaseBooks(cases, attorney, junior, family, court, other, {})
    one, two = [treasurer], [treasurer, other_treasurer]
    books.paid["court"] = paid(
        fund, coordinator, one, first, court, 25_000, "900", date(2025, 12, 15),
        category="filing_fee",
    )  # fmt: skip
    books.paid["retainer"] = paid(
        fund, coordinator, one, first, attorney, 150_000, "1042", date(2026, 3, 2)
    )
    books.paid["hearing"] = paid(
        fund, coordinator, two, cases[1], attorney, 600_000, "1043", date(2026, 4, 1)
    )
    books.paid["support"] = paid(
        fund, coordinator, one, first, family, 30_000, "1044", date(2026, 5, 1),
        category="family_support",
    )  # fmt: skip
    books.paid["interpreter"] = paid(
        fund, coordinator, one, cases[2], other, 70_000, "1045", date(2026, 6, 1), category="other"
    )
    books.paid["junior"] = paid(
        fund, coordinator, one, cases[2], junior, 50_000, "1046", date(2026, 6, 2)
    )
    books.paid["support"] = void_disbursement(
        actor=treasurer, disbursement=books.paid["support"], reason=reason
    )
    approved = ask(coordinator, cases[3], fund, junior, 40_000, "approved-only")
    books.paid["approved"] = approve_disbursement(actor=treasurer, disbursement=approved)
    ask(coordinator, cases[3], fund, junior, 10_000, "requested-only")

    def bond(case, cents, on, key):
        return post_bond(
            actor=treasurer,
            case=case,
            fund=fund,
            amount_cents=cents,
            obligor_name=obligor,
            obligor_contact="555-0199",
            obligor_attested=True,
            receipt_number="EAZ-0001",
            posted_on=on,
            idempotency_key=key,
        )

    refunded = bond(cases[1], 500_000, date(2026, 2, 1), "bond-refunded")
    cancel_bond(actor=treasurer, bond=refunded, cancelled_on=date(2026, 6, 1))
    record_bond_refund(
        actor=treasurer,
        bond=refunded,
        principal_cents=500_000,
        interest_cents=1_234,
        received_on=date(2026, 7, 1),
    )
    forfeited = bond(cases[2], 750_000, date(2026, 3, 1), "bond-forfeited")
    record_bond_breach(actor=treasurer, bond=forfeited, breached_on=date(2026, 8, 1))
    forfeit_bond(actor=treasurer, bond=forfeited, forfeited_on=date(2026, 9, 1))
    bond(first, 300_000, date(2025, 10, 1), "bond-old")
    bond(cases[4], 100_000, date(2026, 6, 1), "bond-mid")
    bond(cases[5], 200_000, date(2026, 11, 15), "bond-young")
    return books


@pytest.fixture
def books(fund, coordinator, treasurer, other_treasurer) -> CaseBooks:
    return seed_cases(
        fund, coordinator=coordinator, treasurer=treasurer, other_treasurer=other_treasurer
    )


def postings(fund, period, *, role=None, kind=None, sign=0) -> int:
    """Sum the ledger's postings in the period straight from the Posting rows."""
    found = Posting.objects.filter(
        transaction__fund=fund, effective_date__range=(period.start, period.end)
    )
    if role:
        found = found.filter(account__role=role)
    if kind:
        found = found.filter(transaction__kind=kind)
    if sign > 0:
        found = found.filter(amount_cents__gt=0)
    return found.aggregate(cents=Sum("amount_cents"))["cents"] or 0


def receivable_on(fund, day) -> int:
    found = Posting.objects.filter(
        account__fund=fund, account__role=Role.BOND_DEPOSITS, effective_date__lte=day
    )
    return found.aggregate(cents=Sum("amount_cents"))["cents"] or 0


def totals(report, fund, period) -> dict[str, int]:
    return {total.label: total.cents for total in report.totals(fund, period)}


def rows(report, fund, period) -> list[Row]:
    found = list(report.rows(fund, period))
    assert report.count(fund, period) == len(found)
    assert all(len(row.values) == len(report.columns) for row in found)
    return found


def lines(found: list[Row]) -> list[tuple[object, ...]]:
    return [row.values for row in found if row.style == LINE]


def entry(txn: Transaction | None) -> str | None:
    return None if txn is None else txn.reference


# The catalogue


def test_the_cases_reports_are_in_the_catalogue_under_the_kinds_the_command_line_takes():
    assert [report.kind for report in REPORTS] == ["disbursements", "bonds", "1099"]
    assert {kind: catalogue()[kind] for kind in ("disbursements", "bonds", "1099")} == {
        report.kind: report for report in REPORTS
    }


# Disbursement register


def test_the_disbursement_register_lists_payments_voids_and_commitments_of_the_period(fund, books):
    period = through_today()
    found = rows(DISBURSEMENTS, fund, period)
    p = books.paid
    one, two, three, four = (case.ref for case in books.cases[:4])
    support = Disbursement.objects.select_related("transaction", "void_transaction").get(
        pk=p["support"].pk
    )
    voided_on = support.void_transaction.effective_date
    family = f"Family member ({one})"
    firm = "Ana Abogada (Valley Immigration Law)"

    assert [row.values[0] for row in found if row.style != LINE] == [
        "Paid in the period",
        "Paid",
        "Voided in the period (reversed in the ledger)",
        "Voided",
        f"Approved, not paid by {period.end.isoformat()} (committed)",
        "Committed",
    ]
    assert lines(found) == [
        (one, "Attorney fee", firm, "cora", "tess", date(2026, 3, 2), "Paid", "Check", "1042",
         entry(p["retainer"].transaction), 150_000),
        (two, "Attorney fee", firm, "cora", "tess, omar", date(2026, 4, 1), "Paid", "Check",
         "1043", entry(p["hearing"].transaction), 600_000),
        (one, "Family support", family, "cora", "tess", date(2026, 5, 1),
         f"Paid, voided {voided_on.isoformat()}", "Check", "1044",
         entry(support.transaction), 30_000),
        (three, "Other", f"Payee #{books.other.pk}", "cora", "tess", date(2026, 6, 1), "Paid",
         "Check", "1045", entry(p["interpreter"].transaction), 70_000),
        (three, "Attorney fee", "Beto Licenciado", "cora", "tess", date(2026, 6, 2), "Paid",
         "Check", "1046", entry(p["junior"].transaction), 50_000),
        (one, "Family support", family, "cora", "tess", voided_on,
         f"Void of {entry(support.transaction)}", "Check", "1044",
         entry(support.void_transaction), -30_000),
        (four, "Attorney fee", "Beto Licenciado", "cora", "tess", timezone.localdate(),
         "Approved", "", "", None, 40_000),
    ]  # fmt: skip
    subtotals = [row.values[-1] for row in found if row.style == SUBTOTAL]
    assert subtotals == [900_000, -30_000, 40_000]


def test_the_disbursement_totals_equal_the_ledgers_program_payments(fund, books):
    period = through_today()
    paid = postings(fund, period, kind=Kind.DISBURSEMENT, sign=1)
    voided = postings(fund, period, kind=Kind.REVERSAL, role=Role.FAMILY_SUPPORT)

    assert paid == 900_000  # 1,500 + 6,000 + 300 + 700 + 500: last year's court fee is not in it
    assert totals(DISBURSEMENTS, fund, period) == {
        "Paid in the period": paid,
        "Voided in the period": voided,
        "Net paid": paid + voided,
        "Program payments in the ledger (disbursement entries)": paid,
        f"Approved, not paid by {period.end.isoformat()}": 40_000,
    }
    assert paid + voided == sum(
        postings(fund, period, role=role)
        for role in (Role.ATTORNEY_FEES, Role.FAMILY_SUPPORT, Role.OTHER_PROGRAM)
    )


def test_money_set_aside_at_a_periods_end_stays_listed_though_rejected_since(
    fund, coordinator, treasurer, other_treasurer, books
):
    case, payee = books.cases[4], books.attorney
    approved = approve_disbursement(
        actor=treasurer, disbursement=ask(coordinator, case, fund, payee, 12_300, "late-no")
    )
    reject_disbursement(actor=other_treasurer, disbursement=approved, reason="Paid by the union")
    half = ask(coordinator, case, fund, payee, 1_500_000, "half-approved")  # needs two approvals
    approve_disbursement(actor=treasurer, disbursement=half)
    reject_disbursement(actor=other_treasurer, disbursement=half, reason="Too much")
    # Approved in June and rejected today: committed at the end of June, not today.
    Approval.objects.filter(disbursement__in=[approved, half]).update(
        at=datetime(2026, 6, 10, 17, tzinfo=UTC)
    )
    june = Period(date(2026, 1, 1), date(2026, 6, 30))
    now = through_today()

    def committed(period):
        # The fifth case has only these two requests; a committed one shows as it was then.
        return [
            (values[0], values[6], values[-1])
            for values in lines(rows(DISBURSEMENTS, fund, period))
            if values[0] == case.ref
        ]

    assert committed(june) == [(case.ref, "Approved", 12_300)]
    assert totals(DISBURSEMENTS, fund, june)["Approved, not paid by 2026-06-30"] == 12_300
    assert committed(now) == []
    assert totals(DISBURSEMENTS, fund, now)[f"Approved, not paid by {now.end.isoformat()}"] == (
        40_000  # the scenario's one approved request
    )


def test_a_payment_of_last_year_is_in_last_years_register_only(fund, books):
    last_year = Period(date(2025, 1, 1), date(2025, 12, 31))

    found = lines(rows(DISBURSEMENTS, fund, last_year))

    assert [(row[0], row[2], row[-1]) for row in found] == [
        (books.cases[0].ref, "Valley Immigration Court", 25_000)
    ]
    assert totals(DISBURSEMENTS, fund, last_year)["Paid in the period"] == postings(
        fund, last_year, kind=Kind.DISBURSEMENT, sign=1
    )


def test_the_register_reads_in_a_few_queries_however_many_payments(
    fund, books, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        found = list(DISBURSEMENTS.rows(fund, through_today()))
    assert len(found) == 13


# Bonds


def test_bonds_out_at_the_end_are_aged_and_total_the_ledgers_receivable(fund, books):
    period = through_today()
    end = period.end
    one, _, _, _, five, six = (case.ref for case in books.cases)
    out = [
        (one, date(2025, 10, 1), 300_000),
        (five, date(2026, 6, 1), 100_000),
        (six, date(2026, 11, 15), 200_000),
    ]
    expected = [Row((f"Outstanding on {end.isoformat()}", *(None,) * 6), HEADING)]
    for label, _ in BOND_AGING_BUCKETS:
        bucket = [bond for bond in out if bond_aging_bucket((end - bond[1]).days) == label]
        expected.append(Row((f"Out {label} days", *(None,) * 6), HEADING))
        expected += [
            Row((ref, "Posted", posted, None, (end - posted).days, cents, None))
            for ref, posted, cents in bucket
        ]
        count = f"{len(bucket)} bond{'' if len(bucket) == 1 else 's'}"
        cents = sum(bond[2] for bond in bucket)
        expected.append(
            Row((f"{label} days: {count}", None, None, None, None, cents, None), SUBTOTAL)
        )
    expected.append(Row(("Outstanding", None, None, None, None, 600_000, None), SUBTOTAL))

    assert rows(BONDS, fund, period)[: len(expected)] == expected
    assert totals(BONDS, fund, period)[f"Outstanding on {end.isoformat()}"] == receivable_on(
        fund, end
    )
    assert receivable_on(fund, end) == 600_000


def test_bonds_refunded_and_forfeited_in_the_period_equal_the_ledgers_postings(fund, books):
    period = through_today()
    two, three = books.cases[1].ref, books.cases[2].ref
    found = rows(BONDS, fund, period)

    refunded_at = found.index(Row(("Refunded in the period", *(None,) * 6), HEADING))
    assert [row.values for row in found[refunded_at + 1 :] if row.style != HEADING] == [
        (two, "Refunded", date(2026, 2, 1), date(2026, 7, 1), 150, 500_000, 1_234),
        ("Refunded", None, None, None, None, 500_000, 1_234),
        (three, "Forfeited", date(2026, 3, 1), date(2026, 9, 1), 184, 750_000, None),
        ("Forfeited", None, None, None, None, 750_000, None),
    ]
    end = period.end.isoformat()
    assert totals(BONDS, fund, period) == {
        f"Outstanding on {end}": 600_000,
        f"Bond deposits receivable in the ledger on {end}": receivable_on(fund, period.end),
        "Refunded in the period: principal": -postings(
            fund, period, role=Role.BOND_DEPOSITS, kind=Kind.BOND_REFUNDED
        ),
        "Refunded in the period: interest": -postings(fund, period, role=Role.INTEREST),
        "Forfeited in the period": postings(fund, period, role=Role.BOND_FORFEITURE),
    }


def test_mid_year_a_bond_refunded_later_is_still_out_with_its_status_on_that_day(fund, books):
    half = Period(date(2026, 1, 1), date(2026, 6, 30))
    one, two, three, _, five, _ = (case.ref for case in books.cases)

    found = lines(rows(BONDS, fund, half))

    assert sorted((row[0], row[1], row[4]) for row in found) == [
        (one, "Posted", 272),
        (two, "Cancelled (refund due)", 149),
        (three, "Posted", 121),
        (five, "Posted", 29),
    ]
    assert totals(BONDS, fund, half)["Outstanding on 2026-06-30"] == receivable_on(fund, half.end)
    assert receivable_on(fund, half.end) == 300_000 + 500_000 + 750_000 + 100_000
    assert totals(BONDS, fund, half)["Refunded in the period: principal"] == 0


# 1099 summary


def test_the_1099_summary_lists_attorneys_and_other_payees_paid_600_dollars_or_more(fund, books):
    found = rows(FORM_1099, fund, YEAR)

    assert [row.values for row in found] == [
        ("Calendar year 2026 (2026-01-01 to 2026-12-31)", *(None,) * 6),
        ("Ana Abogada (Valley Immigration Law)", "Attorney", "Valley Immigration Law",
         "CA-123456", "Yes", 2, 750_000),
        (f"Payee #{books.other.pk}", "Other", "", "", "No", 1, 70_000),
        ("Total", None, None, None, None, 2, 820_000),
    ]  # fmt: skip
    assert totals(FORM_1099, fund, YEAR) == {
        "Paid to the payees listed": 820_000,
        "Of which to payees without a W-9 on file": 70_000,
    }


def test_the_1099_summary_covers_the_calendar_year_of_the_periods_end(fund, books):
    spring = Period(date(2026, 3, 1), date(2026, 4, 30))

    assert list(FORM_1099.rows(fund, spring)) == list(FORM_1099.rows(fund, YEAR))
    assert "calendar year of the period's end" in " ".join(FORM_1099.notes)


def test_a_payment_voided_in_the_year_does_not_count_toward_its_payees_1099(
    fund, books, coordinator, treasurer
):
    void_disbursement(actor=treasurer, disbursement=books.paid["junior"], reason="Stopped")
    junior = Disbursement.objects.get(pk=books.paid["junior"].pk)
    paid_again = paid(
        fund, coordinator, [treasurer], books.cases[2], books.junior,
        60_000, "1047", date(2026, 7, 1),
    )  # fmt: skip
    year = Period(date(2026, 1, 1), date(timezone.localdate().year, 12, 31))
    if junior.void_transaction.effective_date.year != 2026:
        pytest.skip("The void is dated today, after 2026: the 2026 figures are not its year.")

    listed = {row.values[0]: row.values[5:] for row in FORM_1099.rows(fund, year)}

    assert listed["Beto Licenciado"] == (1, paid_again.amount_cents)

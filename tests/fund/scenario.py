"""A year of a fund's money, posted through the services, with its figures computed by hand.

Online gifts (Stripe clearing / Contributions), offline gifts, a Stripe fee, a refund, a lost and a
won dispute, a payout, program payments for five cases, a bond refunded with interest, a bond still
out, a forfeited bond, a gift entered twice and reversed, and one open commitment.
"""

from datetime import date

from django.utils import timezone

from fund.ledger.entries import Leg
from fund.ledger.posting import post_transaction
from fund.ledger.services import record_commitment, release_commitment, reverse_transaction
from fund.models import Fund, Transaction
from tests.fund.conftest import Kind, Role, account

# Names that exist in the database (memos, staff) and must never reach the public page or API.
DONOR_NAME = "Rosa Delgado"
ATTORNEY_NAME = "Miguel Ortega"
CASE_REFS = ("C-2026-0007", "C-2026-0011", "C-2026-0019", "C-2026-0023", "C-2026-0031")

# Hand-computed (cents):
#   contributions 1,000,000 + 25,000 + 50,000 + 100,000 (online) + 500,000 + 123,456 + 250,000
#                 (offline) + 99,900 - 99,900 (duplicate reversed)            = 2,048,456
#   raised  = 2,048,456 - 50,000 refund - 100,000 lost dispute (the won one nets 0) = 1,898,456
#   spent   = attorney 350,000 + 120,000 + filing 41,500 + family 30,000 + forfeited 200,000
#                                                                               =   741,500
#   bonds   = 500,000 - 500,000 (refunded) + 750,000 + 200,000 - 200,000 (forfeited) = 750,000
#   cash    = Stripe 1,175,000 - 32,105 fee - 50,000 - 101,500 - 800,000 payout =   191,395
#           + bank 800,000 + 500,000 + 250,000 - 421,500 - 500,000 + 503,250 - 120,000
#             - 950,000                                                         =    61,750
#           + undeposited                                                       =   123,456
#   available = 376,601 cash - 80,000 open commitment (the 10,000 one is released) = 296,601
#   gifts   = 4 online + 4 offline - 1 reversed = 7;  cases = 5 distinct refs paid
#   fees    = 32,105 + 1,500 (dispute fee) = 33,605;  interest = 3,250;  disputes = 100,000 lost
#   and so: 1,898,456 raised - 33,605 fees + 3,250 interest - 741,500 spent - 750,000 in bonds
#           - 80,000 set aside                                              =   296,601 available
EXPECTED_PROGRESS = {
    "fund": "valley",
    "currency": "USD",
    "goal": 15_000_000,
    "raised": 1_898_456,
    "spent": 741_500,
    "in_bonds": 750_000,
    "available": 296_601,
    "gifts": 7,
    "cases_supported": 5,
    "gifts_gross": 2_048_456,
    "refunds": 50_000,
    "disputes": 100_000,
    "fees": 33_605,
    "interest": 3_250,
    "adjustments": 0,
    "committed": 80_000,
}
# Months before this one -> (raised, spent) in that month; every other month is (0, 0).
EXPECTED_FLOWS = {
    10: (1_500_000, 0),
    9: (175_000, 0),
    8: (223_456, 0),
    6: (0, 421_500),
    3: (0, 120_000),
    1: (0, 200_000),
}
EXPECTED_CATEGORIES = [
    ("Attorney fees", 470_000),
    ("Bond forfeiture loss", 200_000),
    ("Filing fees", 41_500),
    ("Family support", 30_000),
]


def months_ago(months: int, day: int = 5) -> date:
    """Return the given day of the month `months` before this one."""
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, day)


def entry(
    fund: Fund,
    kind: str,
    legs: dict[str, int],
    *,
    key: str,
    months: int,
    memo: str = "",
    actor=None,
    **extra,
) -> Transaction:
    """Post one transaction of the scenario: legs by account role, debit positive."""
    return post_transaction(
        fund=fund,
        legs=[Leg(account(fund, role), cents) for role, cents in legs.items()],
        effective_date=months_ago(months),
        kind=kind,
        memo=memo or f"{kind} {key}",
        idempotency_key=f"scenario:{fund.slug}:{key}",
        actor=actor,
        **extra,
    )


def seed_scenario(fund: Fund, actor=None) -> None:
    """Post the scenario's year to the fund (its figures are EXPECTED_PROGRESS)."""
    S, BANK, UND = Role.STRIPE_CLEARING, Role.BANK, Role.UNDEPOSITED
    C, BONDS = Role.CONTRIBUTIONS, Role.BOND_DEPOSITS

    def post(kind, legs, key, months, **extra):
        return entry(fund, kind, legs, key=key, months=months, actor=actor, **extra)

    post(Kind.GIFT_ONLINE, {S: 1_000_000, C: -1_000_000}, "g1", 10, source_ref="ch_g1")
    post(Kind.STRIPE_FEE, {Role.PROCESSING_FEES: 32_105, S: -32_105}, "fee1", 10)
    post(
        Kind.GIFT_OFFLINE,
        {BANK: 500_000, C: -500_000},
        "check1",
        10,
        memo=f"Check from {DONOR_NAME}, UFCW Local 7",
    )
    duplicate = post(Kind.GIFT_OFFLINE, {BANK: 99_900, C: -99_900}, "check2", 10)
    # by_workflow: the scenario stands for what the donations app records (it reverses its gifts).
    reverse_transaction(
        original=duplicate,
        actor=actor,
        memo="Entered twice",
        effective_date=months_ago(10, day=6),
        by_workflow=True,
    )

    post(Kind.GIFT_ONLINE, {S: 25_000, C: -25_000}, "g2", 9, source_ref="ch_g2")
    post(Kind.GIFT_ONLINE, {S: 50_000, C: -50_000}, "g3", 9, source_ref="ch_g3")
    post(Kind.GIFT_ONLINE, {S: 100_000, C: -100_000}, "g4", 9, source_ref="ch_g4")
    post(Kind.PAYOUT, {BANK: 800_000, S: -800_000}, "payout1", 9, source_ref="po_1")

    post(Kind.REFUND, {Role.REFUNDS: 50_000, S: -50_000}, "refund-g3", 8, source_ref="re_g3")
    post(
        Kind.DISPUTE,
        {Role.DISPUTES: 100_000, Role.PROCESSING_FEES: 1_500, S: -101_500},
        "dispute-g4",
        8,
        source_ref="dp_g4",
    )
    post(Kind.DISPUTE, {Role.DISPUTES: 25_000, S: -25_000}, "dispute-g2", 8, source_ref="dp_g2")
    post(Kind.DISPUTE_WON, {S: 25_000, Role.DISPUTES: -25_000}, "won-g2", 8, source_ref="dp_g2")
    post(Kind.GIFT_OFFLINE, {UND: 123_456, C: -123_456}, "cash-rally", 8)
    post(Kind.GIFT_OFFLINE, {BANK: 250_000, C: -250_000}, "ach1", 8)

    attorney, filing, family = Role.ATTORNEY_FEES, Role.FILING_FEES, Role.FAMILY_SUPPORT
    post(
        Kind.DISBURSEMENT,
        {attorney: 350_000, BANK: -350_000},
        "pay-attorney-1",
        6,
        memo=f"Retainer, attorney {ATTORNEY_NAME}",
        case_ref="C-2026-0007",
    )
    post(
        Kind.DISBURSEMENT, {filing: 41_500, BANK: -41_500}, "pay-filing", 6, case_ref="C-2026-0011"
    )
    post(
        Kind.DISBURSEMENT, {family: 30_000, BANK: -30_000}, "pay-family", 6, case_ref="C-2026-0019"
    )

    post(Kind.BOND_POSTED, {BONDS: 500_000, BANK: -500_000}, "bond-a", 5, case_ref="C-2026-0011")

    post(
        Kind.BOND_REFUNDED,
        {BANK: 503_250, BONDS: -500_000, Role.INTEREST: -3_250},
        "bond-a-refund",
        3,
        case_ref="C-2026-0011",
    )
    post(
        Kind.DISBURSEMENT,
        {attorney: 120_000, BANK: -120_000},
        "pay-attorney-2",
        3,
        case_ref="C-2026-0007",
    )

    post(Kind.BOND_POSTED, {BONDS: 750_000, BANK: -750_000}, "bond-b", 2, case_ref="C-2026-0023")
    post(Kind.BOND_POSTED, {BONDS: 200_000, BANK: -200_000}, "bond-c", 2, case_ref="C-2026-0031")

    post(
        Kind.BOND_FORFEITED,
        {Role.BOND_FORFEITURE: 200_000, BONDS: -200_000},
        "bond-c-breached",
        1,
        case_ref="C-2026-0031",
    )
    record_commitment(actor=None, fund=fund, amount_cents=80_000, source_ref="disbursement:41")
    record_commitment(actor=None, fund=fund, amount_cents=10_000, source_ref="disbursement:40")
    release_commitment(actor=None, source_ref="disbursement:40")

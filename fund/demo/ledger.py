"""A year of invented ledger activity for `make demo`, posted through the posting service.

Everything here is fictional. The same seed gives the same books; re-running replays the same
idempotency keys, so seeding twice changes nothing.

Money that comes in (online gifts, a refund, Stripe payouts, union locals' checks) is recorded
by a `DemoMoney`: seed_demo passes the donations app's (`donations.demo`), which records it as
donations through that app's own services, as real money is; `LedgerMoney` here posts the same
amounts straight to the ledger, for a fund app without donations.

Money that goes out for cases (attorneys, filing fees, family support, bonds) is recorded by a
`DemoCases` in the same way: seed_demo passes the cases app's (`cases.demo`), which opens the
demo's invented cases and records requests, approvals, payments and bonds through that app's
services; `LedgerCases` here posts the same amounts on the same days straight to the ledger.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from django.contrib.auth.models import User

from fund.ledger.entries import Leg
from fund.ledger.models import Account, Fund, Transaction
from fund.ledger.posting import post_transaction
from fund.ledger.services import close_books, create_fund, record_commitment

Kind = Transaction.Kind
Role = Account.Role

DEMO_FUND_SLUG = "valley-defense"
FIRST_DAY = date(2025, 12, 1)
LAST_DAY = date(2026, 11, 20)
CLOSED_THROUGH = date(2026, 9, 30)
UNION_LOCALS = ["Local 11", "Local 399", "Local 1877", "Local 5", "Local 2850", "Local 1000"]
# A donor gives $100 twice by mistake; the second gift is refunded the same day.
MISTAKEN_GIFT = (date(2026, 2, 14), 10_000)
# A local's check received at the year's end bounces: the treasurer takes it back. After the last
# day's payments, so that it changes none of them.
RETURNED_CHECK = (date(2026, 11, 18), "Local 5", 75_000)
RETURNED_AFTER = timedelta(days=5)


class DemoMoney(Protocol):
    """Records the demo year's incoming money, keeping `books`' running cash (`books.recorded`)."""

    # How the idempotency keys of its online gifts begin: a fund seeded by another DemoMoney
    # (an older version of the demo) is refused rather than seeded twice under other keys.
    gift_key_prefix: str

    def online_gift(self, books: "DemoBooks", day: date, cents: int) -> None:
        """A card gift paid on `day`, and Stripe's fee on it."""

    def refunded_gift(self, books: "DemoBooks", day: date, cents: int) -> None:
        """A card gift paid on `day` and refunded in full the same day (Stripe keeps its fee)."""

    def payout(self, books: "DemoBooks", day: date) -> None:
        """Stripe pays everything in Stripe clearing into the bank on `day`."""

    def union_check(self, books: "DemoBooks", day: date, local: str, cents: int) -> None:
        """A union local's check received on `day`, deposited the next day."""

    def returned_check(self, books: "DemoBooks", day: date, local: str, cents: int) -> None:
        """A union local's check received on `day`, deposited the next day, and returned unpaid
        by the bank RETURNED_AFTER later: taken back (Refunds ← Bank)."""


@dataclass(frozen=True)
class CasePayment:
    """One payment for a case on its day: the expense account's role, the amount and the memo."""

    expense: str
    cents: int
    memo: str


class DemoCases(Protocol):
    """Records the demo year's money for cases, keeping `books`' running cash (`books.recorded`).

    `case_ref` is the demo's own name for a case ("C-2025-0001"): the ledger's case reference
    when posted straight to the ledger, a key to an invented case otherwise.
    """

    # How the idempotency keys of its case payments begin: a fund seeded by another DemoCases
    # (an older version of the demo) is refused rather than seeded twice under other keys.
    payment_key_prefix: str

    def pay_for_case(
        self, books: "DemoBooks", day: date, case_ref: str, payments: list[CasePayment]
    ) -> None:
        """Payments for a case made on `day`, in this order, each from the Bank."""

    def bond_posted(self, books: "DemoBooks", day: date, case_ref: str, cents: int) -> None:
        """An immigration bond posted for a case on `day`, from the Bank."""

    def bond_refunded(
        self, books: "DemoBooks", day: date, case_ref: str, cents: int, interest_cents: int
    ) -> None:
        """The case's bond cancelled and refunded into the Bank on `day`, with interest."""

    def open_business(self, books: "DemoBooks") -> None:
        """What is still open at the end of the year: an approved, unpaid attorney retainer
        (RETAINER_CENTS, committed, so no longer available), and whatever else the demo shows."""


# The attorney retainer approved at the end of the year and not yet paid: it lowers `available`.
RETAINER_CENTS = 250_000
# The bonds: one posted in March and refunded with interest in September; another still out.
BONDS = (
    ("C-2026-0101", 800_000, date(2026, 3, 20), date(2026, 9, 15), 1_240),
    ("C-2026-0102", 1_250_000, date(2026, 10, 22), None, 0),
)


@dataclass
class DemoBooks:
    """Posts the demo year, keeping the running cash so no payment overdraws the bank."""

    fund: Fund
    treasurer: User
    money: DemoMoney
    cases: DemoCases = field(default_factory=lambda: LedgerCases())
    accounts: dict[str, Account] = field(default_factory=dict)
    count: int = 0
    bank: int = 0
    clearing: int = 0

    def recorded(self, *, postings: int, bank: int = 0, clearing: int = 0) -> None:
        """Count postings another app's services made, and the cash they moved."""
        self.count += postings
        self.bank += bank
        self.clearing += clearing

    def post(self, debit: str, credit: str, cents: int, **fields: Any) -> Transaction:
        """Post a two-leg transaction: `cents` from `credit` to `debit`."""
        return self.post_legs([(debit, cents), (credit, -cents)], **fields)

    def post_legs(
        self,
        legs: list[tuple[str, int]],
        *,
        on: date,
        kind: str,
        memo: str,
        system: bool = False,
        source_ref: str = "",
        case_ref: str = "",
    ) -> Transaction:
        """Post signed legs by account role, keeping the running cash up to date."""
        self.count += 1
        txn = post_transaction(
            fund=self.fund,
            legs=[Leg(self.accounts[role], cents) for role, cents in legs],
            effective_date=on,
            kind=kind,
            memo=memo,
            idempotency_key=f"demo:{self.fund.slug}:{self.count}",
            actor=None if system else self.treasurer,
            source_ref=source_ref,
            case_ref=case_ref,
        )
        for role, cents in legs:
            if role == Role.BANK:
                self.bank += cents
            elif role == Role.STRIPE_CLEARING:
                self.clearing += cents
        return txn


def seed_fund(
    *,
    treasurer: User,
    money: DemoMoney | None = None,
    cases: DemoCases | None = None,
    progress: Callable[[str], object] = print,
    slug: str = DEMO_FUND_SLUG,
) -> Fund:
    """Create the demo fund (if missing) and post its year of activity, saying how far it got.

    Incoming money is recorded by `money` (LedgerMoney if None), money for cases by `cases`
    (LedgerCases if None). Idempotent: a second run
    replays the same keys and posts nothing new.
    """
    fund = Fund.objects.filter(slug=slug).first() or create_fund(
        actor=None,
        name="Valley Labor Council Worker Defense Fund",
        slug=slug,
        goal_cents=15_000_000,
        opened_on=FIRST_DAY,
        tax_status=Fund.TaxStatus.LABOR,
        public_summary=(
            "The Valley Labor Council raises this fund to get detained workers out of immigration "
            "detention and defended in court: bonds, attorneys, filing fees and support for their "
            "families. Any worker, union member or not."
        ),
        show_supporters=True,
    )
    books = DemoBooks(
        fund=fund, treasurer=treasurer, money=money or LedgerMoney(), cases=cases or LedgerCases()
    )
    online = fund.transactions.filter(kind=Kind.GIFT_ONLINE)
    paid = fund.transactions.filter(kind=Kind.DISBURSEMENT)
    if online.exclude(idempotency_key__startswith=books.money.gift_key_prefix).exists() or (
        paid.exclude(idempotency_key__startswith=books.cases.payment_key_prefix).exists()
    ):
        raise ValueError(
            f"The demo fund {slug!r} was seeded by an older version of the demo: remove the "
            "demo's database (make clean, or delete var/pg/) and run make demo again."
        )
    books.accounts = {account.role: account for account in fund.accounts.all()}
    rng = random.Random(2026)  # noqa: S311  (demo data, not security)
    case_number = 0
    day = FIRST_DAY
    while day <= LAST_DAY:
        if day.day == 1:
            progress(f"  {day:%B %Y}…")
        _online_gifts(books, rng, day)
        if day == MISTAKEN_GIFT[0]:
            books.money.refunded_gift(books, day, MISTAKEN_GIFT[1])
        if day.weekday() == 4 and books.clearing > 0:
            books.money.payout(books, day)
        if day.day in (3, 17):
            local = rng.choice(UNION_LOCALS)
            cents = rng.choice([50_000, 100_000, 150_000, 250_000, 500_000])
            books.money.union_check(books, day, local, cents)
        if day.day == 12 and books.bank > 600_000:
            case_number += 1
            _pay_for_case(books, rng, day, f"C-{day.year}-{case_number:04d}")
        _bonds(books, day)
        day += timedelta(days=1)
    books.money.returned_check(books, *RETURNED_CHECK)
    books.cases.open_business(books)
    close_books(fund=fund, through=CLOSED_THROUGH, actor=treasurer, reason="Quarter-end close")
    return fund


def _online_gifts(books: DemoBooks, rng: random.Random, day: date) -> None:
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        cents = rng.choice([1_000, 2_000, 2_500, 5_000, 5_000, 10_000, 10_000, 25_000, 50_000])
        books.money.online_gift(books, day, cents)


def demo_fee(cents: int) -> int:
    """Return the demo's Stripe fee on a card gift: 2.9% rounded up to the cent, plus 30 cents
    (as donations' stand-in for Stripe charges it, so both ways of seeding give one ledger)."""
    return -(-cents * 29 // 1000) + 30


class LedgerMoney:
    """Posts the demo's incoming money straight to the ledger (no donations app)."""

    gift_key_prefix = "demo:"

    def online_gift(self, books: DemoBooks, day: date, cents: int) -> None:
        """A card gift paid on `day`, and Stripe's fee on it."""
        books.post(
            Role.STRIPE_CLEARING,
            Role.CONTRIBUTIONS,
            cents,
            on=day,
            kind=Kind.GIFT_ONLINE,
            memo="Online gift",
            system=True,
            source_ref=f"pi_demo{books.count}",
        )
        books.post(
            Role.PROCESSING_FEES,
            Role.STRIPE_CLEARING,
            demo_fee(cents),
            on=day,
            kind=Kind.STRIPE_FEE,
            memo="Stripe fee",
            system=True,
            source_ref=f"txn_demo{books.count}",
        )

    def refunded_gift(self, books: DemoBooks, day: date, cents: int) -> None:
        """A card gift paid on `day` and refunded in full the same day (Stripe keeps its fee)."""
        self.online_gift(books, day, cents)
        books.post(
            Role.REFUNDS,
            Role.STRIPE_CLEARING,
            cents,
            on=day,
            kind=Kind.REFUND,
            memo="Refund of an online gift",
            system=True,
            source_ref=f"ch_demo{books.count}",
        )

    def payout(self, books: DemoBooks, day: date) -> None:
        """Stripe pays everything in Stripe clearing into the bank on `day`."""
        books.post(
            Role.BANK,
            Role.STRIPE_CLEARING,
            books.clearing,
            on=day,
            kind=Kind.PAYOUT,
            memo="Stripe payout",
            system=True,
            source_ref=f"po_demo{books.count}",
        )

    def union_check(self, books: DemoBooks, day: date, local: str, cents: int) -> None:
        """A union local's check received on `day`, deposited the next day."""
        books.post(
            Role.UNDEPOSITED,
            Role.CONTRIBUTIONS,
            cents,
            on=day,
            kind=Kind.GIFT_OFFLINE,
            memo=f"Check from {local}",
            source_ref=f"check-{books.count}",
        )
        books.post(
            Role.BANK,
            Role.UNDEPOSITED,
            cents,
            on=day + timedelta(days=1),
            kind=Kind.DEPOSIT,
            memo=f"Deposit of the check from {local}",
        )

    def returned_check(self, books: DemoBooks, day: date, local: str, cents: int) -> None:
        """A union local's check deposited, then returned unpaid by the bank."""
        self.union_check(books, day, local, cents)
        books.post(
            Role.REFUNDS,
            Role.BANK,
            cents,
            on=day + RETURNED_AFTER,
            kind=Kind.REFUND,
            memo=f"Check from {local}: returned unpaid by the bank",
        )


def _pay_for_case(books: DemoBooks, rng: random.Random, day: date, case_ref: str) -> None:
    payments = [
        (Role.ATTORNEY_FEES, [250_000, 350_000, 500_000], "Attorney retainer"),
        (Role.FILING_FEES, [11_000, 26_000, 93_000], "Filing fee"),
        (Role.FAMILY_SUPPORT, [40_000, 60_000, 80_000], "Family support: rent"),
    ]
    # Drawn here, in this order, whoever records them: the same seed gives the same books.
    drawn = [CasePayment(expense, rng.choice(amounts), memo) for expense, amounts, memo in payments]
    books.cases.pay_for_case(books, day, case_ref, drawn)


def _bonds(books: DemoBooks, day: date) -> None:
    """One bond posted in March and refunded with interest in September; another still out."""
    for case_ref, cents, posted_on, refunded_on, interest in BONDS:
        if day == posted_on:
            books.cases.bond_posted(books, day, case_ref, cents)
        elif day == refunded_on:
            books.cases.bond_refunded(books, day, case_ref, cents, interest)


class LedgerCases:
    """Posts the demo's money for cases straight to the ledger (no cases app)."""

    payment_key_prefix = "demo:"

    def pay_for_case(
        self, books: DemoBooks, day: date, case_ref: str, payments: list[CasePayment]
    ) -> None:
        """Payments for a case made on `day`, in this order, each from the Bank."""
        for payment in payments:
            books.post(
                payment.expense,
                Role.BANK,
                payment.cents,
                on=day,
                kind=Kind.DISBURSEMENT,
                memo=payment.memo,
                case_ref=case_ref,
            )

    def bond_posted(self, books: DemoBooks, day: date, case_ref: str, cents: int) -> None:
        """An immigration bond posted for a case on `day`, from the Bank."""
        books.post(
            Role.BOND_DEPOSITS,
            Role.BANK,
            cents,
            on=day,
            kind=Kind.BOND_POSTED,
            memo="Immigration bond posted",
            case_ref=case_ref,
        )

    def bond_refunded(
        self, books: DemoBooks, day: date, case_ref: str, cents: int, interest_cents: int
    ) -> None:
        """The case's bond cancelled and refunded into the Bank on `day`, with interest."""
        books.post_legs(
            [
                (Role.BANK, cents + interest_cents),
                (Role.BOND_DEPOSITS, -cents),
                (Role.INTEREST, -interest_cents),
            ],
            on=day,
            kind=Kind.BOND_REFUNDED,
            memo="Bond cancelled at case end: principal and interest refunded",
            case_ref=case_ref,
        )

    def open_business(self, books: DemoBooks) -> None:
        """The approved, unpaid attorney retainer, as a bare commitment."""
        record_commitment(
            actor=books.treasurer,
            fund=books.fund,
            amount_cents=RETAINER_CENTS,
            source_ref=f"demo:{books.fund.slug}:approved-attorney-retainer",
        )

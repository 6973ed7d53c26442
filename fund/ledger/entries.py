"""A transaction about to be posted: its legs and its fields, named as on the Transaction model."""

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User

from fund.ledger.models import Account, Fund, Transaction


@dataclass(frozen=True)
class Leg:
    """One side of a transaction: an account of the fund and a signed amount (debit +)."""

    account: Account
    amount_cents: int


@dataclass(frozen=True)
class Entry:
    """A checked transaction, legs sorted by account id, ready for fund_post().

    Its fields are what a caller gives, named as the Transaction model's; the database adds the
    rest (number, recording time, payload hash and the chain's hashes).
    """

    fund: Fund
    legs: tuple[Leg, ...]
    effective_date: date
    kind: str
    memo: str
    reason: str
    source_ref: str
    case_ref: str
    idempotency_key: str
    recorded_by: User | None
    reverses: Transaction | None

    @property
    def fund_id(self) -> int:
        return self.fund.pk

    @property
    def recorded_by_id(self) -> int | None:
        return self.recorded_by.pk if self.recorded_by is not None else None

    @property
    def reverses_id(self) -> int | None:
        return self.reverses.pk if self.reverses is not None else None

    def leg_amounts(self) -> list[tuple[int, int]]:
        """Return the legs as (account id, signed amount) pairs."""
        return [(leg.account.pk, leg.amount_cents) for leg in self.legs]

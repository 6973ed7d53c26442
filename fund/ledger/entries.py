"""A transaction being posted: its legs and fields, validated, before it reaches the database."""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import User

from fund.ledger.chain import canonical_digest, content_digest
from fund.ledger.models import Account, Fund, Transaction


@dataclass(frozen=True)
class Leg:
    """One side of a transaction: an account of the fund and a signed amount (debit +)."""

    account: Account
    amount_cents: int


@dataclass(frozen=True)
class Entry:
    """A validated transaction, legs sorted by account id, ready for fund_post() or SQLite."""

    fund: Fund
    legs: tuple[Leg, ...]
    effective_date: date
    kind: str
    memo: str
    reason: str
    source_ref: str
    case_ref: str
    key: str
    actor: User | None
    reverses: Transaction | None
    gift_delta: int
    case_delta: int

    def payload_hash(self) -> str:
        """Return the hash of what a replay must repeat exactly (not who posted it, or when)."""
        return canonical_digest(
            {
                "fund": self.fund.pk,
                "date": self.effective_date.isoformat(),
                "kind": str(self.kind),
                "memo": self.memo,
                "reason": self.reason,
                "source_ref": self.source_ref,
                "case_ref": self.case_ref,
                "reverses": self.reverses.pk if self.reverses else None,
                "legs": [[leg.account.pk, leg.amount_cents] for leg in self.legs],
            }
        )

    def digest(self, recorded_at: datetime) -> str:
        """Return the content digest the hash chain covers, for this recording time."""
        return content_digest(
            fund_id=self.fund.pk,
            effective_date=self.effective_date,
            kind=self.kind,
            memo=self.memo,
            reason=self.reason,
            source_ref=self.source_ref,
            case_ref=self.case_ref,
            idempotency_key=self.key,
            recorded_by_id=self.actor.pk if self.actor else None,
            reverses_id=self.reverses.pk if self.reverses else None,
            recorded_at=recorded_at,
            legs=[(leg.account.pk, leg.amount_cents) for leg in self.legs],
        )

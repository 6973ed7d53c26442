"""The ledger's hash chain: a transaction's canonical digest and its link in its fund's chain.

One function computes the digest of what a transaction says, whether it is an `Entry` about to be
posted or a `Transaction` read back by verify_ledger: both satisfy `Chained`. docs/ledger.md
specifies the document exactly, so anyone can recompute the chain without this code.
"""

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Protocol

GENESIS_HASH = "0" * 64
DIGEST_VERSION = 1

# What the chain covers: the key in the canonical document, and the attribute it is read from.
DIGEST_FIELDS: tuple[tuple[str, str], ...] = (
    ("fund", "fund_id"),
    ("date", "effective_date"),
    ("kind", "kind"),
    ("memo", "memo"),
    ("reason", "reason"),
    ("source_ref", "source_ref"),
    ("case_ref", "case_ref"),
    ("key", "idempotency_key"),
    ("recorded_by", "recorded_by_id"),
    ("reverses", "reverses_id"),
    ("recorded_at", "recorded_at"),
)
# What a replay of an idempotency key must repeat exactly: all of the above but the key itself,
# who recorded the transaction and when.
PAYLOAD_KEYS = frozenset(key for key, _ in DIGEST_FIELDS) - {"key", "recorded_by", "recorded_at"}


class Chained(Protocol):
    """The fields of a transaction that its digest covers, besides its legs."""

    @property
    def fund_id(self) -> int: ...
    @property
    def effective_date(self) -> date: ...
    @property
    def kind(self) -> str: ...
    @property
    def memo(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def source_ref(self) -> str: ...
    @property
    def case_ref(self) -> str: ...
    @property
    def idempotency_key(self) -> str: ...
    @property
    def recorded_by_id(self) -> int | None: ...
    @property
    def reverses_id(self) -> int | None: ...
    @property
    def recorded_at(self) -> datetime: ...


def content_digest(txn: Chained, legs: Iterable[tuple[int, int]]) -> str:
    """Return the SHA-256 of a transaction's canonical serialisation (what the chain covers).

    `legs` are (account id, signed amount) pairs, in any order.
    """
    document: dict[str, object] = {"v": DIGEST_VERSION}
    for key, attribute in DIGEST_FIELDS:
        document[key] = _canonical(getattr(txn, attribute))
    document["legs"] = sorted([account_id, amount] for account_id, amount in legs)
    return canonical_digest(document)


def payload_digest(txn: Chained, legs: Iterable[tuple[int, int]]) -> str:
    """Return the hash a replay of the transaction's idempotency key is compared against."""
    document: dict[str, object] = {
        key: _canonical(getattr(txn, attribute))
        for key, attribute in DIGEST_FIELDS
        if key in PAYLOAD_KEYS
    }
    document["legs"] = sorted([account_id, amount] for account_id, amount in legs)
    return canonical_digest(document)


def chain_hash(*, prev_hash: str, year: int, number: int, digest: str) -> str:
    """Return a transaction's link in its fund's chain (the same formula as fund_post())."""
    return sha256_hex(f"{prev_hash}|{year}|{number}|{digest}")


def canonical_json(document: dict[str, object]) -> str:
    """Return a document as canonical JSON: sorted keys, no spaces, non-ASCII as is."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_digest(document: dict[str, object]) -> str:
    """Return the SHA-256 of a document's canonical JSON, as UTF-8."""
    return sha256_hex(canonical_json(document))


def sha256_hex(text: str) -> str:
    """Return the hex SHA-256 of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if isinstance(value, str) else value

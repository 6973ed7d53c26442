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
# The documents' keys in canonical (sorted) order.
_CONTENT_ORDER = sorted([*(key for key, _ in DIGEST_FIELDS), "legs", "v"])
_PAYLOAD_ORDER = sorted([*PAYLOAD_KEYS, "legs"])
# JSON's string escapes as json.dumps(ensure_ascii=False) writes them (C-accelerated).
_json_string = json.encoder.encode_basestring


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
    return digests(txn, legs)[0]


def payload_digest(txn: Chained, legs: Iterable[tuple[int, int]]) -> str:
    """Return the hash a replay of the transaction's idempotency key is compared against."""
    return digests(txn, legs)[1]


def digests(txn: Chained, legs: Iterable[tuple[int, int]]) -> tuple[str, str]:
    """Return a transaction's content digest and its replay hash, reading its fields once.

    Writes the canonical JSON directly (the keys are known and sorted), which is what
    canonical_json() would write for the same document, several times faster.
    """
    values = {key: _json_value(getattr(txn, attribute)) for key, attribute in DIGEST_FIELDS}
    values["legs"] = "[" + ",".join(f"[{a},{m}]" for a, m in sorted(legs)) + "]"
    values["v"] = str(DIGEST_VERSION)
    content = ",".join(f'"{key}":{values[key]}' for key in _CONTENT_ORDER)
    payload = ",".join(f'"{key}":{values[key]}' for key in _PAYLOAD_ORDER)
    return sha256_hex("{" + content + "}"), sha256_hex("{" + payload + "}")


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


def _json_value(value: object) -> str:
    """Return one field's value as canonical JSON text."""
    if isinstance(value, str):
        return _json_string(str(value))
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return '"' + value.astimezone(UTC).isoformat(timespec="microseconds") + '"'
    if isinstance(value, date):
        return '"' + value.isoformat() + '"'
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a value the digest covers")

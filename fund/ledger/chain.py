"""The ledger's hash chain: a transaction's canonical digest and its link in its fund's chain.

The same formulas run in PostgreSQL's fund_post() (the link) and in verify_ledger (both).
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime


def content_digest(
    *,
    fund_id: int,
    effective_date: date,
    kind: str,
    memo: str,
    reason: str,
    source_ref: str,
    case_ref: str,
    idempotency_key: str,
    recorded_by_id: int | None,
    reverses_id: int | None,
    recorded_at: datetime,
    legs: Sequence[tuple[int, int]],
) -> str:
    """Return the SHA-256 of a transaction's canonical serialisation (what the chain covers)."""
    document = {
        "v": 1,
        "fund": fund_id,
        "date": effective_date.isoformat(),
        "kind": str(kind),
        "memo": memo,
        "reason": reason,
        "source_ref": source_ref,
        "case_ref": case_ref,
        "key": idempotency_key,
        "recorded_by": recorded_by_id,
        "reverses": reverses_id,
        "recorded_at": recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "legs": sorted([account_id, amount] for account_id, amount in legs),
    }
    return canonical_digest(document)


def chain_hash(*, prev_hash: str, year: int, number: int, digest: str) -> str:
    """Return a transaction's link in its fund's chain (the same formula as fund_post())."""
    return sha256_hex(f"{prev_hash}|{year}|{number}|{digest}")


def canonical_digest(document: dict[str, object]) -> str:
    """Return the SHA-256 of a document as canonical JSON: sorted keys, no spaces, UTF-8."""
    return sha256_hex(
        json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    )


def sha256_hex(text: str) -> str:
    """Return the hex SHA-256 of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode()).hexdigest()

"""Seals: a fund's chain head signed with Ed25519, so the books can be proven to extend it later.

The signing key comes from the environment (`LEDGER_SEAL_KEY`) and is never stored in the
database: whoever can rewrite the database still cannot forge a seal. A seal is one line of JSON,
`{"statement": "...", "signature": "...", "key_id": "..."}`, where `statement` is the canonical
JSON that was signed (docs/ledger.md lists its fields). `manage.py seal_ledger` prints one; every
close of the books stores one; the public fund page offers the latest for anyone to keep.
"""

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from fund.errors import FundError
from fund.ledger.chain import canonical_digest, canonical_json
from fund.ledger.models import Account, Fund

SEAL_VERSION = 1
KEY_BYTES = 32


class SealError(FundError):
    """A seal could not be made, read or trusted; the message says which."""


@dataclass(frozen=True)
class Statement:
    """What a seal says about one fund's books at one moment."""

    fund: str
    fund_id: int
    currency: str
    restricted: bool
    opened_on: date
    chart: str
    reference: str
    transactions: int
    chain_head: str
    closed_through: date | None
    occasion: str
    sealed_at: datetime

    def text(self) -> str:
        """Return the canonical JSON that is signed: sorted keys, no spaces, UTF-8."""
        document = {
            "v": SEAL_VERSION,
            "fund": self.fund,
            "fund_id": self.fund_id,
            "currency": self.currency,
            "restricted": self.restricted,
            "opened_on": self.opened_on.isoformat(),
            "chart": self.chart,
            "reference": self.reference,
            "transactions": self.transactions,
            "chain_head": self.chain_head,
            "closed_through": self.closed_through.isoformat() if self.closed_through else None,
            "occasion": self.occasion,
            "sealed_at": self.sealed_at.astimezone(UTC).isoformat(timespec="microseconds"),
        }
        return canonical_json(document)

    @classmethod
    def parse(cls, text: str) -> "Statement":
        """Read a statement back from its signed text."""
        try:
            document = json.loads(text)
            if document.get("v") != SEAL_VERSION:
                raise SealError(f"A seal of version {document.get('v')!r} is not one we read.")
            return cls(
                fund=str(document["fund"]),
                fund_id=int(document["fund_id"]),
                currency=str(document["currency"]),
                restricted=bool(document["restricted"]),
                opened_on=date.fromisoformat(document["opened_on"]),
                chart=str(document["chart"]),
                reference=str(document["reference"]),
                transactions=int(document["transactions"]),
                chain_head=str(document["chain_head"]),
                closed_through=(
                    date.fromisoformat(document["closed_through"])
                    if document["closed_through"]
                    else None
                ),
                occasion=str(document["occasion"]),
                sealed_at=datetime.fromisoformat(document["sealed_at"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SealError(f"The seal's statement is not well formed ({error}).") from None


@dataclass(frozen=True)
class SignedSeal:
    """A statement with its Ed25519 signature and the id of the key that made it."""

    statement: str
    signature: str
    key_id: str

    def line(self) -> str:
        """Return the seal as the one line of JSON that seal_ledger prints."""
        return canonical_json(
            {"statement": self.statement, "signature": self.signature, "key_id": self.key_id}
        )

    @classmethod
    def read(cls, line: str) -> "SignedSeal":
        """Read a seal printed by seal_ledger (or saved from the public page)."""
        try:
            document = json.loads(line)
            return cls(
                statement=str(document["statement"]),
                signature=str(document["signature"]),
                key_id=str(document["key_id"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise SealError(f"Not a seal: {error}.") from None


def chart_digest(fund: Fund) -> str:
    """Return the SHA-256 of the fund's chart: every account's code, name, kind, role and floor."""
    rows = Account.objects.filter(fund=fund).order_by("code")
    return canonical_digest(
        {
            "accounts": [
                [a.code, a.name, a.kind, a.role, a.no_overdraft]
                for a in rows.only("code", "name", "kind", "role", "no_overdraft")
            ]
        }
    )


def sign(statement: Statement) -> SignedSeal:
    """Sign a statement with LEDGER_SEAL_KEY."""
    key = signing_key()
    text = statement.text()
    signature = base64.b64encode(key.sign(text.encode())).decode("ascii")
    return SignedSeal(statement=text, signature=signature, key_id=key_id(key.public_key()))


def check_signature(seal: SignedSeal) -> Statement:
    """Return the seal's statement if a trusted key signed it; raise SealError otherwise."""
    keys = trusted_keys()
    public = keys.get(seal.key_id)
    if public is None:
        raise SealError(
            f"The seal was signed with key {seal.key_id}, which is not one of the configured "
            "keys (LEDGER_SEAL_KEY, LEDGER_SEAL_PUBLIC_KEYS)."
        )
    try:
        public.verify(base64.b64decode(seal.signature, validate=True), seal.statement.encode())
    except (InvalidSignature, binascii.Error, ValueError):
        raise SealError("The seal's signature does not match its statement.") from None
    return Statement.parse(seal.statement)


def key_id(public: Ed25519PublicKey) -> str:
    """Return a short id of a public key: the first 16 hex digits of its SHA-256."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    """Return a public key as base64, the form LEDGER_SEAL_PUBLIC_KEYS takes."""
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def generate_key() -> tuple[str, str]:
    """Return a new (LEDGER_SEAL_KEY value, its public key) pair, both base64."""
    private = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode("ascii"), public_key_text(private.public_key())


def signing_key() -> Ed25519PrivateKey:
    """Return the configured signing key, or raise SealError saying how to set one."""
    configured = getattr(settings, "LEDGER_SEAL_KEY", "") or ""
    if not configured.strip():
        raise SealError(
            "LEDGER_SEAL_KEY is not set, so the books cannot be sealed: generate one with "
            "`manage.py generate_seal_key`."
        )
    return _private_key(configured.strip())


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """Return the public keys whose seals we trust, by key id."""
    keys: dict[str, Ed25519PublicKey] = {}
    configured = getattr(settings, "LEDGER_SEAL_KEY", "") or ""
    if configured.strip():
        public = _private_key(configured.strip()).public_key()
        keys[key_id(public)] = public
    for entry in getattr(settings, "LEDGER_SEAL_PUBLIC_KEYS", []) or []:
        if entry.strip():
            public = _public_key(entry.strip())
            keys[key_id(public)] = public
    return keys


@lru_cache(maxsize=4)
def _private_key(encoded: str) -> Ed25519PrivateKey:
    raw = _decode(encoded, "LEDGER_SEAL_KEY")
    return Ed25519PrivateKey.from_private_bytes(raw)


@lru_cache(maxsize=16)
def _public_key(encoded: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_decode(encoded, "LEDGER_SEAL_PUBLIC_KEYS"))


def _decode(encoded: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{what} is not valid base64.") from None
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"{what} holds {len(raw)} bytes; an Ed25519 key is {KEY_BYTES}. Generate one with "
            "`manage.py generate_seal_key`."
        )
    return raw

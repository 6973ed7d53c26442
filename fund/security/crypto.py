"""Field encryption (AES-256-GCM) and keyed blind indexes for personal data.

A ciphertext reads ``v2:<key id>:<base64url(nonce + ciphertext + tag)>``. Its associated data is the
version, the key id, a context naming the column (``cases.Case.legal_name``) and the row's own
stable id, so a value moved to another column or another row, or relabelled with another key id,
does not decrypt. The plaintext is padded to a bucket (32, 64, 128… bytes), so the stored length
says little about the value's. Every failure raises ``DecryptionError``: nothing here ever hands
back a stored value as if it were the plaintext.

Keys come from ``settings.FIELD_ENCRYPTION_KEYS`` (``"key_id:base64key"`` entries; the first
one encrypts, every one decrypts what bears its id) and ``settings.BLIND_INDEX_KEY``. Errors in
them raise ``ImproperlyConfigured`` at first use and never print key material.
"""

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v2"
# Padding: the plaintext, a 0x80 byte, then zeros up to the bucket (ISO/IEC 7816-4).
PAD_MARK = b"\x80"
SMALLEST_BUCKET = 32
LARGEST_DOUBLING = 4096
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
BLIND_INDEX_MIN_BYTES = 32
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class DecryptionError(Exception):
    """A stored value did not decrypt: unknown key id, wrong key, wrong context or tampered."""


@dataclass(frozen=True)
class Keyring:
    primary: str
    ciphers: dict[str, AESGCM]


def encrypt(plaintext: str, *, context: str, row: str = "") -> str:
    """Encrypt text under the primary key, bound to the column (context) and row it is stored in."""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.ciphers[ring.primary].encrypt(
        nonce, _pad(plaintext.encode("utf-8")), _associated_data(ring.primary, context, row)
    )
    return f"{VERSION}:{ring.primary}:{_b64encode(nonce + sealed)}"


def decrypt(token: str, *, context: str, row: str = "") -> str:
    """Decrypt a value made by ``encrypt`` for the same column and row; raise DecryptionError
    otherwise."""
    kid = key_id_of(token)
    if kid is None:
        raise DecryptionError(f"Stored value for {context} is not an encrypted value.")
    cipher = keyring().ciphers.get(kid)
    if cipher is None:
        raise DecryptionError(
            f"Stored value for {context} is under key id {kid!r}, which FIELD_ENCRYPTION_KEYS "
            "does not hold."
        )
    raw = _b64decode(token.split(":", 2)[2])
    if raw is None or len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(f"Stored value for {context} is malformed.")
    try:
        padded = cipher.decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(kid, context, row)
        )
    except InvalidTag:
        raise DecryptionError(
            f"Stored value for {context} failed authentication under key id {kid!r}: "
            "wrong key, value copied from another field or row, or tampered."
        ) from None
    plaintext = _unpad(padded)
    if plaintext is None:
        raise DecryptionError(f"Stored value for {context} is malformed.")
    return plaintext.decode("utf-8")


def key_id_of(token: object) -> str | None:
    """Return the key id an encrypted value names, or None if it is not one."""
    if not isinstance(token, str):
        return None
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION or not KEY_ID.fullmatch(parts[1]):
        return None
    return parts[1]


def primary_key_id() -> str:
    """Return the id of the key that new values are encrypted under."""
    return keyring().primary


def blind_index(value: str, *, context: str) -> str:
    """Return a keyed HMAC-SHA256 of the normalised value, for exact-match lookups.

    The index key is separate from the encryption keys, so rotating those leaves indexes valid.
    """
    normalised = normalise_for_index(value)
    if not normalised:
        raise ValueError(f"Nothing to index for {context}: the value is empty once normalised.")
    message = context.encode("utf-8") + b"\x00" + normalised.encode("utf-8")
    return hmac.new(blind_index_key(), message, hashlib.sha256).hexdigest()


def email_index(value: str, *, context: str) -> str:
    """Return the blind index of an e-mail address, case-insensitively (a.b@x.org is not ab@x.org,
    so its punctuation is kept, unlike `blind_index`)."""
    normalised = unicodedata.normalize("NFKC", value).strip().casefold()
    if "@" not in normalised:
        raise ValueError(f"Nothing to index for {context}: not an e-mail address.")
    message = context.encode("utf-8") + b"\x00" + normalised.encode("utf-8")
    return hmac.new(blind_index_key(), message, hashlib.sha256).hexdigest()


def a_number_index(value: str, *, context: str) -> str:
    """Return the blind index of an A-number however it was typed: A012-345-678, 12345678 and the
    same in full-width digits are one number (its ASCII digits, without leading zeros)."""
    return blind_index(normalise_a_number(value), context=context)


def normalise_a_number(value: str) -> str:
    """Return an A-number's digits without prefix, separators or leading zeros ("" if none)."""
    digits = "".join(c for c in unicodedata.normalize("NFKC", value) if "0" <= c <= "9")
    return digits.lstrip("0")


def normalise_for_index(value: str) -> str:
    """Fold case and compatibility forms and drop everything but letters and digits."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return "".join(char for char in folded if char.isalnum())


def generate_key_line(key_id: str) -> str:
    """Return a new ``key_id:base64key`` entry for FIELD_ENCRYPTION_KEYS."""
    if not KEY_ID.fullmatch(key_id):
        raise ValueError("A key id is 1-32 letters, digits, '-' or '_'.")
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode('ascii')}"


def generate_blind_index_key() -> str:
    """Return a new base64 value for BLIND_INDEX_KEY."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def keyring() -> Keyring:
    """Return the configured keys, parsed once per distinct setting value."""
    entries = settings.FIELD_ENCRYPTION_KEYS
    if isinstance(entries, str):
        entries = entries.split(",")
    return _parse_keyring(tuple(entries))


def blind_index_key() -> bytes:
    """Return the configured blind index key."""
    return _parse_blind_index_key(getattr(settings, "BLIND_INDEX_KEY", "") or "")


@lru_cache(maxsize=8)
def _parse_keyring(entries: tuple[str, ...]) -> Keyring:
    ciphers: dict[str, AESGCM] = {}
    order: list[str] = []
    for position, entry in enumerate(_non_empty(entries), start=1):
        kid, sep, encoded = entry.partition(":")
        kid = kid.strip()
        if not sep or not KEY_ID.fullmatch(kid):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entry {position} is not 'key_id:base64key' "
                "(a key id is 1-32 letters, digits, '-' or '_')."
            )
        if kid in ciphers:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS names key id {kid!r} twice.")
        key = _decode_key(encoded, what=f"FIELD_ENCRYPTION_KEYS key {kid!r}")
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS key {kid!r} is {len(key)} bytes; AES-256 needs exactly "
                f"{KEY_BYTES}. Generate one with `manage.py generate_field_key`."
            )
        ciphers[kid] = AESGCM(key)
        order.append(kid)
    if not order:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty: set it to 'key_id:base64key' "
            "(generate one with `manage.py generate_field_key`)."
        )
    return Keyring(primary=order[0], ciphers=ciphers)


@lru_cache(maxsize=4)
def _parse_blind_index_key(encoded: str) -> bytes:
    if not encoded.strip():
        raise ImproperlyConfigured(
            "BLIND_INDEX_KEY is empty: set it to a base64 key of at least 32 bytes "
            "(generate one with `manage.py generate_field_key --blind-index`)."
        )
    key = _decode_key(encoded, what="BLIND_INDEX_KEY")
    if len(key) < BLIND_INDEX_MIN_BYTES:
        raise ImproperlyConfigured(
            f"BLIND_INDEX_KEY is {len(key)} bytes; it needs at least {BLIND_INDEX_MIN_BYTES}."
        )
    return key


def _decode_key(encoded: str, *, what: str) -> bytes:
    text = encoded.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{what} is not valid base64.") from None


def _non_empty(entries: Iterable[str]) -> Iterable[str]:
    return (entry.strip() for entry in entries if entry and entry.strip())


def _associated_data(kid: str, context: str, row: str) -> bytes:
    if not context:
        raise ValueError("An encryption context is required (e.g. 'cases.Case.legal_name').")
    # Neither part may contain the separator, so no (context, row) pair can pass for another.
    if "\x00" in context or "\x00" in row:
        raise ValueError("An encryption context or row id cannot contain a NUL character.")
    return f"{VERSION}:{kid}:{context}\x00{row}".encode()


def bucket_size(length: int) -> int:
    """Return the padded length for a plaintext of `length` bytes (at least one byte of padding)."""
    size = SMALLEST_BUCKET
    while size <= length:
        size = size * 2 if size < LARGEST_DOUBLING else size + LARGEST_DOUBLING
    return size


def _pad(data: bytes) -> bytes:
    return data + PAD_MARK + b"\x00" * (bucket_size(len(data)) - len(data) - 1)


def _unpad(data: bytes) -> bytes | None:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(PAD_MARK) or len(data) != bucket_size(len(stripped) - 1):
        return None
    return stripped[:-1]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes | None:
    # Only the canonical encoding is accepted, so no character of a stored value can change unseen.
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if _b64encode(data) == text else None

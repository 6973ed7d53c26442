"""Deploy checks of our own: a strict, nonce-based Content Security Policy, usable keys of our own
(never one published with the demo), the database roles and the database's day."""

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

UNSAFE_SOURCES = {
    "'unsafe-inline'",
    "'unsafe-eval'",
    "'unsafe-hashes'",
    "*",
    "data:",
    "http:",
    "https:",
}
CSP_MIDDLEWARE = "django.middleware.csp.ContentSecurityPolicyMiddleware"


@checks.register(checks.Tags.security, deploy=True)
def check_csp(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Fail the deploy check unless the CSP is enforced, nonce-based and free of unsafe sources."""
    errors: list[checks.CheckMessage] = []
    policy: dict[str, list[str]] = getattr(settings, "SECURE_CSP", None) or {}
    if CSP_MIDDLEWARE not in settings.MIDDLEWARE:
        errors.append(checks.Error(f"{CSP_MIDDLEWARE} is not installed.", id="fund.E001"))
    if not policy:
        errors.append(checks.Error("SECURE_CSP is missing or empty.", id="fund.E002"))
        return errors
    for directive in ("default-src", "script-src", "object-src", "base-uri", "frame-ancestors"):
        if directive not in policy:
            errors.append(checks.Error(f"SECURE_CSP lacks {directive}.", id="fund.E003"))
    script_src = policy.get("script-src", [])
    if CSP.NONCE not in script_src:
        errors.append(checks.Error("SECURE_CSP script-src must use nonces.", id="fund.E004"))
    for directive, sources in policy.items():
        if directive in ("img-src", "font-src"):
            continue
        weak = UNSAFE_SOURCES.intersection(sources)
        if weak:
            errors.append(
                checks.Error(
                    f"SECURE_CSP {directive} allows {', '.join(sorted(weak))}.", id="fund.E005"
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_no_demo_secrets(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Fail the deploy check for each secret published with the demo, whatever it is named.

    Keys are compared by their bytes, so the demo field key under another key id, or written in
    URL-safe base64, is still the demo key.
    """
    errors: list[checks.CheckMessage] = []
    if settings.DEMO_SECRET_KEY in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        errors.append(checks.Error("SECRET_KEY is the published demo key.", id="fund.E011"))
    demo_field_key = _key_bytes(settings.DEMO_FIELD_KEY.partition(":")[2])
    entries = settings.FIELD_ENCRYPTION_KEYS
    for entry in entries.split(",") if isinstance(entries, str) else entries:
        kid, _, encoded = entry.strip().partition(":")
        if _key_bytes(encoded) == demo_field_key:
            errors.append(
                checks.Error(
                    f"FIELD_ENCRYPTION_KEYS key {kid!r} is the published demo key.", id="fund.E008"
                )
            )
    if _key_bytes(settings.BLIND_INDEX_KEY or "") == _key_bytes(settings.DEMO_BLIND_INDEX_KEY):
        errors.append(checks.Error("BLIND_INDEX_KEY is the published demo key.", id="fund.E012"))
    return errors


def _key_bytes(encoded: str) -> bytes | None:
    text = encoded.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True) or None
    except (binascii.Error, ValueError):
        return None


@checks.register(checks.Tags.security, deploy=True)
def check_seal_key(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Fail the deploy check unless the books can be sealed with a key of our own."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from fund.ledger import seals

    try:
        signing = seals.signing_key()
        trusted = seals.trusted_keys()
    except (seals.SealError, ImproperlyConfigured) as error:
        return [checks.Error(str(error), id="fund.E009")]
    demo = Ed25519PrivateKey.from_private_bytes(base64.b64decode(settings.DEMO_SEAL_KEY))
    demo_id = seals.key_id(demo.public_key())
    if seals.key_id(signing.public_key()) == demo_id:
        return [checks.Error("LEDGER_SEAL_KEY is the published demo key.", id="fund.E010")]
    if demo_id in trusted:
        return [
            checks.Error(
                "LEDGER_SEAL_PUBLIC_KEYS trusts the demo's public key: anyone could forge a seal.",
                id="fund.E013",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_database_roles(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn unless the app runs as a role that does not own the ledger (docs/deployment.md)."""
    from django.db import DatabaseError, connection

    from fund.ledger.privileges import owner_role, runtime_owns_ledger

    if owner_role() is None:
        return [
            checks.Warning(
                "DATABASE_OWNER_URL is not set: the app's own database role owns the ledger's "
                "tables and could rewrite them. Create an owner role (docs/deployment.md).",
                id="fund.W011",
            )
        ]
    try:
        owns = runtime_owns_ledger(connection)
    except DatabaseError as error:
        return [checks.Warning(f"Could not check who owns the ledger: {error}", id="fund.W012")]
    if owns is None:
        return [checks.Warning("The database is not migrated yet: run migrate.", id="fund.W013")]
    if owns:
        return [
            checks.Warning(
                "The runtime role (DATABASE_URL) owns the ledger's tables: run migrate with "
                "DATABASE_OWNER_URL so the owner role owns them (docs/deployment.md).",
                id="fund.W014",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_database_today(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn when the database counts days in another zone than TIME_ZONE (migrate rewrites it)."""
    from django.db import DatabaseError, connection

    from fund.ledger.today import database_zone

    try:
        zone = database_zone(connection)
    except DatabaseError as error:
        return [checks.Warning(f"Could not read the database's today: {error}", id="fund.W016")]
    if zone is not None and zone != settings.TIME_ZONE:
        return [
            checks.Warning(
                f"The database counts days in {zone} but TIME_ZONE is {settings.TIME_ZONE}: "
                "closing the books and the 31-day limit would use the wrong day. Run "
                "manage.py migrate.",
                id="fund.W017",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_client_addresses(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn when behind a proxy whose client addresses the app ignores (docs/deployment.md)."""
    if settings.BEHIND_TLS_PROXY and not settings.ALLAUTH_TRUSTED_PROXY_COUNT:
        return [
            checks.Warning(
                "BEHIND_TLS_PROXY is set but TRUSTED_PROXY_COUNT is 0: every client looks like "
                "the proxy, so one client guessing passwords would lock out the whole staff. "
                "Set TRUSTED_PROXY_COUNT=1 and have the proxy send X-Forwarded-For.",
                id="fund.W015",
            )
        ]
    return []

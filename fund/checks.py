"""Deploy checks of our own: a strict, nonce-based Content Security Policy and usable field keys."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from fund.security import crypto

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
def check_field_keys(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Fail the deploy check unless the field encryption and blind index keys are usable."""
    errors: list[checks.CheckMessage] = []
    try:
        ring = crypto.keyring()
    except ImproperlyConfigured as error:
        errors.append(checks.Error(str(error), id="fund.E006"))
    else:
        if "demo" in ring.ciphers:
            errors.append(
                checks.Error("FIELD_ENCRYPTION_KEYS holds the published demo key.", id="fund.E008")
            )
    try:
        crypto.blind_index_key()
    except ImproperlyConfigured as error:
        errors.append(checks.Error(str(error), id="fund.E007"))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_seal_key(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Fail the deploy check unless the books can be sealed with a key of our own."""
    from fund.ledger import seals

    try:
        seals.signing_key()
        seals.trusted_keys()
    except (seals.SealError, ImproperlyConfigured) as error:
        return [checks.Error(str(error), id="fund.E009")]
    if settings.LEDGER_SEAL_KEY.strip() == settings.DEMO_SEAL_KEY:
        return [checks.Error("LEDGER_SEAL_KEY is the published demo key.", id="fund.E010")]
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

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

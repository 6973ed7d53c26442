"""Second factors: enforced for every staff account, their secrets encrypted, removed only by an
admin through `remove_second_factor`, which is recorded and tells the person."""

from collections.abc import Callable
from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from fund.security import crypto
from fund.security.alerts import record_security_event
from fund.security.models import SecurityEvent
from fund.security.roles import STAFF_ADMINS
from fund.tasks import send_staff_email

# Paths a signed-in user without a second factor may still reach: enrolment itself, logout, assets.
ENROLMENT_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/static/",
)
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
# allauth keeps a TOTP secret in data["secret"] and a recovery-code seed in data["seed"] (codes
# migrated from elsewhere in data["migrated_codes"]); each goes through MFA_ADAPTER's encrypt().
SECRET_CONTEXT = "mfa.Authenticator.data"  # noqa: S105  (a name for the column, not a secret)
SECRET_KEYS = ("secret", "seed")
SECRET_LISTS = ("migrated_codes",)


def encrypt_secret(text: str) -> str:
    """Encrypt a second-factor secret with the field encryption keys."""
    return crypto.encrypt(text, context=SECRET_CONTEXT)


def decrypt_secret(token: str) -> str:
    """Decrypt a second-factor secret; DecryptionError if it is not one of ours."""
    return crypto.decrypt(token, context=SECRET_CONTEXT)


def secrets_in(data: dict[str, Any]) -> list[str]:
    """Return the (encrypted) secrets an authenticator's data holds."""
    found = [data[key] for key in SECRET_KEYS if isinstance(data.get(key), str)]
    for key in SECRET_LISTS:
        found += [value for value in data.get(key) or () if isinstance(value, str)]
    return found


def with_secrets(data: dict[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    """Return a copy of the data with `change` applied to every secret in it."""
    changed = dict(data)
    for key in SECRET_KEYS:
        if isinstance(data.get(key), str):
            changed[key] = change(data[key])
    for key in SECRET_LISTS:
        if data.get(key) is not None:
            changed[key] = [change(value) for value in data[key]]
    return changed


@transaction.atomic
def remove_second_factor(*, actor: User, authenticator: Authenticator) -> None:
    """Remove a staff member's authenticator (a lost phone): recorded, admins alerted, the person
    e-mailed; their API tokens are revoked (fund.security.signals)."""
    STAFF_ADMINS.check(actor)
    account = authenticator.user
    kind = str(authenticator.get_type_display())
    authenticator.delete()
    record_security_event(
        kind=SecurityEvent.Kind.FACTOR_REMOVED,
        account=account,
        actor=actor,
        detail=f"{kind} removed by admin #{actor.pk}",
    )
    context: dict[str, str | int] = {"kind": kind}
    transaction.on_commit(
        lambda: send_staff_email.enqueue(account.pk, "fund/email/second_factor_removed", context)
    )


def has_second_factor(user: object) -> bool:
    """Return whether the user has enrolled a TOTP app or a passkey."""
    return bool(Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exists())


class RequireSecondFactorMiddleware:
    """Send a signed-in user without a second factor to TOTP enrolment, whatever they asked for."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(ENROLMENT_PREFIXES)
            and not has_second_factor(user)
        ):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

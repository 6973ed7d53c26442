"""Demo staff for `make demo`: one account per role, with published credentials.

The password and TOTP secret below are public on purpose, so a newcomer is inside the demo within a
minute. seed_demo and demo_totp refuse to run unless DEBUG is on.
"""

import time
from dataclasses import dataclass

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from fund.security.roles import StaffRole
from fund.security.staff import set_staff_roles

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  (published demo credential)
DEMO_TOTP_SECRET = "DEFENSEFUNDDEMOTOTPSECRETXYZ2345"  # noqa: S105  (published demo credential)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    title: str
    roles: frozenset[StaffRole]
    legal_director: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("coordinator", "legal coordinator", frozenset({StaffRole.COORDINATOR})),
    DemoAccount(
        "director", "legal director", frozenset({StaffRole.COORDINATOR}), legal_director=True
    ),
    DemoAccount("treasurer", "treasurer", frozenset({StaffRole.TREASURER})),
    DemoAccount("treasurer2", "second treasurer", frozenset({StaffRole.TREASURER})),
    DemoAccount("auditor", "auditor", frozenset({StaffRole.AUDITOR})),
    DemoAccount("admin", "admin", frozenset({StaffRole.ADMIN})),
)


@dataclass(frozen=True)
class SeededAccount:
    account: DemoAccount
    user: User
    recovery_codes: list[str]


def _totp_secret(user: User) -> str | None:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    return None if authenticator is None else decrypt(authenticator.data["secret"])


@transaction.atomic
def seed_staff() -> list[SeededAccount]:
    """Create or repair the demo staff accounts, each with the demo TOTP secret. Idempotent."""
    User = get_user_model()
    seeded = []
    for account in DEMO_ACCOUNTS:
        user, _ = User.objects.get_or_create(
            username=account.username,
            defaults={"email": f"{account.username}@demo.invalid", "first_name": "Demo"},
        )
        if not user.check_password(DEMO_PASSWORD) or not user.is_active:
            user.set_password(DEMO_PASSWORD)
            user.is_active = True
            user.save()
        set_staff_roles(
            actor=None, user=user, roles=set(account.roles), legal_director=account.legal_director
        )
        if _totp_secret(user) != DEMO_TOTP_SECRET:
            Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
            TOTP.activate(user, DEMO_TOTP_SECRET)
        codes = RecoveryCodes.activate(user).get_unused_codes()
        seeded.append(SeededAccount(account=account, user=user, recovery_codes=codes))
    return seeded


def is_demo_account(user: User) -> bool:
    """Return whether the user is a demo account still holding the published TOTP secret."""
    names = {account.username for account in DEMO_ACCOUNTS}
    return user.get_username() in names and _totp_secret(user) == DEMO_TOTP_SECRET


def demo_totp_code(at: float | None = None) -> tuple[str, int]:
    """Return the demo secret's current TOTP code and the seconds it stays valid."""
    now = time.time() if at is None else at
    period = mfa_settings.TOTP_PERIOD
    code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(now) // period))
    return code, period - int(now) % period

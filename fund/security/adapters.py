"""allauth adapter: staff accounts only, created by an admin; sign-in limits that an outsider
cannot turn against the staff."""

import time
from datetime import UTC, datetime
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend
from allauth.account.authentication import get_authentication_records
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.contrib.auth import authenticate
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from fund.security.alerts import note_failed_sign_in
from fund.security.mfa import SECOND_FACTORS, decrypt_secret, encrypt_secret


class StaffAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth is untyped
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Refuse public sign-up: staff are created with manage.py create_staff."""
        return False

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """Count failed sign-ins per account *and* client.

        Keyed by account alone, anyone could lock a staff member out by failing as them; keyed so,
        failures from one client lock out only that client. The client is the address the trusted
        proxy reports (TRUSTED_PROXY_COUNT, docs/deployment.md).
        """
        login = str(credentials.get("username", "")).lower()
        return f"{login}:{self.get_client_ip(request)}"

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        """Check the password within the limits; an inactive account fails like a wrong password.

        allauth would otherwise tell a deactivated account with the right password so, on a page
        of its own, which says the password was right.
        """
        self.pre_authenticate(request, **credentials)
        AuthenticationBackend.unstash_authenticated_user()
        user: AbstractBaseUser | None = authenticate(request, **credentials)
        AuthenticationBackend.unstash_authenticated_user()  # the inactive account, if any: dropped
        if user is not None and user.is_active:
            # Roll back rather than clear, so successes cannot be slipped in between guesses.
            self._rollback_login_failed_rl_usage()
            return user
        self.authentication_failed(request, **credentials)
        return None

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        note_failed_sign_in(str(credentials.get("username", "")), self.get_client_ip(request))

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Let a just-signed-in account set up its second factor without a password re-prompt.

        allauth asks for the password again before MFA changes, and a sign-in does not count.
        Enrolment is forced right after sign-in, so a password sign-in made in this session within
        the reauthentication timeout counts, as long as every second factor the account holds was
        enrolled after it: the first enrolment session only, never an account enrolled before.
        """
        if app == "allauth.mfa" and self._enrolling_right_after_password_sign_in():
            return False
        return bool(super().is_reauthentication_required(app=app, **kwargs))

    def _enrolling_right_after_password_sign_in(self) -> bool:
        request = self.request
        user = getattr(request, "user", None)
        if request is None or user is None or not user.is_authenticated:
            return False
        signed_in_at = [
            record["at"]
            for record in get_authentication_records(request, user)
            if record.get("method") == "password"
        ]
        if not signed_in_at:
            return False
        last = max(signed_in_at)
        if time.time() - last >= account_settings.REAUTHENTICATION_TIMEOUT:
            return False
        since = datetime.fromtimestamp(last, tz=UTC)
        return not Authenticator.objects.filter(
            user=user, type__in=SECOND_FACTORS, created_at__lt=since
        ).exists()


class StaffMFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]  # allauth is untyped
    """TOTP secrets and recovery-code seeds encrypted with the field encryption keys, so a
    database dump or a look at Django admin hands over no second factor."""

    def encrypt(self, text: str) -> str:
        return encrypt_secret(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_secret(encrypted_text)

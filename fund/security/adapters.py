"""allauth adapter: staff accounts only, created by an admin."""

import time
from datetime import UTC, datetime
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from fund.security.mfa import SECOND_FACTORS


class StaffAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth is untyped
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Refuse public sign-up: staff are created with manage.py create_staff."""
        return False

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

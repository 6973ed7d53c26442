"""Second factor enforcement for every staff account."""

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

# Paths a signed-in user without a second factor may still reach: enrolment itself, logout, assets.
ENROLMENT_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/static/",
)
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


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

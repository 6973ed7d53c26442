"""Walk allauth's real sign-in forms, as a browser without JavaScript would."""

import re

from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, totp_code

LOGIN_URL = reverse("account_login")
SECOND_FACTOR_URL = reverse("mfa_authenticate")
ENROL_TOTP_URL = reverse("mfa_activate_totp")


def sign_in(client: Client, login: str, password: str = PASSWORD, next_url: str = ""):
    """Post the password form and return the (unfollowed) response."""
    url = f"{LOGIN_URL}?next={next_url}" if next_url else LOGIN_URL
    return client.post(url, {"login": login, "password": password})


def pass_second_factor(client: Client, secret: str):
    """Post the current TOTP code for the secret to the second-factor form."""
    return client.post(SECOND_FACTOR_URL, {"code": totp_code(secret)})


def secret_on_enrolment_page(html: str) -> str:
    """Read the TOTP secret a person would type into their app off the enrolment page."""
    match = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', html)
    assert match, "the enrolment page does not show the secret as text"
    return match.group(1)

"""A staff member adds a passkey and signs in with it, in Chromium, via a virtual authenticator."""

import re
from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import CDPSession, Page, expect

from fund.security.roles import StaffRole
from tests.conftest import PASSWORD, enrol_totp, make_staff, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server) -> str:
    """Return the live server's address by name: WebAuthn refuses an IP address as relying party."""
    return live_server.url.replace("127.0.0.1", "localhost")


@dataclass
class VirtualAuthenticator:
    cdp: CDPSession
    authenticator_id: str

    def credentials(self) -> list[dict]:
        """Return the credentials the authenticator holds, as DevTools describes them."""
        reply = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})
        return reply["credentials"]


@pytest.fixture
def authenticator(page: Page) -> VirtualAuthenticator:
    """Plug a platform authenticator into the browser that verifies its user without a prompt."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return VirtualAuthenticator(cdp, added["authenticatorId"])


def sign_in_with_password(page: Page, site: str, username: str) -> None:
    page.goto(f"{site}/accounts/login/")
    page.get_by_label(re.compile(r"^Username")).fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in_with_password_and_totp(page: Page, site: str, username: str, secret: str) -> None:
    sign_in_with_password(page, site, username)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_label("Code").fill(totp_code(secret, margin=5))
    page.get_by_role("button", name="Continue").click()
    expect_dashboard(page, username)


def add_passkey(page: Page) -> None:
    """From the dashboard, add a passkey as the signed-in staff member would."""
    page.get_by_role("link", name="Sign-in security").click()
    expect(page.get_by_role("heading", name="Security Keys")).to_be_visible()
    page.locator("section", has=page.get_by_role("heading", name="Security Keys")).get_by_role(
        "link", name="Add"
    ).click()
    # Adding a key is a sensitive change: allauth asks for the password again first.
    expect(page.get_by_role("heading", name="Confirm Access")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Add Security Key")).to_be_visible()
    page.get_by_label("Passwordless").check()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Security key added.")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def expect_dashboard(page: Page, username: str) -> None:
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_text(re.compile(rf"^Signed in as {username}\."))).to_be_visible()


def test_treasurer_with_totp_adds_a_passkey(
    page: Page, site, authenticator, django_user_model, csp_violations
):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret = enrol_totp(user)
    sign_in_with_password_and_totp(page, site, "tess", secret)

    add_passkey(page)

    page.get_by_role("link", name="Security").click()
    expect(page.get_by_text("You have added 1 security key.")).to_be_visible()
    page.get_by_role("link", name="Manage").click()
    expect(page.get_by_role("cell", name=re.compile(r"Passkey"))).to_be_visible()
    key = Authenticator.objects.get(user=user, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().is_passwordless is True
    assert key.last_used_at is None
    [credential] = authenticator.credentials()
    assert credential["isResidentCredential"] is True
    assert credential["rpId"] == "localhost"
    assert csp_violations == []


def test_treasurer_signs_in_with_the_passkey_alone(
    page: Page, site, authenticator, django_user_model, csp_violations
):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret = enrol_totp(user)
    sign_in_with_password_and_totp(page, site, "tess", secret)
    add_passkey(page)
    sign_out(page)

    page.goto(f"{site}/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()

    expect_dashboard(page, "tess")
    key = Authenticator.objects.get(user=user, type=Authenticator.Type.WEBAUTHN)
    assert key.last_used_at is not None
    assert csp_violations == []


def test_treasurer_uses_the_passkey_as_second_factor_after_the_password(
    page: Page, site, authenticator, django_user_model, csp_violations
):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret = enrol_totp(user)
    sign_in_with_password_and_totp(page, site, "tess", secret)
    add_passkey(page)
    sign_out(page)

    sign_in_with_password(page, site, "tess")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_role("button", name="Use a security key or passkey").click()

    expect_dashboard(page, "tess")
    key = Authenticator.objects.get(user=user, type=Authenticator.Type.WEBAUTHN)
    assert key.last_used_at is not None
    assert csp_violations == []

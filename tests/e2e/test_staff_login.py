"""A staff member signs in, is made to enrol a second factor, and reaches their dashboard."""

import re

import pytest
from playwright.sync_api import Page, expect

from fund.security.roles import StaffRole
from tests.conftest import PASSWORD, enrol_totp, make_staff, totp_code
from tests.e2e.conftest import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in_with_password(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_new_staff_member_is_made_to_enrol_totp_then_reaches_the_dashboard(
    page: Page, live_server, django_user_model, csp_violations
):
    make_staff(django_user_model, "newbie", StaffRole.TREASURER, mfa=False)

    sign_in_with_password(page, live_server.url, "newbie")

    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.locator("img.qr")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Authenticator code").fill(totp_code(secret, margin=5))
    page.get_by_role("button", name="Activate").click()

    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    page.get_by_role("link", name="Continue to your dashboard").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Signed in as newbie\."))).to_be_visible()
    assert csp_violations == []


def test_enrolled_staff_member_passes_the_totp_step_to_the_dashboard(
    page: Page, live_server, django_user_model, csp_violations
):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret = enrol_totp(user)

    sign_in_with_password(page, live_server.url, "tess")

    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_label("Code").fill(totp_code(secret, margin=5))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_text(re.compile(r"^Signed in as tess\."))).to_be_visible()
    assert csp_violations == []


def test_login_page_fits_a_phone_without_sideways_scrolling(
    page: Page, live_server, csp_violations
):
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/accounts/login/")

    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert horizontal_overflow(page) <= 0
    assert csp_violations == []


def test_totp_enrolment_fits_a_phone_and_shows_the_whole_secret(
    page: Page, live_server, django_user_model, csp_violations
):
    make_staff(django_user_model, "newbie", StaffRole.COORDINATOR, mfa=False)
    page.set_viewport_size(PHONE)

    sign_in_with_password(page, live_server.url, "newbie")

    expect(page.locator("#totp-secret")).to_be_in_viewport()
    assert horizontal_overflow(page) <= 0
    assert csp_violations == []

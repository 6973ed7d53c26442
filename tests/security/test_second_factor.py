"""A second factor is mandatory for every staff role, Django admin included."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from fund.security.roles import StaffRole
from tests.conftest import enrol_totp, make_staff, totp_code
from tests.security.signin import (
    ENROL_TOTP_URL,
    SECOND_FACTOR_URL,
    pass_second_factor,
    secret_on_enrolment_page,
    sign_in,
)

STAFF_KINDS = {
    "coordinator": {"roles": [StaffRole.COORDINATOR]},
    "legal director": {"roles": [StaffRole.COORDINATOR], "perms": ["cases.view_all_cases"]},
    "treasurer": {"roles": [StaffRole.TREASURER]},
    "auditor": {"roles": [StaffRole.AUDITOR]},
    "admin": {"roles": [StaffRole.ADMIN]},
}
GUARDED_PAGES = ["/staff/", "/admin/", "/api/v1/docs", "/api/v1/me", "/accounts/email/"]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", STAFF_KINDS)
def test_staff_without_second_factor_can_do_nothing_but_enrol_then_reaches_dashboard(
    client, django_user_model, kind
):
    spec = STAFF_KINDS[kind]
    user = make_staff(
        django_user_model, "newbie", *spec["roles"], mfa=False, perms=spec.get("perms", ())
    )

    response = sign_in(client, "newbie")
    assert response.status_code == 302
    assert client.get(response.url).url == ENROL_TOTP_URL
    for page in GUARDED_PAGES:
        response = client.get(page)
        assert (response.status_code, response.url) == (302, ENROL_TOTP_URL), page

    page = client.get(ENROL_TOTP_URL)
    assert page.status_code == 200
    secret = secret_on_enrolment_page(page.text)
    response = client.post(ENROL_TOTP_URL, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response.url == reverse("mfa_view_recovery_codes")
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    dashboard = client.get("/staff/")
    assert dashboard.status_code == 200
    assert "Signed in as <strong>newbie</strong>" in dashboard.text


@pytest.mark.django_db
def test_a_wrong_enrolment_code_does_not_enrol(client, django_user_model):
    make_staff(django_user_model, "newbie", StaffRole.TREASURER, mfa=False)
    sign_in(client, "newbie")
    client.get(ENROL_TOTP_URL)

    response = client.post(ENROL_TOTP_URL, {"code": "000000"})

    assert response.status_code == 200
    assert not Authenticator.objects.filter(user__username="newbie").exists()
    assert client.get("/staff/").url == ENROL_TOTP_URL


@pytest.mark.django_db
def test_signing_in_with_totp_enrolled_asks_for_the_code_then_lands_on_dashboard(
    client, django_user_model
):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret = enrol_totp(user)

    response = sign_in(client, "tess")
    assert (response.status_code, response.url) == (302, SECOND_FACTOR_URL)
    # The password alone signs nobody in.
    assert client.get("/staff/").url.startswith(reverse("account_login"))
    assert "code from your authenticator app" in client.get(SECOND_FACTOR_URL).text

    response = pass_second_factor(client, secret)
    assert (response.status_code, response.url) == (302, reverse("dashboard"))
    assert client.get("/staff/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_totp_code_does_not_sign_in(client, django_user_model):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    enrol_totp(user)
    sign_in(client, "tess")

    response = client.post(SECOND_FACTOR_URL, {"code": "000000"})

    assert response.status_code == 200
    assert "Incorrect code" in response.text
    assert client.get("/staff/").status_code == 302


@pytest.mark.django_db
def test_django_admin_signs_in_through_allauth_and_the_second_factor(client, django_user_model):
    admin = make_staff(django_user_model, "ada", StaffRole.ADMIN, mfa=False)
    secret = enrol_totp(admin)

    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert client.get("/admin/").status_code == 302

    response = sign_in(client, "ada", next_url="/admin/")
    assert response.url == SECOND_FACTOR_URL
    assert client.get("/admin/").status_code == 302
    response = pass_second_factor(client, secret)
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_django_admin_form_login_cannot_bypass_the_second_factor(client, django_user_model):
    admin = make_staff(django_user_model, "ada", StaffRole.ADMIN, mfa=False)
    enrol_totp(admin)

    client.post("/admin/login/", {"username": "ada", "password": "correct horse battery staple"})

    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_enrolling_long_after_signing_in_asks_for_the_password_again(client, django_user_model):
    make_staff(django_user_model, "newbie", StaffRole.AUDITOR, mfa=False)
    sign_in(client, "newbie")
    session = client.session
    for record in session["account_authentication_methods"]:
        record["at"] -= 3600
    session.save()

    response = client.get(ENROL_TOTP_URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))


@pytest.mark.django_db
def test_turning_off_the_authenticator_still_asks_for_the_password_again(client, django_user_model):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret = enrol_totp(user)
    sign_in(client, "tess")
    pass_second_factor(client, secret)

    response = client.get(reverse("mfa_deactivate_totp"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))

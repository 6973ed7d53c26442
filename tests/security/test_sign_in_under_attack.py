"""An outsider hammering the sign-in cannot lock the staff out, and admins are told of the attack.

Requests come through the reverse proxy of docs/deployment.md: every one from 127.0.0.1, with the
client's address in X-Forwarded-For, which TRUSTED_PROXY_COUNT=1 makes the app believe.
"""

import secrets
import statistics
import time

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client

from fund.models import SecurityEvent
from fund.security.alerts import ATTACK_FAILURES
from fund.security.roles import StaffRole
from tests.conftest import PASSWORD, enrol_totp, make_staff
from tests.security.signin import LOGIN_URL, SECOND_FACTOR_URL, pass_second_factor, sign_in

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed login attempts. Try again later."
NOT_CORRECT = "The username and/or password you specified are not correct."
ATTACKER = "203.0.113.66"


@pytest.fixture(autouse=True)
def _behind_the_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


def from_address(address: str) -> Client:
    """A browser at `address`, reaching the app through the proxy."""
    return Client(REMOTE_ADDR="127.0.0.1", headers={"x-forwarded-for": address})


def signs_in_fully(client: Client, username: str, secret: str) -> bool:
    response = sign_in(client, username, PASSWORD)
    if response.status_code != 302 or response.url != SECOND_FACTOR_URL:
        return False
    return pass_second_factor(client, secret).status_code == 302 and (
        client.get("/staff/").status_code == 200
    )


def test_the_real_person_gets_in_while_another_client_hammers_their_account(django_user_model):
    tess = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret = enrol_totp(tess)
    attacker = from_address(ATTACKER)

    for attempt in range(30):
        sign_in(attacker, "tess", f"guess {attempt}")
        sign_in(attacker, f"random-{secrets.token_hex(4)}", "guess")

    # The attacker's own client is refused now, even with the right password...
    refused = sign_in(attacker, "tess", PASSWORD)
    assert refused.status_code == 429
    assert "Too many attempts from here" in refused.text
    # ...but Tess, at her own address, signs in with her password and her second factor.
    assert signs_in_fully(from_address("198.51.100.7"), "tess", secret)


def test_the_auditor_and_the_admin_get_in_during_a_spray_of_random_usernames(django_user_model):
    staff = {
        name: make_staff(django_user_model, name, role, mfa=False)
        for name, role in (("ada", StaffRole.AUDITOR), ("adm", StaffRole.ADMIN))
    }
    secrets_of = {name: enrol_totp(user) for name, user in staff.items()}
    for attempt in range(40):
        sign_in(from_address(ATTACKER), f"user{attempt}", "guess")

    for number, name in enumerate(staff, start=10):
        assert signs_in_fully(from_address(f"198.51.100.{number}"), name, secrets_of[name])


def test_per_client_limits_apply_to_the_address_the_proxy_reports(treasurer):
    for _ in range(5):
        sign_in(from_address(ATTACKER), "tess", "wrong")

    assert TOO_MANY in sign_in(from_address(ATTACKER), "tess", PASSWORD).text
    assert sign_in(from_address("198.51.100.7"), "tess", PASSWORD).status_code == 302


def test_a_client_guessing_many_names_is_limited_by_its_own_address(treasurer):
    for attempt in range(10):
        sign_in(from_address(ATTACKER), f"someone{attempt}", "wrong")

    assert TOO_MANY in sign_in(from_address(ATTACKER), "tess", PASSWORD).text
    assert sign_in(from_address("198.51.100.7"), "tess", PASSWORD).status_code == 302


def test_an_account_under_attack_raises_one_alert_that_admins_see_and_get_by_mail(
    django_user_model, treasurer, django_capture_on_commit_callbacks
):
    admin = make_staff(django_user_model, "adm", StaffRole.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        for attempt in range(ATTACK_FAILURES + 5):
            sign_in(from_address(f"203.0.113.{attempt % 9}"), "tess", f"guess {attempt}")

    (event,) = SecurityEvent.objects.all()
    assert (event.kind, event.account) == (SecurityEvent.Kind.LOGIN_ATTACK, treasurer)
    assert event.detail == f"{ATTACK_FAILURES} failed sign-ins from 9 client(s) within 15 minutes"
    (alert,) = mail.outbox
    assert alert.to == [admin.email]
    assert "tess" not in alert.subject
    assert f"staff account #{treasurer.pk}" in alert.body
    assert "203.0.113" not in alert.body

    admin_client = Client()
    admin_client.force_login(admin)
    page = admin_client.get("/staff/").text
    assert "Security alerts this week" in page
    assert event.detail in page
    treasurer_client = Client()
    treasurer_client.force_login(treasurer)
    assert "Security alerts" not in treasurer_client.get("/staff/").text


def test_failed_sign_ins_for_names_nobody_has_raise_no_alert(treasurer):
    for attempt in range(ATTACK_FAILURES + 5):
        sign_in(from_address(f"203.0.113.{attempt}"), "no-such-person", "guess")

    assert not SecurityEvent.objects.exists()
    assert mail.outbox == []


def test_a_deactivated_account_with_the_right_password_is_told_what_a_wrong_password_is(
    client, treasurer
):
    treasurer.is_active = False
    treasurer.save()

    right = sign_in(client, "tess", PASSWORD)
    wrong = sign_in(client, "tess", "not the password")

    assert right.status_code == wrong.status_code == 200
    assert NOT_CORRECT in right.text
    assert right.context["form"].errors == wrong.context["form"].errors


def test_sign_in_is_by_username_only(client, treasurer):
    response = sign_in(client, "tess@example.org", PASSWORD)

    assert response.status_code == 200
    assert NOT_CORRECT in response.text
    assert 'autocomplete="username"' in client.get(LOGIN_URL).text


def test_a_known_and_an_unknown_username_take_the_same_time(settings, treasurer):
    """With the production hasher; interleaved tries from fresh addresses so no limit cuts in."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    treasurer.password = make_password(PASSWORD)
    treasurer.save()
    Authenticator.objects.filter(user=treasurer).delete()
    timings: dict[str, list[float]] = {"tess": [], "nobody-by-this-name": []}
    for attempt in range(30):
        for name, times in timings.items():
            client = from_address(f"10.{attempt}.{len(times)}.{len(name)}")
            start = time.perf_counter()
            response = sign_in(client, name, "not the password")
            times.append(time.perf_counter() - start)
            assert NOT_CORRECT in response.text

    known, unknown = (statistics.median(times) for times in timings.values())
    # One Argon2 hash more or less would double the time: half of one is far beyond noise.
    assert abs(known - unknown) < 0.25 * min(known, unknown), (known, unknown)

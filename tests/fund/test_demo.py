"""`manage.py seed_demo` puts a newcomer inside the demo within a minute, however often it runs."""

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import User
from django.core.management import CommandError
from django.urls import reverse

from fund.demo.staff import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    demo_totp_code,
    seed_staff,
)
from fund.security.roles import VIEW_ALL_CASES, StaffRole, roles_of
from tests.conftest import run

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    """What a newcomer relies on: accounts, roles, and their second factors."""
    return [
        (
            user.username,
            sorted(roles_of(user)),
            user.has_perm(VIEW_ALL_CASES),
            user.is_superuser,
            user.check_password(DEMO_PASSWORD),
            sorted((a.type, a.pk) for a in Authenticator.objects.filter(user=user).order_by("pk")),
        )
        for user in User.objects.order_by("username")
    ]


@pytest.fixture
def debug(settings):
    # As `make demo` runs: DEBUG on, no Stripe key, so Stripe is played by the demo's own pages.
    settings.DEBUG = True
    settings.STRIPE_DEMO = True
    settings.STRIPE_SECRET_KEY = ""


def test_seed_demo_twice_gives_the_same_accounts_and_prints_how_to_get_in(debug):
    first_output = run("seed_demo")
    first = snapshot()

    second_output = run("seed_demo")

    assert snapshot() == first
    assert second_output == first_output
    assert {u.username for u in User.objects.all()} == {a.username for a in DEMO_ACCOUNTS}
    assert "http://127.0.0.1:8000" in first_output
    assert DEMO_PASSWORD in first_output
    assert DEMO_TOTP_SECRET in first_output
    assert "manage.py demo_totp" in first_output
    for account in DEMO_ACCOUNTS:
        codes = RecoveryCodes(
            Authenticator.objects.get(
                user__username=account.username, type=Authenticator.Type.RECOVERY_CODES
            )
        ).get_unused_codes()
        assert codes[0] in first_output


def test_every_demo_account_holds_its_role_and_a_second_factor():
    seed_staff()

    assert roles_of(User.objects.get(username="coordinator")) == {StaffRole.COORDINATOR}
    assert roles_of(User.objects.get(username="treasurer2")) == {StaffRole.TREASURER}
    director = User.objects.get(username="director")
    assert roles_of(director) == {StaffRole.COORDINATOR}
    assert director.has_perm(VIEW_ALL_CASES)
    assert not User.objects.get(username="coordinator").has_perm(VIEW_ALL_CASES)
    assert User.objects.get(username="admin").is_superuser
    for account in DEMO_ACCOUNTS:
        kinds = set(
            Authenticator.objects.filter(user__username=account.username).values_list(
                "type", flat=True
            )
        )
        assert kinds == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}


def test_seeding_again_repairs_a_demo_account_someone_changed():
    seed_staff()
    auditor = User.objects.get(username="auditor")
    auditor.set_password("something else entirely")
    auditor.groups.clear()
    auditor.save()
    Authenticator.objects.filter(user=auditor, type=Authenticator.Type.TOTP).delete()

    seed_staff()

    auditor = User.objects.get(username="auditor")
    assert auditor.check_password(DEMO_PASSWORD)
    assert roles_of(auditor) == {StaffRole.AUDITOR}
    assert Authenticator.objects.filter(user=auditor, type=Authenticator.Type.TOTP).exists()


def test_seed_demo_refuses_to_run_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only with DEBUG=1"):
        run("seed_demo")
    assert not User.objects.exists()


def test_a_demo_user_signs_in_with_the_demo_password_and_demo_totp_code(client, debug):
    seed_staff()

    response = client.post(
        reverse("account_login"), {"login": "treasurer", "password": DEMO_PASSWORD}
    )
    assert response.url == reverse("mfa_authenticate")
    code = run("demo_totp", "treasurer").strip()
    response = client.post(reverse("mfa_authenticate"), {"code": code})

    assert response.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_demo_user_signs_in_with_one_of_their_recovery_codes(client):
    seeded = next(s for s in seed_staff() if s.account.username == "auditor")
    recovery_code = seeded.recovery_codes[0]

    client.post(reverse("account_login"), {"login": "auditor", "password": DEMO_PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": recovery_code})

    assert response.url == reverse("dashboard")


def test_demo_totp_refuses_without_debug(settings):
    seed_staff()
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only with DEBUG=1"):
        run("demo_totp", "treasurer")


def test_demo_totp_refuses_an_account_that_is_not_a_demo_account(debug, treasurer):
    seed_staff()

    with pytest.raises(CommandError, match="'tess' is not a demo account"):
        run("demo_totp", "tess")


def test_demo_totp_refuses_a_demo_name_whose_secret_was_changed(debug):
    seed_staff()
    admin = User.objects.get(username="admin")
    Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(admin, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")

    with pytest.raises(CommandError, match="'admin' is not a demo account"):
        run("demo_totp", "admin")


def test_the_demo_code_is_the_standard_totp_of_the_published_secret():
    for moment in (0, 1_790_000_000, 1_790_000_029, 1_790_000_030):
        code, seconds = demo_totp_code(at=moment)
        assert code == pyotp.TOTP(DEMO_TOTP_SECRET).at(moment)
        assert 1 <= seconds <= 30

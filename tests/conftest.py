"""Personas and shared fixtures: permission tests read like stories."""

from io import StringIO

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.management import call_command

from fund.security.roles import StaffRole

PASSWORD = "correct horse battery staple"


def bearer(token: str) -> dict[str, str]:
    """Return the test client's keyword for an `Authorization: Bearer` header."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def run(*args: str) -> str:
    """Run a management command and return what it printed on stdout."""
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: start every test with none."""
    cache.clear()
    yield
    cache.clear()


def make_staff(django_user_model, username: str, *roles: StaffRole, mfa: bool = True, perms=()):
    user = django_user_model.objects.create_user(
        username=username, email=f"{username}@example.org", password=PASSWORD
    )
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    if StaffRole.ADMIN in roles:
        user.is_staff = user.is_superuser = True
        user.save()
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    if mfa:
        enrol_totp(user)
    return user


def enrol_totp(user) -> str:
    """Give the user a TOTP authenticator and return its secret."""
    secret = pyotp.random_base32()
    TOTP.activate(user, secret)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    return secret


@pytest.fixture
def treasurer(django_user_model):
    return make_staff(django_user_model, "tess", StaffRole.TREASURER)


@pytest.fixture
def other_treasurer(django_user_model):
    return make_staff(django_user_model, "omar", StaffRole.TREASURER)


@pytest.fixture
def coordinator(django_user_model):
    return make_staff(django_user_model, "cora", StaffRole.COORDINATOR)


@pytest.fixture
def other_coordinator(django_user_model):
    return make_staff(django_user_model, "cole", StaffRole.COORDINATOR)


@pytest.fixture
def legal_director(django_user_model):
    return make_staff(
        django_user_model, "lena", StaffRole.COORDINATOR, perms=["cases.view_all_cases"]
    )


@pytest.fixture
def auditor(django_user_model):
    return make_staff(django_user_model, "aldo", StaffRole.AUDITOR)


@pytest.fixture
def admin_user(django_user_model):
    return make_staff(django_user_model, "ada", StaffRole.ADMIN)


@pytest.fixture
def outsider(django_user_model):
    return make_staff(django_user_model, "otto")

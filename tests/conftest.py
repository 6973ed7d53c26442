"""Personas and shared fixtures: permission tests read like stories."""

import time
from datetime import timedelta
from io import StringIO

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.management import call_command

from fund.ledger.privileges import as_owner
from fund.security.roles import StaffRole

PASSWORD = "correct horse battery staple"
# Far longer than a test takes; one that would start closer to midnight waits for the new day.
MIDNIGHT_MARGIN_SECONDS = 30


@pytest.fixture(autouse=True)
def clear_of_midnight():
    """Start no test in the last seconds of a day in TIME_ZONE: wait for the next day instead.

    Tests ask for today when they run (tests/fund/conftest.py `today`), and the database's checks
    count from its own today (fund_today()); a test that began at 23:59:59 would set up on one
    day and assert on the next.
    """
    from django.utils import timezone

    now = timezone.localtime()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    left = (midnight - now).total_seconds()
    if left < MIDNIGHT_MARGIN_SECONDS:
        time.sleep(left + 0.5)


def bearer(token: str) -> dict[str, str]:
    """Return the test client's keyword for an `Authorization: Bearer` header."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def run(*args: str) -> str:
    """Run a management command and return what it printed on stdout."""
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb):
    """Create and migrate the test database as the owner role; tests then run as the runtime role.

    As in production, the app's role does not own the tables: it can write the ledger only
    through the database's functions. (pytest-django's own fixture would create the database
    with the runtime role, which may not.)
    """
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    verbosity = request.config.option.verbose
    with django_db_blocker.unblock(), as_owner(connection):
        databases = setup_databases(verbosity=verbosity, interactive=False, keepdb=django_db_keepdb)
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock(), as_owner(connection):
            teardown_databases(databases, verbosity=verbosity)


def database_url(which: str) -> str:
    """Return a libpq URL for the test database as the runtime role, the owner or the superuser.

    Skips the test when tests/pg.py did not provide that role (DATABASE_URL given by hand).
    """
    import os

    from django.conf import settings
    from django.db import connection

    if which == "runtime":
        parts = settings.DATABASES["default"] | {"USER": settings.DATABASE_RUNTIME_ROLE}
    elif which == "owner":
        owner = settings.DATABASE_OWNER
        if owner is None:
            pytest.skip("no separate owner role (DATABASE_OWNER_URL is not set)")
        parts = owner
    else:
        url = os.environ.get("TEST_SUPERUSER_URL")
        if not url:
            pytest.skip("no superuser connection (TEST_SUPERUSER_URL is not set)")
        import environ

        parts = environ.Env.db_url_config(url)
    host, port = parts.get("HOST") or "127.0.0.1", parts.get("PORT") or 5432
    user, database = parts["USER"], connection.settings_dict["NAME"]
    if str(host).startswith("/"):
        return f"postgres://{user}@/{database}?host={host}&port={port}"
    return f"postgres://{user}@{host}:{port}/{database}"


@pytest.fixture
def as_role():
    """Run SQL on a separate connection as the owner or the superuser, as an attacker might.

    `as_role("superuser", "SET session_replication_role = replica", sql)` runs the statements in
    one transaction and commits; the test must use transactional_db to see the effect.
    """
    import psycopg

    def run(which: str, *statements: str):
        with psycopg.connect(database_url(which)) as conn, conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            return cursor.fetchall() if cursor.description else None

    return run


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: start every test with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _private_documents(settings, tmp_path):
    """Case documents a test stores (the demo's too) go to its own directory, not var/."""
    settings.CASE_DOCUMENT_ROOT = tmp_path / "documents"


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


def totp_code(secret: str, margin: float = 1.5) -> str:
    """Return the secret's current code, with at least `margin` seconds of its window left.

    The server accepts only the current 30-second window, so a code read just before the
    window turns would be refused by the time it is posted (browsers need a longer margin).
    """
    totp = pyotp.TOTP(secret)
    left = totp.interval - time.time() % totp.interval
    if left < margin:
        time.sleep(left + 0.1)
    return totp.now()


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

"""Production settings pass `manage.py check --deploy` and refuse a weak or missing CSP."""

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.test import override_settings

from fund.ledger import seals
from fund.security import crypto
from tests.conftest import PASSWORD, database_url

ROOT = Path(__file__).resolve().parents[2]
COOKIE_PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in [
    "SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_PATH", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_DOMAIN", "CSRF_COOKIE_PATH",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "DEBUG",
]}))
"""


@pytest.fixture
def production_env(tmp_path, django_db_setup) -> dict[str, str]:
    """A production environment, and nothing from the test process's own settings.

    Its database is the test database, migrated by the owner role, which the app runs beside as
    the runtime role, as in production.
    """
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "fund.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "fund.example.org",
        "DATABASE_URL": database_url("runtime"),
        "DATABASE_OWNER_URL": database_url("owner"),
        "LEDGER_SEAL_KEY": seals.generate_key()[0],
        "FIELD_ENCRYPTION_KEYS": crypto.generate_key_line("k1"),
        "BLIND_INDEX_KEY": crypto.generate_blind_index_key(),
    }


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check(production_env):
    result = check_deploy(production_env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_inline_scripts_in_the_csp_fail_the_deploy_check(production_env):
    result = check_deploy(production_env | {"DJANGO_SETTINGS_MODULE": "tests.settings_weak_csp"})
    assert result.returncode != 0
    assert "(fund.E005) SECURE_CSP script-src allows 'unsafe-inline'." in result.stderr


def test_a_missing_csp_fails_the_deploy_check(production_env):
    result = check_deploy(production_env | {"DJANGO_SETTINGS_MODULE": "tests.settings_no_csp"})
    assert result.returncode != 0
    assert "(fund.E002) SECURE_CSP is missing or empty." in result.stderr


def test_production_without_a_secret_key_refuses_to_start(production_env):
    del production_env["SECRET_KEY"]
    result = check_deploy(production_env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("FIELD_ENCRYPTION_KEYS", None, "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off"),
        ("BLIND_INDEX_KEY", None, "BLIND_INDEX_KEY must be set when DEBUG is off"),
        ("FIELD_ENCRYPTION_KEYS", "k1:c2hvcnQ=", "FIELD_ENCRYPTION_KEYS key 'k1' is 5 bytes"),
        ("BLIND_INDEX_KEY", "c2hvcnQ=", "BLIND_INDEX_KEY is 5 bytes"),
    ],
)
def test_production_with_a_missing_or_broken_key_stops_at_start_up_with_one_line(
    production_env, name, value, line
):
    if value is None:
        del production_env[name]
    else:
        production_env[name] = value
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=ROOT,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    [printed] = result.stderr.strip().splitlines()
    assert printed.startswith(f"ImproperlyConfigured: {line}")


# Every secret published with the demo is refused, whatever it is called.


def test_the_demo_secret_key_fails_the_deploy_check(production_env):
    production_env["SECRET_KEY"] = settings.DEMO_SECRET_KEY
    result = check_deploy(production_env)
    assert result.returncode != 0
    assert "(fund.E011) SECRET_KEY is the published demo key." in result.stderr


DEMO_FIELD_KEY_BYTES = settings.DEMO_FIELD_KEY.partition(":")[2]


@pytest.mark.parametrize(
    ("keys", "kid"),
    [
        (settings.DEMO_FIELD_KEY, "demo"),
        ("k2026:" + DEMO_FIELD_KEY_BYTES, "k2026"),
        (crypto.generate_key_line("k2027") + ",old:" + DEMO_FIELD_KEY_BYTES, "old"),
    ],
    ids=["as published", "under another key id", "as an old key"],
)
def test_the_demo_field_key_fails_the_deploy_check_under_any_key_id(production_env, keys, kid):
    production_env["FIELD_ENCRYPTION_KEYS"] = keys
    result = check_deploy(production_env)
    assert result.returncode != 0
    assert f"(fund.E008) FIELD_ENCRYPTION_KEYS key {kid!r} is the published demo key." in (
        result.stderr
    )


def test_the_demo_blind_index_key_fails_the_deploy_check(production_env):
    production_env["BLIND_INDEX_KEY"] = settings.DEMO_BLIND_INDEX_KEY
    result = check_deploy(production_env)
    assert result.returncode != 0
    assert "(fund.E012) BLIND_INDEX_KEY is the published demo key." in result.stderr


def test_trusting_the_demo_seal_public_key_fails_the_deploy_check(production_env):
    demo = Ed25519PrivateKey.from_private_bytes(base64.b64decode(settings.DEMO_SEAL_KEY))
    production_env["LEDGER_SEAL_PUBLIC_KEYS"] = seals.public_key_text(demo.public_key())
    result = check_deploy(production_env)
    assert result.returncode != 0
    assert "(fund.E013) LEDGER_SEAL_PUBLIC_KEYS trusts the demo's public key" in result.stderr


@pytest.fixture
def production_cookies(production_env) -> dict[str, object]:
    """The cookie and transport settings that fund.settings computes with DEBUG off."""
    output = subprocess.run(
        [sys.executable, "-c", COOKIE_PROBE],
        cwd=ROOT,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return json.loads(output)


def test_production_cookies_are_host_prefixed_secure_and_host_only(production_cookies):
    assert production_cookies["DEBUG"] is False
    assert production_cookies["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert production_cookies["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert production_cookies["SESSION_COOKIE_SECURE"] is True
    assert production_cookies["CSRF_COOKIE_SECURE"] is True
    assert production_cookies["SESSION_COOKIE_HTTPONLY"] is True
    # Browsers reject a __Host- cookie that names a domain or a path other than /.
    assert production_cookies["SESSION_COOKIE_DOMAIN"] is None
    assert production_cookies["CSRF_COOKIE_DOMAIN"] is None
    assert production_cookies["SESSION_COOKIE_PATH"] == "/"
    assert production_cookies["CSRF_COOKIE_PATH"] == "/"
    assert production_cookies["SECURE_SSL_REDIRECT"] is True
    assert production_cookies["SECURE_HSTS_SECONDS"] >= 31536000


@pytest.mark.django_db
def test_signing_in_over_https_sets_only_secure_host_prefixed_cookies(
    client, coordinator, production_cookies
):
    cookie_settings = {
        name: value
        for name, value in production_cookies.items()
        if name.startswith(("SESSION_COOKIE_", "CSRF_COOKIE_"))
    }
    with override_settings(**cookie_settings):
        page = client.get("/accounts/login/", secure=True)
        assert page.status_code == 200
        signed_in = client.post(
            "/accounts/login/", {"login": "cora", "password": PASSWORD}, secure=True
        )
        assert signed_in.status_code == 302
    cookies = {**page.cookies, **signed_in.cookies}
    assert set(cookies) == {"__Host-csrftoken", "__Host-sessionid"}
    for morsel in cookies.values():
        assert morsel["secure"] is True
        assert morsel["path"] == "/"
        assert not morsel["domain"]
    assert cookies["__Host-sessionid"]["httponly"] is True
    assert cookies["__Host-sessionid"]["samesite"] == "Lax"


def test_the_deploy_check_warns_when_there_is_no_owner_role(production_env):
    del production_env["DATABASE_OWNER_URL"]
    result = check_deploy(production_env)
    assert result.returncode != 0
    assert "(fund.W011) DATABASE_OWNER_URL is not set" in result.stderr


def test_the_deploy_check_warns_when_the_app_role_owns_the_ledger(production_env):
    # The roles swapped by mistake: the app would connect as the owner of the tables.
    production_env["DATABASE_URL"], production_env["DATABASE_OWNER_URL"] = (
        production_env["DATABASE_OWNER_URL"],
        production_env["DATABASE_URL"],
    )
    result = check_deploy(production_env)
    assert result.returncode != 0
    assert "(fund.W014) The runtime role (DATABASE_URL) owns the ledger's tables" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "(fund.E009) LEDGER_SEAL_KEY is not set"),
        ("c2hvcnQ=", "(fund.E009) LEDGER_SEAL_KEY holds 5 bytes"),
        (settings.DEMO_SEAL_KEY, "(fund.E010) LEDGER_SEAL_KEY is the published"),
    ],
)
def test_the_deploy_check_needs_a_seal_key_of_our_own(production_env, value, message):
    production_env["LEDGER_SEAL_KEY"] = value
    result = check_deploy(production_env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_deploy_check_warns_when_the_database_counts_days_in_another_zone(production_env):
    # TIME_ZONE changed without a migrate: the database would still close Los Angeles days.
    result = check_deploy(production_env | {"TIME_ZONE": "Asia/Tokyo"})
    assert result.returncode != 0
    assert (
        "(fund.W017) The database counts days in America/Los_Angeles but TIME_ZONE is Asia/Tokyo"
        in result.stderr
    )


def test_behind_a_proxy_the_deploy_check_wants_the_client_address(production_env):
    production_env["BEHIND_TLS_PROXY"] = "1"
    result = check_deploy(production_env)
    assert result.returncode != 0
    assert "(fund.W015) BEHIND_TLS_PROXY is set but TRUSTED_PROXY_COUNT is 0" in result.stderr

    production_env["TRUSTED_PROXY_COUNT"] = "1"
    assert check_deploy(production_env).returncode == 0

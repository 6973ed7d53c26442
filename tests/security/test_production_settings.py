"""Production settings (not the fast test settings) hash, validate and time out well."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.contrib.auth.hashers import make_password
print(json.dumps({
    "hashers": settings.PASSWORD_HASHERS,
    "hashed": make_password("a password of some length"),
    "validators": [v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS],
    "min_length": [v.get("OPTIONS", {}).get("min_length") for v in settings.AUTH_PASSWORD_VALIDATORS
                   if v["NAME"].endswith("MinimumLengthValidator")][0],
    "session_age": settings.SESSION_COOKIE_AGE,
    "middleware": settings.MIDDLEWARE,
    "signup_open": __import__("fund.security.adapters", fromlist=["x"]).StaffAccountAdapter()
        .is_open_for_signup(None),
    "prevent_enumeration": settings.ACCOUNT_PREVENT_ENUMERATION,
    "login_failed_limit": settings.ACCOUNT_RATE_LIMITS["login_failed"],
}))
"""


@pytest.fixture(scope="module")
def production():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SESSION_", "DATABASE_URL"))
    }
    env.update(DJANGO_SETTINGS_MODULE="fund.settings", DEBUG="1")
    output = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output)


def test_production_hashes_passwords_with_argon2(production):
    assert production["hashers"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert production["hashed"].startswith("argon2$argon2id$")


def test_production_requires_twelve_characters_and_rejects_common_passwords(production):
    assert production["min_length"] == 12
    assert {"CommonPasswordValidator", "NumericPasswordValidator"} <= set(production["validators"])


def test_production_sessions_end_after_thirty_idle_minutes(production):
    assert production["session_age"] == 30 * 60
    assert "fund.security.sessions.IdleTimeoutMiddleware" in production["middleware"]


def test_production_closes_signup_limits_guessing_and_prevents_enumeration(production):
    assert production["signup_open"] is False
    assert production["prevent_enumeration"] is True
    assert "5/5m/key" in production["login_failed_limit"]


def test_an_eleven_character_password_is_rejected():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Vq7#kLm2!xZ")


def test_a_common_password_is_rejected_whatever_its_length():
    with pytest.raises(ValidationError, match="too common"):
        validate_password("password1234")


def test_a_long_uncommon_password_is_accepted():
    validate_password("river lantern copper 1931")

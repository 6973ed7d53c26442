"""Settings for the test suite: production settings with test-only keys and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
os.environ.setdefault("BLIND_INDEX_KEY", "dGVzdC1vbmx5LWJsaW5kLWluZGV4LWtleS0wMTIzNDU2Nzg5")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("LEDGER_SEAL_KEY", "UnKOml8Mt2SPg+4Y4GO27r4J/00XwZ+RI1JHHYO6aoc=")
# tests/donations/stripe_objects.py signs the suite's webhook events with it.
os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_test_only_secret_for_the_suite")
# `make test` (tests/pg.py) sets the real ones; this default lets tools import the settings.
os.environ.setdefault("DATABASE_URL", "postgres://fund_app@127.0.0.1:5432/defense_fund")

from fund.settings import *  # noqa: F403

# A model with encrypted fields for the crypto tests, and the suite's owner-role flush.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.cryptoapp", "tests.dbowner"]  # noqa: F405

# Argon2 is the production hasher (see test_security); tests hash with MD5 for speed only.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

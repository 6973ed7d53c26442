"""Django settings for Defense Fund.

Every value comes from the environment (see the configuration table in README.md).
With DEBUG off the site runs in production mode: SECRET_KEY is required, cookies are Secure
and ``__Host-`` prefixed, HSTS and HTTPS redirects are on, and ``check --deploy`` must pass.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
# Published with the demo (make demo), so never good for anything else: used only with DEBUG on,
# and `manage.py check --deploy` refuses each of them wherever it turns up (fund/checks.py).
DEMO_SECRET_KEY = "insecure-demo-key-only-for-DEBUG-never-in-production"  # noqa: S105
DEMO_FIELD_KEY = "demo:ZGVtby1vbmx5LWZpZWxkLWtleS1uZXZlci1wcm9kdWM="
DEMO_BLIND_INDEX_KEY = "ZGVtby1vbmx5LWJsaW5kLWluZGV4LWtleS1uZXZlci1wcm9k"
DEMO_SEAL_KEY = "QMJAHzoMBT6EoNQwnYL/PK/euTfzcBd2MX0vEdoOKNQ="
DEMO_STRIPE_WEBHOOK_SECRET = "whsec_demo_only_published_with_the_demo_never_in_production"  # noqa: S105

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = DEMO_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "fund",
    "cases",
    "donations",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "ninja",  # serves the API docs' Swagger UI from our static files, not a CDN
    "django_tasks_db",
    "pgtrigger",
    "pghistory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Before anything reads the session, a form or the database: PostgreSQL cannot store NUL.
    "fund.security.inputs.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The idle timeout: renews the session's expiry at most once a minute.
    "fund.security.sessions.IdleTimeoutMiddleware",
    # The donor's language: the switcher's cookie (set_language), else the browser's preference.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "fund.security.mfa.RequireSecondFactorMiddleware",
]

ROOT_URLCONF = "fund.urls"
WSGI_APPLICATION = "fund.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fund.context_processors.navigation",
            ],
        },
    },
]

# PostgreSQL everywhere. DATABASE_URL is the runtime role the app connects as; DATABASE_OWNER_URL
# the role that owns the schema, runs migrations and grants the runtime role what it needs
# (docs/deployment.md). With DEBUG on and neither set, both are the demo's own cluster in var/pg/
# (started by `make demo`, or `python -m fund.demo.postgres start`).
_DEMO_CLUSTER = {"HOST": str(BASE_DIR / "var" / "pg"), "PORT": "5432", "NAME": "defense_fund"}
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    _owner = env.db("DATABASE_OWNER_URL") if env.str("DATABASE_OWNER_URL", default="") else None
elif DEBUG:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            **_DEMO_CLUSTER,
            "USER": "fund_app",
        }
    }
    _owner = {"ENGINE": "django.db.backends.postgresql", **_DEMO_CLUSTER, "USER": "fund_owner"}
else:
    raise ImproperlyConfigured("DATABASE_URL must be set when DEBUG is off.")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://…).")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# runserver (the demo) serves each request in a thread of its own, which would leave its kept
# connection open behind it until the cluster runs out: keep them only under a real server.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
# The owner's credentials, used only by `manage.py migrate` (and the test suite's set-up); None
# means the one role of DATABASE_URL owns the tables (single-role development only).
DATABASE_OWNER: dict[str, object] | None = _owner
# The runtime role's name, as configured (the live connection is switched to the owner to migrate).
DATABASE_RUNTIME_ROLE = DATABASES["default"].get("USER", "")

# One cache shared by every web worker, so login rate limits hold across processes.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "fund_cache",
    }
}

TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# One backend, by username only: a known and an unknown name cost the same one password hash, so
# timing tells nothing (two backends, or e-mail login, hash a different number of times).
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"

# Staff accounts are created by an admin (manage.py create_staff); nobody signs up.
ACCOUNT_ADAPTER = "fund.security.adapters.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
# "key" is the account *and* the client (StaffAccountAdapter), so failures from one client never
# lock the real person out from another. The client is the address the trusted proxy reports.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
MFA_ADAPTER = "fund.security.adapters.StaffMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Defense Fund")
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG

# Idle timeout: the session ends SESSION_IDLE_MINUTES after the last request (renewed at most once
# a minute by fund.security.sessions, not saved on every request).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if SECURE_COOKIES:
    # __Host- cookies are only accepted over HTTPS, for this exact host, with Path=/.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_NAME = "__Host-language"
    LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LANGUAGE_CODE = "en-us"
# The donor's pages, the public fund page and receipts speak these; every string is marked for
# translation, so another language (Somali) needs only its locale/<code>/ catalogue and a line here.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="America/Los_Angeles")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# "key_id:base64key" pairs, comma-separated: the first encrypts; each decrypts what bears its id.
# `manage.py generate_field_key` prints a new entry; docs/security.md describes rotation.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# Base64 HMAC key (32+ bytes) for blind indexes (A-number lookup); rotating the keys above keeps it.
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="")
if DEBUG:
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [DEMO_FIELD_KEY]
    BLIND_INDEX_KEY = BLIND_INDEX_KEY or DEMO_BLIND_INDEX_KEY
else:
    # Without them personal data can be neither stored nor found: refuse to start at all.
    for _name, _value in (
        ("FIELD_ENCRYPTION_KEYS", FIELD_ENCRYPTION_KEYS),
        ("BLIND_INDEX_KEY", BLIND_INDEX_KEY),
    ):
        if not _value:
            raise ImproperlyConfigured(
                f"{_name} must be set when DEBUG is off (generate it: docs/deployment.md)."
            )

# Ed25519 key (base64, 32 bytes) that signs the ledger's seals; never stored in the database.
# `manage.py generate_seal_key` prints one. LEDGER_SEAL_PUBLIC_KEYS lists further public keys whose
# seals are trusted (an earlier key, or an auditor's machine that holds no private key).
LEDGER_SEAL_KEY = env.str("LEDGER_SEAL_KEY", default="")
LEDGER_SEAL_PUBLIC_KEYS = env.list("LEDGER_SEAL_PUBLIC_KEYS", default=[])
if DEBUG:
    LEDGER_SEAL_KEY = LEDGER_SEAL_KEY or DEMO_SEAL_KEY

STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
# Comma-separated: while rotating, the new secret and the old one are both accepted.
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRET", default=[])
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Demo mode: Checkout is a local page that signs its own webhook (donations.stripe). Never in
# production: check --deploy refuses it.
STRIPE_DEMO = env.bool("STRIPE_DEMO", default=DEBUG and not STRIPE_SECRET_KEY)
if STRIPE_DEMO:
    STRIPE_WEBHOOK_SECRETS = STRIPE_WEBHOOK_SECRETS or [DEMO_STRIPE_WEBHOOK_SECRET]
# Bounds of one online gift, in whole units of the fund's currency.
ONLINE_GIFT_MIN = 1
ONLINE_GIFT_MAX = env.int("ONLINE_GIFT_MAX", default=10_000)

_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
_smtp_options = {
    "host": _email["EMAIL_HOST"],
    "port": _email["EMAIL_PORT"],
    "username": _email["EMAIL_HOST_USER"],
    "password": _email["EMAIL_HOST_PASSWORD"],
    "use_tls": _email.get("EMAIL_USE_TLS", False),
    "use_ssl": _email.get("EMAIL_USE_SSL", False),
    "timeout": 20,
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": _smtp_options if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Defense Fund <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

DEFAULT_FUND_SLUG = env.str("DEFAULT_FUND_SLUG", default="")
# The site's own address, for links in e-mails (receipts, "manage my monthly gift").
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")

# The largest amount a person may type or post on one leg, in whole units of the fund's currency
# (10,000,000 is $10,000,000.00): far above any real bond or fee, far below the ledger's range.
MAX_AMOUNT = env.int("MAX_AMOUNT", default=10_000_000)
if not 1 <= MAX_AMOUNT <= 10**13:
    raise ImproperlyConfigured("MAX_AMOUNT must be a whole number from 1 to 10000000000000.")

# A disbursement request above this many whole units of the fund's currency needs the approvals of
# two different treasurers (maker-checker: never the requester).
DISBURSEMENT_TWO_APPROVALS_ABOVE = env.int("DISBURSEMENT_TWO_APPROVALS_ABOVE", default=5_000)
if not 0 <= DISBURSEMENT_TWO_APPROVALS_ABOVE <= MAX_AMOUNT:
    raise ImproperlyConfigured("DISBURSEMENT_TWO_APPROVALS_ABOVE must be from 0 to MAX_AMOUNT.")

# A closed case's personal data is purged this many days after it closed (`manage.py
# purge_expired --apply`), unless the case is on legal hold. See docs/cases.md, "Retention".
CASE_RETENTION_DAYS = env.int("CASE_RETENTION_DAYS", default=365)
if not 1 <= CASE_RETENTION_DAYS <= 36_500:
    raise ImproperlyConfigured("CASE_RETENTION_DAYS must be a number of days from 1 to 36500.")
# A hearing's coordinators are e-mailed this many days before it (`manage.py
# send_hearing_reminders`, daily).
HEARING_REMINDER_DAYS = env.int("HEARING_REMINDER_DAYS", default=2)
if not 1 <= HEARING_REMINDER_DAYS <= 30:
    raise ImproperlyConfigured("HEARING_REMINDER_DAYS must be a number of days from 1 to 30.")

# Case documents (retainers, bond receipts, G-28s) live here under random names, outside the static
# and media trees: only the permission-checked download view serves them (docs/cases.md). The
# check --deploy warns if the folder is missing, under STATIC_ROOT or MEDIA_ROOT, or world-readable.
CASE_DOCUMENT_ROOT = Path(
    env.str("CASE_DOCUMENT_ROOT", default=str(BASE_DIR / "var" / "documents"))
)
# The largest document one may upload, in whole megabytes (MiB) through DOCUMENT_MAX_MB.
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_MB", default=10) * 1024 * 1024
if not 1024 * 1024 <= DOCUMENT_MAX_BYTES <= 100 * 1024 * 1024:
    raise ImproperlyConfigured("DOCUMENT_MAX_MB must be a whole number from 1 to 100.")

# Generated reports (the report log's files) live here under random names, outside any URL: only
# the permission-checked download serves them (docs/reports.md).
REPORT_ROOT = Path(env.str("REPORT_ROOT", default=str(BASE_DIR / "var" / "reports")))
# A report with more rows than this is rendered by the background worker, with a progress bar.
REPORT_BACKGROUND_ROWS = env.int("REPORT_BACKGROUND_ROWS", default=2000)
if not 0 <= REPORT_BACKGROUND_ROWS <= 10_000_000:
    raise ImproperlyConfigured(
        "REPORT_BACKGROUND_ROWS must be a number of rows from 0 to 10000000."
    )
# A PDF report's chunks of rows are laid out by this many processes at once (at most one per
# core); 1 lays them out in the requesting process. Defaults to the number of cores.
REPORT_RENDER_PROCESSES = env.int("REPORT_RENDER_PROCESSES", default=os.cpu_count() or 1)
if not 1 <= REPORT_RENDER_PROCESSES <= 64:
    raise ImproperlyConfigured(
        "REPORT_RENDER_PROCESSES must be a number of processes from 1 to 64."
    )
# With a PKCS#12 file (certificate and key), every PDF report is signed so that any later change
# is detectable; without one, PDFs are unsigned and say so on their first page.
REPORT_SIGNING_P12 = env.str("REPORT_SIGNING_P12", default="")
REPORT_SIGNING_PASSWORD = env.str("REPORT_SIGNING_PASSWORD", default="")

# Flash messages live in the session: a messages cookie would carry them (and usernames) in clear.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Request errors can carry form data; log the path and status only.
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "pgtrigger": {"level": "WARNING"},
        # WeasyPrint narrates every step of every PDF at INFO.
        "weasyprint": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 100
# API tokens expire this many days after they are issued.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=90)
if not 1 <= API_TOKEN_DAYS <= 366:
    raise ImproperlyConfigured("API_TOKEN_DAYS must be a number of days from 1 to 366.")

# History triggers (django-pghistory) are installed after every migrate rather than written into
# migrations: some track Django's own auth tables, whose migrations we do not own.
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True

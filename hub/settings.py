"""The hub's one settings module.

Every value that changes between a laptop and a deployment is read from a ``HUB_*``
environment variable, with a default that is safe on a laptop. ``.env.example`` lists them all.
"""

import os
import secrets
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"HUB_{name}", default)


def env_bool(name: str, default: bool = False) -> bool:
    return (env(name, "true" if default else "false") or "").strip().lower() in {"1", "true", "yes"}


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


DATA_DIR = Path(env("DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG")
# HUB_SECURE says the hub is served over HTTPS, as every deployment should be. It turns on
# secure cookies, HSTS and the redirect to HTTPS, and it makes a secret key from the
# environment compulsory.
SECURE = env_bool("SECURE")


def _secret_key() -> str:
    key = env("SECRET_KEY")
    if key:
        return key
    if SECURE:
        raise ImproperlyConfigured("HUB_SECRET_KEY must be set when HUB_SECURE is true.")
    # A laptop gets a key made once and kept in the data directory, so sessions survive restarts.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "hub.apps.HubAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "django_countries",
    "django_htmx",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "hub.core",
    "hub.members",
    "hub.library",
    "hub.assessment",
    "hub.community",
    "hub.research",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hub.core.middleware.CspBaselineMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "hub.core.middleware.SessionLimitsMiddleware",
    "hub.core.middleware.PrivateCacheMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hub.core.context_processors.hub",
            ],
        },
    },
]

# --- Database: SQLite in the data directory unless told otherwise -------------------------
DB_ENGINE = env("DB_ENGINE", "sqlite")
if DB_ENGINE == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("DB_NAME", str(DATA_DIR / "hub.sqlite3")),
            "OPTIONS": {
                # WAL lets readers work while one writer writes; FULL keeps every acknowledged
                # commit across a crash; IMMEDIATE takes the write lock at BEGIN, so two writers
                # queue on the busy timeout instead of failing half-way.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
            },
            # Opening a connection (its pragmas and Django's SQL functions) costs more than a
            # page's queries, so each web process keeps its own open between requests.
            "CONN_MAX_AGE": int(env("DB_CONN_MAX_AGE", "600")),
            "CONN_HEALTH_CHECKS": True,
        }
    }
elif DB_ENGINE == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env("DB_NAME", "hub"),
            "USER": env("DB_USER", "postgres"),
            "PASSWORD": env("DB_PASSWORD", ""),
            "HOST": env("DB_HOST", "127.0.0.1"),
            "PORT": env("DB_PORT", "5432"),
            "CONN_MAX_AGE": int(env("DB_CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    raise ImproperlyConfigured("HUB_DB_ENGINE must be 'sqlite' or 'postgresql'.")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A shared cache, so that sign-in throttling holds across every web process.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "hub_cache",
    },
    # Signed-in people's accounts, roles and partner standing, kept per process under a version
    # in the shared cache that every change to them removes (see hub/members/caching.py).
    "people": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "hub-people",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
    # Rendered library search results, shared by every web process (hub/library/caching.py),
    # in a table of their own so they never push out the shared cache's sign-in counters.
    "library_results": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "hub_library_results",
        "OPTIONS": {"MAX_ENTRIES": env_int("LIBRARY_RESULTS_KEPT", 5000)},
    },
    # Rendered fragments that many people share ({% cache %}), kept in each web process: their
    # keys hold a version from the shared cache above, so every process stops using a copy as
    # soon as what it shows changes (see hub/core/fragments.py).
    "template_fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "hub-fragments",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "members.User"
# Django's and allauth's backends, keeping the signed-in person per process between requests
# (hub/members/backends.py).
AUTHENTICATION_BACKENDS = [
    "hub.members.backends.ModelBackend",
    "hub.members.backends.AccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "members:me"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SIGNUP_FORM_CLASS = "hub.members.forms.ApplicationSignupForm"
ACCOUNT_ADAPTER = "hub.members.adapter.HubAccountAdapter"
ACCOUNT_LOGOUT_REDIRECT_URL = "core:home"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Engagement Hub] "
# At most ten failed sign-ins per account an hour (and ten a minute from one address). The
# pause lifts by itself and password reset stays open; someone guessing on purpose can keep
# an account paused, which is the price of stopping the guessing.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,10/h/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# One 30-second step either side, for phones whose clocks drift; each code works only once.
MFA_TOTP_TOLERANCE = 1
MFA_TOTP_ISSUER = "Police-Community Engagement Hub"
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"

# Sessions end when the browser closes, after twelve hours however active, after eight idle
# hours, and after thirty idle minutes for people who hold powers (staff, moderators,
# approvers, admins).
HUB_SESSION_MAX_AGE = int(env("SESSION_MAX_AGE", str(12 * 60 * 60)))
HUB_SESSION_IDLE = int(env("SESSION_IDLE", str(8 * 60 * 60)))
HUB_SESSION_IDLE_POWERS = int(env("SESSION_IDLE_POWERS", str(30 * 60)))
SESSION_COOKIE_AGE = HUB_SESSION_MAX_AGE
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Forms carry the CSRF token (htmx posts the whole form), so no script needs the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "hub.core.views.csrf_failure"

# --- Mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(DATA_DIR / "outbox"))
# A mail server that takes the connection and never answers must not hold a task worker for ever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "hub@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Background tasks -----------------------------------------------------------------------
# A task still marked running this long after it started lost its worker (killed, or its machine
# went down): `serve` hands it back to the queue. Keep it longer than the longest task.
TASK_STALE_SECONDS = env_int("TASK_STALE_SECONDS", 900)
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(DATA_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "hub" / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "files")))
# Uploaded files are never served from a public URL: views that check access stream them.
MEDIA_URL = "/files-not-served-directly/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def _s3_storage(bucket: str) -> dict:
    """Uploaded files in an S3-compatible bucket (AWS, MinIO, Ceph, Garage...). Objects stay
    private: the hub reads them and streams them through the views that check access."""
    options = {
        "bucket_name": bucket,
        "location": env("S3_PREFIX", ""),
        "default_acl": "private",
        "querystring_auth": True,   # any URL made by mistake expires; none is ever shown
        "file_overwrite": False,
        # Reading an object spools it here; past 2 MB it goes to a temporary file, not memory.
        "max_memory_size": 2 * 1024 * 1024,
    }
    optional = {"endpoint_url": "S3_ENDPOINT_URL", "region_name": "S3_REGION",
                "addressing_style": "S3_ADDRESSING_STYLE",
                # Unset, boto's usual chain applies: AWS_* variables, ~/.aws, instance roles.
                "access_key": "S3_ACCESS_KEY_ID", "secret_key": "S3_SECRET_ACCESS_KEY"}
    for key, name in optional.items():
        if value := env(name):
            options[key] = value
    if sse := env("S3_SSE"):   # e.g. AES256, or aws:kms with the bucket's default key
        options["object_parameters"] = {"ServerSideEncryption": sse}
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


if env("S3_BUCKET"):
    STORAGES["default"] = _s3_storage(env("S3_BUCKET"))

FILE_UPLOAD_PERMISSIONS = 0o640
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Library uploads ------------------------------------------------------------------------
# Shown on the upload form before anyone picks a file, and enforced on the server.
LIBRARY_MAX_FILE_BYTES = env_int("LIBRARY_MAX_FILE_MB", 50) * 1024 * 1024
LIBRARY_MAX_FILES = env_int("LIBRARY_MAX_FILES", 10)
# Text extraction runs in a child process of the task worker under these limits.
LIBRARY_EXTRACT_SECONDS = env_int("LIBRARY_EXTRACT_SECONDS", 10)
LIBRARY_EXTRACT_MEMORY_MB = env_int("LIBRARY_EXTRACT_MEMORY_MB", 512)
# "Best match" ranks at most this many of a search's most recently added matches; above it the
# total is an estimate (see hub/library/search.py).
LIBRARY_RANK_WINDOW = env_int("LIBRARY_RANK_WINDOW", 1000)
# How long a rendered page of search results may be kept unused. Any change to the library or
# to who may see it makes new copies at once (see hub/library/caching.py).
LIBRARY_RESULTS_SECONDS = env_int("LIBRARY_RESULTS_SECONDS", 600)

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
if SECURE:
    # The __Host- prefix makes browsers refuse these cookies unless they are secure, for
    # this host alone and for every path, so a sibling subdomain cannot plant its own.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_SSL_REDIRECT = SECURE and env_bool("SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31_536_000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE and env_bool("HSTS_PRELOAD", True)
# Pages load scripts, styles and images from the hub alone, and nothing inline: no inline
# <script>, event handler or style attribute runs, so injected markup stays inert. Images may
# also be data: URIs (the two-step sign-in QR code). File downloads send a stricter policy of
# their own (default-src 'none'; sandbox), which django-csp leaves in place and
# CspBaselineMiddleware completes with base-uri and frame-ancestors.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
if env_bool("BEHIND_PROXY"):
    # The proxy adds exactly one X-Forwarded-For entry: sign-in throttling counts per client
    # address, not per proxy.
    ALLAUTH_TRUSTED_PROXY_COUNT = 1
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- The hub's own --------------------------------------------------------------------------
HUB_INVITATION_DAYS = int(env("INVITATION_DAYS", "14"))
# Followers of a funding opportunity are reminded this many days before its deadline.
HUB_FUNDING_REMINDER_DAYS = int(env("FUNDING_REMINDER_DAYS", "7"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "hub.core.redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint reports each step of every PDF (and of its own stylesheets at import).
        "weasyprint": {"level": "WARNING"},
    },
}
